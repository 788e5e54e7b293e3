// vigil/instrument end to end: real apps started with `--import vigil/instrument` (ESM: the demo
// app) and `-r vigil/instrument` (CommonJS fixture), against throwaway PostgreSQL and Redis,
// asserting on their real /metrics (and on OTLP pushes to a local receiver).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPostgres, type PostgresServer } from '../support/postgres.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO = path.join(ROOT, 'examples/demo-app/server.mjs');
const CJS_APP = path.join(ROOT, 'tests/integration/fixtures/instrument-app.cjs');
const START_APP = path.join(ROOT, 'tests/integration/fixtures/instrument-start.mjs');
const PROMTOOL = '/usr/bin/promtool';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- helpers --------------------------------------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/** Sum of the samples called `name` whose labels include `labels` (0 when none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

function series(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

interface App {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  stderr(): string;
  scrape(): Promise<Sample[]>;
  scrapeText(): Promise<{ text: string; contentType: string | null }>;
  get(p: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

const apps = new Set<App>();

async function startApp(opts: { preload: 'import' | 'require' | 'none'; script: string; env?: Record<string, string>; waitMetrics?: boolean }): Promise<App> {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = opts.preload === 'import' ? ['--import', 'vigil/instrument'] : opts.preload === 'require' ? ['-r', 'vigil/instrument'] : [];
  const child = spawn(process.execPath, [...args, opts.script], {
    cwd: ROOT, // `vigil/instrument` resolves from here (package self-reference)
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      JOB_INTERVAL_MS: '0',
      DELIVERY_INTERVAL_MS: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  const base = `http://127.0.0.1:${port}`;
  const app: App = {
    child,
    port,
    metricsPort,
    stderr: () => stderr,
    async scrapeText() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      return { text: await res.text(), contentType: res.headers.get('content-type') };
    },
    async scrape() {
      return parseMetrics((await app.scrapeText()).text);
    },
    get: (p, init) => fetch(base + p, { ...init, signal: AbortSignal.timeout(10_000) }),
    async stop() {
      apps.delete(app);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(6000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  apps.add(app);
  // Ready when the app answers (and /metrics does, unless told otherwise); bounded.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}: ${stderr}${stdout}`);
    if (Date.now() > deadline) throw new Error(`app did not come up in 20 s: ${stderr}${stdout}`);
    try {
      await fetch(base + '/', { signal: AbortSignal.timeout(1000) });
      if (opts.waitMetrics === false) break;
      const m = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) });
      if (m.ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  return app;
}

/** Polls until check() passes (bounded); returns the last scrape. */
async function eventually(app: App, check: (s: Sample[]) => boolean, timeoutMs = 5000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  let s = await app.scrape();
  while (!check(s) && Date.now() < deadline) {
    await sleep(100);
    s = await app.scrape();
  }
  return s;
}

interface Receiver {
  url: string;
  bodies: Array<{ path: string; json: unknown }>;
  close(): Promise<void>;
}

