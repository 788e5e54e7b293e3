// Status page benchmark (issue 7). A real exporter from dist/, with the node flags `npm start` ships
// (BENCH_NODE_FLAGS to change them), runs 500 HTTP checks at 1-5 s intervals against a local target
// (its own process); then:
//   - page load in Chromium: first paint / first contentful paint, LCP, and "fully rendered"
//     (snapshot fetched and every card built: the page's own `vigil:rendered` mark; `vigil:painted`
//     is the frame after it), cold (new browser context, empty cache) and warm (reload);
//   - change latency: a target breaks -> the row shows critical in the browser (includes waiting
//     for the check's next run, 1 s interval), and the pipeline part alone: exporter records the new
//     status (`since`) -> row shows it (coalescing window + SSE + render);
//   - history memory for 500 checks x 24 h: measured IN THIS PROCESS, not in the spawned exporter
//     (it has only run for a minute): a StateStore with the same 500 checks at a 10 s interval
//     (8 640 points each: history.max_points set to a day at 10 s) is filled synthetically, and the
//     heap + ArrayBuffer growth is measured after GC, next to historyBytes(); plus the time to build
//     the /api/v1/status snapshot and the 24 h report over that full history;
//   - 100 viewers: exporter CPU from /proc/<pid>/stat and /metrics latency (sequential GETs at
//     40/s) over alternating windows without and with 100 open SSE connections (A B A B), the
//     viewers in a process of their own (as browsers are), not in the one timing the scrapes.
//   - page weight of a cold load (assets, and the data fetched apart) and the check detail view:
//     from setting #/check/<name> until every section has its data, p50/p95 over 20 checks.
//   - with 90 days of history (issue 16): before the exporter starts, its record is filled by the
//     storage bench's generator (bench/storage.ts: the older hours and days as the roller writes
//     them, the last --raw-hours of raw results at 10 s through the real write path, rolled up and
//     pruned), so the page, the detail's chart (1 h-90 d series) and its uptime read a full record;
//   - where a cold load's time goes: each request the page makes (server time to first byte,
//     bytes), when the scripts start, when the snapshot is in, when the first screens of rows are
//     built (`vigil:rendered`) and when every row is (`vigil:complete`).
// Goals: load < 500 ms, change visible < 1 s, history < 100 MB, 100 viewers < 10 % of one core
// extra with /metrics p99 unchanged; detail p95 < 500 ms, page weight < 150 KB.
//
//   npm run bench -- statuspage [--history-days=90] [--raw-hours=48]   (--history-days=0: no record filled first;
//                                      --raw-hours=6 for a quicker run: fewer raw results, the same tiers)
//   npx tsx bench/statuspage.ts      (or benchStatusPage() from bench/run.ts; builds dist/ if missing)
//   BENCH_CHECKS=500 BENCH_VIEWERS=100 BENCH_WINDOW_S=15 to tune; --loads=20 cold page loads;
//   BENCH_CHROMIUM=<path> another browser binary (or a wrapper: `exec taskset -c 1 /usr/bin/chromium "$@"`
//   with the bench under `taskset -c 0` puts the browser and the exporter on cores of their own).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Browser } from 'playwright-core';
import type { CheckCommon } from '../exporter/model/check.js';
import { StateStore } from '../exporter/engine/state.js';
import { summarizePeriod } from '../exporter/health/report-period.js';
import { statusSnapshot } from '../exporter/views/status.js';
import { createLogger } from '../exporter/log.js';
import { CheckRecord, recordRetentionOf } from '../exporter/record/record.js';
import { DAY_MS, HOUR_MS } from '../exporter/record/tiers.js';
import { launchChromium } from '../tests/support/chromium.js';
import { startExporter, waitFor, type RunningExporter } from '../tests/support/exporter.js';
import { benchNodeEnv, benchNodeFlags, cpuSeconds, freePort, percentile, rssBytes, scrape } from './exporter.js';
import { feedRaw, writeOldTiers } from './storage.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHECKS = Number(process.env.BENCH_CHECKS ?? 500);
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 100);
// Long enough that a p99 of /metrics stands on ~600 scrapes a window, not three slow ones.
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 15);
const COMPONENTS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => percentile(xs, 50);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function opt(options: string[], name: string, fallback: number): number {
  const o = options.find((a) => a.startsWith(`--${name}=`));
  return o ? Number(o.slice(name.length + 3)) : fallback;
}

