// opsconform console: reads and drives the mock through its control API.
// Every value from the API is written with textContent, never as HTML.
'use strict';

(function () {
  const BASE = document.querySelector('meta[name="opsconform-base"]').content; // "/__opsconform/"
  const TOKEN_KEY = 'opsconform-control-token';
  const JOURNAL_POLL_MS = 1000;
  const STATE_POLL_MS = 3000;
  const MAX_ROWS = 500;
  const KEYS_SHOWN = 200;

  // ---- the control token: from the URL's fragment once, then this tab's session storage.
  (function takeTokenFromFragment() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      // Out of the address bar and the history: a fragment is never sent to a server, but it is shown.
      history.replaceState(null, '', location.pathname + location.search);
    }
  })();

  class APIError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(BASE + path, init);
    } catch (e) {
      setConn(false, 'mock unreachable');
      throw new APIError(0, 'the mock does not answer: is it still running?');
    }
    setConn(true);
    const text = await resp.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (resp.status === 401) {
      showTokenPanel(true);
      throw new APIError(401, (data && data.error) || 'the control API needs its token');
    }
    if (!resp.ok) {
      throw new APIError(resp.status, (data && data.error) || (resp.status + ' ' + resp.statusText));
    }
    return { data, headers: resp.headers };
  }

  // ---- small DOM helpers: text only.
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') n.className = v;
        else if (k === 'text') n.textContent = v;
        else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
        else n.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }
  const $ = (sel) => document.querySelector(sel);

  // rerender replaces a table's rows only when what they show changed, so a
  // refresh never swaps a button out from under a click.
  const shown = new Map();
  function rerender(tbody, data, rows) {
    const key = JSON.stringify(data);
    if (shown.get(tbody) === key) return;
    shown.set(tbody, key);
    tbody.replaceChildren(...rows());
  }

  function setConn(ok, why) {
    const c = $('#conn');
    c.className = 'conn ' + (ok ? 'live' : 'down');
    c.textContent = ok ? 'live' : (why || 'offline');
  }

  function message(text, opts) {
    opts = opts || {};
    const box = el('div', { class: 'message' + (opts.error ? ' error' : ''), role: opts.error ? 'alert' : 'status' });
    box.append(el('span', { text }));
    if (opts.code) box.append(el('pre', { text: opts.code }));
    box.append(el('button', { type: 'button', class: 'quiet', text: 'dismiss', onclick: () => box.remove() }));
    $('#messages').prepend(box);
    if (!opts.sticky) setTimeout(() => box.remove(), 12000);
    return box;
  }

  function showTokenPanel(show) {
    $('#token-panel').hidden = !show;
    if (show) $('#token-input').focus();
  }

  // ---- tabs
  let currentTab = 'journal';
  function selectTab(name) {
    currentTab = name;
    for (const b of document.querySelectorAll('#tabs button')) {
      b.setAttribute('aria-selected', String(b.dataset.tab === name));
    }
    for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== 'tab-' + name;
    refreshState();
  }

  // ---- profiles: the selects, the operation ids and the Profiles tab
  let profiles = [];
  async function loadProfiles() {
    const { data } = await api('GET', 'profiles');
    profiles = data || [];
    for (const sel of document.querySelectorAll('select[data-profiles]')) {
      const keep = sel.value;
      sel.replaceChildren();
      if (sel.dataset.profiles === 'any') sel.append(el('option', { value: '', text: 'any' }));
      for (const p of profiles) sel.append(el('option', { value: p.name, text: p.name }));
      if (keep && profiles.some((p) => p.name === keep)) sel.value = keep;
    }
    const ids = new Set();
    for (const p of profiles) for (const e of p.endpoints || []) ids.add(e.id);
    $('#operation-ids').replaceChildren(...[...ids].sort().map((id) => el('option', { value: id })));
    renderProfiles();
  }

  function renderProfiles() {
    const box = $('#profiles');
    box.replaceChildren();
    for (const p of profiles) {
      const rows = (p.endpoints || []).map((e) => el('tr', null,
        el('td', null, el('span', { class: 'method', text: e.method })),
        el('td', { class: 'uri', text: e.path }),
        el('td', { class: 'mono', text: e.id }),
        el('td', { text: e.public ? 'public' : (e.class || '') }),
        el('td', { text: e.summary || '' })));
      box.append(el('div', { class: 'profile', 'data-profile': p.name },
        el('h3', null, p.title || p.name, el('span', { class: 'mono', text: p.name + (p.basePath ? ' · ' + p.basePath : '') })),
        el('dl', null,
          el('dt', { text: 'auth' }), el('dd', { text: p.auth }),
          el('dt', { text: 'envelope' }), el('dd', { text: p.envelope }),
          el('dt', { text: 'pagination' }), el('dd', { text: p.pagination }),
          el('dt', { text: 'rate limits' }), el('dd', { text: p.rateLimits })),
        el('details', null,
          el('summary', { text: (p.endpoints || []).length + ' operations' }),
          el('table', { class: 'grid' },
            el('thead', null, el('tr', null, el('th', { text: 'method' }), el('th', { text: 'path' }),
              el('th', { text: 'operation' }), el('th', { text: 'class' }), el('th', { text: 'summary' }))),
            el('tbody', null, ...rows)))));
    }
  }

  // ---- the journal, polled with a cursor
  const journal = { cursor: 0, seen: new Set(), query: '', busy: false, open: new Set() };

  function journalQuery() {
    const f = new FormData($('#journal-filters'));
    const q = new URLSearchParams();
    for (const name of ['status', 'profile', 'operation', 'key', 'reason']) {
      const v = String(f.get(name) || '').trim();
      if (v) q.set(name, v);
    }
    return q;
  }

  function restartJournal() {
    journal.query = journalQuery().toString();
    journal.cursor = 0;
    journal.seen.clear();
    journal.open.clear();
    $('#journal-rows').replaceChildren();
    $('#journal-error').hidden = true;
    pollJournal(true);
  }

  async function pollJournal(first) {
    if (journal.busy || (!first && $('#journal-pause').checked)) return;
    journal.busy = true;
    try {
      const q = new URLSearchParams(journal.query);
      if (journal.cursor > 0) q.set('since', String(journal.cursor));
      else q.set('limit', String(MAX_ROWS));
      const { data, headers } = await api('GET', 'requests?' + q.toString());
      const cursor = Number(headers.get('Opsconform-Journal-Cursor'));
      if (Number.isFinite(cursor)) journal.cursor = cursor;
      addEntries(data || [], journal.seen.size > 0);
      $('#journal-error').hidden = true;
    } catch (e) {
      if (e.status === 400) {
        $('#journal-error').textContent = e.message;
        $('#journal-error').hidden = false;
      }
    } finally {
      journal.busy = false;
    }
  }

  function statusClass(st) {
    if (st < 0) return 'sx';
    return 's' + String(st).charAt(0);
  }

  function addEntries(entries, fresh) {
    const tbody = $('#journal-rows');
    // entries are newest first; insert the oldest new one first, each on top.
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (journal.seen.has(e.seq)) continue;
      journal.seen.add(e.seq);
      const row = entryRow(e, fresh);
      // Keep seq order even when an entry arrives late.
      let before = tbody.firstChild;
      while (before && Number(before.dataset.seq) > e.seq) {
        before = before.nextSibling;
        while (before && before.classList.contains('detail')) before = before.nextSibling;
      }
      tbody.insertBefore(row, before);
    }
    const rows = tbody.querySelectorAll('tr.entry');
    for (let i = MAX_ROWS; i < rows.length; i++) {
      const r = rows[i];
      if (r.nextSibling && r.nextSibling.classList.contains('detail')) r.nextSibling.remove();
      journal.seen.delete(Number(r.dataset.seq));
      r.remove();
    }
    $('#journal-count').textContent = Math.min(rows.length, MAX_ROWS) + ' shown';
  }

  function entryRow(e, fresh) {
    const status = e.status < 0 ? 'none' : String(e.status);
    const reason = el('td', { class: 'reason' });
    if (e.reasonCode) reason.append(el('span', { class: 'code', text: e.reasonCode }));
    if (e.reason) reason.append(e.reason);
    if (e.faults && e.faults.length) reason.append(el('div', { class: 'muted', text: 'faults: ' + e.faults.join(', ') }));
    const row = el('tr', { class: 'entry' + (fresh ? ' fresh' : ''), 'data-seq': e.seq, 'data-status': e.status, tabindex: 0 },
      el('td', { class: 'num muted', text: e.seq }),
      el('td', { class: 'mono', text: (e.time || '').substring(11, 23) }),
      el('td', null, el('span', { class: 'method', text: e.method })),
      el('td', { class: 'uri', text: e.uri }),
      el('td', null, el('span', { class: 'status ' + statusClass(e.status), text: status })),
      el('td', { text: e.profile || '' }),
      el('td', { class: 'mono', text: e.operation || '' }),
      el('td', { class: 'mono', text: e.key || '' }),
      reason,
      el('td', { class: 'num', text: (e.durationMs || 0).toFixed(1) }));
    const toggle = () => toggleDetail(row, e);
    row.addEventListener('click', toggle);
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') toggle(); });
    return row;
  }

  function toggleDetail(row, e) {
    const next = row.nextSibling;
    if (next && next.classList.contains('detail')) {
      next.remove();
      row.classList.remove('open');
      return;
    }
    row.classList.add('open');
    const block = (title, text) => el('div', null, el('h4', { text: title }), el('pre', { text }));
    const headers = (h) => Object.keys(h || {}).sort().map((k) => h[k].map((v) => k + ': ' + v).join('\n')).join('\n') || '(none)';
    const body = (b) => {
      if (!b) return '(not read)';
      if (!b.size) return '(empty)';
      let t = b.text;
      try { if (!b.truncated) t = JSON.stringify(JSON.parse(t), null, 2); } catch (err) { /* not JSON: as it came */ }
      return t + (b.truncated ? '\n… (' + b.size + ' bytes in all; the journal keeps the first ' + b.text.length + ')' : '');
    };
    const grid = el('div', { class: 'detail-grid' },
      block('Request: ' + e.method + ' ' + e.uri, headers(e.requestHeaders)),
      block('Response: ' + (e.status < 0 ? 'none (connection closed)' : e.status), headers(e.responseHeaders)),
      block('Request body', body(e.requestBody)),
      block('Response body', body(e.responseBody)));
    const cell = el('td', { colspan: 10 });
    if (e.reason) cell.append(el('p', null, el('span', { class: 'code', text: e.reasonCode || '' }), e.reason));
    cell.append(grid);
    row.after(el('tr', { class: 'detail' }, cell));
  }

  // ---- keys
  let keysNotice = null;
  async function loadKeys() {
    const profile = $('#keys-profile').value;
    if (!profile) return;
    const [{ data: keys }, { data: budgets }] = await Promise.all([
      api('GET', 'profiles/' + encodeURIComponent(profile) + '/keys'),
      api('GET', 'profiles/' + encodeURIComponent(profile) + '/budgets'),
    ]);
    const find = $('#keys-find').value.trim().toLowerCase();
    const matching = (keys || []).filter((k) => !find ||
      [k.id, k.name, k.owner, k.description, (k.labels || []).join(' ')].some((v) => (v || '').toLowerCase().includes(find)));
    const some = matching.slice(0, KEYS_SHOWN);
    const budgetsOf = (k) => (budgets || {})[k.id] || [];
    rerender($('#keys-rows'), [profile, some, some.map(budgetsOf)], () => some.map((k) => keyRow(profile, k, budgetsOf(k))));
    $('#keys-count').textContent = matching.length > some.length
      ? some.length + ' of ' + matching.length + ' keys shown: narrow with Find'
      : matching.length + ' keys';
  }

  function keyRow(profile, k, budgets) {
    const used = budgets.filter((b) => b.used > 0);
    const budgetText = (used.length ? used : budgets.slice(0, 1))
      .map((b) => b.class + ' ' + b.used + '/' + b.limit + ' per ' + b.window).join(' · ');
    const actions = el('td', { class: 'actions' });
    const act = (action, label, opts) => {
      opts = opts || {};
      const b = el('button', { type: 'button', 'data-action': action, text: label, class: opts.danger ? 'danger' : '' });
      b.addEventListener('click', () => keyAction(profile, k, action, b, label, opts));
      if (opts.disabled) b.disabled = true;
      actions.append(b);
    };
    const dead = k.state === 'revoked';
    if (k.enabled) act('disable', 'Disable', { disabled: dead });
    else act('enable', 'Enable', { disabled: dead });
    act('revoke', 'Revoke', { danger: true, confirm: true, disabled: dead });
    act('regenerate', 'Regenerate', { confirm: true, disabled: dead });
    act('expire', 'Expire', { confirm: true, disabled: dead || k.state === 'expired' });
    act('budget', 'Reset budget', { disabled: !used.length });
    return el('tr', { 'data-key': k.id },
      el('td', { class: 'mono', text: k.id }),
      el('td', { text: k.name || k.description || '' }),
      el('td', { class: 'mono', text: k.owner || '' }),
      el('td', { class: 'scopes', text: (k.scopes || []).join(' ') }),
      el('td', null, el('span', { class: 'state state-' + k.state, text: k.state })),
      el('td', { class: 'mono', text: k.expires ? k.expires.replace('T', ' ').replace(/\..*|Z$/, '') : '' }),
      el('td', { class: 'budgets', text: budgetText }),
      actions);
  }

  // Destructive actions ask twice, in place: a first click arms the button.
  async function keyAction(profile, k, action, button, label, opts) {
    if (opts.confirm && !button.classList.contains('confirm')) {
      button.classList.add('confirm');
      button.textContent = 'Really ' + label.toLowerCase() + '?';
      setTimeout(() => { button.classList.remove('confirm'); button.textContent = label; }, 4000);
      return;
    }
    button.disabled = true;
    const path = 'profiles/' + encodeURIComponent(profile) + '/keys/' + encodeURIComponent(k.id);
    try {
      if (action === 'budget') {
        await api('DELETE', path + '/budget');
        message('Budget of key ' + k.id + ' reset.');
      } else if (action === 'regenerate') {
        // The secret stays on the mock for one pickup: this page never receives it.
        const { data } = await api('POST', path + '/regenerate?reveal=pickup');
        showRegenerated(profile, k.id, data);
      } else {
        await api('POST', path + '/' + action);
        message('Key ' + k.id + ': ' + action + 'd.');
      }
    } catch (e) {
      message(action + ' ' + k.id + ': ' + e.message, { error: true });
    }
    await loadKeys().catch(() => {});
  }

  function showRegenerated(profile, id, data) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const url = location.origin + (data && data.pickup ? data.pickup : BASE + 'profiles/' + profile + '/keys/' + id + '/secret');
    const auth = token ? ' -H "Authorization: Bearer $OPSCONFORM_CONTROL_TOKEN"' : '';
    const curl = 'curl -s -X POST' + auth + ' ' + url;
    if (keysNotice) keysNotice.remove();
    keysNotice = message('Key ' + id + ' regenerated: its old secret no longer works. The new secret is not shown here; ' +
      'fetch it once, within 10 minutes, from a terminal:', { code: curl, sticky: true });
  }

  // ---- faults
  let deviations = [];
  async function loadDeviations() {
    const { data } = await api('GET', 'deviations');
    deviations = data || [];
    $('#deviation-select').replaceChildren(...deviations.map((d) =>
      el('option', { value: d.name, title: d.summary || '', text: d.name })));
  }

  function faultDoes(f) {
    switch (f.kind) {
      case 'status': return String(f.status);
      case 'latency': return f.latencyMax && f.latencyMax !== '0s' ? f.latency + ' to ' + f.latencyMax : f.latency;
      case 'deviation': return f.deviation;
      default: return '';
    }
  }

  async function loadFaults() {
    const { data } = await api('GET', 'faults');
    rerender($('#faults-rows'), data, () => (data || []).map((f) => el('tr', { 'data-fault': f.id },
      el('td', { class: 'mono', text: f.id }),
      el('td', { text: f.kind }),
      el('td', { class: 'mono', text: faultDoes(f) }),
      el('td', { text: f.profile || 'any' }),
      el('td', { class: 'mono', text: f.operation || 'any' }),
      el('td', { text: f.probability === undefined ? '1' : String(f.probability) }),
      el('td', { text: f.count ? String(f.count) : 'no limit' }),
      el('td', { text: String(f.fired) }),
      el('td', null, el('button', { type: 'button', text: 'Clear', onclick: async () => {
        try { await api('DELETE', 'faults/' + encodeURIComponent(f.id)); } catch (e) { message(e.message, { error: true }); }
        loadFaults().catch(() => {});
      } })))));
  }

  function syncFaultForm() {
    const kind = $('#fault-form').elements.kind.value;
    for (const l of document.querySelectorAll('#fault-form [data-for]')) l.hidden = l.dataset.for !== kind;
  }

  async function injectFault(ev) {
    ev.preventDefault();
    const form = ev.target;
    const v = (name) => String(form.elements[name].value || '').trim();
    const f = { kind: v('kind') };
    if (v('profile')) f.profile = v('profile');
    if (v('operation')) f.operation = v('operation');
    if (f.kind === 'status') f.status = Number(v('status'));
    if (f.kind === 'latency') {
      f.latency = v('latency') || '400ms';
      if (v('latencyMax')) f.latencyMax = v('latencyMax');
    }
    if (f.kind === 'deviation') f.deviation = v('deviation');
    if (v('probability') !== '') f.probability = Number(v('probability'));
    if (v('count') !== '') f.count = Number(v('count'));
    try {
      const { data } = await api('POST', 'faults', f);
      $('#fault-error').hidden = true;
      message('Fault ' + data.id + ' injected.');
    } catch (e) {
      $('#fault-error').textContent = e.message;
      $('#fault-error').hidden = false;
    }
    loadFaults().catch(() => {});
  }

  // ---- refreshing what the open tab shows
  async function refreshState() {
    try {
      if (currentTab === 'keys') await loadKeys();
      if (currentTab === 'faults') await loadFaults();
    } catch (e) { /* shown by the connection mark or the token panel */ }
  }

  async function start() {
    for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => selectTab(b.dataset.tab));
    $('#reason-select').append(...REASONS.map((r) => el('option', { value: r, text: r })));
    $('#journal-filters').addEventListener('submit', (ev) => { ev.preventDefault(); restartJournal(); });
    $('#journal-clear-filters').addEventListener('click', () => { $('#journal-filters').reset(); restartJournal(); });
    $('#keys-profile').addEventListener('change', () => loadKeys().catch(() => {}));
    $('#keys-find').addEventListener('input', () => loadKeys().catch(() => {}));
    $('#fault-form').addEventListener('submit', injectFault);
    $('#fault-form').elements.kind.addEventListener('change', syncFaultForm);
    syncFaultForm();
    $('#faults-clear').addEventListener('click', async () => {
      try { await api('DELETE', 'faults'); message('Every fault cleared.'); } catch (e) { message(e.message, { error: true }); }
      loadFaults().catch(() => {});
    });
    $('#token-button').addEventListener('click', () => showTokenPanel($('#token-panel').hidden));
    $('#token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('#token-input').value.trim());
      $('#token-input').value = '';
      showTokenPanel(false);
      boot();
    });
    $('#token-forget').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); message('Token forgotten.'); });
    const reset = $('#reset-button');
    reset.addEventListener('click', async () => {
      if (!reset.classList.contains('confirm')) {
        reset.classList.add('confirm');
        reset.textContent = 'Really reset?';
        setTimeout(() => { reset.classList.remove('confirm'); reset.textContent = 'Reset mock'; }, 4000);
        return;
      }
      reset.classList.remove('confirm');
      reset.textContent = 'Reset mock';
      try { await api('POST', 'reset'); message('Mock reset: keys, users, data, budgets and the journal are back to the start.'); } catch (e) { message(e.message, { error: true }); }
      restartJournal();
      refreshState();
    });
    setInterval(() => pollJournal(false), JOURNAL_POLL_MS);
    setInterval(refreshState, STATE_POLL_MS);
    await boot();
  }

  async function boot() {
    try {
      await loadProfiles();
      await loadDeviations();
      restartJournal();
      refreshState();
      document.body.dataset.ready = 'true';
    } catch (e) {
      if (e.status !== 401) message(e.message, { error: true });
    }
  }

  // The journal's reason codes, as GET requests?reason= takes them.
  const REASONS = [
    'no-route', 'method-not-allowed', 'uri-too-long', 'headers-too-large', 'body-too-large',
    'credentials-missing', 'credentials-malformed', 'credentials-misplaced', 'key-unknown',
    'key-revoked', 'key-disabled', 'key-expired', 'owner-deactivated', 'api-access-disabled',
    'tenant-mismatch', 'ip-mismatch', 'digest-invalid', 'digest-wrong-response',
    'nonce-unknown', 'nonce-stale', 'nonce-replayed', 'scope-missing', 'role-insufficient',
    'rate-limited', 'parameter-invalid', 'body-invalid', 'prefer-invalid', 'preferred',
    'not-found', 'internal',
    'fault-status', 'fault-reset', 'fault-empty', 'fault-malformed', 'fault-truncate', 'fault-latency',
  ];

  start();
})();
