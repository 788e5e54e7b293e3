// The route table carries each route's auth (issue 12, items 1 and 10): no path spelling reaches
// a handler without its route's check, every POST keeps its token, and failed authentications
// are logged in bounded form and slowed down per client.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../exporter/log.js';
import { Runtime } from '../../exporter/runtime.js';
import { createApp, routeTable } from '../../exporter/server/app.js';
import { AuthFailures, clientKey } from '../../exporter/server/auth-failures.js';
import { loadAssets } from '../../exporter/server/routes/ui.js';
import { startSelfTelemetry, type SelfTelemetry } from '../../exporter/telemetry/otel.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';

const ADMIN = 'admin-token-0123456789';
const WEBHOOK = 'webhook-token-0123456789';
const HEARTBEAT = 'heartbeat-token-0123456789';
const PAGE_TOKEN = 'page-token-0123456789';

const CONFIG = `
server:
  admin_token: ${ADMIN}
  webhook_token: ${WEBHOOK}
  heartbeat_token: ${HEARTBEAT}
  status_page_auth: { username: ops, password: "s3cret pass", token: ${PAGE_TOKEN} }
defaults: { interval: 1h, timeout: 1s, retries: 0 }
components:
  - { name: api }
checks:
  - { name: db, type: tcp, component: api, host: 127.0.0.1, port: 9 }
  - { name: nightly, type: heartbeat, component: api, period: 1h, grace: 1h }
`;

let dir: string;
let runtime: Runtime;
let otel: SelfTelemetry;
let server: http.Server;
let base: string;