/**
 * `days` of history for checks c0…c<CHECKS-1> in <dir>/vigil.db, by the storage bench's generator:
 * hour and day rows before the raw window, then `rawHours` of raw results at 10 s through the
 * record's write path, rolled up and pruned as the exporter would.
 */
async function fillRecord(dir: string, days: number, rawHours: number): Promise<Record<string, number>> {
  const t0 = performance.now();
  const retention = recordRetentionOf({ retention: days * DAY_MS, raw_retention: 48 * HOUR_MS });
  const end = Math.floor(Date.now() / 10_000) * 10_000;
  const rawFrom = end - rawHours * HOUR_MS;
  console.log(`statuspage: ${CHECKS} checks, ${days} days of history: hour and day rows, then ${rawHours} h of raw results …`);
  const rows = await writeOldTiers(dir, CHECKS, days, rawFrom, retention.hourMs!);
  const clock = { now: rawFrom };
  const record = new CheckRecord({ dir, log: createLogger({ level: 'warn' }), report: { countWriteError: () => { throw new Error('write error in the bench'); } }, now: () => clock.now });
  record.configure(retention);
  const write = await feedRaw(record, clock, CHECKS, 10_000, rawFrom, end);
  clock.now = end;
  while (await record.rollUp(10_000) > 0 || await record.prune(1_000) > 0) { /* everything due */ }
  await record.stop();
  return { history_days: days, history_raw_hours: rawHours, history_tier_rows: rows, history_raw_results: write.results, history_fill_s: round((performance.now() - t0) / 1000) };
}

