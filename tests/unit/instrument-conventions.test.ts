// vigil/instrument against its references: the OpenTelemetry semantic conventions (v1.44: names,
// required HTTP attributes, bucket boundaries) and prom-client's collectDefaultMetrics (the
// opt-in runtime set must have its families, types and label names).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../packages/instrument/config.js';
import type { LeanHistogram } from '../../packages/instrument/histogram.js';
import { HttpRecorder, splitHostHeader } from '../../packages/instrument/http.js';
import { DB_CLIENT_DURATION, GC_DURATION, HTTP_CLIENT_DURATION, HTTP_SERVER_DURATION } from '../../packages/instrument/names.js';
import { PromClientRuntime } from '../../packages/instrument/prom-client-runtime.js';
import { RuntimeMetrics } from '../../packages/instrument/runtime.js';
import { selfSignedCert } from '../support/certs.js';

interface Family {
  type: string;
  labels: Set<string>;
}

/** name -> type and label names (le excluded), from Prometheus text. */
function families(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(name!, { type: type!, labels: new Set() });
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!m) continue;
    const fam = out.get(m[1]!) ?? out.get(m[1]!.replace(/_(bucket|sum|count)$/, ''));
    for (const [, l] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (l !== 'le') fam?.labels.add(l!);
  }
  return out;
}

describe('the prom-client-compatible runtime set (VIGIL_RUNTIME_METRICS=prom-client)', () => {
  it("has prom-client's default families, types and label names; the three *_total gauges are untyped", async () => {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    const theirs = families(await registry.metrics());
    const set = new PromClientRuntime();
    set.start();
    try {
      const ours = families(set.render());
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [name, f] of theirs) {
        const expectedType = /^nodejs_active_(handles|requests|resources)_total$/.test(name) ? 'untyped' : f.type;
        expect(ours.get(name)!.type, name).toBe(expectedType);
        // prom-client's labelled families without a sample yet (GC before the first pause) show no labels.
        if (f.labels.size > 0 && ours.get(name)!.labels.size > 0) expect([...ours.get(name)!.labels].sort(), name).toEqual([...f.labels].sort());
      }
      // The label names of the families dashboards group by, stated outright.
      set.gc.record('minor', () => ({ kind: 'minor' }), 0.002);
      const again = families(set.render());
      expect([...again.get('nodejs_gc_duration_seconds')!.labels]).toEqual(['kind']);
      expect([...again.get('nodejs_heap_space_size_used_bytes')!.labels]).toEqual(['space']);
      expect([...again.get('nodejs_version_info')!.labels].sort()).toEqual(['major', 'minor', 'patch', 'version']);
      expect([...again.get('nodejs_active_handles')!.labels]).toEqual(['type']);
    } finally {
      set.stop();
    }
  });

  it('the same values prom-client reads: version, heap spaces without the _space suffix, GC buckets', () => {
    const set = new PromClientRuntime();
    set.gc.record('major', () => ({ kind: 'major' }), 0.05);
    const text = set.render();
    const [major, minor, patch] = process.version.slice(1).split('.');
    expect(text).toContain(`nodejs_version_info{version="${process.version}",major="${major}",minor="${minor}",patch="${patch}"} 1`);
    expect(text).toMatch(/^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/m);
    expect(text).toContain('nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} 0');
    expect(text).toContain('nodejs_gc_duration_seconds_bucket{le="0.1",kind="major"} 1');
    expect(text).toContain('nodejs_gc_duration_seconds_count{kind="major"} 1');
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)![1])).toBeGreaterThan(0);
    expect(Number(/^nodejs_active_handles_total (\S+)$/m.exec(text)![1])).toBeGreaterThanOrEqual(0);
  });
});

