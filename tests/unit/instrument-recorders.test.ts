// The lean recorder's pieces, in process: label guards, SQL operation names, the histogram, its
// Prometheus serialisation, the HTTP recorder against a real local server, the pg wrapper.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DbRecorder, dbErrorType, sqlOperation } from '../../packages/instrument/db.js';
import { LeanHistogram } from '../../packages/instrument/histogram.js';
import { errorTypeOf, HttpRecorder, kIgnoreServer } from '../../packages/instrument/http.js';
import { isBoundedValue, LabelGuard, OTHER, warnOnce } from '../../packages/instrument/labels.js';
import { HTTP_SERVER_DURATION } from '../../packages/instrument/names.js';
import { LeanProducer } from '../../packages/instrument/producer.js';
import { setHttpRoute } from '../../packages/instrument/api.js';

const warnings: string[] = [];
beforeAll(() => warnOnce.setSink((m) => warnings.push(m)));
afterEach(() => {
  warnings.length = 0;
});

describe('bounded label values', () => {
  const cases: Array<{ name: string; input: unknown; expected: boolean }> = [
    { name: 'a plain name', input: 'email', expected: true },
    { name: 'dashes, dots, colons, slashes', input: 'send:sms-eu.v2/primary', expected: true },
    { name: '64 characters', input: 'a'.repeat(64), expected: true },
    { name: '65 characters', input: 'a'.repeat(65), expected: false },
    { name: 'empty', input: '', expected: false },
    { name: 'starts with a digit', input: '5xx', expected: false },
    { name: 'spaces (an error message)', input: 'connection refused', expected: false },
    { name: 'an e-mail address', input: 'bob@example.com', expected: false },
    { name: 'a UUID', input: 'job-4f1c2a9e-0b6d-4c2e-9f0a-1b2c3d4e5f60', expected: false },
    { name: 'a long digit run (id, timestamp)', input: 'order123456', expected: false },
    { name: 'a short number is fine', input: 'v2024', expected: true },
    { name: 'a long hex run', input: 'sha0123456789abcdef0', expected: false },
    { name: 'a long word of hex letters', input: 'deadbeefcafebabeface', expected: true },
    { name: 'not a string', input: 42, expected: false },
  ];
  for (const c of cases) it(c.name, () => expect(isBoundedValue(c.input)).toBe(c.expected));

  it('folds invalid values and values past the limit into "other", warning once per kind', () => {
    const g = new LabelGuard('test label', 2);
    expect(g.fold('a')).toBe('a');
    expect(g.fold('b')).toBe('b');
    expect(g.fold('a')).toBe('a');
    expect(g.fold('c')).toBe(OTHER);
    expect(g.fold('d')).toBe(OTHER);
    expect(g.fold('has space')).toBe(OTHER);
    expect(g.fold(undefined)).toBe(OTHER);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^test label: more than 2 distinct values; new ones are recorded as "other"$/);
    expect(warnings[1]).toMatch(/^test label: a value that is not a bounded name/);
    expect(warnings.join('\n')).not.toContain('has space'); // values are never printed
  });
});

describe('sqlOperation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['select', 'SELECT 1', 'SELECT'],
    ['lower case, leading space', '  insert into t values (1)', 'INSERT'],
    ['line comment', '-- hi\nupdate t set a = 1', 'UPDATE'],
    ['block comment and parenthesis', '/* x */ (select 1) union (select 2)', 'SELECT'],
    ['with', 'WITH x AS (SELECT 1) SELECT * FROM x', 'WITH'],
    ['unknown verb', 'FROBNICATE everything', '_OTHER'],
    ['not a string', undefined, '_OTHER'],
    ['empty', '', '_OTHER'],
  ];
  for (const [name, input, expected] of cases) it(name, () => expect(sqlOperation(input)).toBe(expected));
});