/** A local OTLP/HTTP JSON receiver. */
async function startReceiver(): Promise<Receiver> {
  const bodies: Receiver['bodies'] = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      try {
        bodies.push({ path: req.url ?? '', json: JSON.parse(b) });
      } catch {
        bodies.push({ path: req.url ?? '', json: b });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function promtoolCheck(text: string): { code: number; output: string } {
  try {
    const output = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// ---- setup ----------------------------------------------------------------------------------------

let pg: PostgresServer;
let redis: RedisServer;

beforeAll(async () => {
  // The apps load dist/ through the package's `exports`: build the instrumentation's files.
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.instrument.json'], { cwd: ROOT, stdio: 'inherit', timeout: 60_000 });
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([...apps].map((a) => a.stop()));
  await Promise.allSettled([pg?.stop(), redis?.stop()]);
}, 60_000);

// ---- ESM: the demo app ----------------------------------------------------------------------------

describe('ESM app (--import vigil/instrument): examples/demo-app', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({
      preload: 'import',
      script: DEMO,
      env: { DATABASE_URL: pg.url, REDIS_URL: redis.url, OTEL_SERVICE_NAME: 'demo-app' },
    });
  }, 30_000);
  afterAll(() => app?.stop());

  it('serves Prometheus 0.0.4 text with target_info and no scope labels, accepted by promtool', async () => {
    await app.get('/api/items/1');
    const { text, contentType } = await app.scrapeText();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = parseMetrics(text);
    expect(series(s, 'target_info', { service_name: 'demo-app' })).toHaveLength(1);
    expect(s.some((x) => 'otel_scope_name' in x.labels)).toBe(false);
    expect(existsSync(PROMTOOL), `${PROMTOOL} missing: run tests/support/setup.sh`).toBe(true);
    const check = promtoolCheck(text);
    // 0 = fine; 3 = lint findings, 1 = broken exposition (duplicate families, bad lines): both fail CI gates.
    expect(check.code, check.output).toBe(0);
  });

  it('counts requests by route, method and status, with duration histograms', async () => {
    const ok = { http_request_method: 'GET', http_route: '/api/items/:id', http_response_status_code: '200' };
    const before = value(await app.scrape(), 'http_server_request_duration_seconds_count', ok);
    for (let i = 0; i < 5; i++) expect((await app.get('/api/items/2')).status).toBe(200);
    expect((await app.get('/api/items/999')).status).toBe(404);
    await app.get('/admin/faults', { method: 'POST', body: JSON.stringify({ error_rate: 1 }) });
    expect((await app.get('/api/quote')).status).toBe(500);
    await app.get('/admin/faults', { method: 'DELETE' });

    const s = await eventually(app, (x) => value(x, 'http_server_request_duration_seconds_count', { http_route: '/api/quote' }) >= 1);
    expect(value(s, 'http_server_request_duration_seconds_count', ok)).toBe(before + 5);
    expect(value(s, 'http_server_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(before + 5);
    expect(value(s, 'http_server_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
    // The contract's buckets: 0.005 … 10 s.
    const les = series(s, 'http_server_request_duration_seconds_bucket', ok).map((x) => x.labels.le);
    expect(les[0]).toBe('0.005');
    expect(les.at(-2)).toBe('10');
    expect(series(s, 'http_server_request_duration_seconds_count', ok)[0]!.labels).not.toHaveProperty('error_type');
    expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/api/items/:id', http_response_status_code: '404' })).toBe(1);
    const err = series(s, 'http_server_request_duration_seconds_count', { http_route: '/api/quote', http_response_status_code: '500' });
    expect(err).toHaveLength(1);
    expect(err[0]!.labels.error_type).toBe('500');
    // Raw URLs never become labels.
    expect(s.some((x) => x.labels.http_route?.includes('999'))).toBe(false);
    // The /metrics server's own requests are not counted.
    expect(s.some((x) => x.labels.http_route === '/metrics')).toBe(false);
  });

  it('measures outbound calls (fetch/undici) by server address', async () => {
    const before = value(await app.scrape(), 'http_client_request_duration_seconds_count', { server_address: '127.0.0.1', http_response_status_code: '200' });
    expect((await app.get('/api/quote')).status).toBe(200);
    const s = await eventually(
      app,
      (x) => value(x, 'http_client_request_duration_seconds_count', { server_address: '127.0.0.1', http_response_status_code: '200' }) > before,
    );
    expect(value(s, 'http_client_request_duration_seconds_count', { http_request_method: 'GET', server_address: '127.0.0.1', http_response_status_code: '200' })).toBe(before + 1);
  });

  it('measures pg and ioredis operations against real servers', async () => {
    expect((await app.get('/api/items/3')).status).toBe(200);
    expect((await app.get('/api/items')).status).toBe(200);
    // The app sets the cache after it has answered (fire and forget), so wait for the SET too.
    const s = await eventually(
      app,
      (x) =>
        value(x, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'GET' }) >= 1 &&
        value(x, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'SET' }) >= 1,
    );
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'SELECT' })).toBeGreaterThanOrEqual(6);
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'SET' })).toBeGreaterThanOrEqual(1);
    expect(value(s, 'db_client_operation_duration_seconds_bucket', { db_system_name: 'postgresql', db_operation_name: 'SELECT', le: '+Inf' })).toBe(
      value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'SELECT' }),
    );
    // SQL text and redis keys never become labels.
    expect(s.some((x) => Object.values(x.labels).some((v) => v.includes('demo_items') || v.includes('demo:items')))).toBe(false);
  });

  it('records deliveries (delivered, retried, failed) and jobs through vigil/api', async () => {
    let res = await app.get('/admin/deliveries?count=3&channel=sms', { method: 'POST' });
    expect(await res.json()).toEqual({ outcomes: ['delivered', 'delivered', 'delivered'] });
    await app.get('/admin/faults', { method: 'POST', body: JSON.stringify({ delivery_failure_rate: 1, job_failure_rate: 1 }) });
    res = await app.get('/admin/deliveries?count=2&channel=email', { method: 'POST' });
    expect(await res.json()).toEqual({ outcomes: ['failed', 'failed'] });
    expect((await app.get('/admin/jobs/cleanup', { method: 'POST' })).status).toBe(500);
    await app.get('/admin/faults', { method: 'DELETE' });
    expect((await app.get('/admin/jobs/cleanup', { method: 'POST' })).status).toBe(200);
    expect((await app.get('/admin/jobs/cleanup', { method: 'POST' })).status).toBe(200);

    const s = await app.scrape();
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'sms', outcome: 'delivered' })).toBe(3);
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'sms', outcome: 'failed' })).toBe(0); // zero series exist
    expect(series(s, 'vigil_message_deliveries_total', { channel: 'sms', outcome: 'failed' })).toHaveLength(1);
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'email', outcome: 'retried' })).toBe(4);
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'email', outcome: 'failed' })).toBe(2);
    expect(value(s, 'vigil_message_delivery_failures_total', { channel: 'email', outcome: 'failed', reason: 'timeout' })).toBe(2);
    expect(value(s, 'vigil_message_delivery_duration_seconds_count', { channel: 'email', outcome: 'retried' })).toBe(4);
    expect(value(s, 'vigil_message_delivery_attempts_count', { channel: 'email' })).toBe(2);
    expect(value(s, 'vigil_message_delivery_attempts_sum', { channel: 'email' })).toBe(6);
    expect(value(s, 'vigil_message_delivery_attempts_bucket', { channel: 'sms', le: '1' })).toBe(3);

    expect(value(s, 'vigil_job_runs_total', { job: 'cleanup', outcome: 'success' })).toBe(2);
    expect(value(s, 'vigil_job_runs_total', { job: 'cleanup', outcome: 'failure' })).toBe(1);
    expect(value(s, 'vigil_job_duration_seconds_count', { job: 'cleanup' })).toBe(3);
    expect(value(s, 'vigil_job_in_progress', { job: 'cleanup' })).toBe(0);
    const last = value(s, 'vigil_job_last_success_timestamp_seconds', { job: 'cleanup' });
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(30);
  });

  it('exports runtime metrics (event loop, heap, GC, CPU)', async () => {
    const s = await app.scrape();
    for (const name of [
      'nodejs_eventloop_delay_p99_seconds',
      'nodejs_eventloop_delay_p50_seconds',
      'nodejs_eventloop_utilization_ratio',
      'v8js_memory_heap_max_bytes',
      'process_memory_usage_bytes',
      'process_start_time_seconds',
    ]) {
      expect(series(s, name), name).toHaveLength(1);
    }
    expect(value(s, 'v8js_memory_heap_used_bytes', { v8js_heap_space_name: 'old_space' })).toBeGreaterThan(0);
    expect(value(s, 'v8js_memory_heap_space_size_bytes', { v8js_heap_space_name: 'old_space' })).toBeGreaterThan(0);
    expect(series(s, 'v8js_memory_heap_limit_bytes')).toHaveLength(0); // deprecated name: gone
    expect(value(s, 'process_cpu_time_seconds_total', { cpu_mode: 'user' })).toBeGreaterThan(0);
    expect(series(s, 'v8js_gc_duration_seconds_count').length).toBeGreaterThan(0);
  });
});

