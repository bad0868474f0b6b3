#!/usr/bin/env node
// pages.js — drives Debian's headless chromium (puppeteer-core) through the
// pages `facepipe serve` serves, with a fake webcam playing a .y4m file.
// tests/test_e2e_browser.cpp makes the data, starts the server and runs
//
//     node tests/browser/pages.js CONFIG.json
//
// Each step prints one JSON line on stdout: {"step", "ok", "ms", "detail"} or,
// on failure, {"step", "ok": false, "ms", "error"}; the first failure ends the
// run (later steps build on earlier ones). The C++ test checks the lines. Every
// wait is on the page's state (window.facepipe), with a bounded timeout.
//
// CONFIG (all paths absolute):
//   base            the server's URL, ending in "/"
//   chromium        the browser binary; profile: a fresh user-data folder
//   node_modules    where puppeteer-core is installed (scripts/npm_cache.sh --with-js)
//   video           the fake webcam's .y4m; video_width: its width in pixels
//   screenshots     folder for serve-enrol.png, serve-live.png, serve-photo.png
//   timeout_ms      the longest any one wait may take
//   people_before   how many people the Enrol page lists at first
//   key             the server's API key (the pages' login form)
//   enrol           {name, photos: [files], verdicts: {file name: verdict}}: the
//                   photos are uploaded, and one webcam snapshot, webcam-1.jpg, added
//   scene           [{label, box: [x, y, w, h]}]: who the Live page must name, where (video pixels)
//   reload          {argv, cwd, scene}: the CLI command that retrains, and the scene after it
//   photo           {file, labels: [sorted labels expected]}
//   remove          {photo_of: a person whose first photo goes, person: a person who goes, scene}
//   unknown         {groups_at_least, name, faces_at_least, photo: a file of that person, label}: the
//                   Unknown faces page shows at least that many groups; the largest one (of at least
//                   faces_at_least faces) is named `name`; then it is gone from the page and
//                   api/v1/recognize names `label` in `photo`
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const puppeteer = require(require.resolve('puppeteer-core', { paths: [config.node_modules] }));
const TIMEOUT = config.timeout_ms;

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

// Runs one step; a failure is reported, then ends the run.
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    emit({ step: name, ok: true, ms: Date.now() - t0, detail: detail === undefined ? null : detail });
  } catch (err) {
    emit({ step: name, ok: false, ms: Date.now() - t0, error: String(err && err.stack ? err.stack : err) });
    throw err;
  }
}

const pageState = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.facepipe || null)));

// Waits (bounded) until `fn(...args)` is true in the page; a timeout names
// `what` and shows the page's state.
async function waitFor(page, what, fn, args = [], timeout = TIMEOUT) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 100 }, ...args);
  } catch (err) {
    let s = null;
    try { s = await pageState(page); } catch (e) { s = `(no state: ${e.message})`; }
    throw new Error(`${what}: not within ${timeout} ms (${err.message}); page state: ${JSON.stringify(s)}`);
  }
}