describe('error types', () => {
  it('uses system codes, class names, never messages', () => {
    expect(errorTypeOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorTypeOf(new TypeError('fetch failed', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe('ECONNRESET');
    expect(errorTypeOf(new RangeError('bad'))).toBe('RangeError');
    expect(errorTypeOf('a string')).toBe('_OTHER');
    class DatabaseError extends Error {}
    expect(dbErrorType(Object.assign(new DatabaseError('relation "x" does not exist'), { code: '42P01', name: 'error' }))).toBe('DatabaseError');
    expect(dbErrorType(Object.assign(new Error('x'), { code: 'ER_NO_SUCH_TABLE' }))).toBe('ER_NO_SUCH_TABLE');
    expect(dbErrorType(new Error('Connection is closed.'))).toBe('Error');
  });
});

describe('LeanHistogram + LeanProducer', () => {
  it('buckets are upper-inclusive, cumulative on /metrics, named as in the contract', async () => {
    const h = new LeanHistogram(HTTP_SERVER_DURATION);
    const attrs = { 'http.request.method': 'GET', 'http.route': '/a', 'http.response.status_code': 200 };
    for (const v of [0.005, 0.006, 0.2, 20]) h.record('k', () => attrs, v);
    const producer = new LeanProducer('prometheus', () => [h], () => [], resourceFromAttributes({}), 'test');
    const { resourceMetrics } = await producer.collect();
    const text = new PrometheusSerializer('', false, undefined, true, true).serialize(resourceMetrics);
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const l = 'http_request_method="GET",http_route="/a",http_response_status_code="200"';
    expect(lines).toContain(`http_server_request_duration_seconds_count{${l}} 4`);
    expect(lines).toContain(`http_server_request_duration_seconds_bucket{${l},le="0.005"} 1`);
    expect(lines).toContain(`http_server_request_duration_seconds_bucket{${l},le="0.01"} 2`);
    expect(lines).toContain(`http_server_request_duration_seconds_bucket{${l},le="0.25"} 3`);
    expect(lines).toContain(`http_server_request_duration_seconds_bucket{${l},le="10"} 3`);
    expect(lines).toContain(`http_server_request_duration_seconds_bucket{${l},le="+Inf"} 4`);
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');

    const otel = await new LeanProducer('otel', () => [h], () => [], resourceFromAttributes({}), 'test').collect();
    expect(otel.resourceMetrics.scopeMetrics[0]!.metrics[0]!.descriptor.name).toBe('http.server.request.duration');
  });

  it('folds series past maxSeries into one overflow series', () => {
    const h = new LeanHistogram({ ...HTTP_SERVER_DURATION, maxSeries: 2 });
    for (let i = 0; i < 5; i++) h.record(`k${i}`, () => ({ i }), 1);
    const s = h.snapshot();
    expect(s).toHaveLength(3);
    expect(s[2]!.attributes).toEqual({ 'otel.metric.overflow': true });
    expect(s[2]!.count).toBe(3);
  });

  it('counters get _total, empty histograms are left out', async () => {
    const h = new LeanHistogram(HTTP_SERVER_DURATION);
    const producer = new LeanProducer(
      'prometheus',
      () => [h],
      () => [{ promName: 'process_cpu_time_seconds', otelName: 'process.cpu.time', description: 'cpu', unit: 's', kind: 'counter', read: () => [{ attributes: { 'cpu.mode': 'user' }, value: 1.5 }] }],
      resourceFromAttributes({}),
      'test',
    );
    const text = new PrometheusSerializer('', false, undefined, true, true).serialize((await producer.collect()).resourceMetrics);
    expect(text).toContain('process_cpu_time_seconds_total{cpu_mode="user"} 1.5');
    expect(text).not.toContain('http_server');
  });
});

describe('HttpRecorder (diagnostics channels, real node:http server)', () => {
  let rec: HttpRecorder;
  let server: http.Server;
  let ignored: http.Server;
  let base: string;
  beforeAll(async () => {
    rec = new HttpRecorder({ server: true, client: true, undici: true, koa: true, express: true });
    rec.start();
    server = http.createServer((req, res) => {
      if (req.url === '/hang') return; // never answers: the client aborts
      if (req.url?.startsWith('/users/')) setHttpRoute(req, '/users/:id');
      res.statusCode = req.url === '/boom' ? 502 : 200;
      res.end('x');
    });
    ignored = http.createServer((_req, res) => res.end('metrics'));
    (ignored as unknown as Record<symbol, boolean>)[kIgnoreServer] = true;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => ignored.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    rec.stop();
    server.close();
    ignored.close();
  });

  const find = (h: LeanHistogram, attrs: Record<string, unknown>) =>
    h.snapshot().filter((s) => Object.entries(attrs).every(([k, v]) => s.attributes[k] === v)).reduce((a, s) => a + s.count, 0);

  it('records server requests with route (setHttpRoute), status and error.type for 5xx; ignores marked servers', async () => {
    for (const p of ['/users/1', '/users/2', '/boom', '/plain']) await (await fetch(base + p)).text();
    await (await fetch(`http://127.0.0.1:${(ignored.address() as AddressInfo).port}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 20)); // 'close' follows 'finish'
    expect(find(rec.server, { 'http.route': '/users/:id', 'http.response.status_code': 200 })).toBe(2);
    expect(find(rec.server, { 'http.response.status_code': 502, 'error.type': '502' })).toBe(1);
    const plain = rec.server.snapshot().filter((s) => s.attributes['http.response.status_code'] === 200 && !('http.route' in s.attributes));
    expect(plain.reduce((a, s) => a + s.count, 0)).toBe(1); // no route: no http.route label (never the raw URL)
    expect(rec.server.snapshot().reduce((a, s) => a + s.count, 0)).toBe(4);
  });

  it('records a request the client abandoned as error.type=aborted', async () => {
    const ac = new AbortController();
    const pending = fetch(base + '/hang', { signal: ac.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await pending;
    const deadline = Date.now() + 2000;
    while (find(rec.server, { 'error.type': 'aborted' }) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(find(rec.server, { 'error.type': 'aborted' })).toBe(1);
    const s = rec.server.snapshot().find((x) => x.attributes['error.type'] === 'aborted')!;
    expect(s.attributes).not.toHaveProperty('http.response.status_code');
  });

  it('records node:http and fetch client calls by host, with errors', async () => {
    const before = find(rec.client, { 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
    await new Promise<void>((resolve, reject) => http.get(base + '/plain', (res) => res.resume().on('end', resolve)).on('error', reject));
    await (await fetch(base + '/plain')).text();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await fetch(`http://127.0.0.1:${closedPort}/`).catch(() => undefined); // refused
    expect(find(rec.client, { 'server.address': '127.0.0.1', 'http.response.status_code': 200 })).toBe(before + 2);
    expect(find(rec.client, { 'error.type': '502' })).toBe(1); // the fetch of /boom above
    expect(find(rec.client, { 'error.type': 'ECONNREFUSED' })).toBe(1);
  });
});

describe('pg wrapper', () => {
  // A stand-in with pg's Client.query/connect calling conventions (the real one runs in the integration test).
  class Client {
    async connect(cb?: (err: Error | null) => void) {
      if (cb) return cb(null);
    }
    query(text: unknown, values?: unknown, cb?: (err: Error | null, r?: unknown) => void) {
      const callback = typeof values === 'function' ? (values as typeof cb) : cb;
      const fail = typeof text === 'string' && text.includes('fail');
      const err = fail ? Object.assign(new Error('boom'), { code: 'ECONNRESET' }) : null;
      if (callback) {
        setImmediate(() => callback(err, { rows: [] }));
        return undefined;
      }
      return fail ? Promise.reject(err) : Promise.resolve({ rows: [] });
    }
  }
  const rec = new DbRecorder();
  const patch = rec.pgPatch();
  const mod = { Client, Pool: class {}, Query: class {} };

  it('matches pg by bare name and by absolute path', () => {
    expect(patch.matches('pg')).toBe(true);
    expect(patch.matches('/app/node_modules/pg/lib/index.js')).toBe(true);
    expect(patch.matches('pg-pool')).toBe(false);
  });

  it('times promise and callback queries and connects, keeps results and errors', async () => {
    patch.patch(mod);
    patch.patch(mod); // idempotent
    const c = new Client();
    await expect(c.query('select 1')).resolves.toEqual({ rows: [] });
    await expect(c.query('select fail')).rejects.toThrow('boom');
    await new Promise<void>((resolve) => c.query('INSERT x', [], (err) => (expect(err).toBeNull(), resolve())));
    await new Promise<void>((resolve) => c.query({ text: 'update y' } as unknown as string, (err: Error | null) => (expect(err).toBeNull(), resolve())));
    await new Promise<void>((resolve) => void c.connect(() => resolve()));
    const got = Object.fromEntries(rec.histogram.snapshot().map((s) => [`${s.attributes['db.operation.name']}|${s.attributes['error.type'] ?? ''}`, s.count]));
    expect(got).toEqual({ 'SELECT|': 1, 'SELECT|ECONNRESET': 1, 'INSERT|': 1, 'UPDATE|': 1, 'connect|': 1 });
    expect(rec.histogram.snapshot().every((s) => s.attributes['db.system.name'] === 'postgresql')).toBe(true);
  });
});
