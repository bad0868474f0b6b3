#!/usr/bin/env node
/*
 * Reference face descriptors from face-api's own JavaScript forward pass.
 *
 *   node face_api_descriptors.js --model-dir DIR [--node-modules DIR]
 *        [--face-api-normalisation] chip1.rgb [chip2.rgb ...]
 *
 * Each .rgb file: exactly 150*150*3 bytes, row-major, RGB, uint8 (an aligned
 * face chip). For each chip one JSON line goes to stdout:
 *   {"file": "...", "descriptor": [128 numbers]}
 * Diagnostics go to stderr. Exit status 1 (with a one-line message) on any error.
 *
 * Uses @vladmandic/face-api 1.7.15's Node build with its
 * require("@tensorflow/tfjs-node") redirected to the pure-JS @tensorflow/tfjs
 * ('cpu' backend). Dependencies are looked up in --node-modules, then
 * $FACEPIPE_JS_NODE_MODULES, then <repo>/.cache/npm/js/node_modules (what
 * scripts/npm_cache.sh --with-js installs), then normal Node resolution.
 *
 * Normalisation: face-api computes (x - mean) / 255, dlib (x - mean) / 256.
 * By default we feed x' = mean + (x - mean) * 255/256 so that face-api's
 * (x' - mean) / 255 == dlib's (x - mean) / 256 (up to float32 rounding).
 * --face-api-normalisation feeds raw x instead (face-api's own behaviour).
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { makeRequire, loadLibraries } = require('./face_api_lib');

const CHIP = 150;
const CHIP_BYTES = CHIP * CHIP * 3;
const MEAN_RGB = [122.782, 117.001, 104.298]; // face-api == dlib input_rgb_image
const MANIFEST = 'face_recognition_model-weights_manifest.json';

function die(msg) {
  process.stderr.write(`face_api_descriptors: error: ${msg}\n`);
  process.exit(1);
}

function usage() {
  return 'usage: node face_api_descriptors.js --model-dir DIR [--node-modules DIR] '
    + '[--face-api-normalisation] chip1.rgb [chip2.rgb ...]';
}

function parseArgs(argv) {
  const opts = { modelDir: null, nodeModules: null, faceApiNorm: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model-dir' || a === '--node-modules') {
      if (i + 1 >= argv.length) die(`${a} needs a value; ${usage()}`);
      opts[a === '--model-dir' ? 'modelDir' : 'nodeModules'] = argv[++i];
    } else if (a.startsWith('--model-dir=')) {
      opts.modelDir = a.slice('--model-dir='.length);
    } else if (a.startsWith('--node-modules=')) {
      opts.nodeModules = a.slice('--node-modules='.length);
    } else if (a === '--face-api-normalisation' || a === '--face-api-normalization') {
      opts.faceApiNorm = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a === '--') {
      opts.files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('--')) {
      die(`unknown option ${a}; ${usage()}`);
    } else {
      opts.files.push(a);
    }
  }
  if (!opts.modelDir) die(`--model-dir is required; ${usage()}`);
  if (opts.files.length === 0) die(`no chip files given; ${usage()}`);
  return opts;
}

function readChip(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    die(`cannot read ${file}: ${e.code || e.message}`);
  }
  if (buf.length !== CHIP_BYTES) {
    die(`${file}: expected ${CHIP_BYTES} bytes (150x150x3 uint8 RGB), got ${buf.length}`);
  }
  return buf;
}

// uint8 RGB -> float32 [150*150*3] in face-api's input space.
function chipToInput(buf, faceApiNorm) {
  const out = new Float32Array(CHIP_BYTES);
  if (faceApiNorm) {
    for (let i = 0; i < CHIP_BYTES; i++) out[i] = buf[i];
  } else {
    for (let i = 0; i < CHIP_BYTES; i++) {
      const m = MEAN_RGB[i % 3];
      out[i] = m + (buf[i] - m) * (255 / 256); // face-api's (x'-m)/255 == dlib's (x-m)/256
    }
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  const modelDir = path.resolve(opts.modelDir);
  const manifestPath = path.join(modelDir, MANIFEST);
  if (!fs.existsSync(manifestPath)) die(`model not found: ${manifestPath}`);
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    die(`bad manifest ${manifestPath}: ${e.message}`);
  }
  for (const group of manifest) {
    for (const p of group.paths) {
      if (!fs.existsSync(path.join(modelDir, p))) die(`model weights not found: ${path.join(modelDir, p)}`);
    }
  }
  // Validate all chips before the (slow) library load.
  const chips = opts.files.map((f) => ({ file: f, buf: readChip(f) }));

  const { tf, faceapi } = loadLibraries(makeRequire(opts.nodeModules, die), die);
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') die(`backend is ${tf.getBackend()}, expected cpu`);

  const net = faceapi.nets.faceRecognitionNet;
  const t0 = Date.now();
  try {
    await net.loadFromDisk(modelDir); // manifest + .bin via fs, dequantised by tf.io
  } catch (e) {
    die(`loading face recognition model from ${modelDir} failed: ${e.message}`);
  }
  if (!net.isLoaded) die('face recognition model did not load');
  process.stderr.write(`face_api_descriptors: tfjs ${tf.version.tfjs} backend=${tf.getBackend()}, `
    + `model loaded in ${Date.now() - t0} ms, normalisation=${opts.faceApiNorm ? 'face-api (/255)' : 'dlib (/256)'}\n`);

  for (const { file, buf } of chips) {
    const t1 = process.hrtime.bigint();
    const input = tf.tensor4d(chipToInput(buf, opts.faceApiNorm), [1, CHIP, CHIP, 3], 'float32');
    // 150x150 input: toBatchTensor's padToSquare and resizeBilinear are skipped
    // (height === width === 150), so the tensor reaches normalize() unchanged.
    const netInput = new faceapi.NetInput([input]);
    const out = net.forwardInput(netInput); // [1,128]
    const desc = Array.from(await out.data());
    out.dispose();
    input.dispose();
    if (desc.length !== 128 || !desc.every(Number.isFinite)) die(`${file}: bad descriptor (${desc.length} values)`);
    const ms = Number(process.hrtime.bigint() - t1) / 1e6;
    process.stdout.write(`${JSON.stringify({ file, descriptor: desc })}\n`);
    process.stderr.write(`face_api_descriptors: ${file}: ${ms.toFixed(1)} ms\n`);
  }
}

main().catch((e) => die(e && e.message ? e.message : String(e)));
