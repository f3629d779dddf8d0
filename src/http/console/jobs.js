// The jobs page: filters, the exact total, pages, rows patched live.
import { state, h, show, api, base, errorBox, statusCell, progressCell, parseHash, go, graphNames } from './core.js';

const PAGE_SIZES = [10, 20, 50, 100];
const STATUSES = ['waiting', 'running', 'success', 'partiallyFailed', 'failed'];

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

export async function renderJobs(params, { quiet = false } = {}) {
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


let refreshTimer = null;

/** Reloads the shown list (soon, once for a burst of events). */
export function refreshList() {
  if (state.view !== 'jobs') return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => renderJobs(parseHash().params, { quiet: true }), 250);
}

/** A job event: its row changes in place; an unknown job on page 1 reloads the list. */
export function patchJobRow(job) {
  const row = document.querySelector('tr[data-job="' + job.job_id + '"]');
  if (row) {
    row.querySelector('td[data-label="Status"]').replaceChildren(statusCell(job.status));
    row.querySelector('td[data-label="Progress"]').replaceChildren(progressCell(job));
    row.querySelector('td[data-label="Ended"]').textContent = job.end_time || '';
  } else if (state.view === 'jobs' && state.list && state.list.page === 1 && !state.list.filtered) {
    refreshList();
  }
}
