// live.js — the Live page: the webcam's frames go to POST api/v1/live/frame
// as JPEG, one request in flight at a time, under this tab's own session (the
// server keeps one tracker per session, so several tabs work at once). The
// answer's boxes, names and distances are drawn on a canvas over the video,
// with frames/s and latency.
//
// For tests, window.facepipe holds the page's state:
//   {session, frames (answers received), frame (the server's frame index), fps,
//    latency_ms (round trip), server_ms, faces (the last answer's), drawn (the
//    texts drawn over them), training_id, width, height (the size of the frames
//    sent), running, error}
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_WIDTH = 640;  // frames are sent at most this wide: enough for faces of a webcam
  const session = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).replace(/-/g, '');
  const state = (window.facepipe = {
    session, frames: 0, frame: -1, fps: 0, latency_ms: 0, server_ms: 0, faces: [], drawn: [],
    training_id: null, width: 0, height: 0, running: false, error: null,
  });

  const video = $('video');
  const overlay = $('overlay');
  const grab = document.createElement('canvas');
  let answeredAt = [];  // times of the last answers, for frames/s

  function draw(faces) {
    const ctx = overlay.getContext('2d');
    if (overlay.width !== grab.width || overlay.height !== grab.height) {
      overlay.width = grab.width;
      overlay.height = grab.height;
    }
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    state.drawn = FP.drawFaces(ctx, faces);
  }

  function showAnswer(answer, roundTrip) {
    const now = performance.now();
    answeredAt.push(now);
    answeredAt = answeredAt.filter((t) => now - t <= 2000);
    const span = (now - answeredAt[0]) / 1000;
    Object.assign(state, {
      frames: state.frames + 1,
      frame: answer.frame,
      fps: answeredAt.length > 1 && span > 0 ? (answeredAt.length - 1) / span : 0,
      latency_ms: roundTrip,
      server_ms: answer.ms,
      faces: answer.faces,
      training_id: answer.training_id,
      error: null,
    });
    draw(answer.faces);
    $('fps').textContent = state.fps.toFixed(1);
    $('latency').textContent = `${Math.round(roundTrip)} ms`;
    $('server-ms').textContent = `${Math.round(answer.ms)} ms`;
    $('frame').textContent = answer.frame;
    $('training-id').textContent = FP.shortId(answer.training_id);
    $('faces').tBodies[0].replaceChildren(...[...answer.faces].sort((a, b) => a.track - b.track).map((f) =>
      FP.el('tr', {},
        FP.el('td', { class: 'num' }, f.track),
        FP.el('td', { class: `label ${f.known ? 'known' : 'unknown'}` }, f.label),
        FP.el('td', { class: 'num' }, FP.distanceText(f.distance)))));
  }

  // Frames the video has shown (counted by video frame callbacks, where the
  // browser has them), so a frame is sent once, not again and again.
  let shown = 0, sentAt = -1, onShown = null;
  if (video.requestVideoFrameCallback) {
    const count = () => { shown += 1; if (onShown) onShown(); video.requestVideoFrameCallback(count); };
    video.requestVideoFrameCallback(count);
  }

  // Resolves when the video shows a frame other than the last one sent, or
  // after 200 ms: a still camera still gets its faces refreshed, and a hidden
  // tab, which gets no frame callbacks, goes on at 5 frames/s at most.
  function nextFrame() {
    return new Promise((resolve) => {
      if (!video.requestVideoFrameCallback || shown !== sentAt) return resolve();
      const timer = setTimeout(() => { onShown = null; resolve(); }, 200);
      onShown = () => { onShown = null; clearTimeout(timer); resolve(); };
    });
  }

  function capture() {
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    const w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (grab.width !== w || grab.height !== h) Object.assign(grab, { width: w, height: h });
    Object.assign(state, { width: w, height: h });
    sentAt = shown;
    grab.getContext('2d').drawImage(video, 0, 0, w, h);
    return new Promise((resolve) => grab.toBlob(resolve, 'image/jpeg', 0.85));
  }

  let looping = false;  // one loop, so one request in flight, even after Pause then Resume
  async function run() {
    looping = true;
    while (state.running) {
      if (!video.videoWidth) { await FP.delay(100); continue; }
      await nextFrame();
      const jpeg = await capture();
      const t0 = performance.now();
      try {
        const answer = await FP.api(`api/v1/live/frame?session=${session}`,
          { method: 'POST', body: jpeg, headers: { 'Content-Type': 'image/jpeg' } });
        showAnswer(answer, performance.now() - t0);
        FP.setStatus($('status'), '');
      } catch (err) {
        state.error = err.message;
        FP.setStatus($('status'), `${err.message}; retrying`, 'error');
        await FP.delay(err.status === 503 ? 500 : 1000);
      }
    }
    looping = false;
    draw([]);  // paused: no boxes left standing on faces that move on
  }

  function start() {
    state.running = true;
    $('toggle').textContent = 'Pause';
    if (!looping) run();
  }
  $('toggle').addEventListener('click', () => {
    if (state.running) {
      state.running = false;
      $('toggle').textContent = 'Resume';
    } else {
      start();
    }
  });

  navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 } }, audio: false })
    .then((stream) => {
      video.srcObject = stream;
      FP.setStatus($('status'), '');
      start();
    })
    .catch((err) => {
      state.error = `webcam: ${err.message}`;
      FP.setStatus($('status'), `No webcam: ${err.message}. The page needs a camera and, ` +
        'away from localhost, HTTPS (--tls-cert).', 'error');
    });
})();