/** The probed target, in its own process: GET /<k> answers 500 while <k> is broken; /__set/<k>/<0|1> flips it. */
function startTarget(port: number): ChildProcess {
  const code = `const b=new Set();require('http').createServer((q,s)=>{const m=/^\\/__set\\/([^/]+)\\/([01])$/.exec(q.url);`
    + `if(m){m[2]==='1'?b.add(m[1]):b.delete(m[1]);s.end('ok');return}s.statusCode=b.has(q.url.slice(1))?500:200;s.end('ok')}).listen(${port},'127.0.0.1')`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

function config(target: string): string {
  const lines = ['defaults: { timeout: 900ms, retries: 0 }', 'components:'];
  for (let c = 0; c < COMPONENTS; c++) lines.push(`  - { name: svc${c}${c ? `, depends_on: [svc${c - 1}]` : ''} }`);
  lines.push('checks:');
  for (let i = 0; i < CHECKS; i++) {
    lines.push(`  - { name: c${i}, type: http, component: svc${i % COMPONENTS}, interval: ${(i % 5) + 1}s, url: "${target}/c${i}" }`);
  }
  return lines.join('\n') + '\n';
}

async function pageLoads(browser: Browser, url: string, loads: number) {
  const cold: Array<Record<string, number>> = [];
  const warm: Array<Record<string, number>> = [];
  // A string, not a function: tsx would wrap named inner functions in a `__name` helper the page lacks.
  const measure = `new Promise((resolve) => {
    const get = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
    const nav = performance.getEntriesByType('navigation')[0];
    let lcp = NaN;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) lcp = e.startTime; }).observe({ type: 'largest-contentful-paint', buffered: true });
    const res = performance.getEntriesByType('resource');
    const snap = () => res.find((e) => e.name.includes('api/v1/status'));
    const done = () => setTimeout(() => {
      const sn = snap();
      const early = res.filter((e) => e.startTime < get('vigil:rendered'));
      resolve({
        fp: get('first-paint'), fcp: get('first-contentful-paint'), lcp,
        html_server: nav.responseStart - nav.requestStart,
        html_request: nav.requestStart, html_end: nav.responseEnd,
        css_request: res.find((e) => e.name.endsWith('/page.css'))?.requestStart ?? NaN,
        css_server: ((e) => (e ? e.responseStart - e.requestStart : NaN))(res.find((e) => e.name.endsWith('/page.css'))),
        css_end: res.find((e) => e.name.endsWith('/page.css'))?.responseEnd ?? NaN,
        theme_end: res.find((e) => e.name.endsWith('/theme.js'))?.responseEnd ?? NaN,
        app_end: res.find((e) => e.name.endsWith('/app.js'))?.responseEnd ?? NaN,
        snapshot_end: sn ? sn.responseEnd : NaN,
        dom_content_loaded: nav.domContentLoadedEventEnd, script_start: get('vigil:start'), snapshot: get('vigil:snapshot'),
        snapshot_server: sn ? sn.responseStart - sn.requestStart : NaN, snapshot_kb: sn ? sn.transferSize / 1024 : NaN,
        rendered: get('vigil:rendered'), painted: get('vigil:painted'), complete: get('vigil:complete'),
        requests: early.length + 1, kb: (early.reduce((a, e) => a + e.transferSize, 0) + nav.transferSize) / 1024,
        dom_nodes: document.getElementsByTagName('*').length,
      });
    }, 50);
    // Painted (the first screens) and complete (every row built), whichever comes last.
    const wanted = ['vigil:painted', 'vigil:complete'];
    const have = () => wanted.every((n) => performance.getEntriesByName(n).length);
    if (have()) done();
    else new PerformanceObserver((_l, o) => { if (have()) { o.disconnect(); done(); } }).observe({ type: 'mark', buffered: true });
  })`;
  for (let i = 0; i < loads; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(url);
    cold.push(await page.evaluate(measure) as Record<string, number>);
    await page.reload();
    warm.push(await page.evaluate(measure) as Record<string, number>);
    await ctx.close();
  }
  const pick = (rs: Array<Record<string, number>>, k: string) => round(median(rs.map((r) => r[k])));
  // The tail in full: a p95 of 20 loads is the second slowest.
  console.log('cold painted, sorted (ms):', cold.map((r) => Math.round(r.painted)).sort((a, b) => a - b).join(' '));
  // Where the slowest loads lost their time, beside the median load's.
  const phases = ['html_request', 'html_server', 'html_end', 'css_request', 'css_server', 'css_end', 'theme_end', 'app_end', 'snapshot_end', 'dom_content_loaded', 'script_start', 'snapshot_server', 'snapshot', 'rendered', 'painted'] as const;
  const line = (r: Record<string, number>) => phases.map((k) => `${k} ${Math.round(r[k])}`).join(' · ');
  const byPainted = [...cold].sort((a, b) => b.painted - a.painted);
  console.log(`cold, median: ${phases.map((k) => `${k} ${pick(cold, k)}`).join(' · ')}`);
  for (const r of byPainted.slice(0, 3)) console.log(`cold, slow:   ${line(r)}`);
  return {
    load_cold_fcp_ms: pick(cold, 'fcp'),
    load_cold_lcp_ms: pick(cold, 'lcp'),
    load_cold_rendered_ms: pick(cold, 'rendered'),
    load_cold_painted_ms: pick(cold, 'painted'),
    load_cold_p95_painted_ms: round(percentile(cold.map((r) => r.painted), 95)),
    load_cold_complete_ms: pick(cold, 'complete'),
    // Where the cold load's time goes (medians): the HTML's and the snapshot's server time
    // (request sent to first byte), when the scripts start, when the snapshot is parsed.
    load_cold_html_server_ms: pick(cold, 'html_server'),
    load_cold_script_start_ms: pick(cold, 'script_start'),
    load_cold_snapshot_server_ms: pick(cold, 'snapshot_server'),
    load_cold_snapshot_in_ms: pick(cold, 'snapshot'),
    load_cold_snapshot_kb: pick(cold, 'snapshot_kb'),
    load_cold_requests_before_render: pick(cold, 'requests'),
    load_cold_kb_before_render: pick(cold, 'kb'),
    load_warm_fcp_ms: pick(warm, 'fcp'),
    load_warm_rendered_ms: pick(warm, 'rendered'),
    load_warm_painted_ms: pick(warm, 'painted'),
    load_dom_nodes_complete: cold[0].dom_nodes,
  };
}

/**
 * Page weight of a cold load (bytes on the wire, gzip where the server compresses): the page's own
 * files (HTML, scripts, styles, icons) and, apart, the data it fetches (snapshot, alerts, incidents).
 */
async function pageWeight(browser: Browser, url: string) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const sizes: Array<Promise<{ url: string; bytes: number }>> = [];
  page.on('requestfinished', (r) => {
    if (r.url().includes('api/v1/events')) return; // the live stream never ends
    sizes.push(r.sizes().then((x) => ({ url: r.url(), bytes: x.responseBodySize + x.responseHeadersSize })));
  });
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  await sleep(3000); // the incident history and alerts arrive after the first render
  const all = await Promise.all(sizes);
  await ctx.close();
  const assets = all.filter((x) => !x.url.includes('/api/'));
  const data = all.filter((x) => x.url.includes('/api/'));
  const kb = (xs: Array<{ bytes: number }>) => round(xs.reduce((a, x) => a + x.bytes, 0) / 1024);
  return { page_weight_assets_kb: kb(assets), page_weight_data_kb: kb(data), page_requests: all.length };
}

