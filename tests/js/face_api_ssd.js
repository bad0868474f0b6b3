#!/usr/bin/env node
/*
 * Reference face detections from face-api's own SSD MobileNet v1 forward pass.
 *
 *   node face_api_ssd.js --model-dir DIR [--node-modules DIR] [--min-score S]
 *        [--raw] image1.ppm [image2.ppm ...]
 *
 * Each image: a binary PPM (P6, maxval 255), RGB. It becomes an int32
 * tf.Tensor3D [height, width, 3] passed to faceapi.nets.ssdMobilenetv1
 * .locateFaces(tensor, {minConfidence: S (default 0.5), maxResults: 100}),
 * i.e. face-api's toBatchTensor(512, false) (pad right/bottom to a square,
 * resizeBilinear to 512), x / 127.5 - 1, the net, its anchors, box decoding and
 * NMS. For each image one JSON line goes to stdout:
 *   {"file": "...", "width": W, "height": H,
 *    "faces": [{"x", "y", "width", "height", "score"}, ...]}      (NMS order)
 * with boxes relative to the image (FaceDetection.relativeBox: fractions of its
 * width and height). --raw adds "boxes" ([5118][4]: ymin, xmin, ymax, xmax
 * relative to the padded 512 square) and "scores" ([5118]) of every anchor,
 * before NMS (SsdMobilenetv1.forwardInput).
 * Diagnostics go to stderr. Exit status 1 (with a one-line message) on any error.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { makeRequire, loadLibraries } = require('./face_api_lib');

const MANIFEST = 'ssd_mobilenetv1_model-weights_manifest.json';

function die(msg) {
  process.stderr.write(`face_api_ssd: error: ${msg}\n`);
  process.exit(1);
}

function usage() {
  return 'usage: node face_api_ssd.js --model-dir DIR [--node-modules DIR] [--min-score S] [--raw] '
    + 'image1.ppm [image2.ppm ...]';
}

function parseArgs(argv) {
  const opts = { modelDir: null, nodeModules: null, minScore: 0.5, raw: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model-dir' || a === '--node-modules' || a === '--min-score') {
      if (i + 1 >= argv.length) die(`${a} needs a value; ${usage()}`);
      const v = argv[++i];
      if (a === '--model-dir') opts.modelDir = v;
      else if (a === '--node-modules') opts.nodeModules = v;
      else opts.minScore = Number(v);
    } else if (a === '--raw') {
      opts.raw = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a.startsWith('--')) {
      die(`unknown option ${a}; ${usage()}`);
    } else {
      opts.files.push(a);
    }
  }
  if (!opts.modelDir) die(`--model-dir is required; ${usage()}`);
  if (!(opts.minScore > 0 && opts.minScore < 1)) die('--min-score must be in (0, 1)');
  if (opts.files.length === 0) die(`no images given; ${usage()}`);
  return opts;
}

// A binary PPM (P6, maxval 255): header tokens separated by whitespace, no comments.
function readPpm(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    die(`cannot read ${file}: ${e.code || e.message}`);
  }
  const tokens = [];
  let pos = 0;
  while (tokens.length < 4) {
    while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]))) pos++;
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]))) pos++;
    if (start === pos) die(`${file}: truncated PPM header`);
    tokens.push(buf.toString('latin1', start, pos));
  }
  pos++; // the single whitespace after maxval
  const [magic, w, h, maxval] = [tokens[0], Number(tokens[1]), Number(tokens[2]), Number(tokens[3])];
  if (magic !== 'P6' || maxval !== 255 || !(w > 0) || !(h > 0)) die(`${file}: not a P6 PPM with maxval 255`);
  if (buf.length - pos !== w * h * 3) die(`${file}: expected ${w * h * 3} pixel bytes, got ${buf.length - pos}`);
  return { width: w, height: h, rgb: buf.subarray(pos) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const modelDir = path.resolve(opts.modelDir);
  if (!fs.existsSync(path.join(modelDir, MANIFEST))) die(`model not found: ${path.join(modelDir, MANIFEST)}`);
  const images = opts.files.map((f) => ({ file: f, ...readPpm(f) }));

  const { tf, faceapi } = loadLibraries(makeRequire(opts.nodeModules, die), die);
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') die(`backend is ${tf.getBackend()}, expected cpu`);
  const net = faceapi.nets.ssdMobilenetv1;
  try {
    await net.loadFromDisk(modelDir);
  } catch (e) {
    die(`loading the SSD model from ${modelDir} failed: ${e.message}`);
  }
  if (!net.isLoaded) die('SSD model did not load');

  for (const img of images) {
    const t0 = process.hrtime.bigint();
    const input = tf.tensor3d(Int32Array.from(img.rgb), [img.height, img.width, 3], 'int32');
    const dets = await net.locateFaces(input, { minConfidence: opts.minScore, maxResults: 100 });
    const out = {
      file: img.file,
      width: img.width,
      height: img.height,
      faces: dets.map((d) => ({
        x: d.relativeBox.x, y: d.relativeBox.y, width: d.relativeBox.width, height: d.relativeBox.height, score: d.score,
      })),
    };
    if (opts.raw) {
      const { boxes, scores } = net.forwardInput(await faceapi.toNetInput(input));
      out.boxes = boxes[0].arraySync();
      out.scores = Array.from(scores[0].dataSync());
      boxes.forEach((t) => t.dispose());
      scores.forEach((t) => t.dispose());
    }
    input.dispose();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.stderr.write(`face_api_ssd: ${img.file}: ${dets.length} faces, ${ms.toFixed(0)} ms\n`);
  }
}

main().catch((e) => die(e && e.message ? e.message : String(e)));
