// The job page: every field, the files of an import with their reject logs, actions.
import { state, h, show, api, base, errorBox, statusCell, progressCell, graphNames } from './core.js';

const LOG_PAGE = 100;

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

function canOperate() {
  return state.session && state.session.roles.includes('operator');
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
      total ? h('button', { type: 'button', disabled: page.next_offset === null, onclick: () => showLog(box, job, kind, ordinal, file, Math.max(0, Math.floor((total - 1) / LOG_PAGE) * LOG_PAGE)) }, 'Last lines »') : '');
    box.replaceChildren(
      h('h3', { text: 'Reject log of ' + file.path }),
      h('p', { class: 'summary', id: 'log-summary', text: page.lines.length ? 'Lines ' + (offset + 1) + '–' + (offset + page.lines.length) + (total ? ' of ' + total.toLocaleString('en') : '') : 'No lines here.' }),
      nav,
      h('ol', { class: 'log', id: 'log-lines', start: String(offset + 1) }, page.lines.map((l) => h('li', { text: l }))));
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

export async function renderJob(id) {
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


/** A job event: the shown job's status, progress, end and actions change in place. */
export function patchJobPage(job) {
  if (state.view !== 'job:' + job.job_id) return;
  const s = document.getElementById('job-status');
  if (s) s.replaceChildren(statusCell(job.status));
  const p = document.getElementById('job-progress');
  if (p) p.replaceChildren(progressCell(job));
  const e = document.getElementById('job-end');
  if (e) e.textContent = job.end_time || '—';
  renderActions(state.jobs.get(job.job_id));
}