/** Opening a check's detail (#/check/<name>): until every section has its data, p50/p95 over 20 checks. */
async function detailViews(browser: Browser, url: string) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(url);
  // Generous: on a shared 2-core box under other people's load a page can take tens of seconds.
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120_000 });
  await page.waitForFunction(() => performance.getEntriesByName('vigil:complete').length > 0, undefined, { timeout: 120_000 });
  const names = (await page.$$eval('.check', (els) => els.map((e) => (e as HTMLElement).dataset.name!))).slice(0, 20);
  const times: number[] = [];
  for (const name of names) {
    await page.evaluate(() => { location.hash = '#/'; });
    const t0 = Date.now();
    await page.evaluate((n) => { location.hash = `#/check/${encodeURIComponent(n)}`; }, name);
    // Every section has replaced its "Loading…" note.
    await page.waitForFunction(() => {
      const d = document.querySelector<HTMLElement>('#detail');
      return !!d && !d.hidden && !!d.querySelector('.d-config dd, .d-config + p') && !!d.querySelector('.d-windows')
        && ![...d.querySelectorAll('.d-sec p.muted')].some((p) => /^Loading/.test(p.textContent ?? ''));
    }, undefined, { timeout: 30_000 });
    times.push(Date.now() - t0);
  }
  await ctx.close();
  return { detail_p50_ms: round(median(times)), detail_p95_ms: round(percentile(times, 95)) };
}

async function changeLatency(browser: Browser, ex: RunningExporter, target: string) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(ex.url);
  await page.waitForSelector('html[data-ready="true"]');
  await page.waitForFunction(() => performance.getEntriesByName('vigil:complete').length > 0, undefined, { timeout: 30_000 });
  await page.waitForSelector('#conn[data-state="live"]');
  const total: number[] = [];
  const pipeline: number[] = [];
  // Checks c0, c5, c10… run every second.
  for (let trial = 0; trial < 8; trial++) {
    const name = `c${trial * 5 * 7}`;
    const want = 'critical';
    for (const [state, flag] of [[want, '1'], ['healthy', '0']] as const) {
      const seen = page.evaluate(`new Promise((resolve) => {
        const row = document.querySelector('.check[data-name="${name}"]');
        if (row.getAttribute('data-status') === '${state}') return resolve(Date.now());
        new MutationObserver((_m, o) => {
          if (row.getAttribute('data-status') === '${state}') { o.disconnect(); resolve(Date.now()); }
        }).observe(row, { attributes: true, attributeFilter: ['data-status'] });
      })`) as Promise<number>;
      const t0 = Date.now();
      await fetch(`${target}/__set/${name}/${flag}`);
      const shown = await seen;
      const since = Date.parse((await (await fetch(`${ex.url}/api/v1/checks/${name}`)).json()).since);
      total.push(shown - t0);
      pipeline.push(shown - since);
    }
  }
  await page.context().close();
  return {
    change_visible_total_median_ms: median(total),
    change_visible_total_max_ms: Math.max(...total),
    change_visible_pipeline_median_ms: median(pipeline),
    change_visible_pipeline_p95_ms: percentile(pipeline, 95),
    change_visible_pipeline_max_ms: Math.max(...pipeline),
  };
}

