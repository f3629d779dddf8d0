// End-to-end checks of the console in Debian's Chromium, driven by playwright-core (no
// browser download). Run by tests/api/console.rs, which starts `jobcenter serve` on a
// seeded store and passes what it made in E2E (JSON). Prints `RESULT {...}` (figures) and
// exits non-zero on the first failed check; screenshots go to E2E.shots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const cfg = JSON.parse(process.env.E2E);
const base = cfg.base;
mkdirSync(cfg.shots, { recursive: true });
const result = { checks: [] };

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
  result.checks.push(what);
}

async function api(path, token, options = {}) {
  const response = await fetch(base + path, { ...options, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' } });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function heartbeat(job, progress) {
  const r = await api(`/internal/v1/${cfg.project}/jobs/${job.id}/heartbeat`, cfg.producer, {
    method: 'POST', body: JSON.stringify({ lease_token: job.lease, progress }) });
  check(r.status === 200, 'heartbeat answered 200');
}

async function shot(page, name) {
  await page.screenshot({ path: `${cfg.shots}/${name}.png`, fullPage: true });
}

async function signIn(page, token) {
  await page.goto(base + '/console/');
  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
}

async function lastMeasure(page, name = 'list-response-to-rendered') {
  return page.evaluate((n) => {
    const all = performance.getEntriesByName(n);
    return all.length ? all[all.length - 1].duration : null;
  }, name);
}

async function waitRows(page, expected) {
  await page.waitForFunction((ids) => {
    const rows = [...document.querySelectorAll('#jobs-table tbody tr')].map((r) => r.dataset.job);
    return rows.length === ids.length && rows.every((id, i) => id === ids[i]);
  }, expected, { timeout: 20000 });
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // `/` leads to the console; the first load's transfer size.
  await page.goto(base + '/');
  check(page.url() === base + '/console/', '/ redirects to /console/');
  await page.waitForSelector('#dev-form');
  check(await page.isVisible('#dev-form'), 'development mode offers the token-minting form');
  result.first_load_bytes = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation').map((e) => e.transferSize);
    const res = performance.getEntriesByType('resource').map((e) => e.transferSize);
    return [...nav, ...res].reduce((a, b) => a + b, 0);
  });
  check(result.first_load_bytes > 0 && result.first_load_bytes <= 200 * 1024, 'first load at most 200 KB: ' + result.first_load_bytes);
  const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => !e.labels.length && !e.getAttribute('aria-label')).length);
  check(unlabelled === 0, 'every sign-in control has a label');

  // A bad token: a plain sentence, not JSON.
  await signIn(page, cfg.bad_token);
  await page.waitForSelector('#sign-in-error .error');
  const refused = await page.textContent('#sign-in-error .error');
  check(refused.startsWith('The token was refused') && !refused.includes('{'), 'a bad token reads as a sentence: ' + refused);
  await shot(page, 'sign-in-refused');

  // Sign in as operator: the newest jobs, checked against the API.
  await signIn(page, cfg.operator);
  await page.waitForSelector('#jobs-table');
  const first = await api(`/v2/${cfg.project}/graphs/jobs?limit=10`, cfg.operator);
  await waitRows(page, first.body.job_list.map((j) => j.job_id));
  check(true, 'page 1 shows the API\'s newest ten jobs');
  result.first_page_render_ms = await lastMeasure(page);
  result.first_page_response_ms = await lastMeasure(page, 'list-request-to-response');
  const summary = await page.textContent('#summary');
  check(summary.includes(first.body.job_count.toLocaleString('en')), 'the exact total is shown: ' + summary);
  const unlabelledList = await page.$$eval('input, select, textarea', (els) => els.filter((e) => !e.labels.length && !e.getAttribute('aria-label')).length);
  check(unlabelledList === 0, 'every jobs-page control has a label');
  await shot(page, 'jobs');

  // Filter by status and graph; the URL holds them; back returns.
  await page.selectOption('#f-status', 'failed');
  await page.fill('#f-graph', cfg.graph_name);
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('status=failed'));
  const filtered = await api(`/v2/${cfg.project}/graphs/jobs?status=failed&graph_name=${cfg.graph_name}&limit=10`, cfg.operator);
  await waitRows(page, filtered.body.job_list.map((j) => j.job_id));
  const statuses = await page.$$eval('#jobs-table tbody td[data-label="Status"]', (tds) => tds.map((t) => t.textContent));
  check(statuses.length > 0 && statuses.every((s) => s === 'failed'), 'the filtered rows are failed');
  const graphs = await page.$$eval('#jobs-table tbody td[data-label="Graph"]', (tds) => tds.map((t) => t.textContent));
  check(graphs.every((g) => g === cfg.graph_name), 'the filtered rows are of the graph');
  check((await page.textContent('#summary')).includes(filtered.body.job_count.toLocaleString('en')), 'the filtered total is the API\'s');
  check(page.url().includes('graph_name=' + cfg.graph_name), 'the URL holds the filters');
  await shot(page, 'jobs-filtered');
  await page.goBack();
  await page.waitForFunction(() => !location.hash.includes('status='));
  await waitRows(page, first.body.job_list.map((j) => j.job_id));
  check(true, 'the back button returns to the unfiltered list');

  // A page past 90% of the jobs, by jump, from the keyboard.
  const pages = Math.ceil(first.body.job_count / 10);
  const deep = Math.ceil(pages * 0.95);
  await page.focus('#jump-top');
  await page.fill('#jump-top', String(deep));
  await page.keyboard.press('Enter');
  await page.waitForFunction((p) => location.hash.includes('page=' + p), deep);
  const deepApi = await api(`/v2/${cfg.project}/graphs/jobs?offset=${(deep - 1) * 10}&limit=10`, cfg.operator);
  await waitRows(page, deepApi.body.job_list.map((j) => j.job_id));
  check(true, `page ${deep} of ${pages} shows the API's jobs at offset ${(deep - 1) * 10}`);
  result.deep_page = deep;
  result.deep_page_render_ms = await lastMeasure(page);
  result.deep_page_response_ms = await lastMeasure(page, 'list-request-to-response');
  await shot(page, 'jobs-deep');
  await page.click('button[aria-label^="Last page"]');
  await page.waitForFunction((p) => location.hash.includes('page=' + p), pages);
  const lastApi = await api(`/v2/${cfg.project}/graphs/jobs?offset=${(pages - 1) * 10}&limit=10`, cfg.operator);
  await waitRows(page, lastApi.body.job_list.map((j) => j.job_id));
  check(lastApi.body.job_list.length >= 1, 'the last page shows the API\'s oldest jobs');

  // The empty state and the error state, in sentences.
  await page.goto(base + '/console/#/jobs?graph_name=no_such_graph');
  await page.waitForSelector('#empty');
  check((await page.textContent('#empty')) === 'No jobs match these filters.', 'an empty result says so');
  await page.goto(base + '/console/#/jobs?start_time=2026-02-01&end_time=2026-01-01');
  await page.waitForSelector('#results .error');
  const bad = await page.textContent('#results .error');
  check(!bad.includes('{') && bad.length > 10, 'a refused filter reads as a sentence: ' + bad);
  await shot(page, 'jobs-error');

  // Live: a running job's progress moves without a reload; a new job appears on top.
  await page.goto(base + '/console/#/jobs');
  await page.waitForSelector(`tr[data-job="${cfg.progress_job.id}"]`);
  await page.evaluate(() => { window.__notReloaded = true; });
  await page.waitForFunction(() => document.getElementById('live').textContent.includes('live'));
  await heartbeat(cfg.progress_job, 25);
  await page.waitForFunction((id) => document.querySelector(`tr[data-job="${id}"] .pct`)?.textContent === '25%', cfg.progress_job.id, { timeout: 20000 });
  await heartbeat(cfg.progress_job, 70);
  await page.waitForFunction((id) => document.querySelector(`tr[data-job="${id}"] .pct`)?.textContent === '70%', cfg.progress_job.id, { timeout: 20000 });
  check(await page.evaluate(() => window.__notReloaded === true), 'progress moved 25% → 70% without a reload');
  const added = await api(`/internal/v1/${cfg.project}/jobs`, cfg.producer, { method: 'POST',
    body: JSON.stringify({ job_type: 'ConsoleDemo', job_name: 'ArrivesLive', payload: {} }) });
  check(added.status === 200, 'a new job is enqueued');
  await page.waitForFunction((id) => document.querySelector('#jobs-table tbody tr')?.dataset.job === id, added.body.job_id, { timeout: 20000 });
  check(await page.evaluate(() => window.__notReloaded === true), 'a new job appears at the top of page 1 without a reload');
  await shot(page, 'jobs-live');

  // The import: its files and its reject log, paged.
  await page.goto(base + `/console/#/job/${cfg.import_job}`);
  await page.waitForSelector('#files-table');
  await page.click('#files-table button.show-log');
  await page.waitForSelector('#log-lines li');
  const logApi = await api(`/v2/${cfg.project}/graphs/jobs/${cfg.import_job}/files/vertex/1/log?limit=100`, cfg.operator);
  const lines = await page.$$eval('#log-lines li', (lis) => lis.map((l) => l.textContent));
  check(lines.length > 0 && JSON.stringify(lines) === JSON.stringify(logApi.body.lines), 'the reject log lines are the API\'s: ' + lines[0]);
  await shot(page, 'job-import');

  // Cancel a running job as operator, with a confirmation.
  await page.goto(base + `/console/#/job/${cfg.cancel_job.id}`);
  await page.waitForSelector('#cancel-job:not([disabled])');
  page.once('dialog', (d) => d.accept());
  await page.click('#cancel-job');
  await page.waitForFunction(() => document.getElementById('action-result').textContent.includes('asked to stop'));
  check(true, 'an operator cancels a running job');
  await shot(page, 'job-cancel');

  // The graphs page: status in words.
  await page.goto(base + '/console/#/graphs');
  await page.waitForSelector('#graphs-table');
  const graphRow = await page.textContent(`tr[data-graph="${cfg.import_graph}"]`);
  check(graphRow.includes('running (200)'), 'the graph\'s status reads in words: ' + graphRow);
  await shot(page, 'graphs');

  // Read-only: no enabled action, and the API refuses it anyway.
  await page.click('#sign-out');
  await signIn(page, cfg.readonly);
  await page.waitForSelector('#jobs-table');
  await page.goto(base + `/console/#/job/${cfg.progress_job.id}`);
  await page.waitForSelector('#cancel-job');
  check(await page.isDisabled('#cancel-job') && await page.isDisabled('#retry-job'), 'a readonly token sees the buttons disabled');
  const denied = await api(`/v2/${cfg.project}/graphs/jobs/${cfg.progress_job.id}/cancel`, cfg.readonly, { method: 'POST', body: '{}' });
  check(denied.status === 403, 'the API refuses a readonly cancel');
  await shot(page, 'job-readonly');
  check(outside.length === 0, 'no request left the service: ' + outside.join(' '));
  check(errors.length === 0, 'no script error: ' + errors.join(' | '));

  // 390 px wide: no sideways scrolling.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const small = await phone.newPage();
  page = small;
  await signIn(small, cfg.readonly);
  await small.waitForSelector('#jobs-table');
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 391, 'the jobs page fits 390 px: ' + width);
  await shot(small, 'jobs-390');
  await small.goto(base + `/console/#/job/${cfg.import_job}`);
  await small.waitForSelector('#job-fields');
  await shot(small, 'job-390');
  console.log('RESULT ' + JSON.stringify(result));
} catch (err) {
  if (page) await shot(page, 'failure').catch(() => {});
  console.error(err.stack || String(err));
  console.log('RESULT ' + JSON.stringify(result));
  process.exitCode = 1;
} finally {
  await browser.close();
}
