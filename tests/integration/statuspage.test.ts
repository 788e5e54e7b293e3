// The status page's HTTP side against the real, compiled exporter: assets and caching from dist/,
// the JSON it is built on (status, history, report), the SSE feed, and status_page_auth. Plus the
// SSE hub in-process: coalescing, one serialisation for all clients, dropping slow clients.
import http, { type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { SseHub } from '../../exporter/server/sse.js';
import { statusSnapshot } from '../../exporter/views/status.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

// ---------------------------------------------------------------- a target whose health we flip
interface Target { url: string; broken: Set<string>; close(): Promise<void> }
async function startTarget(): Promise<Target> {
  const broken = new Set<string>();
  const server: Server = http.createServer((req, res) => {
    res.statusCode = broken.has(req.url!.slice(1)) ? 500 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    broken,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

// One retry: on a CI box busy with browsers, a healthy target's answer can miss 400 ms once, and
// the tests that assert "healthy" are not about that (a broken target still fails both tries at once).
const config = (target: string, extra = '') => `
defaults: { interval: 500ms, timeout: 400ms, retries: 1, retry_delay: 50ms }
${extra}
components:
  - { name: network, description: Edge }
  - { name: database, depends_on: [network] }
  - { name: api, depends_on: [database] }
checks:
  - { name: lb, type: http, component: network, url: "${target}/lb" }
  - { name: db, type: http, component: database, url: "${target}/db" }
  - { name: api, type: http, component: api, url: "${target}/api" }
`;

/** Read an SSE stream, collecting parsed events until `until` says stop (or timeout). */
async function readEvents(url: string, until: (events: Array<{ id?: string; event: string; data: any }>) => boolean, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}) {
  const ctrl = new AbortController();
  // 15 s: it returns as soon as `until` holds; the bound is for a loaded CI box's slow runs.
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 15_000);
  const events: Array<{ id?: string; event: string; data: any }> = [];
  let headers: Headers | undefined;
  try {
    const res = await fetch(url, { headers: opts.headers, signal: ctrl.signal });
    headers = res.headers;
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: { id?: string; event: string; data: any } = { event: 'message', data: undefined };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
        }
        if (e.data !== undefined) events.push(e);
      }
      if (until(events)) break;
    }
  } catch (err) {
    if (!ctrl.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return { events, headers };
}

describe('status page over HTTP (compiled exporter)', () => {
  let target: Target;
  let ex: RunningExporter;

  beforeAll(async () => {
    target = await startTarget();
    ex = await startExporter({ config: config(target.url) });
    await waitFor(async () => (await fetch(`${ex.url}/-/ready`)).ok, 10_000);
  });
  afterAll(async () => {
    await ex?.stop();
    await target?.close();
  });

  it('serves the page from dist/ with no-cache + ETag, a CSP, and revalidates with 304', async () => {
    const res = await fetch(`${ex.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const etag = res.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const html = await res.text();
    expect(html).not.toContain('%VERSION%');
    // Nothing from another origin: no CDN, no web fonts.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // node:http rather than fetch: fetch adds Cache-Control: no-cache to conditional requests.
    const revalidate = (tag: string) => new Promise<number>((resolve, reject) => {
      http.get(`${ex.url}/`, { headers: { 'if-none-match': tag } }, (r) => { r.resume(); resolve(r.statusCode!); }).on('error', reject);
    });
    // The page (and its ETag) changes with the state: on a loaded box a check's early result can
    // still move the summary. Once two GETs agree, a revalidation of that page must be a 304.
    let stable = etag;
    await waitFor(async () => {
      const now = (await fetch(`${ex.url}/`)).headers.get('etag')!;
      const same = now === stable;
      stable = now;
      return same;
    }, 10_000, 200);
    expect(await revalidate(stable)).toBe(304);
    expect(await revalidate('W/"not-this-page"')).toBe(200);
  });

  it('serves versioned assets for a year (immutable), gzipped on request; old versions revalidate', async () => {
    const html = await (await fetch(`${ex.url}/`)).text();
    const js = /src="(ui\/[0-9a-f]+\/app\.js)"/.exec(html)![1];
    const css = /href="(ui\/[0-9a-f]+\/page\.css)"/.exec(html)![1];
    for (const p of [js, css]) {
      const res = await fetch(`${ex.url}/${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('etag')).toBeTruthy();
    }
    expect((await fetch(`${ex.url}/${js}`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    const raw = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http.get(`${ex.url}/${css}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) })).on('error', reject);
      }).on('error', reject);
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toContain('--healthy');
    const stale = await fetch(`${ex.url}/ui/000000000000/app.js`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${ex.url}/ui/${js.split('/')[1]}/nope.js`)).status).toBe(404);
  });

  it('GET /api/v1/status: overall, components with dependencies, checks with bar and sparkline', async () => {
    await waitFor(async () => {
      const s = await (await fetch(`${ex.url}/api/v1/status`)).json();
      return s.checks.every((c: any) => c.spark.length >= 2) && s;
    }, 10_000);
    const s = await (await fetch(`${ex.url}/api/v1/status`)).json();
    expect(s.overall).toMatchObject({ status: 'healthy', checks_total: 3, checks_by_status: { healthy: 3 } });
    expect(s.event_id).toMatch(/^[0-9a-f]+\.\d+$/);
    expect(s.bar).toMatchObject({ step_seconds: 1800, count: 48 });
    expect(s.components.map((c: any) => c.name)).toEqual(['network', 'database', 'api']);
    expect(s.components[2]).toMatchObject({ depends_on: ['database'], impacted_by: [], checks: ['api'] });
    const api = s.checks.find((c: any) => c.name === 'api');
    expect(api).toMatchObject({ component: 'api', type: 'http', status: 'healthy', value: 'HTTP 200', interval_seconds: 0.5, last_error: null });
    expect(api.bar).toHaveLength(48);
    expect(api.bar.at(-1)).toBe('h');
    expect(api.bar_runs.at(-1)).toBeGreaterThan(0);
    expect(api.availability).toBe(1);
    expect(typeof api.response_time_ms).toBe('number');
    const four = await (await fetch(`${ex.url}/api/v1/status?buckets=4`)).json();
    expect(four.checks[0].bar).toHaveLength(4);
    expect((await fetch(`${ex.url}/api/v1/status?buckets=0`)).status).toBe(400);
  });

  it('SSE: diffs only, coalesced per flush; a break shows up within ~1 s; replay by Last-Event-ID', async () => {
    const first = await readEvents(`${ex.url}/api/v1/events`, (ev) => ev.filter((e) => e.event === 'update').length >= 3);
    expect(first.headers?.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first.headers?.get('cache-control')).toBe('no-store');
    expect(first.events[0].event).toBe('reset'); // a new connection without an id: load the snapshot
    const updates = first.events.filter((e) => e.event === 'update');
    for (const u of updates) {
      const names = u.data.checks.map((c: any) => c.name);
      expect(new Set(names).size).toBe(names.length); // one entry per check per message
      expect(u.data.checks[0]).not.toHaveProperty('bar'); // a diff, not the snapshot view
    }

    // Resume from an id we saw: the server replays what came after it.
    const resumeFrom = updates[0].id!;
    const resumed = await readEvents(`${ex.url}/api/v1/events`, (ev) => ev.length >= 2, { headers: { 'last-event-id': resumeFrom } });
    expect(resumed.events[0].event).toBe('hello');
    expect(resumed.events[0].data.replayed).toBeGreaterThanOrEqual(2);
    const head = await fetch(`${ex.url}/api/v1/events`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const bogus = await readEvents(`${ex.url}/api/v1/events?since=deadbeef.1`, (ev) => ev.length >= 1);
    expect(bogus.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown or expired event id' } });

    const t0 = Date.now();
    const broke = readEvents(`${ex.url}/api/v1/events`, (ev) => ev.some((e) => e.data.checks?.some((c: any) => c.name === 'db' && c.status === 'critical')), { timeoutMs: 12_000 });
    await new Promise((r) => setTimeout(r, 100));
    target.broken.add('db');
    const { events } = await broke;
    const hit = events.find((e) => e.data.checks?.some((c: any) => c.name === 'db' && c.status === 'critical'))!;
    expect(hit, 'db turned critical on the stream').toBeTruthy();
    expect(Date.now() - t0).toBeLessThan(10_000); // runs every 500 ms; 3 s was too tight for a loaded CI box (the e2e test allows 10 s too)
    // A status change carries the new rollup: database critical, api impacted by it.
    expect(hit.data.overall.status).toBe('critical');
    expect(hit.data.components.find((c: any) => c.name === 'api').impacted_by).toEqual(['database']);
    expect(hit.data.checks.find((c: any) => c.name === 'db')).toMatchObject({ reason: 'status', last_error: 'status 500, expected 2xx' });
  });

  it('GET /api/v1/checks/<name>/history: ring points, since filter, buckets, 404/400', async () => {
    const h = await (await fetch(`${ex.url}/api/v1/checks/lb/history`)).json();
    expect(h).toMatchObject({ name: 'lb', component: 'network', interval_seconds: 0.5, capacity_points: 300, capacity_bytes: 300 * 13 }); // history.max_points' default: 300 (was 8 640)
    expect(h.points.length).toBeGreaterThan(2);
    expect(h.since).toBeNull();
    expect(h.points[0]).toEqual({ time: expect.any(String), status: 'healthy', response_time_ms: expect.any(Number) });
    const cut = h.points.at(-2).time;
    const recent = await (await fetch(`${ex.url}/api/v1/checks/lb/history?since=${encodeURIComponent(cut)}`)).json();
    expect(recent.points.length).toBeGreaterThanOrEqual(2);
    expect(recent.points.length).toBeLessThan(h.points.length);
    const b = await (await fetch(`${ex.url}/api/v1/checks/lb/history?buckets=5`)).json();
    expect(b.buckets).toHaveLength(5);
    expect(b.buckets.reduce((n: number, x: any) => n + x.runs, 0)).toBeGreaterThan(0);
    expect((await fetch(`${ex.url}/api/v1/checks/nope/history`)).status).toBe(404);
    const bad = await fetch(`${ex.url}/api/v1/checks/lb/history?since=yesterday`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/^since: expected/);
  });

  it('GET /api/v1/report: availability, incidents and percentiles as JSON and CSV', async () => {
    target.broken.add('db');
    await waitFor(async () => (await (await fetch(`${ex.url}/api/v1/checks/db`)).json()).status === 'critical', 15_000);
    await new Promise((r) => setTimeout(r, 700));
    target.broken.delete('db');
    await waitFor(async () => (await (await fetch(`${ex.url}/api/v1/checks/db`)).json()).status === 'healthy', 15_000);

    const r = await (await fetch(`${ex.url}/api/v1/report?from=1h`)).json();
    expect(r.definitions.percentiles).toMatch(/nearest-rank/);
    const db = r.checks.find((c: any) => c.name === 'db');
    expect(db.incidents_total).toBeGreaterThanOrEqual(1);
    const last = db.incidents.at(-1);
    expect(last).toMatchObject({ worst: 'critical', ongoing: false });
    expect(last.duration_seconds).toBeGreaterThan(0);
    expect(db.availability).toBeGreaterThan(0);
    expect(db.availability).toBeLessThan(1);
    expect(db.response_time_ms).toEqual({ p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), mean: expect.any(Number), max: expect.any(Number) });
    expect(db.response_time_ms.p50).toBeLessThanOrEqual(db.response_time_ms.p99);
    const lb = r.checks.find((c: any) => c.name === 'lb');
    expect(lb).toMatchObject({ availability: 1, incidents_total: 0 });

    const only = await (await fetch(`${ex.url}/api/v1/report?component=database`)).json();
    expect(only.checks.map((c: any) => c.name)).toEqual(['db']);

    const csv = await fetch(`${ex.url}/api/v1/report?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-checks-\d{8}T\d{6}-\d{8}T\d{6}\.csv"$/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('check,component,type,from,to,data_from,runs,observed_seconds,availability_percent,healthy_percent,degraded_seconds,critical_seconds,incidents,p50_ms,p95_ms,p99_ms,mean_ms,max_ms');
    expect(lines).toHaveLength(4);
    const incidents = await (await fetch(`${ex.url}/api/v1/report?format=csv&table=incidents`)).text();
    expect(incidents.split('\r\n')[0]).toBe('check,component,start,end,duration_seconds,worst_status,runs,ongoing,started_before_period');
    expect(incidents).toMatch(/\r\ndb,database,/);

    for (const q of ['format=xml', 'from=garbage', 'from=now&to=1h', 'table=x']) {
      expect((await fetch(`${ex.url}/api/v1/report?${q}`)).status, q).toBe(400);
    }
  });
});

describe('status_page_auth (compiled exporter)', () => {
  let ex: RunningExporter;
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  beforeAll(async () => {
    ex = await startExporter({
      config: config('http://127.0.0.1:9', `server:\n  status_page_auth: { username: ops, password: "s3cret pass", token: "tok-0123456789abcdef" }\n  admin_token: "admin-0123456789abcdef"`),
    });
  });
  afterAll(async () => { await ex?.stop(); });

  it('guards the page, its assets and read-only JSON; basic auth or a bearer token open them', async () => {
    for (const p of ['/', '/api/v1/status', '/api/v1/checks', '/api/v1/events', '/api/v1/report', '/api/v1/checks/db/history', '/ui/x/app.js']) {
      const res = await fetch(`${ex.url}${p}`);
      expect(res.status, p).toBe(401);
      expect(res.headers.get('www-authenticate'), p).toMatch(/^Basic realm="Vigil status page"/);
    }
    expect((await fetch(`${ex.url}/`, { headers: { authorization: basic('ops', 's3cret pass') } })).status).toBe(200);
    expect((await fetch(`${ex.url}/`, { headers: { authorization: basic('ops', 'wrong') } })).status).toBe(401);
    expect((await fetch(`${ex.url}/`, { headers: { authorization: basic('nobody', 's3cret pass') } })).status).toBe(401);
    expect((await fetch(`${ex.url}/api/v1/status`, { headers: { authorization: 'Bearer tok-0123456789abcdef' } })).status).toBe(200);
    expect((await fetch(`${ex.url}/api/v1/status`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('/?token= sets an HttpOnly cookie and redirects; the cookie then opens the page and the feed', async () => {
    const res = await fetch(`${ex.url}/?token=tok-0123456789abcdef`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('./');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^vigil_status=[\w-]+; path=\/; samesite=strict; httponly$/);
    expect(cookie).not.toContain('tok-0123456789abcdef');
    const jar = cookie.split(';')[0];
    expect((await fetch(`${ex.url}/`, { headers: { cookie: jar } })).status).toBe(200);
    const { events } = await readEvents(`${ex.url}/api/v1/events`, (ev) => ev.length >= 1, { headers: { cookie: jar } });
    expect(events[0].event).toBe('reset');
    expect((await fetch(`${ex.url}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
  });

  it('keeps /metrics, /health and /-/healthy public; state-changing endpoints keep their own token', async () => {
    expect((await fetch(`${ex.url}/metrics`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${ex.url}/health`)).status);
    expect([200, 503]).toContain((await fetch(`${ex.url}/health/api`)).status);
    expect((await fetch(`${ex.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${ex.url}/-/reload`, { method: 'POST' })).status).toBe(401); // admin token, not status page auth
    expect((await fetch(`${ex.url}/-/reload`, { method: 'POST', headers: { authorization: basic('ops', 's3cret pass') } })).status).toBe(401);
  });
});

// ---------------------------------------------------------------- the hub, in-process
describe('SseHub', () => {
  const check = (name: string): CheckCommon => ({
    name, type: 'http', component: 'c', interval: 1000, timeout: 500, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true,
  });
  const result = (name: string, ok: boolean, message?: string): CheckResult => ({
    check: name, ok, status: ok ? 'healthy' : 'critical', violations: [], duration: 0.01, samples: [], attempts: 1,
    startedAt: Date.now(), finishedAt: Date.now(), message, reason: ok ? undefined : 'status',
  });
  function store(names: string[]) {
    const s = new StateStore();
    s.applyConfig({ checks: names.map(check), components: [], history: { max_points: 100, retention: 86_400_000 } }, new Set());
    return s;
  }
  async function serve(hub: SseHub) {
    const server = http.createServer((req, res) => hub.attach(req, res, req.headers['last-event-id'] as string | undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  }

  it('coalesces results per check and serialises each message once for every client', async () => {
    const s = store(['a', 'b']);
    const hub = new SseHub(s, { coalesceMs: 50 });
    const { server, url } = await serve(hub);
    try {
      const readers = [1, 2, 3].map(() => readEvents(url, (ev) => ev.some((e) => e.event === 'update')));
      await waitFor(() => hub.size === 3, 10_000, 10);
      for (let i = 0; i < 10; i++) s.record(result('a', i % 2 === 0));
      s.record(result('b', true));
      const got = await Promise.all(readers);
      expect(hub.stats.messages).toBe(1);
      const bodies = got.map((g) => JSON.stringify(g.events.find((e) => e.event === 'update')));
      expect(new Set(bodies).size).toBe(1); // the same bytes went to every client
      const update = got[0].events.find((e) => e.event === 'update')!;
      expect(update.data.checks.map((c: any) => c.name).sort()).toEqual(['a', 'b']);
      expect(update.data.checks.find((c: any) => c.name === 'a').status).toBe('critical'); // the latest of the ten
      expect(update.data.overall.status).toBe('critical');
    } finally {
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('an update carries the bar bucket its run landed in, as the snapshot has it: every coalesced run counted', async () => {
    const s = store(['a']);
    const hub = new SseHub(s, { coalesceMs: 50 });
    const { server, url } = await serve(hub);
    try {
      const reader = readEvents(url, (ev) => ev.some((e) => e.event === 'update'));
      await waitFor(() => hub.size === 1, 10_000, 10);
      for (let i = 0; i < 10; i++) s.record(result('a', i % 2 === 0));
      const update = (await reader).events.find((e) => e.event === 'update')!;
      const { bucket } = update.data.checks[0];
      expect(bucket).toMatchObject({ step_seconds: 1800, letter: 'c' });
      const snap = statusSnapshot(s, { now: Date.now(), version: 't', eventId: hub.lastEventId(), history: { max_points: 100, retention: 86_400_000 } });
      const i = (Date.parse(bucket.start) - Date.parse(snap.bar.start)) / (snap.bar.step_seconds * 1000);
      const view = snap.checks[0];
      expect({ letter: bucket.letter, runs: bucket.runs, up: bucket.up }).toEqual({ letter: view.bar[i], runs: view.bar_runs[i], up: view.bar_up[i] });
      expect(view.bar_runs.reduce((n, x) => n + x, 0)).toBe(10);
    } finally {
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('replays what a page missed between its snapshot and connecting; too old or foreign ids get reset', async () => {
    const s = store(['a']);
    const hub = new SseHub(s, { coalesceMs: 5, backlog: 2 });
    const snapshotId = hub.lastEventId(); // what GET /api/v1/status would have said
    s.record(result('a', false));
    await new Promise((r) => setTimeout(r, 30)); // flushed with nobody connected
    const { server, url } = await serve(hub);
    try {
      const resumed = await readEvents(url, (ev) => ev.length >= 2, { headers: { 'last-event-id': snapshotId } });
      expect(resumed.events[0]).toMatchObject({ event: 'hello', data: { replayed: 1 } });
      expect(resumed.events[1]).toMatchObject({ event: 'update', data: { checks: [{ name: 'a', status: 'critical' }] } });
      for (let i = 0; i < 3; i++) {
        s.record(result('a', i % 2 === 0));
        await new Promise((r) => setTimeout(r, 20));
      }
      const expired = await readEvents(url, (ev) => ev.length >= 1, { headers: { 'last-event-id': snapshotId } });
      expect(expired.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown or expired event id' } });
      const foreign = await readEvents(url, (ev) => ev.length >= 1, { headers: { 'last-event-id': '00000000.1' } });
      expect(foreign.events[0].event).toBe('reset');
    } finally {
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('drops a client that stops reading once its socket buffer passes the limit', async () => {
    const s = store(['a']);
    const hub = new SseHub(s, { coalesceMs: 1, maxBufferedBytes: 256 * 1024 });
    const { server, url } = await serve(hub);
    const u = new URL(url);
    const sock = net.connect(Number(u.port), u.hostname);
    try {
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(`GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
      sock.pause(); // never read: the kernel buffers fill, then Node's
      await waitFor(() => hub.size === 1, 10_000, 10);
      const big = 'x'.repeat(200_000);
      for (let i = 0; i < 200 && hub.stats.dropped === 0; i++) {
        s.record(result('a', i % 2 === 0, big));
        await new Promise((r) => setTimeout(r, 3));
      }
      expect(hub.stats.dropped).toBe(1);
      expect(hub.size).toBe(0);
    } finally {
      sock.destroy();
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