describe('the OpenTelemetry runtime set (default)', () => {
  const semconvMetrics = new Set(Object.entries(semconv).filter(([k]) => k.startsWith('METRIC_')).map(([, v]) => v as string));
  // Renamed in the conventions (model/v8js/deprecated): never emitted.
  const deprecated = ['v8js.memory.heap.limit', 'v8js.heap.space.available_size', 'v8js.heap.space.physical_size'];

  it('uses current semantic-convention names (v8js.memory.heap.space.size, not the deprecated v8js.memory.heap.limit)', () => {
    const names = new RuntimeMetrics().observed().filter((m) => m.only !== 'prometheus').map((m) => m.otelName);
    for (const d of deprecated) expect(names).not.toContain(d);
    expect(names).toEqual(expect.arrayContaining(['v8js.memory.heap.used', 'v8js.memory.heap.space.size', 'v8js.memory.heap.space.available_size', 'v8js.memory.heap.space.physical_size', 'nodejs.eventloop.time', 'v8js.resource.active', 'process.uptime']));
    // Every name is a metric of the conventions, except the heap limit they do not define yet
    // (named as @opentelemetry/instrumentation-runtime-node names it).
    expect(names.filter((n) => !semconvMetrics.has(n))).toEqual(['v8js.memory.heap.max']);
    expect(semconvMetrics.has(GC_DURATION.otelName)).toBe(true);
  });

  it('keeps Prometheus names with base units, and attributes per the conventions', () => {
    const byName = new Map(new RuntimeMetrics().observed().map((m) => [m.otelName, m]));
    expect(byName.get('v8js.memory.heap.space.size')!.promName).toBe('v8js_memory_heap_space_size_bytes');
    const spaces = byName.get('v8js.memory.heap.space.size')!.read();
    expect(spaces.length).toBeGreaterThan(3);
    expect(spaces.every((p) => typeof p.attributes['v8js.heap.space.name'] === 'string' && p.value >= 0)).toBe(true);
    expect(byName.get('nodejs.eventloop.time')!.read().map((p) => p.attributes['nodejs.eventloop.state'])).toEqual(['active', 'idle']);
    expect(byName.get('v8js.resource.active')!.read().every((p) => typeof p.attributes['v8js.resource.type'] === 'string')).toBe(true);
  });
});

describe('bucket boundaries: the conventions\' ExplicitBucketBoundaries advisories', () => {
  const HTTP = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
  it('http.server/client.request.duration', () => {
    expect([...HTTP_SERVER_DURATION.boundaries]).toEqual(HTTP);
    expect([...HTTP_CLIENT_DURATION.boundaries]).toEqual(HTTP);
  });
  it('v8js.gc.duration (the HTTP boundaries since semantic conventions v1.42)', () => {
    expect([...GC_DURATION.boundaries]).toEqual(HTTP);
  });
  it('db.client.operation.duration', () => {
    expect([...DB_CLIENT_DURATION.boundaries]).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
  });
});

