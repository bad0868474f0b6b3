// unknown.js — the Unknown faces page: GET api/v1/unknown/groups (the collected
// unknown faces grouped by person), one contact sheet per group (its crops), and
// per group: name it (POST .../groups/{id}/name: enrols it as enrol does),
// forget it (DELETE .../groups/{id}), merge another group into it
// (POST .../groups/{id}/merge).
//
// For tests, window.facepipe holds the page's state:
//   {groups: [...the answer's groups], last: the last change's answer, busy, error}
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = (window.facepipe = { groups: [], last: null, busy: false, error: null, loaded: false });

  function setBusy(busy) {
    state.busy = busy;
    for (const b of document.querySelectorAll('button')) b.disabled = busy;
  }

  async function act(what, path, options) {
    setBusy(true);
    FP.setStatus($('status'), `${what}…`);
    try {
      state.last = await FP.api(path, options);
      state.error = null;
      FP.setStatus($('status'), `${what}: done`, 'ok');
    } catch (e) {
      state.error = e.message;
      FP.setStatus($('status'), `${what}: ${e.message}`, 'error');
    }
    setBusy(false);
    await load();
  }

  const json = (body) => ({
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });

  function groupCard(g) {
    const sources = g.sources.length > 1 ? `${g.sources[0]} +${g.sources.length - 1}` : g.sources[0];
    const others = state.groups.filter((o) => o.id !== g.id);
    const name = FP.el('input', { type: 'text', placeholder: 'name', value: g.maybe || '', class: 'name-input' });
    const merge = FP.el('select', { class: 'merge-select' },
      FP.el('option', { value: '' }, 'merge group…'),
      others.map((o) => FP.el('option', { value: String(o.id) }, `${o.id} (${o.size})`)));
    return FP.el('li', { class: 'card group', dataset: { group: String(g.id) } },
      FP.el('div', { class: 'head' },
        FP.el('h2', {}, `Group ${g.id} `, FP.el('span', { class: 'count' }, `${g.size} face${g.size === 1 ? '' : 's'}`)),
        g.maybe ? FP.el('span', { class: 'maybe' }, `maybe ${g.maybe} (${FP.distanceText(g.maybe_distance)})`) : null,
        FP.el('span', { class: 'muted' }, sources)),
      FP.el('ul', { class: 'sheet' }, g.members.map((m) =>
        FP.el('li', { title: `face ${m.id}: ${m.source}${m.time !== null ? ' at ' + m.time.toFixed(1) + ' s' : ''}` },
          FP.el('img', { src: m.url, alt: `face ${m.id}`, loading: 'lazy', class: m.id === g.representative ? 'rep' : '' }),
          FP.el('span', {}, String(m.id))))),
      FP.el('div', { class: 'row' },
        name,
        FP.el('button', { type: 'button', class: 'primary name', onclick: () => {
          const n = name.value.trim();
          if (n) act(`Enrolling group ${g.id} as ${n}`, `api/v1/unknown/groups/${g.id}/name`, json({ name: n }));
        } }, 'Name'),
        merge,
        FP.el('button', { type: 'button', class: 'merge', onclick: () => {
          if (merge.value) act(`Merging group ${merge.value} into ${g.id}`, `api/v1/unknown/groups/${g.id}/merge`,
            json({ group: Number(merge.value) }));
        } }, 'Merge'),
        FP.el('button', { type: 'button', class: 'danger forget', onclick: () =>
          act(`Forgetting group ${g.id}`, `api/v1/unknown/groups/${g.id}`, { method: 'DELETE' }) }, 'Forget')));
  }

  async function load() {
    const q = new URLSearchParams({ threshold: $('threshold').value, min_size: $('min-size').value });
    try {
      const r = await FP.api(`api/v1/unknown/groups?${q}`);
      state.groups = r.groups;
      $('summary').textContent = `${r.groups.length} groups, ${r.faces} faces`;
      $('groups').replaceChildren(...r.groups.map(groupCard));
      if (!r.groups.length) $('groups').append(FP.el('li', { class: 'card muted' }, 'No unknown faces collected.'));
    } catch (e) {
      state.error = e.message;
      FP.setStatus($('status'), e.message, 'error');
    }
    state.loaded = true;
  }

  $('refresh').addEventListener('click', load);
  load();
})();
