// Property-based fuzzing of every POST endpoint of the compiled exporter (issue 12, "never a 500 or
// a crash"). Each request carries the right token, so the body reaches the handler; the body is
// arbitrary: random JSON, truncated JSON, near-limit strings, wrong content types, binary bytes,
// deep nesting, unicode (lone surrogates included), numbers as strings, and keys such as
// __proto__ / constructor / toString that trip code which treats parsed JSON as a plain object.
// The property: the answer is 2xx or 4xx with a JSON body (a JSON `error` for 4xx), and the
// process keeps serving /-/healthy. A raw-socket property adds what fetch cannot send (bodies cut
// short, chunked past the limit, malformed chunks, a lying Content-Length), and the exporter's log
// must hold no "request failed" (a 500 nobody was left to read). FUZZ_RUNS=1500 for a longer hunt;
// fast-check prints the seed and the shrunk body on failure.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const ADMIN = 'fuzz-admin-token-0123456789';
const WEBHOOK = 'fuzz-webhook-token-0123456789';
const HEARTBEAT = 'fuzz-heartbeat-token-0123456789';
const OWN = 'fuzz-own-heartbeat-token-0123';

/** Runs per endpoint: the whole file stays well under 60 s on a loaded 2-core machine. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

// Body limits of the handlers (probes/heartbeat/routes.ts MAX_BODY, routes/alerts.ts); bodies go a
// little past them too, where a 413 is the right answer.
const KIB = 1024;
interface Endpoint { name: string; path: string; token: string; limit: number; near?: 'webhook' | 'test' | 'heartbeat' }
const ENDPOINTS: Endpoint[] = [
  { name: 'manual run', path: '/api/v1/checks/closed-port/run', token: ADMIN, limit: 64 * KIB },
  { name: 'reload', path: '/-/reload', token: ADMIN, limit: 64 * KIB },
  { name: 'test alert', path: '/api/v1/alerts/test', token: ADMIN, limit: 64 * KIB, near: 'test' },
  { name: 'Alertmanager webhook', path: '/api/v1/alerts/webhook', token: WEBHOOK, limit: 1024 * KIB, near: 'webhook' },
  { name: 'heartbeat success', path: '/api/v1/heartbeats/nightly', token: HEARTBEAT, limit: 16 * KIB, near: 'heartbeat' },
  { name: 'heartbeat /start', path: '/api/v1/heartbeats/nightly/start', token: HEARTBEAT, limit: 16 * KIB, near: 'heartbeat' },
  { name: 'heartbeat /fail', path: '/api/v1/heartbeats/nightly/fail', token: HEARTBEAT, limit: 16 * KIB, near: 'heartbeat' },
  { name: 'heartbeat with its own token', path: '/api/v1/heartbeats/private', token: OWN, limit: 16 * KIB, near: 'heartbeat' },
];

// ---- arbitraries -------------------------------------------------------------------------------

/** Keys the handlers read, keys that are special on JS objects, and random ones. */
const key = fc.oneof(
  fc.constantFrom(
    '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'then', 'length',
    'duration_seconds', 'exit_code', 'message', 'token',
    'severity', 'summary', 'description',
    'version', 'groupKey', 'truncatedAlerts', 'status', 'receiver', 'groupLabels', 'commonLabels', 'commonAnnotations',
    'externalURL', 'alerts', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint', 'alertname',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

/** Numbers as strings, and strings that look like numbers but are not quite. */
const numberish = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt().map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '1e400', '0x10', '0b1', ' 12 ', '', '12abc', '１２', '0.1.2', '-256', '256'),
);

/** Arrays nested `depth` deep, as a value (the body's size limit bounds the depth). */
const deepArray = (max: number) => fc.integer({ min: 1, max }).map((d) => ({ raw: '['.repeat(d) + ']'.repeat(d) }));

