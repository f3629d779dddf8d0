// The graphs page: status in words, the operation in progress, backups.
import { state, h, show, api, base, errorBox, GRAPH_STATUS, IDLE_GRAPH } from './core.js';

export async function renderGraphs() {
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