async function listen(failures?: AuthFailures): Promise<{ server: http.Server; base: string }> {
  const s = createApp({ runtime, log: silentLogger, otel, failures }).listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-route-auth-'));
  writeFileSync(path.join(dir, 'vigil.yml'), CONFIG);
  runtime = new Runtime({ configFile: path.join(dir, 'vigil.yml'), storagePath: dir, log: silentLogger });
  runtime.apply(runtime.loadConfig());
  otel = startSelfTelemetry({ inFlight: () => 0, queued: () => 0 });
  ({ server, base } = await listen());
});
afterAll(async () => {
  await runtime.stop();
  await otel.shutdown();
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Status and headers only: the body is dropped at once (the SSE route never ends). */
async function hit(p: string, init: RequestInit = {}, to = base): Promise<Response> {
  const ac = new AbortController();
  const res = await fetch(to + p, { ...init, signal: ac.signal, redirect: 'manual' });
  ac.abort();
  return res;
}

const version = loadAssets().version;
const concrete = (p: string) => p.replace(':name', p.includes('heartbeats') ? 'nightly' : 'db').replace(':component', 'api').replace(':id', '1').replace(':version', version).replace(':file', 'app.js');
/** Upper-cased, title-cased and mixed spellings of a path (its parameters left alone). */
function caseVariants(p: string): string[] {
  const segs = p.split('/');
  const map = (f: (s: string, i: number) => string) => segs.map((s, i) => (s === 'db' || s === 'nightly' || s === 'api' && i > 3 || s === version || s === 'app.js' ? s : f(s, i))).join('/');
  return [...new Set([
    map((s) => s.toUpperCase()),
    map((s) => s.charAt(0).toUpperCase() + s.slice(1)),
    map((s, i) => (i === 1 ? s.toUpperCase() : s)),
    map((s, i) => (i === 2 ? s.toUpperCase() : s)),
  ])].filter((v) => v !== p);
}

describe('route table: every route declares its access', () => {
  it('covers what the status page and the API need', () => {
    const table = routeTable(runtime).routes.map((r) => `${r.method} ${r.path} ${r.access}`);
    expect(table).toEqual(expect.arrayContaining([
      'GET /metrics public', 'GET /health public', 'GET /-/ready public', 'POST /-/reload admin',
      'GET / status_page', 'GET /ui/:version/:file status_page', 'GET /api/v1/status status_page', 'GET /api/v1/events status_page',
      'GET /api/v1/checks status_page', 'GET /api/v1/alerts/history status_page', 'GET /api/v1/alerts/board status_page', 'POST /api/v1/alerts/webhook webhook',
      'POST /api/v1/checks/:name/run admin', 'POST /api/v1/heartbeats/:name heartbeat', 'POST /api/v1/record/backup admin',
      'GET /api/v1/incidents status_page', 'GET /api/v1/incidents/:id status_page', 'GET /api/v1/record/events status_page', 'GET /api/v1/record/reliability status_page', 'GET /api/v1/logs status_page',
    ]));
    // Every GET under /api/v1 but the heartbeat GET refusal (a 405 that reveals nothing) is the status page's.
    for (const r of routeTable(runtime).routes) {
      if (r.method === 'GET' && r.path.startsWith('/api/v1/') && !r.path.startsWith('/api/v1/heartbeats/')) expect(r.access, r.path).toBe('status_page');
    }
  });
});

describe('status_page_auth: no spelling of a path gets past it (issue 12 item 1)', () => {
  it('the issue\'s case variants are never 200 without credentials', async () => {
    for (const p of ['/API/v1/status', '/API/V1/ALERTS/HISTORY', '/Api/V1/Checks', '/API/v1/events', `/UI/${version}/app.js`, '/api/v1/STATUS', '/Api/v1/checks/db/history']) {
      const res = await hit(p);
      expect(res.status, p).not.toBe(200);
      expect([401, 404], p).toContain(res.status);
    }
  });

  it('every GET route of the page and the API: 401 without credentials, 401/404 for every case variant, 200 with them', async () => {
    const gets = routeTable(runtime).routes.filter((r) => r.method === 'GET' && r.access === 'status_page');
    expect(gets.length).toBeGreaterThanOrEqual(10);
    for (const r of gets) {
      const p = concrete(r.path);
      for (const method of ['GET', 'HEAD']) {
        expect((await hit(p, { method })).status, `${method} ${p}`).toBe(401);
        for (const v of caseVariants(p)) expect([401, 404], `${method} ${v}`).toContain((await hit(v, { method })).status);
        for (const v of [`${p}/`, `${p}?x=1`, p.replace('/api/v1', '/api//v1')]) expect((await hit(v, { method })).status, `${method} ${v}`).not.toBe(200);
      }
      const ok = await hit(p, { headers: { authorization: `Bearer ${PAGE_TOKEN}` } });
      expect([200, 404], p).toContain(ok.status); // favicon: 404 when the ui has no favicon.svg
    }
  });

  it('every POST endpoint: 401 without or with a wrong token, 403 never turns into 200, case variants 404/405', async () => {
    // One wrong token per route: more routes than the default 10 free failures (their back-off
    // has its own test below), so this server lets them all through to the check.
    const own = await listen(new AuthFailures({ log: silentLogger, free: 1000 }));
    const hitOwn = (p: string, init: RequestInit = {}) => hit(p, init, own.base);
    const posts = routeTable(runtime).routes.filter((r) => r.method === 'POST');
    // Issue 17: the maintenance and acknowledgement changes (5 admin routes) joined the list.
    expect(posts.map((r) => r.access).sort()).toEqual(['admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'heartbeat', 'heartbeat', 'heartbeat', 'webhook']);
    try {
      for (const r of posts) {
        const p = concrete(r.path);
        expect((await hitOwn(p, { method: 'POST' })).status, p).toBe(401);
        // The status page's credentials open no state-changing endpoint.
        expect((await hitOwn(p, { method: 'POST', headers: { authorization: `Bearer ${PAGE_TOKEN}` } })).status, p).toBe(401);
        for (const v of caseVariants(p)) expect([401, 404, 405], v).toContain((await hitOwn(v, { method: 'POST' })).status);
      }
    } finally {
      own.server.closeAllConnections();
      own.server.close();
    }
  });

  it('keeps /metrics, /health and /-/* public', async () => {
    for (const p of ['/metrics', '/health', '/health/api', '/-/healthy', '/-/ready']) expect([200, 503], p).toContain((await hit(p)).status);
  });
});

describe('failed authentications (issue 12 item 10)', () => {
  it('400 wrong tokens: bounded log lines without the token, then 429 with Retry-After; the right token works after the back-off', async () => {
    const logLines: string[] = [];
    const failures = new AuthFailures({
      log: createLogger({ write: (l) => logLines.push(l) }),
      onFailure: (kind) => otel.authFailures.add(1, { kind }),
      onThrottled: () => otel.authThrottled.add(1),
    });
    const own = await listen(failures);
    const before = await otel.serialize();
    const count = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    const statuses: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 400; i++) {
      const res = await hit('/-/reload', { method: 'POST', headers: { authorization: `Bearer wrong-guess-${i}` } }, own.base);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = Number(res.headers.get('retry-after'));
    }
    const refused = statuses.filter((s) => s === 401).length;
    const throttled = statuses.filter((s) => s === 429).length;
    expect(refused + throttled).toBe(400);
    expect(refused).toBeGreaterThanOrEqual(11);
    expect(refused).toBeLessThan(20); // 10 free guesses, then 1 s, 2 s, 4 s … of 429
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // During back-off even the right token is not looked at (answering it would tell right from wrong).
    expect((await hit('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } }, own.base)).status).toBe(429);

    failures.close(); // flush the aggregated lines now instead of after 10 s
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(logLines.join('\n')).not.toContain('wrong-guess');
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'authentication failed', remote: '127.0.0.1', method: 'POST', path: '/-/reload', kind: 'admin', credentials: 'wrong' });
    expect(lines.some((l) => l.msg === 'client throttled after repeated authentication failures')).toBe(true);
    const aggregated = lines.filter((l) => l.msg === 'authentication failures (aggregated)');
    const logged = lines.length - aggregated.length;
    expect(aggregated.reduce((n, l) => n + Number(l.failures), 0) + logged).toBe(refused);
    expect(aggregated.reduce((n, l) => n + Number(l.throttled), 0)).toBe(throttled + 1);

    const after = await otel.serialize();
    const admin = 'vigil_http_auth_failures_total{kind="admin"}';
    expect(count(after, admin) - count(before, admin)).toBe(refused);
    expect(count(after, 'vigil_http_auth_throttled_total') - count(before, 'vigil_http_auth_throttled_total')).toBe(throttled + 1);

    // Public endpoints are not held back by the back-off.
    expect((await hit('/metrics', {}, own.base)).status).toBe(200);
    await new Promise((r) => setTimeout(r, failures.blockedFor('127.0.0.1') + 50));
    const ok = await fetch(`${own.base}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(200);
    own.server.closeAllConnections();
    own.server.close();
  });

  it('keys clients by IPv4 address or IPv6 /64', () => {
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('2001:db8:1:2:a:b:c:d')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  it('bounds its client table', () => {
    let t = 0;
    const f = new AuthFailures({ log: silentLogger, maxClients: 100, free: 0, now: () => t });
    for (let i = 0; i < 1000; i++) f.failed({ ip: `10.0.${i >> 8}.${i & 255}`, method: 'GET', path: '/' }, 'basic', true);
    expect(f.blockedFor('10.0.3.231')).toBe(1000); // the latest is tracked…
    expect(f.blockedFor('10.0.0.0')).toBe(0); // …the oldest was dropped
    t = 2000;
    expect(f.blockedFor('10.0.3.231')).toBe(0);
    f.close();
  });
});

describe('brute force on status page basic auth (compiled exporter)', () => {
  let ex: RunningExporter;
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  beforeAll(async () => { ex = await startExporter({ config: CONFIG }); });
  afterAll(async () => { await ex?.stop(); });

  it('400 wrong passwords: a few log lines, 429 after ten, the right password works once the back-off ends', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 400; i++) {
      const res = await fetch(`${ex.url}/api/v1/status`, { headers: { authorization: basic('ops', `guess-${i}`) } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(300);
    const lines = ex.logs().split('\n').filter((l) => l.includes('authentication') || l.includes('throttled'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines[0]).toContain('"kind":"status_page"');
    expect(ex.logs()).not.toContain('guess-');
    const res = await fetch(`${ex.url}/api/v1/status`, { headers: { authorization: basic('ops', 's3cret pass') } });
    const wait = Number(res.headers.get('retry-after') ?? 0);
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    expect((await fetch(`${ex.url}/api/v1/status`, { headers: { authorization: basic('ops', 's3cret pass') } })).status).toBe(200);
  });
});
