// common.js — what every facepipe page shares: calling the API, drawing labelled
// faces, small DOM helpers. Plain browser JavaScript, no build step, nothing
// fetched from elsewhere. Every URL is relative, so the pages also work behind a
// reverse proxy that serves them under a prefix.
'use strict';

const FP = (() => {
  // Colours of annotate.h (predict --annotate, live's window): green known, red unknown.
  const KNOWN = 'rgb(60, 200, 60)';
  const UNKNOWN = 'rgb(230, 40, 40)';

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;  // the parsed JSON answer, when there was one
    }
  }

  // Calls the API; resolves to the parsed JSON answer. An error status rejects
  // with an ApiError carrying the server's {"error": "..."} text. Without a
  // valid key (401) the page goes to the login form and comes back afterwards.
  async function api(path, options = {}) {
    const res = await fetch(path, { credentials: 'same-origin', ...options });
    const text = await res.text();
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = null; }
    }
    if (res.status === 401) location.assign('login?next=' + encodeURIComponent(location.pathname + location.search));
    if (!res.ok) {
      const why = body && body.error ? body.error : `${res.status} ${res.statusText}`.trim();
      throw new ApiError(res.status, why, body);
    }
    return body;
  }

  // document.createElement with properties and children in one call.
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function setStatus(node, text, kind = '') {
    node.textContent = text;
    node.className = 'status' + (kind ? ' ' + kind : '');
  }

  // A face's box as {x, y, w, h}: live answers [x, y, w, h], recognize {x, y, width, height}.
  function boxOf(face) {
    const b = face.box;
    if (Array.isArray(b)) return { x: b[0], y: b[1], w: b[2], h: b[3] };
    return { x: b.x, y: b.y, w: b.width, h: b.height };
  }

  function distanceText(d) {
    return typeof d === 'number' && d >= 0 ? d.toFixed(2) : '';
  }

  // Draws each face's box and "name 0.42" on a band above it, as annotate.h
  // does. `scale` maps the faces' pixel coordinates to the canvas's. Returns
  // the texts drawn.
  function drawFaces(ctx, faces, scale = 1) {
    const drawn = [];
    const size = Math.max(ctx.canvas.width, ctx.canvas.height);
    const u = Math.max(1, size / 640);  // line and text size grow with the picture
    ctx.lineWidth = 2 * u;
    ctx.font = `600 ${Math.round(14 * u)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    for (const f of faces) {
      const b = boxOf(f);
      const x = b.x * scale, y = b.y * scale, w = b.w * scale, h = b.h * scale;
      const colour = f.known ? KNOWN : UNKNOWN;
      ctx.strokeStyle = colour;
      ctx.strokeRect(x, y, w, h);
      const text = `${f.label} ${distanceText(f.distance)}`.trim();
      const band = Math.round(20 * u);
      const tw = ctx.measureText(text).width + 8 * u;
      const by = y >= band ? y - band : y;  // above the box, or inside it at the top edge
      ctx.fillStyle = colour;
      ctx.fillRect(x - ctx.lineWidth / 2, by, Math.max(tw, w / 2), band);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x + 4 * u, by + band / 2);
      drawn.push(text);
    }
    return drawn;
  }

  // Fills every page's <header class="bar">: the name and the pages, the
  // current one marked.
  function header() {
    const bar = document.querySelector('header.bar');
    if (!bar) return;
    const page = location.pathname.replace(/\/+$/, '').replace(/^.*\//, '').replace(/\.html$/, '');
    const link = ([href, text]) => el('a', href === page ? { href, 'aria-current': 'page' } : { href }, text);
    bar.replaceChildren(el('a', { class: 'brand', href: './' }, 'facepipe'),
      el('nav', {}, [['enrol', 'Enrol'], ['live', 'Live'], ['photo', 'Photo'], ['unknown', 'Unknown faces']].map(link)));
  }
  header();  // the pages load this script at the end of <body>

  // A model's training id as the pages show it: its first 12 hex digits.
  const shortId = (id) => (id ? String(id).slice(0, 12) : 'none');

  // A count the API gives as a number or as the list itself.
  const count = (n) => (Array.isArray(n) ? n.length : n);

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  return { api, ApiError, el, setStatus, boxOf, distanceText, drawFaces, delay, count, shortId, KNOWN, UNKNOWN };
})();
