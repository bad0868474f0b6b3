// A bounded load on `facepipe serve`: C clients, each posting one photo to
// /api/v1/recognize N times in a row (keep-alive), all at once. Prints one
// JSON object: requests, errors (non-200 or failed), photos per second, and
// the latency median and p95 in milliseconds. No dependencies (Node >= 18).
//
// Usage: node load.mjs URL PHOTO CLIENTS REQUESTS_PER_CLIENT [API_KEY]
import { readFileSync } from "node:fs";
import http from "node:http";

const [url, photo, clients, perClient, key] = process.argv.slice(2);
const body = readFileSync(photo);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(clients) });
const target = new URL("/api/v1/recognize", url);

function post() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const headers = { "Content-Type": "image/jpeg", "Content-Length": body.length };
    if (key) headers["x-api-key"] = key;
    const req = http.request(target, { method: "POST", agent, headers, timeout: 120000 }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        let faces = -1;
        try { faces = JSON.parse(text).faces.length; } catch {}
        resolve({ ok: res.statusCode === 200 && faces >= 0, status: res.statusCode, ms });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ ok: false, status: String(e.message), ms: 0 }));
    req.end(body);
  });
}

async function client() {
  const results = [];
  for (let i = 0; i < Number(perClient); i++) results.push(await post());
  return results;
}

const started = Date.now();
const all = (await Promise.all(Array.from({ length: Number(clients) }, client))).flat();
const seconds = (Date.now() - started) / 1000;
const ms = all.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
const at = (q) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : null);
const errors = all.filter((r) => !r.ok);
console.log(JSON.stringify({
  clients: Number(clients), requests: all.length, errors: errors.length,
  statuses: [...new Set(errors.map((r) => r.status))],
  seconds, photos_per_second: all.length / seconds, median_ms: at(0.5), p95_ms: at(0.95),
}));
agent.destroy();