// ---- CommonJS ---------------------------------------------------------------------------------------

describe('CommonJS app (-r vigil/instrument)', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({ preload: 'require', script: CJS_APP, env: { DATABASE_URL: pg.url, REDIS_URL: redis.url, OTEL_SERVICE_NAME: 'cjs-fixture' } });
  }, 30_000);
  afterAll(() => app?.stop());

  it('measures koa routes, node:http client calls, pg and ioredis', async () => {
    for (let i = 0; i < 3; i++) expect(await (await app.get('/hello/x' + i)).text()).toBe('hello x' + i);
    expect((await app.get('/fail')).status).toBe(503);
    expect((await app.get('/db')).status).toBe(200);
    expect(await (await app.get('/outbound')).text()).toBe('hello out');
    const s = await eventually(app, (x) => value(x, 'http_server_request_duration_seconds_count', { http_route: '/outbound' }) >= 1);
    // 3 direct calls + 1 from /outbound.
    expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/hello/:name', http_response_status_code: '200' })).toBe(4);
    expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/fail', http_response_status_code: '503', error_type: '503' })).toBe(1);
    expect(value(s, 'http_client_request_duration_seconds_count', { http_request_method: 'GET', server_address: '127.0.0.1', http_response_status_code: '200' })).toBe(1);
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'SELECT' })).toBe(1);
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'SET' })).toBe(1);
    expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'GET' })).toBe(1);
    expect(series(s, 'target_info', { service_name: 'cjs-fixture' })).toHaveLength(1);
  });

  it('records deliveries and jobs, folding an unbounded channel into "other"', async () => {
    expect((await app.get('/signals', { method: 'POST' })).status).toBe(200);
    const s = await app.scrape();
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'pagerduty', outcome: 'delivered' })).toBe(1);
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'pagerduty', outcome: 'retried' })).toBe(1);
    expect(value(s, 'vigil_message_delivery_failures_total', { channel: 'pagerduty', outcome: 'retried', reason: 'http_5xx' })).toBe(1);
    expect(value(s, 'vigil_message_deliveries_total', { channel: 'other', outcome: 'dropped' })).toBe(1);
    expect(s.some((x) => x.labels.channel?.startsWith('user-'))).toBe(false);
    expect(app.stderr()).toMatch(/^vigil\/instrument: recordDelivery channel: .*recorded as "other"$/m);
    expect(value(s, 'vigil_job_runs_total', { job: 'sync', outcome: 'success' })).toBe(1);
    expect(value(s, 'vigil_job_runs_total', { job: 'sync', outcome: 'failure' })).toBe(1);
  });
});

