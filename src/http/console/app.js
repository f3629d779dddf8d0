// The jobcenter console: hand-written, no dependencies, no build step. Routes live in the
// URL's hash (#/jobs?status=…&page=…, #/job/<id>, #/graphs) so views are shareable and the
// back button works. The token stays in sessionStorage and goes out as X-Auth-Token.

const TOKEN_KEY = 'jobcenter.token';
const PAGE_SIZES = [10, 20, 50, 100];
const STATUSES = ['waiting', 'running', 'success', 'partiallyFailed', 'failed'];
const LOG_PAGE = 100;
const GRAPH_STATUS = {
  100: 'preparing', 200: 'running', 201: 'upgrading', 202: 'importing', 203: 'rolling back',
  204: 'exporting', 205: 'clearing', 206: 'resizing', 207: 'resizing', 210: 'expanding',
  211: 'expanding', 300: 'faulty', 303: 'creation failed', 400: 'deleted', 900: 'stopped',
  901: 'stopping', 920: 'starting',
};
const IDLE_GRAPH = new Set(['200', '300', '303', '400', '900']);

const main = document.getElementById('main');
const state = { session: null, jobs: new Map(), graphs: null, list: null, view: null, live: null };

// ---------- small helpers ----------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, body) {
    super(sentence(status, body));
    this.status = status;
  }
}

// 401 and 403 as plain sentences; other errors say the service's message.
function sentence(status, body) {
  if (status === 401) return 'The token was refused: it is missing, malformed, or expired. Sign in again with a valid token.';
  if (status === 403) return 'This token is not allowed to do that in this project.';
  if (status === 404) return 'Not found: ' + ((body && body.error_msg) || 'nothing is there.');
  if (status === 429) return 'Too many live connections are open with this token; close another console tab.';
  if (status >= 500) return 'The service could not answer just now (' + status + '). Try again in a moment.';
  return (body && body.error_msg) ? body.error_msg.charAt(0).toUpperCase() + body.error_msg.slice(1) + '.' : 'The request failed (' + status + ').';
}

async function api(path, options = {}) {
  const headers = { 'X-Auth-Token': state.session ? state.session.token : '' };
  if (options.body) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    throw new ApiError(503, null);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && state.session && state.session.confirmed) signOut('Your token is no longer accepted (expired or invalid). Sign in again.');
    throw new ApiError(response.status, body);
  }
  return body;
}

function base() {
  return '/v2/' + encodeURIComponent(state.session.project);
}

function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err.message || String(err));
}

function statusCell(status) {
  return h('span', { class: 'status status-' + status, text: status === 'pending' ? 'pending (waiting)' : status });
}

function progressCell(job) {
  const p = Number(job.job_progress) || 0;
  return h('span', { class: 'progress' },
    h('progress', { max: '100', value: String(p), 'aria-label': 'Progress of job ' + job.job_id }), ' ',
    h('span', { class: 'pct', text: p + '%' }));
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/jobs';
  const [path, query] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---------- session ----------

function loadSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodeClaims(token);
  if (!claims || !claims.project_id) return null;
  return { token, project: claims.project_id, roles: claims.roles || [], subject: claims.sub || '', confirmed: true };
}

function canOperate() {
  return state.session && state.session.roles.includes('operator');
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.session = null;
  stopLive();
  renderChrome();
  renderSignIn(message);
}