describe('HTTP attributes the conventions require', () => {
  let rec: HttpRecorder;
  let plain: http.Server;
  let tls: https.Server;
  const port = (s: http.Server) => (s.address() as AddressInfo).port;
  const handler: http.RequestListener = (_req, res) => res.end('x');
  beforeAll(async () => {
    rec = new HttpRecorder({ server: true, client: true, undici: true, koa: false, express: false, knownMethods: new Set(['GET', 'PROPFIND']) });
    rec.start();
    plain = http.createServer(handler);
    const cert = selfSignedCert(30);
    tls = https.createServer({ key: cert.key, cert: cert.cert }, handler);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    rec.stop();
    plain.close();
    tls.close();
  });
  const series = (h: LeanHistogram, attrs: Record<string, unknown>) => h.snapshot().filter((s) => Object.entries(attrs).every(([k, v]) => s.attributes[k] === v));
  const get = (url: string, opts: https.RequestOptions = {}) =>
    new Promise<void>((resolve, reject) => (url.startsWith('https') ? https : http).get(url, opts, (res) => res.resume().on('end', resolve)).on('error', reject));
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('server: url.scheme (http/https) and network.protocol.version on every series', async () => {
    await get(`http://127.0.0.1:${port(plain)}/a`);
    await get(`https://127.0.0.1:${port(tls)}/b`, { rejectUnauthorized: false });
    await settle();
    expect(series(rec.server, { 'url.scheme': 'http', 'network.protocol.version': '1.1', 'http.response.status_code': 200 }).reduce((a, s) => a + s.count, 0)).toBe(1);
    expect(series(rec.server, { 'url.scheme': 'https', 'network.protocol.version': '1.1' }).reduce((a, s) => a + s.count, 0)).toBe(1);
    expect(rec.server.snapshot().every((s) => s.attributes['url.scheme'] !== undefined && s.attributes['http.request.method'] !== undefined)).toBe(true);
  });

  it('client: server.address and server.port on every series (node:http, fetch, refused), protocol version from node:http', async () => {
    const count = (attrs: Record<string, unknown>) => series(rec.client, attrs).reduce((a, s) => a + s.count, 0);
    const before = count({ 'server.port': port(plain), 'http.response.status_code': 200 });
    await get(`http://127.0.0.1:${port(plain)}/c`);
    await (await fetch(`http://127.0.0.1:${port(plain)}/d`)).text();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = port(closed);
    await new Promise((r) => closed.close(r));
    await get(`http://127.0.0.1:${closedPort}/`).catch(() => undefined);
    await fetch(`http://127.0.0.1:${closedPort}/`).catch(() => undefined);
    const p = port(plain);
    expect(count({ 'server.address': '127.0.0.1', 'server.port': p, 'network.protocol.version': '1.1', 'http.response.status_code': 200 })).toBeGreaterThanOrEqual(1);
    expect(count({ 'server.port': p, 'http.response.status_code': 200 })).toBe(before + 2);
    expect(count({ 'server.port': closedPort, 'error.type': 'ECONNREFUSED' })).toBe(2);
    expect(rec.client.snapshot().every((s) => typeof s.attributes['server.port'] === 'number' && typeof s.attributes['server.address'] === 'string')).toBe(true);
  });

  it('methods outside OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS are _OTHER; listed ones are kept', async () => {
    const send = (method: string) =>
      new Promise<void>((resolve, reject) => http.request(`http://127.0.0.1:${port(plain)}/m`, { method }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
    await send('PROPFIND');
    await send('POST');
    await settle();
    expect(series(rec.server, { 'http.request.method': 'PROPFIND' })).toHaveLength(1);
    expect(series(rec.server, { 'http.request.method': '_OTHER' })).toHaveLength(1);
    expect(series(rec.server, { 'http.request.method': 'POST' })).toHaveLength(0);
  });

  it('Host header ports', () => {
    expect(splitHostHeader('example.com:8080')).toEqual({ host: 'example.com', port: 8080 });
    expect(splitHostHeader('[::1]:443')).toEqual({ host: '::1', port: 443 });
    expect(splitHostHeader('example.com')).toEqual({ host: 'example.com', port: undefined });
  });
});

describe('configuration of the runtime set and the known methods', () => {
  it('VIGIL_RUNTIME_METRICS: otel by default, prom-client on request, a bad value is one line', () => {
    expect(readConfig({}).config.runtimeMetrics).toBe('otel');
    expect(readConfig({ VIGIL_RUNTIME_METRICS: 'Prom-Client' }).config.runtimeMetrics).toBe('prom-client');
    const bad = readConfig({ VIGIL_RUNTIME_METRICS: 'prometheus' });
    expect(bad.config.runtimeMetrics).toBe('otel');
    expect(bad.problems).toEqual(['VIGIL_RUNTIME_METRICS="prometheus" is not otel or prom-client; using otel']);
  });

  it('OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS is a full override; a bad token keeps the default list', () => {
    expect([...readConfig({}).config.httpKnownMethods].sort()).toEqual(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
    expect([...readConfig({ OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET, PROPFIND' }).config.httpKnownMethods]).toEqual(['GET', 'PROPFIND']);
    const bad = readConfig({ OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET,BAD METHOD' });
    expect(bad.config.httpKnownMethods.has('POST')).toBe(true);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatch(/^OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: "BAD METHOD" is not an HTTP method token; using the default list$/);
  });
});