/** 500 checks x 24 h of history, filled synthetically in this process (see the header). */
async function historyMemory() {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const used = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  const checks: CheckCommon[] = Array.from({ length: CHECKS }, (_, i) => ({
    name: `c${i}`, type: 'http', component: `svc${i % COMPONENTS}`, interval: 10_000, timeout: 900, retries: 0, retry_delay: 0,
    on_failure: 'critical', labels: {}, thresholds: {}, enabled: true,
  }));
  const before = used();
  const state = new StateStore();
  state.applyConfig({ checks, components: [], history: { max_points: 8640, retention: 86_400_000 } }, new Set());
  const now = Date.now();
  const t0 = now - 86_400_000;
  for (const s of state.list()) {
    for (let k = 0; k < 8640; k++) {
      const bad = k % 977 < 3; // a few short incidents
      s.history.push({ t: t0 + k * 10_000 + 5_000, duration: 0.01 + (k % 50) / 1000, status: bad ? 'critical' : 'healthy' });
    }
  }
  const after = used();
  let t = performance.now();
  const snap = statusSnapshot(state, { now, version: 'bench', eventId: 'x.0', history: { max_points: 8640, retention: 86_400_000 } });
  const snapshotMs = performance.now() - t;
  const snapshotBytes = Buffer.byteLength(JSON.stringify(snap));
  t = performance.now();
  for (const s of state.list()) summarizePeriod(s.history.columns(now - 86_400_000 - 20_000, now), { from: now - 86_400_000, to: now, maxGap: 20_000 + 900 });
  const reportMs = performance.now() - t;
  return {
    history_points_per_check: 8640,
    history_bytes_per_point: round(state.list()[0].history.bytes() / 8640),
    history_bytes_accounted_mb: round(state.historyBytes() / 2 ** 20),
    history_heap_growth_mb: round((after - before) / 2 ** 20),
    history_full_status_snapshot_ms: round(snapshotMs),
    history_full_status_snapshot_kb: round(snapshotBytes / 1024),
    history_full_report_24h_ms: round(reportMs),
  };
}

interface Window { cpu_pct: number; metrics_p50_ms: number; metrics_p99_ms: number; samples: number }

/** Exporter CPU over a window while /metrics is fetched sequentially ~40 times a second. */
async function window(ex: RunningExporter, seconds: number): Promise<Window> {
  const pid = ex.proc.pid!;
  const lat: number[] = [];
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const s = performance.now();
    lat.push((await scrape(`${ex.url}/metrics`)).ms);
    const wait = 25 - (performance.now() - s);
    if (wait > 0) await sleep(wait);
  }
  const wall = (performance.now() - t0) / 1000;
  return { cpu_pct: (100 * (cpuSeconds(pid) - c0)) / wall, metrics_p50_ms: percentile(lat, 50), metrics_p99_ms: percentile(lat, 99), samples: lat.length };
}

/**
 * The viewers' side, in a process of its own as real viewers are: read in the bench's process,
 * 100 streams' data (~0.7 MB/s at 500 checks) kept its event loop busy, and the /metrics scrapes timed there
 * waited behind it — the bench's own work, counted as the exporter's latency.
 */
const VIEWER_PROCESS = `
const http = require('node:http');
const [url, n] = [process.argv[1], Number(process.argv[2])];
let bytes = 0, connected = 0;
for (let i = 0; i < n; i++) {
  const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    connected++;
    res.on('data', (d) => { bytes += d.length; });
    res.on('error', () => {});
  });
  req.on('error', () => {});
}
process.on('message', () => process.send({ connected, bytes }));
process.on('disconnect', () => process.exit(0));
`;