async function signIn(token) {
  const claims = decodeClaims(token);
  if (!claims || !claims.project_id) throw new Error('That is not a token: paste the whole JWT (three parts separated by dots).');
  state.session = { token, project: claims.project_id, roles: claims.roles || [], subject: claims.sub || '' };
  try {
    await api(base() + '/graphs/jobs?limit=1');
  } catch (err) {
    state.session = null;
    throw err;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.session.confirmed = true;
  state.graphs = null;
  state.jobs.clear();
  renderChrome();
  startLive();
}

function renderChrome() {
  const signed = !!state.session;
  document.getElementById('nav').hidden = !signed;
  document.getElementById('sign-out').hidden = !signed;
  document.getElementById('who').textContent = signed
    ? 'Project ' + state.session.project + ' · ' + (state.session.roles.join(', ') || 'no role') : '';
  if (!signed) document.getElementById('live').textContent = '';
}

async function renderSignIn(message) {
  const error = h('div', { id: 'sign-in-error' });
  if (message) error.append(h('p', { class: 'error', role: 'alert', text: message }));
  const fail = (err) => error.replaceChildren(errorBox(err));
  const tokenForm = h('form', { class: 'card', id: 'token-form', onsubmit: async (e) => {
    e.preventDefault();
    try { await signIn(e.target.token.value.trim()); go(location.hash || '#/jobs'); route(); } catch (err) { fail(err); }
  } },
  h('h1', { text: 'Sign in' }),
  h('label', { for: 'token' }, 'Token (X-Auth-Token)'),
  h('textarea', { id: 'token', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false' }),
  h('p', { class: 'hint', text: 'The project comes from the token. It is kept in this tab only.' }),
  h('button', { type: 'submit', class: 'primary', text: 'Sign in' }));
  show(error, tokenForm);
  const settings = await fetch('settings.json').then((r) => r.json()).catch(() => ({}));
  if (settings.mode !== 'development' || state.session) return;
  main.append(h('form', { class: 'card', id: 'dev-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const minted = await fetch('dev-token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ project_id: f.project.value.trim(), role: f.role.value }) });
      const body = await minted.json().catch(() => null);
      if (!minted.ok) throw new ApiError(minted.status, body);
      await signIn(body.token);
      route();
    } catch (err) { fail(err); }
  } },
  h('h2', { text: 'Development: sign in for a project' }),
  h('p', { class: 'hint', text: 'This service runs in development mode, so it can mint an hour\'s token here.' }),
  h('label', { for: 'dev-project' }, 'Project', h('input', { id: 'dev-project', name: 'project', required: true, pattern: '[A-Za-z0-9]{1,64}' })),
  h('label', { for: 'dev-role' }, 'Role', h('select', { id: 'dev-role', name: 'role' },
    h('option', { value: 'operator', text: 'operator' }), h('option', { value: 'readonly', text: 'readonly' }))),
  h('p', {}, h('button', { type: 'submit', text: 'Sign in for this project' }))));
}

// ---------- live events (SSE over fetch, so the token goes in a header) ----------

function startLive() {
  stopLive();
  const live = { stop: false, lastId: null, controller: null };
  state.live = live;
  const indicator = document.getElementById('live');
  const loop = async () => {
    while (!live.stop && state.session) {
      live.controller = new AbortController();
      const headers = { 'X-Auth-Token': state.session.token };
      if (live.lastId) headers['Last-Event-ID'] = live.lastId;
      try {
        const response = await fetch(base() + '/graphs/jobs/events', { headers, signal: live.controller.signal });
        if (!response.ok) throw new Error('status ' + response.status);
        indicator.textContent = '● live';
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatch(live, buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        if (live.stop) return;
      }
      indicator.textContent = '○ reconnecting';
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  loop();
}

function stopLive() {
  if (state.live) {
    state.live.stop = true;
    if (state.live.controller) state.live.controller.abort();
  }
  state.live = null;
}

function dispatch(live, block) {
  let event = 'message', data = '', id = null;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const at = line.indexOf(':');
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data += value;
    else if (field === 'id') id = value;
  }
  if (id) live.lastId = id;
  if (event === 'reset') refreshList();
  if (event === 'job') onJob(JSON.parse(data));
}

let refreshTimer = null;
function refreshList() {
  if (state.view !== 'jobs') return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => renderJobs(parseHash().params, { quiet: true }), 250);
}

function onJob(job) {
  const known = state.jobs.get(job.job_id);
  state.jobs.set(job.job_id, { ...(known || {}), ...job });
  const row = document.querySelector('tr[data-job="' + job.job_id + '"]');
  if (row) {
    row.querySelector('td[data-label="Status"]').replaceChildren(statusCell(job.status));
    row.querySelector('td[data-label="Progress"]').replaceChildren(progressCell(job));
    row.querySelector('td[data-label="Ended"]').textContent = job.end_time || '';
  } else if (state.view === 'jobs' && state.list && state.list.page === 1 && !state.list.filtered) {
    refreshList();
  }
  if (state.view === 'job:' + job.job_id) {
    const s = document.getElementById('job-status');
    if (s) s.replaceChildren(statusCell(job.status));
    const p = document.getElementById('job-progress');
    if (p) p.replaceChildren(progressCell(job));
    const e = document.getElementById('job-end');
    if (e) e.textContent = job.end_time || '—';
    renderActions(state.jobs.get(job.job_id));
  }
}

// ---------- jobs page ----------

function listQuery(params) {
  const limit = PAGE_SIZES.includes(Number(params.get('limit'))) ? Number(params.get('limit')) : 10;
  const page = Math.max(1, Math.floor(Number(params.get('page')) || 1));
  const q = new URLSearchParams();
  for (const key of ['status', 'graph_name', 'start_time', 'end_time']) {
    if (params.get(key)) q.set(key, params.get(key));
  }
  const filtered = [...q.keys()].length > 0;
  q.set('offset', String((page - 1) * limit));
  q.set('limit', String(limit));
  return { q, page, limit, filtered };
}

function jobsHash(params, changes) {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === null || v === undefined) next.delete(k); else next.set(k, String(v));
  }
  return '#/jobs?' + next.toString();
}

