// Every query of every Grafana dashboard, executed on a real Prometheus 2.42 that scrapes the
// real exporter, the real demo app and a real Alertmanager with the shipped prometheus.yml
// (loopback copy), rules/ and alertmanager.yml:
//
//   Vigil exporter (system, process, http+TLS+headers, tcp, postgres, redis, heartbeat, a broken
//   http check; components with dependencies) + demo app (PostgreSQL, Redis, traffic)
//     <- Prometheus -> Alertmanager -> { sinks, the exporter's webhook receiver, the exporter's
//                                         heartbeat as the dead man's switch }
//
// Variables are resolved the way Grafana does (label_values via the label values API), then
// substituted; instant queries go to /api/v1/query, range queries to /api/v1/query_range over the
// last minute. No query may error, and the core panels listed in CORE_PANELS must return data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, writeAlertmanagerTestConfig } from '../support/alertmanager-config.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { selfSignedCert } from '../support/certs.js';
import { labelValuesQuery, metricNames, queriesOf, readGenerated, substitute, type DashboardJson, type QueryRef } from '../support/dashboards.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { startPm2, type Pm2Daemon } from '../support/pm2.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { writePrometheusTestConfig } from '../support/prometheus-config.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { startHttpSink, startSmtpSink, type HttpSink, type SmtpSink } from '../support/sinks.js';

const WEBHOOK_TOKEN = 'dash-webhook-token-0123456789';
const HEARTBEAT_TOKEN = 'dash-heartbeat-token-0123456789';

/** Grafana interval variables: scrapes here are 2-5 s apart (vigil job 5 s, the rest 2 s). */
const DURATIONS = { __rate_interval: '20s', __interval: '5s', __range: '1m' } as const;
const RANGE_SECONDS = 60;
const STEP_SECONDS = 5;

/**
 * Panels that must return data in this stack, by dashboard uid and title, with the refIds that
 * must (default: every refId of the panel that is not a threshold line).
 */
