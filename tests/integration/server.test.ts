import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../exporter/log.js';
import { Runtime } from '../../exporter/runtime.js';
import { createApp } from '../../exporter/server/app.js';
import { startSelfTelemetry, type SelfTelemetry } from '../../exporter/telemetry/otel.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { waitFor } from '../support/exporter.js';

const TOKEN = 'admin-token-0123456789';
let dir: string;
let target: HttpTarget;
let runtime: Runtime;
let server: http.Server;
let base: string;
let otel: SelfTelemetry;

// 2 s timeouts: the tests read the checks healthy (and then failing with the target's answer) at
// given moments; at 300 ms a stall of a loaded CI box read "timed out" instead.
const config = (extra = '') => `
server:
  admin_token: ${TOKEN}
defaults: { interval: 2s, timeout: 2s, retries: 0 }
components:
  - { name: database, description: Primary database }
  - { name: api, depends_on: [database] }
checks:
  - { name: db, type: http, component: database, url: "${target.url}/db" }
  - { name: api-health, type: http, component: api, url: "${target.url}/", labels: { team: core } }
${extra}`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-server-'));
  target = await startHttpTarget();
  target.route('/db', (_req, res) => res.end('ok'));
  writeFileSync(path.join(dir, 'vigil.yml'), config());
  runtime = new Runtime({ configFile: path.join(dir, 'vigil.yml'), storagePath: dir, log: silentLogger });
  runtime.apply(runtime.loadConfig());
  otel = startSelfTelemetry({ inFlight: () => 0, queued: () => 0 });
  server = createApp({ runtime, log: silentLogger, otel }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await runtime.stop();
  await otel.shutdown();
  server.close();
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers });
const post = (p: string, token?: string) => fetch(base + p, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('exporter HTTP API', () => {
  it('is not ready before every check has run, then ready', async () => {
    expect((await get('/-/healthy')).status).toBe(200);
    expect((await get('/-/ready')).status).toBe(503);
    runtime.start();
    await waitFor(async () => (await get('/-/ready')).status === 200, 15_000);
  });

  it('serves /health with the component tree', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'healthy', checks_total: 2, checks_by_status: { healthy: 2 } });
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(body.components.api).toMatchObject({ status: 'healthy', depends_on: ['database'], impacted_by: [] });
    const check = body.components.api.checks['api-health'];
    expect(check).toMatchObject({ status: 'healthy', type: 'http', last_error: null });
    expect(check.response_time_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(check.last_success)).toBeGreaterThan(0);
    expect(check.values.status_code).toBe(200);
  });

  it('goes critical with 503, marks dependents as impacted, and recovers', async () => {
    target.route('/db', (_req, res) => { res.statusCode = 500; res.end('down'); });
    await waitFor(async () => (await get('/health')).status === 503, 15_000);
    const body = await (await get('/health')).json();
    expect(body.components.database.status).toBe('critical');
    expect(body.components.database.checks.db.last_error).toBe('status 500, expected 2xx');
    expect(body.components.api.impacted_by).toEqual(['database']);
    const one = await get('/health/database');
    expect(one.status).toBe(503);
    expect(await one.json()).toMatchObject({ component: 'database', status: 'critical' });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('vigil_component_impacted{component="api",root_cause="database"} 1');
    expect(metrics).toContain('vigil_check_failures_total{check="db",component="database",reason="status"}');
    target.route('/db', (_req, res) => res.end('ok'));
    await waitFor(async () => (await get('/health')).status === 200, 15_000);
  });

  it('speaks application/health+json', async () => {
    const res = await get('/health', { accept: 'application/health+json' });
    expect(res.headers.get('content-type')).toMatch(/application\/health\+json/);
    const body = await res.json();
    expect(body.status).toBe('pass');
    expect(body.checks['database:responseTime'][0]).toMatchObject({ componentId: 'db', componentType: 'http', observedUnit: 'ms', status: 'pass' });
  });

  it('answers 404 for an unknown component', async () => {
    const res = await get('/health/nope');
    expect(res.status).toBe(404);
    expect((await res.json()).components).toEqual(['api', 'database']);
  });

  it('serves Prometheus text with check labels and no duplicate families', async () => {
    const res = await get('/metrics', { accept: 'application/openmetrics-text;version=1.0.0' });
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/^probe_success\{check="api-health",component="api",team="core"\} 1$/m);
    expect(text).toMatch(/^probe_http_duration_seconds\{check="db",component="database",phase="connect"\} /m);
    expect(text).toMatch(/^vigil_check_status\{check="db",component="database",state="healthy"\} 1$/m);
    expect(text).toMatch(/^vigil_http_server_request_duration_seconds_bucket\{/m);
    const helps = text.split('\n').filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
    expect(helps.length).toBe(new Set(helps).size);
    expect(text).not.toContain('otel_scope_name');
    expect(text).not.toContain('target_info');
  });

  it('answers HEAD /metrics with the headers alone, without rendering a scrape', async () => {
    const writeTo = vi.spyOn(runtime.metrics, 'writeTo');
    try {
      const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(head.headers.get('content-length')).toBeNull();
      expect(await head.text()).toBe('');
      expect(writeTo).not.toHaveBeenCalled();
      const text = await (await get('/metrics')).text();
      expect(text).toMatch(/^probe_success\{check="api-health"/m);
      expect(writeTo).toHaveBeenCalledTimes(1);
    } finally {
      writeTo.mockRestore();
    }
  });

  it('serves whole, identical bodies to concurrent and repeated scrapes (buffers are reused)', async () => {
    const bodies = await Promise.all([1, 2, 3].map(async () => (await get('/metrics')).text()));
    bodies.push(await (await get('/metrics')).text());
    const ownPart = (t: string) => t.split('\n').filter((l) => /^(probe_|vigil_check_)/.test(l) && !/_seconds|timestamp|_total/.test(l));
    for (const b of bodies) {
      expect(b.endsWith('\n')).toBe(true);
      expect(b).toMatch(/^vigil_build_info\{/m);
      expect(b).toMatch(/^vigil_http_server_request_duration_seconds_count\{/m);
      expect(ownPart(b)).toEqual(ownPart(bodies[0]));
    }
  });

  it('guards manual runs with the admin token and returns the fresh result', async () => {
    expect((await post('/api/v1/checks/db/run')).status).toBe(401);
    expect((await post('/api/v1/checks/db/run', 'wrong-token-wrong-token')).status).toBe(401);
    const before = runtime.state.get('db')!.runs;
    const res = await post('/api/v1/checks/db/run', TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'db', status: 'healthy' });
    expect(runtime.state.get('db')!.runs).toBeGreaterThan(before);
    expect((await post('/api/v1/checks/nope/run', TOKEN)).status).toBe(404);
  });

  it('reloads: keeps unchanged checks, adds new ones, rejects a bad config and keeps running', async () => {
    const runsBefore = runtime.state.get('db')!.runs;
    writeFileSync(path.join(dir, 'vigil.yml'), config(`  - { name: extra, type: tcp, component: api, host: 127.0.0.1, port: ${target.port} }`));
    expect((await post('/-/reload')).status).toBe(401);
    const ok = await post('/-/reload', TOKEN);
    expect(ok.status).toBe(200);
    expect(runtime.state.get('db')!.runs).toBeGreaterThanOrEqual(runsBefore);
    expect(runtime.state.get('extra')).toBeDefined();

    writeFileSync(path.join(dir, 'vigil.yml'), 'checks:\n  - { name: x, type: htp }\n');
    const bad = await post('/-/reload', TOKEN);
    expect(bad.status).toBe(400);
    expect((await bad.json()).problems[0]).toMatch(/vigil\.yml:2:\d+ checks\[0\]\.type: unknown check type "htp"/);
    expect(runtime.state.get('extra')).toBeDefined();
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^vigil_config_last_reload_successful 0$/m);
  });
});