async function viewers(ex: RunningExporter) {
  let child: ChildProcess | undefined;
  const ask = (c: ChildProcess) => new Promise<{ connected: number; bytes: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the viewers process did not answer within 5 s')), 5_000);
    c.once('message', (m) => { clearTimeout(timer); resolve(m as { connected: number; bytes: number }); });
    c.send('count');
  });
  const openAll = async () => {
    const c = spawn(process.execPath, ['-e', VIEWER_PROCESS, `${ex.url}/api/v1/events`, String(VIEWERS)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child = c;
    const deadline = Date.now() + 10_000;
    while ((await ask(c)).connected < VIEWERS) {
      if (Date.now() > deadline) throw new Error(`only some of ${VIEWERS} viewers connected within 10 s`);
      await sleep(20);
    }
  };
  const closeAll = () => { child?.kill(); child = undefined; };
  const bytesNow = async () => (child ? (await ask(child)).bytes : 0);

  const without: Window[] = [];
  const withV: Window[] = [];
  let bytesPerSec = 0;
  try {
    for (let round = 0; round < 2; round++) {
      without.push(await window(ex, WINDOW_S));
      await openAll();
      await sleep(1000);
      const b0 = await bytesNow();
      withV.push(await window(ex, WINDOW_S));
      bytesPerSec = ((await bytesNow()) - b0) / WINDOW_S;
      closeAll();
      await sleep(1000);
    }
  } finally {
    closeAll(); // never left running after a failed round
  }
  const avg = (ws: Window[], k: keyof Window) => ws.reduce((a, w) => a + w[k], 0) / ws.length;
  return {
    viewers: VIEWERS,
    exporter_cpu_pct_without_viewers: round(avg(without, 'cpu_pct')),
    exporter_cpu_pct_with_viewers: round(avg(withV, 'cpu_pct')),
    viewers_extra_cpu_pct_of_one_core: round(avg(withV, 'cpu_pct') - avg(without, 'cpu_pct')),
    metrics_p50_ms_without_viewers: round(avg(without, 'metrics_p50_ms')),
    metrics_p50_ms_with_viewers: round(avg(withV, 'metrics_p50_ms')),
    metrics_p99_ms_without_viewers: round(avg(without, 'metrics_p99_ms')),
    metrics_p99_ms_with_viewers: round(avg(withV, 'metrics_p99_ms')),
    sse_kb_per_s_per_viewer: round(bytesPerSec / VIEWERS / 1024, 2),
  };
}

export async function benchStatusPage(options: string[] = []): Promise<Record<string, number | string>> {
  if (!existsSync(path.join(ROOT, 'dist/exporter/cli.js'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
  const historyDays = opt(options, 'history-days', 90);
  const rawHours = opt(options, 'raw-hours', 48);
  const out: Record<string, number | string> = { checks: CHECKS };

  // Memory first, before this process holds browsers and sockets.
  Object.assign(out, await historyMemory());
  console.log('history:', JSON.stringify(out));

  const port = await freePort();
  const targetProc = startTarget(port);
  const target = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-statuspage-'));
  let ex: RunningExporter | undefined;
  let browser: Browser | undefined;
  try {
    if (historyDays > 0) {
      mkdirSync(path.join(dir, 'data'));
      Object.assign(out, await fillRecord(path.join(dir, 'data'), historyDays, rawHours));
      console.log('record:', JSON.stringify(out));
    }
    await waitFor(async () => (await fetch(`${target}/ping`)).ok, 5000, 50);
    const t0 = performance.now();
    ex = await startExporter({ config: config(target), dir, args: ['--log.level=info'], nodeArgs: benchNodeFlags(), env: benchNodeEnv(), timeoutMs: 300_000 });
    await waitFor(async () => (await fetch(`${ex!.url}/-/ready`)).ok, 300_000, 100);
    out.exporter_ready_s = round((performance.now() - t0) / 1000);
    await sleep(3000); // every check has a few points, sparklines have a shape
    out.exporter_rss_mb_live = round(rssBytes(ex.proc.pid!) / 2 ** 20);

    browser = await launchChromium(process.env.BENCH_CHROMIUM);
    Object.assign(out, await pageLoads(browser, `${ex.url}/`, opt(options, 'loads', 20)));
    console.log('cold and warm loads:', JSON.stringify(out));
    Object.assign(out, await pageWeight(browser, `${ex.url}/`));
    console.log('page weight:', JSON.stringify(out));
    Object.assign(out, await detailViews(browser, `${ex.url}/`));
    console.log('page load:', JSON.stringify(out));
    Object.assign(out, await changeLatency(browser, ex, target));
    console.log('change latency:', JSON.stringify(out));
    await browser.close();
    browser = undefined;

    Object.assign(out, await viewers(ex));
    out.exporter_rss_mb_end = round(rssBytes(ex.proc.pid!) / 2 ** 20);
    out.method = 'history memory: synthetic fill in the bench process (8 640 points x checks, heap+ArrayBuffer growth after GC); '
      + `load: median (and p95) of ${opt(options, 'loads', 20)} cold contexts + as many reloads; change: 16 flips of 1 s checks; viewers: A/B/A/B windows of `
      + `${WINDOW_S} s, exporter utime+stime from /proc`;
  } finally {
    await browser?.close().catch(() => {});
    await ex?.stop();
    targetProc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 1));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  benchStatusPage().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
}
