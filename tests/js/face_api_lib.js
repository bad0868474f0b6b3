/*
 * Loads face-api's Node build on the pure-JS @tensorflow/tfjs ('cpu' backend),
 * for the reference scripts of tests/js (face_api_descriptors.js, face_api_ssd.js).
 *
 * face-api.node.js does require("@tensorflow/tfjs-node"); it is redirected to
 * @tensorflow/tfjs. Dependencies are looked up in the given --node-modules dir,
 * then $FACEPIPE_JS_NODE_MODULES, then <repo>/.cache/npm/js/node_modules (what
 * scripts/npm_cache.sh --with-js installs), then normal Node resolution.
 * Library console.log/info go to stderr so that stdout holds only JSON lines.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');

// A require() that finds @tensorflow/tfjs and @vladmandic/face-api.
function makeRequire(explicitDir, die) {
  const has = (d) => fs.existsSync(path.join(d, '@vladmandic', 'face-api', 'package.json'));
  if (explicitDir && !has(path.resolve(explicitDir))) {
    die(`--node-modules ${explicitDir}: @vladmandic/face-api not found there`);
  }
  const candidates = [
    explicitDir,
    process.env.FACEPIPE_JS_NODE_MODULES,
    path.resolve(__dirname, '..', '..', '.cache', 'npm', 'js', 'node_modules'),
  ].filter(Boolean).map((d) => path.resolve(d));
  for (const dir of candidates) {
    if (has(dir)) {
      // createRequire(<dir>/../x.js) searches <dir> first (then parents).
      return Module.createRequire(path.join(path.dirname(dir), '__facepipe__.js'));
    }
  }
  return require; // normal resolution (incl. NODE_PATH)
}

function loadLibraries(req, die) {
  let tfjsPath;
  let faceApiPath;
  try {
    tfjsPath = req.resolve('@tensorflow/tfjs');
    faceApiPath = req.resolve('@vladmandic/face-api'); // main: dist/face-api.node.js
  } catch (e) {
    die('cannot find @tensorflow/tfjs / @vladmandic/face-api; run scripts/npm_cache.sh --with-js '
      + 'or pass --node-modules DIR');
  }
  // face-api.node.js does require("@tensorflow/tfjs-node"); send it to pure-JS tfjs.
  const origResolve = Module._resolveFilename;
  Module._resolveFilename = function resolveFilename(request, ...rest) {
    if (request === '@tensorflow/tfjs-node') return tfjsPath;
    return origResolve.call(this, request, ...rest);
  };
  // Keep stdout clean for JSON lines: route any library console.log/info to stderr.
  console.log = (...args) => console.error(...args);
  console.info = (...args) => console.error(...args);
  // Drop tfjs's "install tfjs-node to speed things up" banner (pure-JS CPU is intended).
  const warn = console.warn;
  console.warn = (...args) => {
    const s = args.join(' ');
    if (/^=+$/.test(s.trim()) || s.includes('tfjs-node')) return;
    warn(...args);
  };
  const tf = req(tfjsPath);
  const faceapi = req(faceApiPath);
  if (faceapi.tf && faceapi.tf.Tensor !== tf.Tensor) {
    die('face-api did not pick up the redirected @tensorflow/tfjs instance');
  }
  return { tf, faceapi };
}

module.exports = { makeRequire, loadLibraries };