// ---- runtime metric sets -------------------------------------------------------------------------------

describe('runtime metric sets', () => {
  it('VIGIL_RUNTIME_METRICS=prom-client: prom-client\'s names instead of the OpenTelemetry set, on the same /metrics', async () => {
    const app = await startApp({ preload: 'require', script: CJS_APP, env: { VIGIL_RUNTIME_METRICS: 'prom-client' } });
    try {
      await app.get('/hello/x');
      const s = await eventually(app, (x) => value(x, 'http_server_request_duration_seconds_count') >= 1);
      expect(series(s, 'nodejs_version_info', { version: process.version })).toHaveLength(1);
      expect(value(s, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(value(s, 'nodejs_heap_space_size_used_bytes', { space: 'old' })).toBeGreaterThan(0);
      expect(series(s, 'nodejs_active_handles_total')).toHaveLength(1);
      expect(series(s, 'nodejs_eventloop_delay_p99_seconds')).toHaveLength(0);
      expect(series(s, 'v8js_memory_heap_used_bytes')).toHaveLength(0);
      expect(series(s, 'process_start_time_seconds')).toHaveLength(1); // once: no duplicate family
      expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/hello/:name' })).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it('start({ runtimeMetrics }) from code (vigil/instrument/start, no preload) wins over the environment', async () => {
    const app = await startApp({ preload: 'none', script: START_APP, env: { VIGIL_RUNTIME_METRICS: 'otel' } });
    try {
      const s = await app.scrape();
      expect(series(s, 'nodejs_version_info')).toHaveLength(1);
      expect(series(s, 'nodejs_eventloop_delay_p99_seconds')).toHaveLength(0);
      expect(app.stderr()).toBe('');
    } finally {
      await app.stop();
    }
  });
});

// ---- configuration errors -----------------------------------------------------------------------------

describe('bad OTEL_* values', () => {
  it('prints one line per bad value and the app keeps serving', async () => {
    const app = await startApp({
      preload: 'require',
      script: CJS_APP,
      waitMetrics: false,
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,bogus',
        OTEL_RESOURCE_ATTRIBUTES: 'team=core,broken',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
        OTEL_LOG_LEVEL: 'loud',
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,koa,nosuch',
        OTEL_METRIC_EXPORT_INTERVAL: '-5',
        VIGIL_INSTRUMENT_MODE: 'turbo',
        OTEL_SDK_DISABLED: 'maybe',
      },
    });
    try {
      expect(await (await app.get('/hello/ok')).text()).toBe('hello ok');
      const lines = app.stderr().trim().split('\n');
      for (const l of lines) expect(l).toMatch(/^vigil\/instrument: /);
      const text = lines.join('\n');
      for (const v of [
        'OTEL_METRICS_EXPORTER',
        'OTEL_RESOURCE_ATTRIBUTES',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_LOG_LEVEL',
        'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
        'OTEL_METRIC_EXPORT_INTERVAL',
        'VIGIL_INSTRUMENT_MODE',
        'OTEL_SDK_DISABLED',
      ]) {
        expect(lines.filter((l) => l.includes(v)), `${v} in:\n${text}`).toHaveLength(1);
      }
      expect(text).not.toMatch(/\n\s+at /); // no stack traces
      // Defaults took over: metrics still served, koa routes still named.
      const s = await eventually(app, (x) => value(x, 'http_server_request_duration_seconds_count', { http_route: '/hello/:name' }) >= 1);
      expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/hello/:name' })).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it('a bad port or a port in use is one line; the app keeps serving', async () => {
    const blocker = http.createServer(() => {});
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      const app = await startApp({
        preload: 'import',
        script: CJS_APP,
        waitMetrics: false,
        env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(busy) },
      });
      try {
        expect((await app.get('/hello/a')).status).toBe(200);
        const deadline = Date.now() + 5000;
        while (!app.stderr().includes('/metrics') && Date.now() < deadline) await sleep(50);
        expect(app.stderr().trim()).toMatch(new RegExp(`^vigil/instrument: cannot serve /metrics on 127\\.0\\.0\\.1:${busy}: EADDRINUSE .*$`));
      } finally {
        await app.stop();
      }
      const app2 = await startApp({ preload: 'require', script: CJS_APP, waitMetrics: false, env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' } });
      try {
        expect((await app2.get('/hello/b')).status).toBe(200);
        expect(app2.stderr()).toMatch(/^vigil\/instrument: OTEL_EXPORTER_PROMETHEUS_PORT="abc" is not a port number \(0-65535\); using 9464$/m);
      } finally {
        await app2.stop();
      }
    } finally {
      blocker.close();
    }
  });

  it('OTEL_SDK_DISABLED=true: nothing starts, nothing printed, the API is a no-op', async () => {
    const app = await startApp({ preload: 'require', script: CJS_APP, waitMetrics: false, env: { OTEL_SDK_DISABLED: 'true' } });
    try {
      expect((await app.get('/signals', { method: 'POST' })).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${app.metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      expect(app.stderr()).toBe('');
    } finally {
      await app.stop();
    }
  });
});

// ---- OTLP and full mode ---------------------------------------------------------------------------------

function otlpMetricNames(bodies: Receiver['bodies']): Set<string> {
  const names = new Set<string>();
  for (const b of bodies) {
    if (!b.path.endsWith('/v1/metrics')) continue;
    const rm = (b.json as { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }> }> }).resourceMetrics ?? [];
    for (const r of rm) for (const sm of r.scopeMetrics ?? []) for (const m of sm.metrics ?? []) names.add(m.name);
  }
  return names;
}

function spanNames(bodies: Receiver['bodies']): string[] {
  const out: string[] = [];
  for (const b of bodies) {
    if (!b.path.endsWith('/v1/traces')) continue;
    const rs = (b.json as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string }> }> }> }).resourceSpans ?? [];
    for (const r of rs) for (const ss of r.scopeSpans ?? []) for (const s of ss.spans ?? []) out.push(s.name);
  }
  return out;
}

