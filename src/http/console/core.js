// Shared by the console's modules: the state, DOM and API helpers, error sentences.

export const TOKEN_KEY = 'jobcenter.token';
export const GRAPH_STATUS = {
  100: 'preparing', 200: 'running', 201: 'upgrading', 202: 'importing', 203: 'rolling back',
  204: 'exporting', 205: 'clearing', 206: 'resizing', 207: 'resizing', 210: 'expanding',
  211: 'expanding', 300: 'faulty', 303: 'creation failed', 400: 'deleted', 900: 'stopped',
  901: 'stopping', 920: 'starting',
};
export const IDLE_GRAPH = new Set(['200', '300', '303', '400', '900']);

export const main = document.getElementById('main');
export const state = { session: null, jobs: new Map(), graphs: null, list: null, view: null, live: null, onRefused: null };

// ---------- small helpers ----------

export function h(tag, attrs = {}, ...children) {
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

export function show(...nodes) {
  main.replaceChildren(...nodes);
}

export function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super(sentence(status, body));
    this.status = status;
  }
}

// 401 and 403 as plain sentences; other errors say the service's message.
export function sentence(status, body) {
  if (status === 401) return 'The token was refused: it is missing, malformed, or expired. Sign in again with a valid token.';
  if (status === 403) return 'This token is not allowed to do that in this project.';
  if (status === 404) return 'Not found: ' + ((body && body.error_msg) || 'nothing is there.');
  if (status === 429) return 'Too many live connections are open with this token; close another console tab.';
  if (status >= 500) return 'The service could not answer just now (' + status + '). Try again in a moment.';
  return (body && body.error_msg) ? body.error_msg.charAt(0).toUpperCase() + body.error_msg.slice(1) + '.' : 'The request failed (' + status + ').';
}

export async function api(path, options = {}) {
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
    if (response.status === 401 && state.session && state.session.confirmed && state.onRefused) state.onRefused();
    throw new ApiError(response.status, body);
  }
  return body;
}

export function base() {
  return '/v2/' + encodeURIComponent(state.session.project);
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err.message || String(err));
}

export function statusCell(status) {
  return h('span', { class: 'status status-' + status, text: status === 'pending' ? 'pending (waiting)' : status });
}

export function progressCell(job) {
  const p = Number(job.job_progress) || 0;
  return h('span', { class: 'progress' },
    h('progress', { max: '100', value: String(p), 'aria-label': 'Progress of job ' + job.job_id }), ' ',
    h('span', { class: 'pct', text: p + '%' }));
}

export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/jobs';
  const [path, query] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}


export async function graphNames() {
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
