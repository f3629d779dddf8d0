// The jobcenter console: hand-written ES modules, no dependencies, no build step. Routes
// live in the URL's hash (#/jobs?status=…&page=…, #/job/<id>, #/graphs) so views are
// shareable and the back button works. The token stays in sessionStorage and goes out as
// X-Auth-Token. This module: the session, sign-in, live events, routing.
import { TOKEN_KEY, state, main, h, show, api, base, errorBox, decodeClaims, ApiError, parseHash } from './core.js';
import { renderJobs, refreshList, patchJobRow } from './jobs.js';
import { renderJob, patchJobPage } from './job.js';
import { renderGraphs } from './graphs.js';
import { startLive, stopLive } from './live.js';

function loadSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodeClaims(token);
  if (!claims || !claims.project_id) return null;
  return { token, project: claims.project_id, roles: claims.roles || [], subject: claims.sub || '', confirmed: true };
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
  startLive(onJob, refreshList);
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
    try { await signIn(e.target.token.value.trim()); route(); } catch (err) { fail(err); }
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

function onJob(job) {
  const known = state.jobs.get(job.job_id);
  state.jobs.set(job.job_id, { ...(known || {}), ...job });
  patchJobRow(job);
  patchJobPage(job);
}

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
state.onRefused = () => signOut('Your token is no longer accepted (expired or invalid). Sign in again.');
document.getElementById('sign-out').addEventListener('click', () => signOut());
state.session = loadSession();
renderChrome();
if (state.session) startLive(onJob, refreshList);
route();