describe('OTLP', () => {
  it('pushes metrics (semantic-convention names) when OTEL_EXPORTER_OTLP_ENDPOINT is set, /metrics stays on', async () => {
    const rx = await startReceiver();
    const app = await startApp({
      preload: 'require',
      script: CJS_APP,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: '300' },
    });
    try {
      await app.get('/hello/otlp');
      await app.get('/signals', { method: 'POST' });
      const deadline = Date.now() + 10_000;
      while (!(otlpMetricNames(rx.bodies).has('http.server.request.duration') && otlpMetricNames(rx.bodies).has('vigil_message_deliveries')) && Date.now() < deadline) {
        await sleep(100);
      }
      const names = otlpMetricNames(rx.bodies);
      expect(names).toContain('http.server.request.duration');
      expect(names).toContain('nodejs.eventloop.delay.p99');
      expect(names).toContain('vigil_message_deliveries');
      const s = await app.scrape();
      expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/hello/:name' })).toBe(1);
      // The pushes themselves are not counted as the app's outbound calls.
      expect(value(s, 'http_client_request_duration_seconds_count')).toBe(0);
      // Only the fixture's deliberate unbounded channel warns; no export errors.
      expect(app.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^vigil\/instrument: recordDelivery channel: /)]);
    } finally {
      await app.stop();
      await rx.close();
    }
  });

  it('VIGIL_INSTRUMENT_MODE=full (ESM): spans for http, pg and ioredis; same metric series, no duplicates', async () => {
    const rx = await startReceiver();
    const app = await startApp({
      preload: 'import',
      script: DEMO,
      env: {
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        VIGIL_INSTRUMENT_MODE: 'full',
        OTEL_SERVICE_NAME: 'demo-full',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    try {
      expect((await app.get('/api/items/1')).status).toBe(200);
      expect((await app.get('/api/items')).status).toBe(200);
      const deadline = Date.now() + 10_000;
      const want = (n: string[]) => n.some((x) => /^pg\.query/.test(x)) && n.some((x) => x === 'get' || x === 'set') && n.some((x) => x.startsWith('GET'));
      while (!want(spanNames(rx.bodies)) && Date.now() < deadline) await sleep(100);
      const spans = spanNames(rx.bodies);
      expect(spans.some((x) => /^pg\.query/.test(x)), spans.join(', ')).toBe(true);
      expect(spans.some((x) => x === 'get' || x === 'set'), spans.join(', ')).toBe(true);
      expect(spans.some((x) => x.startsWith('GET')), spans.join(', ')).toBe(true);

      const { text } = await app.scrapeText();
      const s = parseMetrics(text);
      expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/api/items/:id', http_response_status_code: '200' })).toBe(1);
      expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'SELECT' })).toBeGreaterThanOrEqual(1);
      // Span and metric pushes to the collector are not counted as the app's outbound calls.
      expect(value(s, 'http_client_request_duration_seconds_count')).toBe(0);
      // The OpenTelemetry instrumentations' own metrics are dropped: no second http/db family.
      expect(s.some((x) => /^(http_server_duration|http_server_request_duration_bucket|db_client_operation_duration_bucket|http_client_duration)/.test(x.name))).toBe(false);
      const check = promtoolCheck(text);
      expect(check.code, check.output).toBe(0);
    } finally {
      await app.stop();
      await rx.close();
    }
  });
});

