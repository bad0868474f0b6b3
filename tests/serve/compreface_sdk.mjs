// Drives `facepipe serve` with the real CompreFace JavaScript SDK
// (@exadel/compreface-js-sdk from npm), as an existing CompreFace client would:
// add examples of two subjects, list them, recognise a third photo and a
// stranger, then delete a subject. Prints one JSON object with every answer
// (tests/test_e2e_serve_sdk.cpp checks it); exits 1 on an SDK error.
//
// Usage: NODE_PATH=<.cache/npm/serve/node_modules> node compreface_sdk.mjs URL API_KEY ALICE BOB PROBE STRANGER
//   (photos as paths relative to the working folder, starting with "./":
//    the SDK uploads a path only in that form)
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// An ES module finds packages beside itself, not on NODE_PATH: resolve the SDK there.
const sdk = createRequire(`${process.env.NODE_PATH || "."}/`).resolve("@exadel/compreface-js-sdk");
const { CompreFace } = await import(pathToFileURL(sdk).href);

const [url, key, alice, bob, probe, stranger] = process.argv.slice(2);
const u = new URL(url);
const core = new CompreFace(`${u.protocol}//${u.hostname}`, u.port);
const recognition = core.initFaceRecognitionService(key);
// The SDK's collection object rewrites its URL on delete: take a fresh one per call.
const faces = () => recognition.getFaceCollection();
const options = { limit: 0, det_prob_threshold: 0.5, prediction_count: 2 };

const errorOf = (e) => ({ status: e.response ? e.response.status : null, data: e.response ? e.response.data : String(e) });

try {
  const out = {};
  out.added = [await faces().add(alice, "Alice"), await faces().add(bob, "Bob")];
  out.list = await faces().list();
  out.subjects = await recognition.getSubjects().list();
  out.probe = await recognition.recognize(probe, options);
  out.stranger = await recognition.recognize(stranger, options);
  out.deleted = await faces().delete_all_subject("Bob");
  out.after = await recognition.getSubjects().list();
  try {
    await faces().delete_all_subject("Nobody");
    out.unknown = { status: 200 };
  } catch (e) {
    out.unknown = errorOf(e);
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(JSON.stringify(errorOf(e)));
  process.exit(1);
}
