// photo.js — the Photo page: one photo to POST api/v1/recognize (multipart
// `file`); the answer (predict --format jsonl's object) is drawn over the photo
// here in the browser and listed in a table.
//
// For tests, window.facepipe holds the page's state:
//   {result: the last answer, busy, error}
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = (window.facepipe = { result: null, busy: false, error: null });

  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('the browser cannot show this file'));
      img.src = url;
    });
  }

  function showTable(faces) {
    $('face-count').textContent = `(${faces.length})`;
    $('faces').tBodies[0].replaceChildren(...faces.map((f, i) => {
      const b = FP.boxOf(f);
      return FP.el('tr', {},
        FP.el('td', { class: 'num' }, i + 1),
        FP.el('td', { class: `label ${f.known ? 'known' : 'unknown'}` }, f.label),
        FP.el('td', { class: 'num' }, FP.distanceText(f.distance)),
        FP.el('td', { class: 'num muted' }, `${b.x}, ${b.y}, ${b.w}, ${b.h}`));
    }));
  }

  // Draws the photo (the browser turns it upright by its EXIF tag, as the
  // server does) with the faces; boxes are in the server's upright pixels.
  async function showAnnotated(file, result) {
    const url = URL.createObjectURL(file);
    try {
      const img = await loadImage(url);
      const c = $('annotated');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      FP.drawFaces(ctx, result.faces, result.width ? c.width / result.width : 1);
      c.hidden = false;
      c.toBlob((blob) => {
        const a = $('download');
        if (a.href) URL.revokeObjectURL(a.href);
        a.href = URL.createObjectURL(blob);
        a.download = `${file.name.replace(/\.[^.]*$/, '')}-annotated.jpg`;
        a.hidden = false;
      }, 'image/jpeg', 0.9);
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  async function recognize(file) {
    if (state.busy) return;
    state.busy = true;
    state.error = null;
    $('download').hidden = true;
    FP.setStatus($('status'), `Looking at ${file.name}…`);
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const result = await FP.api('api/v1/recognize', { method: 'POST', body: form });
      state.result = result;
      showTable(result.faces);
      const known = result.faces.filter((f) => f.known).length;
      FP.setStatus($('status'), `${file.name}: ${result.width}×${result.height}, ${result.faces.length} face(s), ` +
        `${known} known`, 'ok');
      await showAnnotated(file, result).catch((err) => {
        $('annotated').hidden = true;  // the table stands without the picture
        FP.setStatus($('status'), `${$('status').textContent}; ${err.message}`, 'error');
      });
    } catch (err) {
      state.error = err.message;
      $('annotated').hidden = true;
      showTable([]);
      FP.setStatus($('status'), err.message, 'error');  // the server's one line names the file
    } finally {
      state.busy = false;
    }
  }

  $('file').addEventListener('change', (e) => {
    if (e.target.files[0]) recognize(e.target.files[0]);
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) recognize(e.dataTransfer.files[0]);
  });
})();