// ---- dependencies down (last: stops the shared servers) -----------------------------------------------

describe('PostgreSQL and Redis down', () => {
  it('the demo app keeps serving and reports the errors', async () => {
    const ownPg = await startPostgres();
    const ownRedis = await startRedis();
    const app = await startApp({ preload: 'import', script: DEMO, env: { DATABASE_URL: ownPg.url, REDIS_URL: ownRedis.url } });
    try {
      expect((await app.get('/healthz')).status).toBe(200);
      await Promise.all([ownPg.stop(), ownRedis.stop()]);
      const health = await app.get('/healthz');
      expect(health.status).toBe(503);
      expect(((await health.json()) as { status: string }).status).toBe('degraded');
      expect((await app.get('/api/items/1')).status).toBe(500);
      expect((await app.get('/admin/jobs/cleanup', { method: 'POST' })).status).toBe(500);
      expect((await app.get('/')).status).toBe(200);
      const s = await eventually(app, (x) => value(x, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'connect', error_type: 'ECONNREFUSED' }) >= 1);
      expect(value(s, 'db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', db_operation_name: 'connect', error_type: 'ECONNREFUSED' })).toBeGreaterThanOrEqual(1);
      expect(value(s, 'http_server_request_duration_seconds_count', { http_route: '/api/items/:id', http_response_status_code: '500', error_type: '500' })).toBe(1);
      expect(value(s, 'vigil_job_runs_total', { job: 'cleanup', outcome: 'failure' })).toBe(1);
      expect(app.child.exitCode).toBeNull();
    } finally {
      await app.stop();
      await Promise.allSettled([ownPg.stop(), ownRedis.stop()]);
    }
  }, 60_000);
});