/** A JSON value as text (raw so that deep nesting needs no recursion here). */
type Raw = { raw: string };
const scalar = fc.oneof(fc.jsonValue({ maxDepth: 2 }), numberish, fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }))
  .map((v): Raw => ({ raw: JSON.stringify(v) ?? 'null' }));
const value: fc.Arbitrary<Raw> = fc.letrec<{ v: Raw }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    deepArray(2000),
    fc.array(tie('v'), { maxLength: 4 }).map((xs) => ({ raw: `[${xs.map((x) => x.raw).join(',')}]` })),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 5 }).map((kv) => ({ raw: `{${kv.map(([k, x]) => `${JSON.stringify(k)}:${x.raw}`).join(',')}}` })),
  ),
})).v;
/** A JSON object whose keys come from `key` (duplicates allowed: JSON.parse keeps the last). */
const object = fc.array(fc.tuple(key, value), { maxLength: 8 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v.raw}`).join(',')}}`);

const labels = fc.dictionary(key, fc.oneof(fc.string({ maxLength: 20 }), value.map((v) => JSON.parse(v.raw) as unknown)), { maxKeys: 5 });
/** A webhook payload that is valid except where the fuzzer puts odd label keys or swaps a field. */
const nearWebhook = fc.record({
  labels,
  annotations: labels,
  swap: fc.option(fc.tuple(key, value), { nil: undefined }),
  alertSwap: fc.option(fc.tuple(key, value), { nil: undefined }),
  count: fc.integer({ min: 1, max: 3 }),
}).map(({ labels: l, annotations, swap, alertSwap, count }) => {
  const alert: Record<string, unknown> = {
    status: 'firing', labels: { alertname: 'Fuzz', ...l }, annotations, startsAt: '2026-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus/graph', fingerprint: 'abc123',
  };
  const payload: Record<string, unknown> = {
    version: '4', groupKey: '{}:{}', truncatedAlerts: 0, status: 'firing', receiver: 'vigil', groupLabels: {},
    commonLabels: l, commonAnnotations: {}, externalURL: 'http://alertmanager', alerts: Array.from({ length: count }, () => alert),
  };
  let text = JSON.stringify(payload);
  if (alertSwap) text = text.replace('"status":"firing","labels"', `${JSON.stringify(alertSwap[0])}:${alertSwap[1].raw},"status":"firing","labels"`);
  if (swap) text = `{${JSON.stringify(swap[0])}:${swap[1].raw},${text.slice(1)}`;
  return text;
});
const nearTestAlert = fc.record({
  severity: fc.oneof(fc.constantFrom('critical', 'warning', 'info'), value.map((v) => JSON.parse(v.raw) as unknown)),
  summary: fc.option(fc.string({ unit: 'grapheme', maxLength: 50 }), { nil: undefined }),
  duration_seconds: fc.option(fc.oneof(fc.integer({ min: 10, max: 86_400 }), numberish), { nil: undefined }),
}, { requiredKeys: [] }).map((o) => JSON.stringify(o));
/** A heartbeat body with the fields a ping reads, each of them a number, a string, or any JSON (up to 8 000 deep). */
const pingField = (typical: fc.Arbitrary<unknown>) => fc.option(fc.oneof(typical, numberish.map((n): Raw => ({ raw: JSON.stringify(n) })), value, deepArray(8000)), { nil: undefined });
const nearHeartbeat = fc.record({
  duration_seconds: pingField(fc.double().map((n): Raw => ({ raw: JSON.stringify(n) }))),
  exit_code: pingField(fc.integer({ min: -300, max: 300 }).map((n): Raw => ({ raw: String(n) }))),
  message: pingField(fc.string({ unit: 'grapheme', maxLength: 100 }).map((s): Raw => ({ raw: JSON.stringify(s) }))),
  extra: fc.array(fc.tuple(key, value), { maxLength: 3 }),
}).map(({ extra, ...fields }) => {
  const kv = [...Object.entries(fields).filter(([, v]) => v !== undefined) as Array<[string, Raw]>, ...extra];
  return `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v.raw}`).join(',')}}`;
});

const contentType = fc.option(fc.constantFrom(
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/octet-stream',
  'application/vnd.api+json', 'text/html', 'application/xml', '*/*', 'json', ';;;', 'application/json; charset=nonsense',
), { nil: undefined });

interface Body { body: string | Uint8Array; type?: string }
/** Bodies of every kind, with the endpoint's own near-valid shape (`near`) drawn more often. */
const body = (limit: number, near: fc.Arbitrary<string>): fc.Arbitrary<Body> => fc.record({
  content: fc.oneof(
    { arbitrary: near, weight: 8 },
    fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
    object,
    nearWebhook,
    nearTestAlert,
    nearHeartbeat,
    // truncated JSON
    fc.tuple(fc.oneof(object, nearWebhook, nearHeartbeat), fc.nat()).map(([s, n]) => s.slice(0, n % Math.max(1, s.length))),
    // unicode text, lone surrogates, form bodies
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(fc.tuple(key, fc.oneof(numberish, fc.string({ maxLength: 20 }))), { maxLength: 5 })
      .map((kv) => new URLSearchParams(kv).toString()),
    // raw bytes (not UTF-8)
    fc.uint8Array({ maxLength: 2048 }),
    // deep nesting as the whole body or under a key the handler reads
    fc.integer({ min: 1, max: Math.floor(limit / 2) - 40 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
    fc.tuple(key, fc.integer({ min: 1, max: Math.floor(limit / 2) - 40 })).map(([k, d]) => `{${JSON.stringify(k)}:${'['.repeat(d)}${']'.repeat(d)}}`),
    fc.tuple(key, fc.integer({ min: 1, max: Math.floor(limit / 2) - 40 })).map(([k, d]) => `{${JSON.stringify(k)}:${'{"a":'.repeat(d / 3)}1${'}'.repeat(d / 3)}}`),
    // huge strings near (and a little past) the body limit
    fc.tuple(key, fc.integer({ min: limit - 64, max: limit + 64 }), fc.constantFrom('x', 'é', '😀', '\\u0000', '"')).map(([k, n, c]) => {
      const s = c.repeat(Math.max(0, Math.floor((n - k.length - 8) / Buffer.byteLength(c))));
      return c === '"' ? s : `{${JSON.stringify(k)}:"${s}"}`;
    }),
  ),
  type: contentType,
}).map(({ content, type }) => ({ body: content, type, [fc.toStringMethod]: () => `${type ?? '(no content type)'} ${shorten(content)}` }));

/** A body for a failure message: long runs of one character folded (`[×8000`), at most 600 characters. */
function shorten(content: string | Uint8Array): string {
  if (typeof content !== 'string') return `<${content.length} bytes: ${Buffer.from(content.subarray(0, 64)).toString('hex')}${content.length > 64 ? '…' : ''}>`;
  const folded = content.replace(/(.)\1{19,}/gsu, (run, c: string) => `${c}×${[...run].length}`);
  return JSON.stringify(folded.length > 600 ? `${folded.slice(0, 600)}… (${content.length} chars)` : folded);
}

/** One body each handler accepts, tried first (fast-check `examples`). */
const VALID: Record<NonNullable<Endpoint['near']> | 'none', Body> = {
  none: { body: '' },
  test: { body: '{"severity":"info"}', type: 'application/json' },
  heartbeat: { body: '{"duration_seconds": 1.5, "exit_code": 0}', type: 'application/json' },
  webhook: {
    type: 'application/json',
    body: JSON.stringify({
      version: '4', groupKey: '{}:{}', truncatedAlerts: 0, status: 'firing', receiver: 'vigil', groupLabels: {}, commonLabels: {},
      commonAnnotations: {}, externalURL: 'http://alertmanager',
      alerts: [{ status: 'firing', labels: { alertname: 'Fuzz' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'abc123' }],
    }),
  },
};

// ---- the exporter under test -------------------------------------------------------------------

let exporter: RunningExporter;
let alertmanager: http.Server;
let alertsPosted = 0;

beforeAll(async () => {
  // Stands in for Alertmanager's POST /api/v2/alerts so that a valid test alert gets through.
  alertmanager = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { alertsPosted++; res.writeHead(200, { 'content-type': 'application/json' }).end('""'); });
  });
  await new Promise<void>((r) => alertmanager.listen(0, '127.0.0.1', r));
  const amPort = (alertmanager.address() as AddressInfo).port;
  exporter = await startExporter({
    config: `
defaults: { interval: 1h, timeout: 2s, retries: 0 }
server:
  admin_token: ${ADMIN}
  webhook_token: ${WEBHOOK}
  heartbeat_token: ${HEARTBEAT}
  alertmanager_url: http://127.0.0.1:${amPort}
components:
  - { name: jobs }
checks:
  - { name: nightly, type: heartbeat, component: jobs, period: 1h, grace: 10m }
  - { name: private, type: heartbeat, component: jobs, period: 1h, token: ${OWN} }
  - { name: closed-port, type: tcp, component: jobs, host: 127.0.0.1, port: 1 }
`,
  });
  await waitFor(async () => (await fetch(`${exporter.url}/-/ready`)).status === 200, 10_000);
});

afterAll(async () => {
  await exporter?.stop();
  await new Promise((r) => alertmanager?.close(r));
});

async function post(ep: Endpoint, b: Body): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ep.token}` };
  if (b.type !== undefined) headers['content-type'] = b.type;
  const res = await fetch(`${exporter.url}${ep.path}`, { method: 'POST', headers, body: typeof b.body === 'string' ? b.body : new Uint8Array(b.body), signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

function assertWellFormed(ep: Endpoint, r: { status: number; text: string }) {
  const what = `${ep.name}: ${r.status} ${r.text.slice(0, 300)}`;
  expect(exporter.proc.exitCode, `exporter exited\n${exporter.logs().slice(-2000)}`).toBeNull();
  expect(r.status >= 200 && r.status < 500, what).toBe(true);
  let doc: unknown;
  expect(() => { doc = JSON.parse(r.text); }, what).not.toThrow();
  if (r.status >= 400) expect(typeof (doc as { error?: unknown }).error, what).toBe('string');
}

/** Send what `write` writes on a fresh connection; return what came back by the time it closed (or 3 s). */
function rawExchange(port: number, write: (s: net.Socket) => void): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = net.connect(port, '127.0.0.1', () => write(s));
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

describe('POST bodies: never a 500, never a crash', () => {
  it.each(ENDPOINTS)('$name', async (ep) => {
    const statuses = new Map<number, number>();
    const near = { webhook: nearWebhook, test: nearTestAlert, heartbeat: nearHeartbeat }[ep.near ?? 'heartbeat'];
    await fc.assert(fc.asyncProperty(body(ep.limit, ep.near ? near : object), async (b) => {
      const r = await post(ep, b);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assertWellFormed(ep, r);
    }), { numRuns: RUNS, examples: [[VALID[ep.near ?? 'none']]] });
    // The handler works at all, so the 4xx above are its validation speaking: the valid example
    // (and any valid body the fuzzer drew) was accepted.
    expect([...statuses.keys()].some((s) => s < 300), `statuses: ${JSON.stringify([...statuses])}`).toBe(true);
    expect((await fetch(`${exporter.url}/-/healthy`)).status).toBe(200);
  }, Math.max(60_000, RUNS * 400));

  it('odd check names in the path (percent-encoding, unicode) of run and heartbeat', async () => {
    const segment = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom('%', '%E0%A4%A', '%zz', '%00', '..', '%2e%2e', '%2F', 'nightly%00', '__proto__', 'constructor', 'toString', 'a'.repeat(2000)),
    );
    await fc.assert(fc.asyncProperty(segment, fc.constantFrom(0, 1, 2, 3), async (seg, which) => {
      const ep: Endpoint = [
        { name: 'run', path: `/api/v1/checks/${seg}/run`, token: ADMIN, limit: 0 },
        { name: 'heartbeat', path: `/api/v1/heartbeats/${seg}`, token: HEARTBEAT, limit: 0 },
        { name: 'heartbeat start', path: `/api/v1/heartbeats/${seg}/start`, token: HEARTBEAT, limit: 0 },
        { name: 'heartbeat fail', path: `/api/v1/heartbeats/${seg}/fail`, token: HEARTBEAT, limit: 0 },
      ][which];
      const r = await post(ep, { body: '' });
      expect(r.status, `${ep.path}: ${r.status} ${r.text.slice(0, 200)}`).toBeLessThan(500);
      expect(exporter.proc.exitCode).toBeNull();
    }), { numRuns: RUNS });
    expect((await fetch(`${exporter.url}/-/healthy`)).status).toBe(200);
  }, Math.max(60_000, RUNS * 400));

  it('bodies cut short, chunked past the limit, malformed chunks, lying Content-Length (raw socket)', async () => {
    const mode = fc.constantFrom('abort', 'chunked-over-limit', 'bad-chunk', 'length-too-short', 'length-not-a-number');
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ENDPOINTS), mode, fc.nat({ max: 300 }), async (ep, m, n) => {
      const head = `POST ${ep.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ep.token}\r\nContent-Type: application/json\r\nConnection: close\r\n`;
      const answer = await rawExchange(exporter.port, (s) => {
        if (m === 'abort') {
          s.write(`${head}Content-Length: ${n + 10}\r\n\r\n${'{'.repeat(n)}`);
          setTimeout(() => s.destroy(), 50);
        } else if (m === 'chunked-over-limit') {
          s.write(`${head}Transfer-Encoding: chunked\r\n\r\n`);
          const chunk = Buffer.alloc(64 * KIB, '[');
          const writeChunks = (left: number) => {
            if (s.destroyed || left <= 0) return;
            s.write(`${chunk.length.toString(16)}\r\n`);
            s.write(chunk);
            if (s.write('\r\n')) writeChunks(left - 1);
            else s.once('drain', () => writeChunks(left - 1));
          };
          writeChunks(Math.ceil(ep.limit / chunk.length) + 2);
        } else if (m === 'bad-chunk') {
          s.write(`${head}Transfer-Encoding: chunked\r\n\r\n${n.toString(16)}zz\r\n{}\r\n0\r\n\r\n`);
        } else if (m === 'length-too-short') {
          s.write(`${head}Content-Length: 2\r\n\r\n{}${'x'.repeat(n)}\r\n\r\n`);
        } else {
          s.write(`${head}Content-Length: ${n}abc\r\n\r\n{}`);
        }
      });
      for (const status of answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)) expect(Number(status[1]), `${ep.name} ${m}: ${answer.slice(0, 200)}`).toBeLessThan(500);
      expect(exporter.proc.exitCode).toBeNull();
    }), { numRuns: RUNS });
    expect((await fetch(`${exporter.url}/-/healthy`)).status).toBe(200);
  }, Math.max(60_000, RUNS * 400));

  it('no request ended in a server error, not even one nobody was left to read', () => {
    // A client that goes away mid-body used to be logged as "request failed" (a 500) each time.
    expect(exporter.logs().split('\n').filter((l) => l.includes('"msg":"request failed"')).slice(0, 5)).toEqual([]);
  });

  it('a valid test alert reached the stand-in Alertmanager (the fuzzer got past validation)', () => {
    expect(alertsPosted).toBeGreaterThan(0);
  });
});
