// enrol.js — the Enrol page: photos by upload or webcam snapshot, sent to
// POST api/v1/people/{name}/photos; each photo's verdict, the retraining's
// progress (polled from api/v1/jobs/current) and the result; the people list
// with thumbnails and counts, and removal of a photo or a person.
//
// For tests, window.facepipe holds the page's state:
//   {people: [...GET api/v1/people's people], last: the last enrol answer,
//    stages: [stages seen while it ran], busy, error}
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = (window.facepipe = { people: [], last: null, stages: [], busy: false, error: null });
  const STAGES = ['check', 'augment', 'encode', 'train', 'save'];  // the server's, in order
  const VERDICT_TEXT = {
    accepted: 'accepted',
    duplicate: 'already enrolled',
    not_an_image: 'not an image',
    no_face: 'no face',
    several_faces: 'several faces',
    too_large: 'too large',
    unreadable: 'unreadable',
  };

  // Photos chosen or snapped, waiting for "Enrol": {file: File, url: object URL}.
  let pending = [];
  let snaps = 0;

  function renderPending() {
    const list = $('pending');
    list.replaceChildren(...pending.map((p, i) =>
      FP.el('li', { title: p.file.name },
        FP.el('img', { src: p.url, alt: p.file.name }),
        FP.el('button', { type: 'button', class: 'remove', title: 'leave this photo out', textContent: '×',
          onclick: () => { URL.revokeObjectURL(p.url); pending.splice(i, 1); renderPending(); } }))));
    $('enrol').disabled = state.busy || pending.length === 0;
    $('enrol').textContent = pending.length > 1 ? `Enrol ${pending.length} photos` : 'Enrol';
  }

  function addFiles(files) {
    for (const file of files) pending.push({ file, url: URL.createObjectURL(file) });
    renderPending();
  }

  $('files').addEventListener('change', (e) => {
    addFiles(e.target.files);
    e.target.value = '';  // choosing the same file again adds it again
  });

  // --- webcam snapshots ------------------------------------------------------
  let stream = null;
  $('camera-start').addEventListener('click', async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      $('camera-video').srcObject = stream;
      $('camera').hidden = false;
      $('camera-start').disabled = true;
    } catch (e) {
      FP.setStatus($('status'), `webcam: ${e.message}`, 'error');
    }
  });
  function stopCamera() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $('camera').hidden = true;
    $('camera-start').disabled = false;
  }
  $('camera-stop').addEventListener('click', stopCamera);
  $('snap').addEventListener('click', () => {
    const v = $('camera-video');
    if (!v.videoWidth) return;
    const c = FP.el('canvas', { width: v.videoWidth, height: v.videoHeight });
    c.getContext('2d').drawImage(v, 0, 0);
    c.toBlob((blob) => {
      snaps += 1;
      addFiles([new File([blob], `webcam-${snaps}.jpg`, { type: 'image/jpeg' })]);
    }, 'image/jpeg', 0.92);
  });

  // --- progress of the retraining --------------------------------------------
  function showStage(job) {
    const at = job ? STAGES.indexOf(job.stage) : -1;
    if (job && job.stage && !state.stages.includes(job.stage)) state.stages.push(job.stage);
    for (const li of document.querySelectorAll('.stages li')) {
      const i = STAGES.indexOf(li.dataset.stage);
      li.className = i < at ? 'done' : i === at ? 'current' : '';
    }
    if (at >= 0) $('progress-bar').value = (at + Math.min(1, Math.max(0, job.fraction || 0))) / STAGES.length;
  }

  // Polls the current job until `done` resolves; one request at a time.
  async function followProgress(done) {
    let finished = false;
    done.finally(() => { finished = true; });
    while (!finished) {
      try {
        const job = await FP.api('api/v1/jobs/current');
        if (!finished && job) showStage(job);
      } catch (e) { /* progress is a nicety: the enrol answer says what happened */ }
      await Promise.race([FP.delay(250), done.catch(() => {})]);
    }
  }

  function finishStages() {
    for (const li of document.querySelectorAll('.stages li')) li.className = 'done';
    $('progress-bar').value = 1;
  }

  // Shows the retraining's progress while `request` (an enrolment or a
  // removal) runs: every stage done when it succeeds, hidden when it fails.
  function trackProgress(request, title) {
    state.stages = [];
    $('progress-title').textContent = title;
    $('progress').hidden = false;
    $('result').hidden = true;
    showStage(null);
    $('progress-bar').value = 0;
    followProgress(request);
    request.then(finishStages, () => { $('progress').hidden = true; });
  }

  // --- enrol -------------------------------------------------------------------
  function showResult(answer) {
    const photos = (answer && answer.photos) || [];
    $('verdicts').tBodies[0].replaceChildren(...photos.map((p) => {
      const kind = p.verdict === 'accepted' || p.verdict === 'duplicate' ? p.verdict : 'refused';
      return FP.el('tr', {},
        FP.el('td', {}, p.file),
        FP.el('td', { class: `verdict ${kind}`, dataset: { verdict: p.verdict } }, VERDICT_TEXT[p.verdict] || p.verdict),
        FP.el('td', { class: 'muted' }, p.detail || ''));
    }));
    $('verdicts').hidden = photos.length === 0;
    $('result').hidden = false;
  }

  $('enrol-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    if (!name || pending.length === 0 || state.busy) return;
    const form = new FormData();
    for (const p of pending) form.append('file', p.file, p.file.name);

    state.busy = true;
    state.error = null;
    renderPending();
    FP.setStatus($('status'), `Sending ${pending.length} photo(s) of ${name}…`);

    const request = FP.api(`api/v1/people/${encodeURIComponent(name)}/photos`, { method: 'POST', body: form });
    trackProgress(request, `Enrolling ${name}`);
    try {
      const answer = await request;
      state.last = answer;
      showResult(answer);
      const accepted = answer.photos.filter((p) => p.verdict === 'accepted').length;
      const summary = answer.retrained
        ? `${answer.person}${answer.new_person ? ' (new)' : ''}: ${accepted} photo(s) added; ` +
          `the model is retrained (${FP.shortId(answer.training_id)}) and answers for ${FP.count(answer.people)} people.`
        : `${answer.person}: no photo added; the model is unchanged.`;
      $('result-summary').textContent = summary;
      FP.setStatus($('status'), answer.retrained ? 'Done.' : 'Nothing to enrol.', answer.retrained ? 'ok' : 'error');
      pending.forEach((p) => URL.revokeObjectURL(p.url));
      pending = [];
    } catch (err) {
      state.error = err.message;
      if (err.body && err.body.photos) showResult(err.body);  // verdicts explain a refusal
      FP.setStatus($('status'), err.message, 'error');
    } finally {
      state.busy = false;
      renderPending();
      loadPeople();
    }
  });

  // --- people ------------------------------------------------------------------
  async function remove(path, what) {
    if (!window.confirm(`Remove ${what}? The model is retrained without it.`)) return;
    state.busy = true;
    state.error = null;
    renderPending();
    FP.setStatus($('people-status'), `Removing ${what} and retraining…`);
    const request = FP.api(path, { method: 'DELETE' });
    trackProgress(request, `Removing ${what}`);
    try {
      await request;
      FP.setStatus($('people-status'), `Removed ${what}.`, 'ok');
    } catch (err) {
      state.error = err.message;
      FP.setStatus($('people-status'), err.message, 'error');
    } finally {
      state.busy = false;
      renderPending();
      loadPeople();
    }
  }

  // A person's photos as thumbnails, each removable: the first THUMBS, then a
  // button that shows the rest.
  const THUMBS = 12;
  function thumbnails(p, base, all = false) {
    const list = FP.el('ul', { class: 'thumbs' }, (all ? p.photos : p.photos.slice(0, THUMBS)).map((ph) =>
      FP.el('li', { title: ph.id, dataset: { photo: ph.id } },
        FP.el('img', { src: ph.url, alt: ph.id, loading: 'lazy' }),
        FP.el('button', { type: 'button', class: 'remove', title: `remove ${ph.id}`, textContent: '×',
          onclick: () => remove(`${base}/photos/${encodeURIComponent(ph.id)}`, `${ph.id} of ${p.name}`) }))));
    if (!all && p.photos.length > THUMBS) {
      list.append(FP.el('li', {}, FP.el('button', { type: 'button', class: 'more', title: 'show every photo',
        textContent: `+${p.photos.length - THUMBS}`, onclick: () => list.replaceWith(thumbnails(p, base, true)) })));
    }
    return list;
  }

  function personItem(p) {
    const base = `api/v1/people/${encodeURIComponent(p.name)}`;
    const first = p.photos[0];
    return FP.el('li', { dataset: { person: p.name } },
      FP.el('div', { class: 'head' },
        first ? FP.el('img', { src: first.url, alt: '' }) : null,
        FP.el('span', { class: 'name' }, p.name),
        FP.el('span', { class: 'muted' }, `${p.count} photo${p.count === 1 ? '' : 's'}`),
        FP.el('button', { type: 'button', class: 'danger', textContent: 'Remove',
          onclick: () => remove(base, p.name) })),
      thumbnails(p, base));
  }

  async function loadPeople() {
    try {
      const answer = await FP.api('api/v1/people');
      state.people = answer.people;
      $('people').replaceChildren(...answer.people.map(personItem));
      $('people-count').textContent = `(${answer.people.length})`;
      $('known-names').replaceChildren(...answer.people.map((p) => FP.el('option', { value: p.name })));
      if (answer.people.length === 0) FP.setStatus($('people-status'), 'Nobody is enrolled yet.');
    } catch (err) {
      FP.setStatus($('people-status'), err.message, 'error');
    }
  }

  renderPending();
  loadPeople();
})();