const CORE_PANELS: Array<{ uid: string; title: string; refIds?: string[] }> = [
  // status and up
  { uid: 'vigil-overview', title: 'Overall status' },
  { uid: 'vigil-overview', title: 'Components' },
  { uid: 'vigil-overview', title: 'Checks by status' },
  { uid: 'vigil-overview', title: 'Checks' },
  { uid: 'vigil-overview', title: 'Firing alerts' },
  { uid: 'vigil-overview', title: 'Monitoring pipeline' },
  { uid: 'vigil-overview', title: 'Scrape targets' },
  { uid: 'vigil-overview', title: 'Availability by component' },
  { uid: 'vigil-overview', title: 'Impacted by a dependency' },
  { uid: 'vigil-checks', title: 'Status' },
  { uid: 'vigil-checks', title: 'Status history' },
  // latency (by phase, with the response_time threshold lines), success ratio, TLS, headers
  { uid: 'vigil-checks', title: 'Probe latency by phase', refIds: ['A', 'B', 'C', 'D'] },
  { uid: 'vigil-checks', title: 'Response time', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-checks', title: 'Success ratio' },
  { uid: 'vigil-checks', title: 'Success over the time range' },
  { uid: 'vigil-checks', title: 'Failures by reason' },
  { uid: 'vigil-checks', title: 'HTTP status' },
  { uid: 'vigil-checks', title: 'TLS certificate expires in' },
  { uid: 'vigil-checks', title: 'Extracted response headers', refIds: ['A', 'B', 'C'] },
  // system CPU / memory / disk
  { uid: 'vigil-system', title: 'CPU' },
  { uid: 'vigil-system', title: 'Memory' },
  { uid: 'vigil-system', title: 'Fullest disk' },
  { uid: 'vigil-system', title: 'CPU utilization', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-system', title: 'Memory used', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-system', title: 'Disk used by mount', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-system', title: 'Disk use predicted in 24 h' },
  { uid: 'vigil-system', title: 'Load average', refIds: ['A', 'B', 'C', 'D', 'E'] },
  { uid: 'vigil-system', title: 'Exporter memory' },
  // apps
  { uid: 'vigil-apps', title: 'Request rate by service' },
  { uid: 'vigil-apps', title: 'Error ratio by service' },
  { uid: 'vigil-apps', title: 'Latency p50 / p95 / p99 by service' },
  { uid: 'vigil-apps', title: 'Routes' },
  { uid: 'vigil-apps', title: 'Outbound calls by host' },
  { uid: 'vigil-apps', title: 'Database operations' },
  { uid: 'vigil-apps', title: 'Background job runs' },
  // notifications
  { uid: 'vigil-notifications', title: 'Notifications sent and failed', refIds: ['A'] },
  { uid: 'vigil-notifications', title: 'Firing alerts by severity' },
  { uid: 'vigil-notifications', title: 'Notifications received by Vigil' },
  { uid: 'vigil-notifications', title: 'Deliveries by channel and outcome' },
  { uid: 'vigil-notifications', title: 'Retries' },
  { uid: 'vigil-notifications', title: 'Delivery failures by reason' },
  // data stores and heartbeats
  { uid: 'vigil-processes', title: 'PM2 processes' },
  { uid: 'vigil-processes', title: 'PM2 process state', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-processes', title: 'PM2 memory' },
  { uid: 'vigil-processes', title: 'Database and Redis latency', refIds: ['A', 'B'] },
  { uid: 'vigil-processes', title: 'Probe connection pools' },
  { uid: 'vigil-processes', title: 'SQL values', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-processes', title: 'Queue depth', refIds: ['A', 'B', 'C'] },
  { uid: 'vigil-processes', title: 'Queue workers' },
  { uid: 'vigil-processes', title: 'Heartbeats: time left' },
  // dependency map
  { uid: 'vigil-dependencies', title: 'Dependency map', refIds: ['nodes', 'edges'] },
  { uid: 'vigil-dependencies', title: 'Dependencies' },
  { uid: 'vigil-dependencies', title: 'Impacted components' },
];

let dir: string;
let pg: PostgresServer;
let redis: RedisServer;
let pm2: Pm2Daemon;
let tlsTarget: HttpTarget;
let broken: HttpTarget;
let sink: HttpSink;
let smtp: SmtpSink;
let exporter: RunningExporter;
let demo: { proc: ChildProcess; port: number; metricsPort: number; logs(): string };
let alertmanager: RunningAlertmanager;
let prometheus: RunningPrometheus;
let traffic: NodeJS.Timeout | undefined;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

async function startDemoApp(env: Record<string, string>): Promise<typeof demo> {
  const port = await freePort();
  const metricsPort = await freePort();
  const proc = spawn(process.execPath, ['--import', 'vigil/instrument', 'examples/demo-app/server.mjs'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', OTEL_SERVICE_NAME: 'demo-app',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      JOB_INTERVAL_MS: '1000', DELIVERY_INTERVAL_MS: '250',
      // Some failures, so that error, retry and failure panels have data.
      FAULT_DELIVERY_FAILURE_RATE: '0.3', FAULT_JOB_FAILURE_RATE: '0.3', FAULT_PROVIDER_ERROR_RATE: '0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const running = { proc, port, metricsPort, logs: () => out };
  cleanups.push(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  });
  await poll(async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) })).ok, 15_000,
    () => `demo app metrics on :${metricsPort}\n${out}`);
  return running;
}

async function poll<T>(fn: () => Promise<T | false | undefined> | T | false | undefined, timeoutMs: number, what: () => string, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The repo's rules with every group evaluated at least every 5 s, so that the 1 m groups (availability) have data in seconds. */
function fastRules(into: string): string[] {
  mkdirSync(into, { recursive: true });
  const out: string[] = [];
  for (const f of readdirSync(path.join(REPO_ROOT, 'rules')).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(readFileSync(path.join(REPO_ROOT, 'rules', f), 'utf8')) as { groups: Array<{ interval?: string }> };
    for (const g of doc.groups) g.interval = '5s';
    writeFileSync(path.join(into, f), stringify(doc, { lineWidth: 0 }));
    out.push(path.join(into, f));
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-dash-live-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  try {
    [pg, redis, pm2] = await Promise.all([startPostgres(), startRedis(), startPm2()]);
    cleanups.push(() => pg.stop(), () => redis.stop(), () => pm2.stop());
    await pm2.startApp('mailer', 'setInterval(() => {}, 1000);');
    tlsTarget = await startHttpTarget({ tls: selfSignedCert(30) });
    tlsTarget.set({ headers: { 'content-type': 'application/json', 'x-ratelimit-remaining': '42' } });
    broken = await startHttpTarget();
    broken.set({ status: 500, body: 'down' });
    cleanups.push(() => tlsTarget.close(), () => broken.close());
    sink = await startHttpSink();
    smtp = await startSmtpSink();
    cleanups.push(() => sink.close(), () => smtp.close());

    demo = await startDemoApp({ DATABASE_URL: pg.url, REDIS_URL: redis.url });
    const amPort = await freePort();
    const promPort = await freePort();

    exporter = await startExporter({
      config: `
server:
  webhook_token: ${WEBHOOK_TOKEN}
  heartbeat_token: ${HEARTBEAT_TOKEN}
  alertmanager_url: http://127.0.0.1:${amPort}
defaults: { interval: 1s, timeout: 900ms, retries: 0 }
components:
  - { name: host }
  - { name: database }
  - { name: cache }
  - { name: app, depends_on: [database, cache] }
  - { name: edge }
  - { name: shop, depends_on: [app, edge] }
  - { name: pipeline }
checks:
  - name: host-resources
    type: system
    component: host
    thresholds: { load1: { warning: 64, critical: 128 } }
  - { name: vigil-self, type: process, component: pipeline }
  - name: app-health
    type: http
    component: app
    url: http://127.0.0.1:${demo.port}/healthz
    thresholds: { response_time: { warning: 500ms, critical: 2s } }
  - { name: app-port, type: tcp, component: app, host: 127.0.0.1, port: ${demo.port} }
  - { name: workers, type: pm2, component: app, pm2_home: "${pm2.home}", processes: [mailer] }
  - { name: shop-home, type: http, component: shop, url: "http://127.0.0.1:${demo.port}/" }
  - name: partner-api
    type: http
    component: edge
    url: ${tlsTarget.url}/
    tls: { insecure_skip_verify: true }
    extract_headers: [{ header: X-RateLimit-Remaining, name: rate_limit_remaining }]
    thresholds:
      response_time: { warning: 300ms, critical: 1s }
      rate_limit_remaining: { warning: 10, critical: 2, direction: below }
  - { name: cdn, type: http, component: edge, url: "${broken.url}/" }
  - name: postgres
    type: postgres
    component: database
    dsn: "${pg.url}"
    thresholds: { response_time: { warning: 250ms, critical: 1s } }
  - name: connections
    type: sql
    component: database
    dsn: "${pg.url}"
    queries: [{ name: active_connections, query: "select count(*) from pg_stat_activity" }]
    thresholds: { active_connections: { warning: 80, critical: 95 } }
  - name: redis
    type: redis
    component: cache
    dsn: "${redis.url}"
    queues: [{ name: emails, kind: list, key: "demo:emails", worker_client_name: "^mailer" }]
    thresholds: { emails.length: { warning: 100, critical: 1000 } }
  - { name: alerting-pipeline, type: heartbeat, component: pipeline, period: 1m, grace: 2m }
`,
      args: ['--log.level=info'],
      // It listens once the record is read (up to 10 s): on a loaded box the default 15 s is short.
      timeoutMs: 60_000,
    });
    cleanups.push(() => exporter.stop());

    // Alertmanager as shipped, with sinks; the Vigil receiver and the dead man's switch go to the
    // exporter (as in docker-compose.yml: the switch is the exporter's alerting-pipeline heartbeat).
    const am = await writeAlertmanagerTestConfig({
      dir: path.join(dir, 'am'),
      sinkUrl: sink.url,
      smtp: { host: smtp.host, port: smtp.port },
      secrets: { vigil_webhook_token: WEBHOOK_TOKEN, deadmans_switch_token: HEARTBEAT_TOKEN },
    });
    for (const r of am.config.receivers as Array<Record<string, any>>) {
      for (const wh of r.webhook_configs ?? []) {
        if (r.name === 'vigil-webhook') wh.url = `${exporter.url}/api/v1/alerts/webhook`;
        if (r.name === 'deadmans-switch') wh.url = `${exporter.url}/api/v1/heartbeats/alerting-pipeline`;
      }
    }
    writeFileSync(am.configFile, stringify(am.config, { lineWidth: 0 }));
    alertmanager = await startAlertmanager({ configFile: am.configFile, port: amPort });
    cleanups.push(() => alertmanager.stop());

    const prom = await writePrometheusTestConfig({
      dir: path.join(dir, 'prom'),
      ports: { vigil: exporter.port, 'vigil-probes': exporter.port, 'demo-app': demo.metricsPort, alertmanager: amPort, prometheus: promPort },
      ruleFiles: fastRules(path.join(dir, 'rules')),
      global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
    });
    // A 5 s resend delay (default 1 m): an alert first sent before Prometheus has discovered the
    // Alertmanager (the always-firing Watchdog) is otherwise retried only a minute later.
    prometheus = await startPrometheus({ configFile: prom.configFile, port: promPort, args: ['--rules.alert.resend-delay=5s'] });
    cleanups.push(() => prometheus.stop());

    // Traffic for the app panels: reads, orders (provider call + delivery), a 404.
    const base = `http://127.0.0.1:${demo.port}`;
    const hit = (p: string, init?: RequestInit) => fetch(base + p, { ...init, signal: AbortSignal.timeout(2000) }).then((r) => r.arrayBuffer()).catch(() => {});
    traffic = setInterval(() => {
      void hit('/api/items');
      void hit('/api/items/1');
      void hit('/api/items/999');
      void hit('/api/quote?item=2');
      void hit('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item_id": 1}' });
    }, 200);
    cleanups.push(() => clearInterval(traffic));

    // Wait for a few scrapes of every target, the rules, the broken check's page and what
    // Alertmanager sent back to the exporter (alert log, dead man's switch heartbeat).
    const has = async (expr: string) => (await prometheus.query(expr)).length > 0;
    const waits: Array<[string, string]> = [
      // Five targets: vigil and vigil-probes (every 5 s), demo-app, alertmanager, prometheus. (It
      // read "== 4": true only while one of the two 5 s jobs had its third scrape and the other
      // not yet, a window of a second or two that a poll every 500 ms could miss for good.)
      ['every target up for a few scrapes', 'count(count_over_time(up[1m]) >= 3 and up == 1) >= 5'],
      ['the exporter scraped 3 times', 'count_over_time(up{job="vigil"}[1m]) >= 3'],
      ['app requests with rates', 'sum(rate(http_server_request_duration_seconds_count{job="demo-app"}[20s])) > 0'],
      ['availability recording rules', 'component:probe_success:avg_over_time24h'],
      ['the broken check paging', 'ALERTS{alertname="VigilCheckCritical", alertstate="firing", check="cdn"}'],
      ['the Vigil receiver logged a notification (2 scrapes)', 'count_over_time(vigil_alert_notifications_received_total[20s]) >= 2'],
      ['the dead man\'s switch heartbeat', 'vigil_heartbeat_last_success_timestamp_seconds{check="alerting-pipeline"}'],
    ];
    for (const [what, expr] of waits) {
      await poll(() => has(expr), 60_000, () => `${what}: ${expr}\nexporter:\n${exporter.logs().slice(-2000)}\nalertmanager:\n${alertmanager.logs().slice(-3000)}`, 500);
    }
  } catch (err) {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
    throw err;
  }
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
});

interface Outcome {
  q: QueryRef;
  expr: string;
  error?: string;
  series: number;
}

async function api(p: string, params: Record<string, string>): Promise<{ status: string; data?: any; error?: string; errorType?: string }> {
  const res = await fetch(prometheus.url + p, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as { status: string; data?: any; error?: string };
}

/** Resolve the dashboard's variables like Grafana: in order, each from label_values over the last minute. */
async function resolveVariables(d: DashboardJson, pick: 'all' | 'first'): Promise<{ values: Record<string, string>; options: Record<string, string[]> }> {
  const values: Record<string, string> = {};
  const options: Record<string, string[]> = {};
  const end = Math.floor(Date.now() / 1000);
  for (const v of d.templating.list) {
    const lv = labelValuesQuery(v);
    if (!lv) continue;
    const selector = substitute(lv.selector, values, DURATIONS);
    const url = `${prometheus.url}/api/v1/label/${lv.label}/values?${new URLSearchParams({ 'match[]': selector, start: String(end - RANGE_SECONDS), end: String(end) })}`;
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { status: string; data: string[]; error?: string };
    if (body.status !== 'success') throw new Error(`${d.uid} variable ${v.name}: ${body.error}`);
    options[v.name] = body.data;
    values[v.name] = pick === 'all' && v.includeAll ? (v.allValue ?? '.*') : (body.data[0] ?? 'none');
  }
  return { values, options };
}

async function runQuery(q: QueryRef, values: Record<string, string>): Promise<Outcome> {
  const end = Math.floor(Date.now() / 1000);
  const expr = substitute(q.expr, values, DURATIONS);
  const body = q.kind === 'instant'
    ? await api('/api/v1/query', { query: expr, time: String(end) })
    : await api('/api/v1/query_range', { query: expr, start: String(end - RANGE_SECONDS), end: String(end), step: String(STEP_SECONDS) });
  if (body.status !== 'success') return { q, expr, error: `${body.errorType}: ${body.error}`, series: 0 };
  return { q, expr, series: (body.data.result as unknown[]).length };
}

const runQueries = (d: DashboardJson, values: Record<string, string>) => Promise.all(queriesOf(d).map((q) => runQuery(q, values)));

/** What Prometheus holds for the metrics of an expression over the last minute (for failure messages). */
async function rawSeries(expr: string): Promise<string> {
  const parts = await Promise.all(metricNames(expr).map(async (m) => {
    const body = await api('/api/v1/query', { query: `count_over_time(${m}[1m])` });
    const counts = body.status === 'success' ? (body.data.result as Array<{ value: [number, string] }>).map((r) => r.value[1]) : [body.error];
    return `${m}: ${counts.length} series, samples ${counts.join(',') || '-'}`;
  }));
  return parts.join('; ');
}

describe('dashboards on a live Prometheus', () => {
  const dashboards = [...readGenerated().values()];

  it('resolve every variable to values that exist', async () => {
    for (const d of dashboards) {
      const { options } = await resolveVariables(d, 'all');
      for (const [name, opts] of Object.entries(options)) expect(opts.length, `${d.uid} $${name} has no values`).toBeGreaterThan(0);
    }
    const checks = await resolveVariables(dashboards.find((d) => d.uid === 'vigil-checks')!, 'all');
    expect(checks.options.job).toEqual(['vigil']);
    expect(checks.options.check).toEqual(expect.arrayContaining(['app-health', 'partner-api', 'cdn', 'postgres', 'redis', 'host-resources']));
    const system = await resolveVariables(dashboards.find((d) => d.uid === 'vigil-system')!, 'all');
    expect(system.options.check).toEqual(['host-resources']);
    const apps = await resolveVariables(dashboards.find((d) => d.uid === 'vigil-apps')!, 'all');
    expect(apps.options.service).toEqual(['demo-app']);
  });

  it('run every query without an error, with "All" selected, and the core panels return data', async () => {
    const errors: string[] = [];
    let pending: Array<{ o: Outcome; values: Record<string, string> }> = [];
    let total = 0;
    for (const d of dashboards) {
      const { values } = await resolveVariables(d, 'all');
      const outcomes = await runQueries(d, values);
      total += outcomes.length;
      for (const o of outcomes) if (o.error) errors.push(`${d.uid} "${o.q.panel}" ${o.q.refId}: ${o.error}\n  ${o.expr}`);
      for (const core of CORE_PANELS.filter((c) => c.uid === d.uid)) {
        const mine = outcomes.filter((o) => o.q.panel === core.title);
        expect(mine.length, `${core.uid}: no panel "${core.title}"`).toBeGreaterThan(0);
        const required = core.refIds ?? mine.filter((o) => !/ · (warning|critical)$/.test(o.q.legend ?? '')).map((o) => o.q.refId);
        for (const refId of required) {
          const o = mine.find((x) => x.q.refId === refId);
          expect(o, `${core.uid} "${core.title}" has no query ${refId}`).toBeDefined();
          if (o!.series === 0) pending.push({ o: o!, values });
        }
      }
    }
    expect(errors).toEqual([]);
    expect(total).toBeGreaterThan(100);
    // Data that arrived at a scrape boundary may be a few seconds short of a 20 s window: retry
    // what is still empty for a little while before calling it missing.
    const deadline = Date.now() + 20_000;
    while (pending.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const again = await Promise.all(pending.map(async (p) => ({ ...p, o: await runQuery(p.o.q, p.values) })));
      pending = again.filter((p) => p.o.series === 0);
    }
    const empty = await Promise.all(pending.map(async ({ o }) =>
      `${o.q.dashboard} "${o.q.panel}" ${o.q.refId} returned no data:\n  ${o.expr}\n  ${await rawSeries(o.expr)}`));
    expect(empty).toEqual([]);
  });

  it('run every query without an error with one value picked for each variable', async () => {
    const errors: string[] = [];
    for (const d of dashboards) {
      const { values } = await resolveVariables(d, 'first');
      for (const o of await runQueries(d, values)) if (o.error) errors.push(`${d.uid} "${o.q.panel}" ${o.q.refId}: ${o.error}\n  ${o.expr}`);
    }
    expect(errors).toEqual([]);
  });

  it('the Checks dashboard narrowed to one check shows only that check, with its configured thresholds', async () => {
    const d = dashboards.find((x) => x.uid === 'vigil-checks')!;
    const values = { job: 'vigil', component: 'edge', check: 'partner-api' };
    const phase = queriesOf(d).filter((q) => q.panel === 'Probe latency by phase');
    const series = async (q: QueryRef) => (await api('/api/v1/query', { query: substitute(q.expr, values, DURATIONS), time: String(Math.floor(Date.now() / 1000)) })).data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    // A scrape that timed out on a loaded box marks the target's series stale until the next one.
    let phases = await series(phase.find((q) => q.refId === 'A')!);
    for (const deadline = Date.now() + 20_000; phases.length === 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 1000));
      phases = await series(phase.find((q) => q.refId === 'A')!);
    }
    expect(new Set(phases.map((s) => s.metric.check))).toEqual(new Set(['partner-api']));
    expect(phases.map((s) => s.metric.phase).sort()).toEqual(['connect', 'processing', 'resolve', 'tls', 'transfer']);
    const [warning] = await series(phase.find((q) => q.legend?.endsWith('· warning'))!);
    const [critical] = await series(phase.find((q) => q.legend?.endsWith('· critical'))!);
    expect(Number(warning!.value[1])).toBe(0.3);
    expect(Number(critical!.value[1])).toBe(1);
  });
});