async function graphNames() {
  if (!state.graphs) {
    try {
      const body = await api(base() + '/graphs?limit=1000');
      state.graphs = body.graphs || [];
    } catch {
      state.graphs = [];
    }
  }
  return state.graphs;
}

function filterForm(params) {
  const status = h('select', { id: 'f-status', name: 'status' }, h('option', { value: '', text: 'any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s === 'waiting' ? 'waiting (pending)' : s, selected: params.get('status') === s })));
  const graph = h('input', { id: 'f-graph', name: 'graph_name', list: 'graph-names', value: params.get('graph_name') || '', autocomplete: 'off' });
  const start = h('input', { id: 'f-start', name: 'start_time', type: 'date', value: params.get('start_time') || '' });
  const end = h('input', { id: 'f-end', name: 'end_time', type: 'date', value: params.get('end_time') || '' });
  const size = h('select', { id: 'f-limit', name: 'limit' },
    PAGE_SIZES.map((n) => h('option', { value: String(n), text: String(n), selected: Number(params.get('limit') || 10) === n })));
  const names = h('datalist', { id: 'graph-names' });
  graphNames().then((gs) => names.replaceChildren(...gs.map((g) => h('option', { value: g.name }))));
  return h('form', { class: 'filters', role: 'search', 'aria-label': 'Job filters', onsubmit: (e) => {
    e.preventDefault();
    go(jobsHash(new URLSearchParams(), {
      status: status.value, graph_name: graph.value.trim(), start_time: start.value, end_time: end.value,
      limit: size.value === '10' ? '' : size.value,
    }));
  } },
  h('label', { for: 'f-status' }, 'Status', status),
  h('label', { for: 'f-graph' }, 'Graph name', graph), names,
  h('label', { for: 'f-start' }, 'Began on or after', start),
  h('label', { for: 'f-end' }, 'Ended on or before', end),
  h('label', { for: 'f-limit' }, 'Page size', size),
  h('button', { type: 'submit', class: 'primary', text: 'Apply' }),
  h('button', { type: 'button', text: 'Clear', onclick: () => go('#/jobs') }));
}

function pager(params, page, pages, where = 'top') {
  const button = (label, target, extra = {}) => h('button', {
    type: 'button', disabled: target < 1 || target > pages || (target === page && !extra.current),
    'aria-label': extra.aria || 'Page ' + target, 'aria-current': extra.current ? 'page' : null,
    onclick: () => go(jobsHash(params, { page: target === 1 ? '' : target })), text: label });
  const nav = h('nav', { class: 'pager', 'aria-label': where === 'top' ? 'Pages' : 'Pages (bottom)' },
    button('« First', 1, { aria: 'First page' }), button('‹ Previous', page - 1, { aria: 'Previous page' }));
  const from = Math.max(1, page - 2), to = Math.min(pages, page + 2);
  for (let p = from; p <= to; p++) nav.append(button(String(p), p, { current: p === page }));
  nav.append(button('Next ›', page + 1, { aria: 'Next page' }), button('Last »', pages, { aria: 'Last page (' + pages + ')' }));
  const jump = h('input', { id: 'jump-' + where, name: 'page', type: 'number', min: '1', max: String(pages), value: String(page), inputmode: 'numeric' });
  nav.append(h('form', { onsubmit: (e) => {
    e.preventDefault();
    const target = Math.min(pages, Math.max(1, Math.floor(Number(jump.value) || 1)));
    go(jobsHash(params, { page: target === 1 ? '' : target }));
  } }, h('label', { for: 'jump-' + where }, 'Go to page', jump), h('button', { type: 'submit', text: 'Go' })));
  return nav;
}

function jobRow(job) {
  return h('tr', { 'data-job': job.job_id },
    h('td', { class: 'id', 'data-label': 'Job' }, h('a', { href: '#/job/' + job.job_id, text: job.job_id })),
    h('td', { 'data-label': 'Operation', text: job.job_name }),
    h('td', { 'data-label': 'Graph', text: job.related_graph || '—' }),
    h('td', { 'data-label': 'Status' }, statusCell(job.status)),
    h('td', { 'data-label': 'Progress' }, progressCell(job)),
    h('td', { 'data-label': 'Began', text: job.begin_time }),
    h('td', { 'data-label': 'Ended', text: job.end_time || '' }),
    h('td', { 'data-label': 'Reason', text: job.fail_reason || '' }));
}

async function renderJobs(params, { quiet = false } = {}) {
  state.view = 'jobs';
  const { q, page, limit, filtered } = listQuery(params);
  const results = h('section', { id: 'results', 'aria-live': 'polite' });
  if (!quiet) {
    show(h('h1', { text: 'Jobs' }), filterForm(params), results);
    results.append(h('p', { class: 'loading', text: 'Loading jobs…' }));
  }
  let body;
  try {
    performance.mark('list-request');
    body = await api(base() + '/graphs/jobs?' + q.toString());
    performance.mark('list-response');
    performance.measure('list-request-to-response', 'list-request', 'list-response');
  } catch (err) {
    (document.getElementById('results') || results).replaceChildren(errorBox(err));
    return;
  }
  if (state.view !== 'jobs') return;
  for (const job of body.job_list) state.jobs.set(job.job_id, job);
  const pages = Math.max(1, Math.ceil(body.job_count / limit));
  state.list = { page, filtered };
  const target = document.getElementById('results') || results;
  if (body.job_list.length === 0) {
    target.replaceChildren(h('p', { class: 'empty', id: 'empty', text: body.job_count === 0
      ? 'No jobs match these filters.' : 'Page ' + page + ' is past the last page (' + pages + ').' }),
    body.job_count > 0 ? pager(params, page, pages) : '');
  } else {
    const first = (page - 1) * limit + 1;
    target.replaceChildren(
      h('p', { class: 'summary', id: 'summary', text: 'Jobs ' + first + '–' + (first + body.job_list.length - 1) + ' of ' + body.job_count.toLocaleString('en') + ' · page ' + page + ' of ' + pages.toLocaleString('en') }),
      pager(params, page, pages),
      h('div', { class: 'table-wrap' }, h('table', { class: 'jobs', id: 'jobs-table' },
        h('caption', { class: 'hint', text: 'Newest first' }),
        h('thead', {}, h('tr', {}, ['Job', 'Operation', 'Graph', 'Status', 'Progress', 'Began', 'Ended', 'Reason'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, body.job_list.map(jobRow)))),
      pager(params, page, pages, 'bottom'));
  }
  performance.mark('list-rendered');
  performance.measure('list-response-to-rendered', 'list-response', 'list-rendered');
}

// ---------- job page ----------

async function findJob(id) {
  if (state.jobs.has(id)) return state.jobs.get(id);
  // Not seen in this tab yet: look through the newest jobs.
  const body = await api(base() + '/graphs/jobs?limit=1000');
  for (const job of body.job_list) state.jobs.set(job.job_id, job);
  return state.jobs.get(id) || null;
}

async function refreshJob(job) {
  const graph = job.graph_id || ((await graphNames()).find((g) => g.name === job.related_graph) || {}).id;
  if (!graph) return job;
  try {
    const fresh = await api(base() + '/graphs/' + graph + '/jobs/' + job.job_id + '/status');
    const merged = { ...job, ...fresh, graph_id: graph };
    state.jobs.set(job.job_id, merged);
    return merged;
  } catch {
    return job;
  }
}

function renderActions(job) {
  const box = document.getElementById('job-actions');
  if (!box || !job) return;
  const operator = canOperate();
  const cancellable = job.status === 'pending' || job.status === 'running';
  const retryable = job.status === 'failed';
  const why = operator ? null : 'Needs an operator token';
  const act = (action, label) => async () => {
    if (!window.confirm(label + ' job ' + job.job_id + '?')) return;
    const out = document.getElementById('action-result');
    try {
      const answer = await api(base() + '/graphs/jobs/' + job.job_id + '/' + action, { method: 'POST', body: '{}' });
      out.replaceChildren(h('p', { role: 'status', text: action === 'cancel'
        ? (answer.result === 'cancelled' ? 'The job is cancelled.' : 'The job was asked to stop; its worker ends it.')
        : 'Queued again as job ' + answer.job_id + '.' }));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  };
  box.replaceChildren(
    h('button', { type: 'button', id: 'cancel-job', class: 'danger', disabled: !operator || !cancellable, title: why, onclick: act('cancel', 'Cancel') }, 'Cancel job'),
    h('button', { type: 'button', id: 'retry-job', disabled: !operator || !retryable, title: why, onclick: act('retry', 'Retry') }, 'Retry job'),
    operator ? '' : h('span', { class: 'hint', text: 'Read-only token: actions are disabled.' }));
}

const KINDS = [['schema', 'schema_path'], ['vertex', 'vertexset_path'], ['edge', 'edgeset_path']];

function filesSection(job) {
  const detail = job.job_detail;
  if (!detail) return '';
  const rows = [];
  for (const [kind, key] of KINDS) {
    (detail[key] || []).forEach((file, i) => rows.push({ kind, ordinal: i + 1, file }));
  }
  const logBox = h('section', { id: 'log-box', 'aria-live': 'polite' });
  return h('section', {}, h('h2', { text: 'Files' }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'files-table' },
      h('thead', {}, h('tr', {}, ['Kind', 'Path', 'Status', 'Lines', 'Failed', 'Succeeded', 'Cause', 'Reject log'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows.map(({ kind, ordinal, file }) => h('tr', {},
        h('td', { text: kind }), h('td', { class: 'id', text: file.path }), h('td', { text: file.status }),
        h('td', { text: String(file.total_lines) }), h('td', { text: String(file.failed_lines) }),
        h('td', { text: String(file.successful_lines) }), h('td', { text: file.cause || '' }),
        h('td', {}, file.log ? h('button', { type: 'button', class: 'show-log', onclick: () => showLog(logBox, job, kind, ordinal, file, 0) }, 'Show log') : '—')))))),
    logBox);
}

async function showLog(box, job, kind, ordinal, file, offset) {
  box.replaceChildren(h('p', { class: 'loading', text: 'Reading the log…' }));
  try {
    const page = await api(base() + '/graphs/jobs/' + job.job_id + '/files/' + kind + '/' + ordinal + '/log?offset=' + offset + '&limit=' + LOG_PAGE);
    const total = file.failed_lines > 0 ? file.failed_lines : null;
    const nav = h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: offset === 0, onclick: () => showLog(box, job, kind, ordinal, file, Math.max(0, offset - LOG_PAGE)) }, '‹ Previous lines'),
      h('button', { type: 'button', id: 'log-next', disabled: page.next_offset === null, onclick: () => showLog(box, job, kind, ordinal, file, page.next_offset) }, 'Next lines ›'),
      total ? h('button', { type: 'button', onclick: () => showLog(box, job, kind, ordinal, file, Math.max(0, Math.floor((total - 1) / LOG_PAGE) * LOG_PAGE)) }, 'Last lines »') : '');
    box.replaceChildren(
      h('h3', { text: 'Reject log of ' + file.path }),
      h('p', { class: 'summary', id: 'log-summary', text: page.lines.length ? 'Lines ' + (offset + 1) + '–' + (offset + page.lines.length) + (total ? ' of ' + total.toLocaleString('en') : '') : 'No lines here.' }),
      nav,
      h('ol', { class: 'log', id: 'log-lines', start: String(offset + 1) }, page.lines.map((l) => h('li', { text: l }))));
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

async function renderJob(id) {
  state.view = 'job:' + id;
  show(h('p', { class: 'loading', text: 'Loading the job…' }));
  let job;
  try {
    job = await findJob(id);
  } catch (err) {
    show(h('h1', { text: 'Job' }), errorBox(err));
    return;
  }
  if (!job) {
    show(h('h1', { text: 'Job ' + id }), h('p', { class: 'error', role: 'alert', text: 'This job is not among the project\'s newest 1,000 jobs, and its address alone does not say its graph; open it from the job list.' }));
    return;
  }
  job = await refreshJob(job);
  if (state.view !== 'job:' + id) return;
  const field = (label, value, attrs = {}) => [h('dt', { text: label }), h('dd', attrs, value)];
  show(
    h('p', {}, h('a', { href: '#/jobs', text: '‹ All jobs' })),
    h('h1', { text: job.job_name + ' · ' + job.job_id }),
    h('dl', { class: 'fields', id: 'job-fields' },
      field('Job id', job.job_id),
      field('Status', statusCell(job.status), { id: 'job-status' }),
      field('Progress', progressCell(job), { id: 'job-progress' }),
      field('Operation', job.job_name),
      field('Type', job.job_type),
      field('Graph', job.related_graph || '—'),
      field('Began', job.begin_time),
      field('Ended', job.end_time || '—', { id: 'job-end' }),
      field('Failure reason', job.fail_reason || '—')),
    h('div', { class: 'actions', id: 'job-actions' }),
    h('div', { id: 'action-result', 'aria-live': 'polite' }),
    filesSection(job));
  renderActions(job);
}

// ---------- graphs page ----------

async function renderGraphs() {
  state.view = 'graphs';
  show(h('h1', { text: 'Graphs' }), h('p', { class: 'loading', text: 'Loading graphs…' }));
  let graphs, backups;
  try {
    [graphs, backups] = await Promise.all([api(base() + '/graphs?limit=1000'), api(base() + '/graphs/backups?limit=1000')]);
  } catch (err) {
    show(h('h1', { text: 'Graphs' }), errorBox(err));
    return;
  }
  state.graphs = graphs.graphs;
  if (state.view !== 'graphs') return;
  if (!graphs.graphs.length) {
    show(h('h1', { text: 'Graphs' }), h('p', { class: 'empty', text: 'This project has no graphs.' }));
    return;
  }
  const byGraph = new Map();
  for (const b of backups.backup_list || []) {
    if (!byGraph.has(b.graph_id)) byGraph.set(b.graph_id, []);
    byGraph.get(b.graph_id).push(b);
  }
  show(h('h1', { text: 'Graphs' }), h('p', { class: 'summary', text: graphs.graph_count + ' graphs' }),
    h('div', { class: 'table-wrap' }, h('table', { class: 'jobs', id: 'graphs-table' },
      h('thead', {}, h('tr', {}, ['Graph', 'Status', 'Operation in progress', 'Version', 'Backups', 'Jobs'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, graphs.graphs.map((g) => {
        const busy = !IDLE_GRAPH.has(String(g.status));
        const list = byGraph.get(g.id) || [];
        return h('tr', { 'data-graph': g.name },
          h('td', { 'data-label': 'Graph', text: g.name }),
          h('td', { 'data-label': 'Status', text: (GRAPH_STATUS[g.status] || 'unknown') + ' (' + g.status + ')' }),
          h('td', { 'data-label': 'Operation' }, busy ? [GRAPH_STATUS[g.status] + ' ', h('progress', { max: '100', value: String(Number(g.action_progress) || 0), 'aria-label': 'Progress of ' + g.name }), ' ' + (Number(g.action_progress) || 0) + '%'] : '—'),
          h('td', { 'data-label': 'Version', text: g.data_store_version }),
          h('td', { 'data-label': 'Backups' }, list.length ? h('ul', {}, list.map((b) => h('li', { text: b.name + ' · ' + b.status + ' · ' + b.start_time }))) : 'none'),
          h('td', { 'data-label': 'Jobs' }, h('a', { href: '#/jobs?graph_name=' + encodeURIComponent(g.name), text: 'Jobs of ' + g.name })));
      })))));
}

// ---------- routing ----------

function route() {
  if (!state.session) {
    renderSignIn();
    return;
  }
  const { parts, params } = parseHash();
  for (const a of document.querySelectorAll('nav a')) a.removeAttribute('aria-current');
  if (parts[0] === 'job' && parts[1]) {
    renderJob(parts[1]);
  } else if (parts[0] === 'graphs') {
    document.getElementById('nav-graphs').setAttribute('aria-current', 'page');
    renderGraphs();
  } else {
    document.getElementById('nav-jobs').setAttribute('aria-current', 'page');
    renderJobs(params);
  }
}

window.addEventListener('hashchange', route);
document.getElementById('sign-out').addEventListener('click', () => signOut());
state.session = loadSession();
renderChrome();
if (state.session) startLive();
route();