// Runs a command to its end (bounded); resolves to {code, out, err, ms}.
function run(argv, cwd, timeout) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${argv.join(' ')}: not done in ${timeout} ms`)); }, timeout);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err, ms: Date.now() - t0 }); });
  });
}

// In the page: true when every expected face has a face of that label whose box
// overlaps it (IoU > 0.3), and the overlay shows that face's box in the colour
// of known/unknown on its left edge, with its label among those drawn. With
// `unreloaded`, also that the page still has the mark set before (not reloaded).
function sceneShown(scene, videoWidth, unreloaded = false) {
  if (unreloaded && window.notReloaded !== true) return false;
  const s = window.facepipe;
  if (!s || !s.width || !s.faces) return false;
  const k = s.width / videoWidth;  // the page may send frames smaller than the video
  const iou = (a, b) => {
    const x = Math.max(a[0], b[0]), y = Math.max(a[1], b[1]);
    const x2 = Math.min(a[0] + a[2], b[0] + b[2]), y2 = Math.min(a[1] + a[3], b[1] + b[3]);
    const i = Math.max(0, x2 - x) * Math.max(0, y2 - y);
    return i / (a[2] * a[3] + b[2] * b[3] - i);
  };
  const ctx = document.getElementById('overlay').getContext('2d');
  const drawn = s.drawn || [];
  return scene.every((e) => s.faces.some((f) => {
    if (f.label !== e.label || iou(f.box, e.box.map((v) => v * k)) <= 0.3) return false;
    const want = f.known ? [60, 200, 60] : [230, 40, 40];
    const px = ctx.getImageData(f.box[0], f.box[1] + Math.floor(f.box[3] / 2), 1, 1).data;
    const painted = want.every((v, i) => Math.abs(px[i] - v) <= 12) && px[3] > 240;
    return painted && drawn.some((d) => d.startsWith(f.label + ' '));
  }));
}

async function main() {
  const watchdog = setTimeout(() => {
    emit({ step: 'watchdog', ok: false, ms: config.total_timeout_ms, error: 'the run took too long' });
    process.exit(3);
  }, config.total_timeout_ms);

  const browser = await puppeteer.launch({
    executablePath: config.chromium,
    headless: true,
    userDataDir: config.profile,
    protocolTimeout: TIMEOUT,
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${config.video}`,
    ],
  });
  const scriptErrors = [];
  // A page in a tab of the first window, or in a window of its own (a tab
  // behind another is hidden, and a hidden Live page sends fewer frames).
  const open = async (page, { window = false, width = 1280, height = 820 } = {}) => {
    const p = await browser.newPage(window ? { type: 'window' } : undefined);
    p.on('pageerror', (e) => scriptErrors.push(`${page}: ${e.message}`));
    p.on('dialog', (d) => d.accept());  // "Remove ...?" confirmations
    await p.setViewport({ width, height });
    const res = await p.goto(config.base + page, { waitUntil: 'load', timeout: TIMEOUT });
    if (!res.ok()) throw new Error(`GET ${page}: ${res.status()}`);
    return p;
  };
  const shot = (page, name, fullPage = false) =>
    page.screenshot({ path: path.join(config.screenshots, name), fullPage });

  try {
    let enrol;
    await step('the pages need the key: the login form refuses a wrong one, opens them with the right one', async () => {
      enrol = await open('enrol');
      const at = new URL(enrol.url());
      if (at.pathname !== '/login' || at.searchParams.get('next') !== '/enrol') {
        throw new Error(`not sent to the login form: ${enrol.url()}`);
      }
      const login = async (key) => {
        await enrol.$eval('#key', (el) => { el.value = ''; });
        await enrol.type('#key', key);
        await Promise.all([enrol.waitForNavigation({ timeout: TIMEOUT }), enrol.click('button[type=submit]')]);
      };
      await login(`${config.key}-wrong`);
      if (!(await enrol.$eval('#failed', (el) => getComputedStyle(el).display !== 'none'))) {
        throw new Error(`a wrong key was not refused: ${enrol.url()}`);
      }
      await login(config.key);
      if (new URL(enrol.url()).pathname !== '/enrol') throw new Error(`after logging in: ${enrol.url()}`);
    });

    await step('enrol page lists the people', async () => {
      await waitFor(enrol, 'the people list', (n) => window.facepipe && window.facepipe.people.length === n,
        [config.people_before]);
    });

    await step('enrol a person by upload', async () => {
      const e = config.enrol;
      await enrol.type('#name', e.name);
      await (await enrol.$('#files')).uploadFile(...e.photos);
      await waitFor(enrol, 'the chosen photos', (n) => document.querySelectorAll('#pending img').length === n,
        [e.photos.length]);
      await enrol.bringToFront();  // a hidden tab's video shows no frames
      await enrol.click('#camera-start');
      await waitFor(enrol, 'the webcam', () => document.getElementById('camera-video').videoWidth > 0);
      await enrol.click('#snap');
      await waitFor(enrol, 'the snapshot', (n) => document.querySelectorAll('#pending img').length === n,
        [e.photos.length + 1]);
      await enrol.click('#camera-stop');
      await enrol.click('#enrol');
      await waitFor(enrol, 'the enrol answer', () => !window.facepipe.busy && (window.facepipe.last || window.facepipe.error));
      const s = await pageState(enrol);
      if (s.error) throw new Error(`enrol failed: ${s.error}`);
      const got = Object.fromEntries(s.last.photos.map((p) => [p.file, p.verdict]));
      if (JSON.stringify(got, Object.keys(e.verdicts).sort()) !== JSON.stringify(e.verdicts, Object.keys(e.verdicts).sort())) {
        throw new Error(`verdicts ${JSON.stringify(got)}, expected ${JSON.stringify(e.verdicts)}`);
      }
      const accepted = Object.values(e.verdicts).filter((v) => v === 'accepted').length;
      await waitFor(enrol, 'the person in the list, with thumbnails', (name, n) => {
        const p = window.facepipe.people.find((q) => q.name === name);
        const imgs = [...document.querySelectorAll('#people img')];
        return p && p.count === n && imgs.every((i) => i.complete && i.naturalWidth > 0);
      }, [e.name, accepted]);
      const shown = await enrol.$$eval('#verdicts tbody td.verdict', (tds) => tds.map((td) => td.dataset.verdict));
      if (shown.length !== Object.keys(e.verdicts).length) throw new Error(`the page shows ${shown.length} verdicts`);
      await shot(enrol, 'serve-enrol.png', true);
      return { verdicts: got, stages_seen: s.stages, training_id: s.last.training_id };
    });

    const tabs = [];
    await step('live names the person and calls a stranger unknown, in two tabs at once', async () => {
      tabs.push(await open('live', { window: true }), await open('live', { window: true }));
      await Promise.all(tabs.map((tab) =>
        waitFor(tab, 'the scene named on the Live page', sceneShown, [config.scene, config.video_width])));
      // Both sessions at once: frames/s and latency over 30 more frames each.
      const start = await Promise.all(tabs.map(pageState));
      const t0 = Date.now();
      await Promise.all(tabs.map((tab, i) =>
        waitFor(tab, '30 more frames', (n) => window.facepipe.frames >= n, [start[i].frames + 30])));
      const ms = Date.now() - t0;
      const out = [];
      for (const tab of tabs) {
        const s = await pageState(tab);
        out.push({ session: s.session, frames: s.frames, fps: +s.fps.toFixed(2),
                   latency_ms: Math.round(s.latency_ms), server_ms: Math.round(s.server_ms),
                   faces: s.faces.map((f) => f.label) });
      }
      if (out[0].session === out[1].session) throw new Error('both tabs have the same session');
      await shot(tabs[0], 'serve-live.png');
      return { both_30_frames_ms: ms, tabs: out };
    });

    await step('live names a person the CLI enrols, without a reload', async () => {
      for (const tab of tabs) await tab.evaluate(() => { window.notReloaded = true; });
      const before = (await pageState(tabs[0])).training_id;
      const r = await run(config.reload.argv, config.reload.cwd, TIMEOUT);
      if (r.code !== 0) throw new Error(`${config.reload.argv.join(' ')}: exit ${r.code}: ${r.err}`);
      const t0 = Date.now();
      const seen = [];
      for (const tab of tabs) {
        await waitFor(tab, 'the new person named on the open Live page', sceneShown,
          [config.reload.scene, config.video_width, true]);
        seen.push(Date.now() - t0);
      }
      const after = (await pageState(tabs[0])).training_id;
      if (after === before) throw new Error(`training id unchanged: ${after}`);
      return { cli_ms: r.ms, named_after_ms: seen, training_id: { before, after } };
    });

    await step('photo page annotates an upload', async () => {
      const photo = await open('photo');
      await (await photo.$('#file')).uploadFile(config.photo.file);
      await waitFor(photo, 'the recognize answer', () => window.facepipe.result || window.facepipe.error);
      await waitFor(photo, 'the annotated photo', () =>
        !document.getElementById('annotated').hidden && !document.getElementById('download').hidden);
      const s = await pageState(photo);
      if (s.error) throw new Error(s.error);
      const labels = s.result.faces.map((f) => f.label).sort();
      if (JSON.stringify(labels) !== JSON.stringify(config.photo.labels)) {
        throw new Error(`labels ${JSON.stringify(labels)}, expected ${JSON.stringify(config.photo.labels)}`);
      }
      const rows = await photo.$$eval('#faces tbody tr', (trs) => trs.length);
      if (rows !== labels.length) throw new Error(`the table has ${rows} rows`);
      await shot(photo, 'serve-photo.png');
      return { labels };
    });

    await step('enrol page removes a photo, then a person; the Live page follows', async () => {
      const rm = config.remove;
      await enrol.goto(config.base + 'enrol', { waitUntil: 'load', timeout: TIMEOUT });
      await waitFor(enrol, 'the people list', (name) => window.facepipe.people.some((p) => p.name === name), [rm.person]);
      const count = (await pageState(enrol)).people.find((p) => p.name === rm.photo_of).count;
      await enrol.bringToFront();  // a hidden tab's confirm() dialog never shows
      await enrol.click(`li[data-person="${rm.photo_of}"] .thumbs button.remove`);
      await waitFor(enrol, 'one photo fewer', (name, n) => !window.facepipe.busy &&
        window.facepipe.people.some((p) => p.name === name && p.count === n), [rm.photo_of, count - 1]);
      await enrol.click(`li[data-person="${rm.person}"] .head button.danger`);
      await waitFor(enrol, 'the person gone', (name) => !window.facepipe.busy &&
        !window.facepipe.people.some((p) => p.name === name), [rm.person]);
      const s = await pageState(enrol);
      if (s.error) throw new Error(s.error);
      await waitFor(tabs[0], 'the removed person no longer named live', sceneShown, [rm.scene, config.video_width]);
      return { people: s.people.map((p) => `${p.name}:${p.count}`) };
    });

    await step('unknown faces page shows the groups, names one; the person is then recognised', async () => {
      const u = config.unknown;
      const page = await open('unknown');
      await waitFor(page, 'the groups', (n) => window.facepipe && window.facepipe.loaded &&
        window.facepipe.groups.length >= n && document.querySelectorAll('#groups li.group').length >= n &&
        [...document.querySelectorAll('#groups .sheet img')].every((i) => i.complete && i.naturalWidth > 0),
      [u.groups_at_least]);
      const before = await pageState(page);
      const group = before.groups[0];  // the largest
      if (group.size < u.faces_at_least) throw new Error(`the largest group has ${group.size} faces`);
      await shot(page, 'serve-unknown.png', true);
      await page.$eval(`li[data-group="${group.id}"] input.name-input`, (el) => { el.value = ''; });
      await page.type(`li[data-group="${group.id}"] input.name-input`, u.name);
      await page.click(`li[data-group="${group.id}"] button.name`);
      await waitFor(page, 'the name answer and the group gone', (id) => !window.facepipe.busy &&
        (window.facepipe.error || (window.facepipe.last && window.facepipe.last.group === id &&
          !window.facepipe.groups.some((g) => g.id === id) && !document.querySelector(`li[data-group="${id}"]`))),
      [group.id]);
      const after = await pageState(page);
      if (after.error) throw new Error(`name failed: ${after.error}`);
      const photo = fs.readFileSync(u.photo).toString('base64');
      const labels = await page.evaluate(async (b64) => {
        const r = await FP.api('api/v1/recognize', { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ file: b64 }) });
        return r.faces.map((f) => f.label);
      }, photo);
      if (!labels.includes(u.label)) throw new Error(`recognize after naming: ${JSON.stringify(labels)}`);
      return { groups_before: before.groups.map((g) => `${g.id}:${g.size}`), named: group.id,
               groups_after: after.groups.length, labels };
    });

    await step('no script errors on the pages', async () => {
      if (scriptErrors.length) throw new Error(scriptErrors.join('; '));
    });
  } finally {
    await browser.close();
    clearTimeout(watchdog);
  }
}

main().catch(() => process.exit(1));
