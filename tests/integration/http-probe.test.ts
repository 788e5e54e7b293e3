import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type TestCert } from '../support/certs.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { runOnce, sample } from '../support/checks.js';

let target: HttpTarget;
let tlsTarget: HttpTarget;
let cert: TestCert;

beforeAll(async () => {
  cert = selfSignedCert(10);
  target = await startHttpTarget();
  tlsTarget = await startHttpTarget({ tls: cert });
});
afterAll(async () => {
  await target.close();
  await tlsTarget.close();
});

describe('http probe', () => {
  it('succeeds on 200 and reports phases, status and length', async () => {
    target.set({ status: 200, body: '{"status":"ok"}', delayMs: 0, hang: false });
    const r = await runOnce({ type: 'http', url: `${target.url}/` });
    expect(r.ok).toBe(true);
    expect(r.status).toBe('healthy');
    expect(sample(r, 'status_code')).toBe(200);
    // The target sends no Content-Length (chunked): -1 as blackbox; what was read is the body length.
    expect(sample(r, 'content_length')).toBe(-1);
    expect(sample(r, 'body_length')).toBe(15);
    for (const phase of ['resolve', 'connect', 'tls', 'processing', 'transfer']) {
      expect(sample(r, `duration_${phase}`, { phase })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(r, 'response_time')).toBeGreaterThan(0);
  });

  it('fails on an unexpected status with what was expected and seen', async () => {
    target.set({ status: 500, body: 'boom' });
    const r = await runOnce({ type: 'http', url: `${target.url}/` });
    expect(r).toMatchObject({ ok: false, reason: 'status', status: 'critical', message: 'status 500, expected 2xx' });
    expect(sample(r, 'status_code')).toBe(500);
  });

  it('accepts a configured status list', async () => {
    target.set({ status: 503 });
    const r = await runOnce({ type: 'http', url: `${target.url}/`, expect: { status: [200, 503] } });
    expect(r.ok).toBe(true);
  });

  it('degrades and goes critical on response time thresholds', async () => {
    target.set({ status: 200, delayMs: 150 });
    const warn = await runOnce({ type: 'http', url: `${target.url}/`, thresholds: { response_time: { warning: '100ms', critical: '1s' } } });
    expect(warn.status).toBe('degraded');
    expect(warn.message).toMatch(/^response_time \d+(\.\d+)? ms > warning 100 ms$/);
    const crit = await runOnce({ type: 'http', url: `${target.url}/`, thresholds: { response_time: { warning: '50ms', critical: '100ms' } } });
    expect(crit.status).toBe('critical');
    target.set({ delayMs: 0 });
  });

  it('times out a hanging server at the check timeout', async () => {
    target.set({ hang: true });
    const t0 = Date.now();
    const r = await runOnce({ type: 'http', url: `${target.url}/`, timeout: '300ms', interval: '1s' });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    target.set({ hang: false });
  });

  it('retries before reporting a failure', async () => {
    target.set({ status: 500 });
    const t0 = Date.now();
    const r = await runOnce({ type: 'http', url: `${target.url}/`, retries: 2, retry_delay: '100ms' });
    expect(r.attempts).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    target.set({ status: 200 });
  });

  it('reports connection refused as connect', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const r = await runOnce({ type: 'http', url: `http://127.0.0.1:${port}/` });
    expect(r).toMatchObject({ ok: false, reason: 'connect' });
    expect(r.message).toMatch(/ECONNREFUSED/);
  });

  it('reports an unresolvable host as dns', async () => {
    const r = await runOnce({ type: 'http', url: 'http://no-such-host.invalid/' });
    expect(r).toMatchObject({ ok: false, reason: 'dns' });
  });

  it('checks JSON bodies and reports bad JSON', async () => {
    target.set({ status: 200, body: '{"status":"degraded","db":{"ok":true}}' });
    const bad = await runOnce({ type: 'http', url: `${target.url}/`, expect: { json: [{ path: '$.status', equals: 'healthy' }] } });
    expect(bad).toMatchObject({ ok: false, reason: 'assertion', message: '$.status = "degraded", expected "healthy"' });
    const good = await runOnce({ type: 'http', url: `${target.url}/`, expect: { json: [{ path: '$.db.ok', equals: true }] } });
    expect(good.ok).toBe(true);
    target.set({ body: '<html>oops' });
    const notJson = await runOnce({ type: 'http', url: `${target.url}/`, expect: { json: [{ path: '$.status', exists: true }] } });
    expect(notJson).toMatchObject({ ok: false, reason: 'assertion' });
    expect(notJson.message).toMatch(/^body is not valid JSON/);
  });

  it('matches body regexes and enforces the body size limit', async () => {
    target.set({ body: 'all systems go' });
    expect((await runOnce({ type: 'http', url: `${target.url}/`, expect: { body_regex: 'systems go' } })).ok).toBe(true);
    expect((await runOnce({ type: 'http', url: `${target.url}/`, expect: { body_not_regex: 'systems' } })).ok).toBe(false);
    target.set({ body: 'x'.repeat(5000) });
    const big = await runOnce({ type: 'http', url: `${target.url}/`, max_body_bytes: 1000, expect: { body_regex: 'x' } });
    expect(big).toMatchObject({ ok: false, reason: 'assertion' });
    expect(big.message).toMatch(/max_body_bytes/);
  });

  describe('bodies are read only up to max_body_bytes', () => {
    // A 5 MB body streamed from one chunk; `written` says how much left before the probe hung up.
    let written = 0;
    const stream = (withLength: boolean): http.RequestListener => (_req, res) => {
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const total = 5 * 1024 * 1024;
      res.writeHead(200, withLength ? { 'content-length': String(total) } : {});
      written = 0;
      const pump = () => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    };
    beforeAll(() => {
      target.route('/stream', stream(true));
      target.route('/stream-chunked', stream(false));
      target.route('/redirect-with-body', (_req, res) => {
        res.writeHead(302, { location: '/', 'content-length': String(5 * 1024 * 1024) });
        res.write(Buffer.alloc(1024, 'x')); // and never more: a follower must not wait for it
      });
    });

    const cases = [
      { name: 'without an assertion: stops at the limit, reports Content-Length, succeeds', path: '/stream', fields: {}, ok: true, length: 5 * 1024 * 1024 },
      { name: 'without an assertion, chunked: reports what was read', path: '/stream-chunked', fields: {}, ok: true, length: undefined },
      { name: 'with an assertion: Content-Length over the limit fails before reading', path: '/stream', fields: { expect: { body_regex: 'x' } }, ok: false, message: 'body exceeds max_body_bytes 64KiB (Content-Length 5242880)' },
      { name: 'with an assertion, chunked: fails once the limit is passed', path: '/stream-chunked', fields: { expect: { body_regex: 'y' } }, ok: false, message: /^body exceeds max_body_bytes 64KiB \(stopped after \d+ bytes\)$/ },
    ];
    it.each(cases)('$name', async ({ path, fields, ok, length, message }) => {
      const r = await runOnce({ type: 'http', url: `${target.url}${path}`, max_body_bytes: '64KiB', ...fields });
      expect(r.ok, r.message).toBe(ok);
      if (message) expect(r).toMatchObject({ reason: 'assertion', message });
      const read = sample(r, length === undefined ? 'body_length' : 'content_length')!;
      if (ok && length !== undefined) expect(read).toBe(length);
      if (ok && length === undefined) expect(read).toBeGreaterThanOrEqual(64 * 1024);
      if (ok) expect(read).toBeLessThan(5 * 1024 * 1024 + 1);
      // The probe hung up early: the target could not write the whole body.
      await new Promise((r) => setTimeout(r, 50));
      expect(written).toBeLessThan(5 * 1024 * 1024);
    });

    it('a failing status does not read the body for its assertions', async () => {
      target.route('/big-error', (_req, res) => { res.writeHead(500, { 'content-length': String(5 * 1024 * 1024) }); res.write('x'); });
      const r = await runOnce({ type: 'http', url: `${target.url}/big-error`, max_body_bytes: '64KiB', expect: { body_regex: 'x' } });
      expect(r).toMatchObject({ ok: false, reason: 'status', message: 'status 500, expected 2xx' });
      expect(sample(r, 'content_length')).toBe(5 * 1024 * 1024);
    });

    it('the body of a redirect being followed is not read at all', async () => {
      target.set({ status: 200, body: 'all systems go', delayMs: 0, hang: false });
      const r = await runOnce({ type: 'http', url: `${target.url}/redirect-with-body`, max_body_bytes: '1KiB', expect: { body_regex: 'systems go' }, timeout: '2s' });
      expect(r.ok, r.message).toBe(true);
      expect(sample(r, 'redirects')).toBe(1);
    });

    it('HEAD reports the declared length', async () => {
      target.route('/head', (_req, res) => { res.writeHead(200, { 'content-length': '1234' }); res.end(); });
      const r = await runOnce({ type: 'http', url: `${target.url}/head`, method: 'HEAD' });
      expect(r.ok).toBe(true);
      expect(sample(r, 'content_length')).toBe(1234);
    });
  });

  it('follows redirects and counts them, or refuses to', async () => {
    target.route('/old', (_req, res) => { res.writeHead(302, { location: '/' }); res.end(); });
    target.set({ status: 200, body: 'ok' });
    const r = await runOnce({ type: 'http', url: `${target.url}/old` });
    expect(r.ok).toBe(true);
    expect(sample(r, 'redirects')).toBe(1);
    const noFollow = await runOnce({ type: 'http', url: `${target.url}/old`, follow_redirects: false });
    expect(noFollow).toMatchObject({ ok: false, message: 'status 302, expected 2xx' });
  });

  describe('series as blackbox_exporter writes them', () => {
    const closedPort = () => new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const noResponse = { status_code: 0, content_length: 0, body_length: 0, redirects: 0, ssl: 0, http_version: 0, failed_due_to_regex: 0 };
    const values = (r: Awaited<ReturnType<typeof runOnce>>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, sample(r, k)]));

    it('a closed port, a TLS failure and an unknown name still write every family, at 0', async () => {
      const refused = await runOnce({ type: 'http', url: `http://127.0.0.1:${await closedPort()}/` });
      const badTls = await runOnce({ type: 'http', url: `${tlsTarget.url}/` });
      for (const r of [refused, badTls]) {
        expect(r.ok).toBe(false);
        expect(values(r, Object.keys(noResponse))).toEqual(noResponse);
        // The address resolved: 127.0.0.1, its FNV-1a hash as blackbox computes it.
        expect(values(r, ['ip_protocol', 'ip_addr_hash', 'dns_lookup_time'])).toEqual({ ip_protocol: 4, ip_addr_hash: 3668918509, dns_lookup_time: 0 });
        expect(r.samples.filter((s) => s.metric === 'probe_http_duration_seconds')).toHaveLength(5);
      }
      const nx = await runOnce({ type: 'http', url: 'http://no-such-host.invalid/' });
      expect(nx).toMatchObject({ ok: false, reason: 'dns' });
      expect(values(nx, Object.keys(noResponse))).toEqual(noResponse);
      expect(values(nx, ['ip_protocol', 'ip_addr_hash'])).toEqual({ ip_protocol: 0, ip_addr_hash: 0 });
      expect(sample(nx, 'dns_lookup_time')).toBeGreaterThan(0);
      // A name that never resolved has only the resolve phase.
      expect(nx.samples.filter((s) => s.metric === 'probe_http_duration_seconds').map((s) => s.labels?.phase)).toEqual(['resolve']);
    });

    it('content length is the header (-1 when undeclared); the body read is the uncompressed length, also for a failing status', async () => {
      target.route('/declared', (_req, res) => { res.writeHead(404, { 'content-length': '9' }); res.end('not here!'); });
      target.route('/undeclared', (_req, res) => { res.writeHead(500); res.write('part one, '); res.end('part two'); });
      const declared = await runOnce({ type: 'http', url: `${target.url}/declared` });
      expect(values(declared, ['status_code', 'content_length', 'body_length', 'http_version'])).toEqual({ status_code: 404, content_length: 9, body_length: 9, http_version: 1.1 });
      const undeclared = await runOnce({ type: 'http', url: `${target.url}/undeclared` });
      expect(values(undeclared, ['status_code', 'content_length', 'body_length'])).toEqual({ status_code: 500, content_length: -1, body_length: 18 });
    });

    it('a redirect not followed counts 1 and its body is not read', async () => {
      target.route('/moved', (_req, res) => { res.writeHead(301, { location: '/', 'content-length': '3' }); res.end('abc'); });
      const r = await runOnce({ type: 'http', url: `${target.url}/moved`, follow_redirects: false });
      expect(r).toMatchObject({ ok: false, reason: 'status' });
      expect(values(r, ['status_code', 'redirects', 'content_length', 'body_length'])).toEqual({ status_code: 301, redirects: 1, content_length: 3, body_length: 0 });
    });

    it('a body over max_body_bytes still reports the response (status, lengths, phases)', async () => {
      target.route('/large', (_req, res) => { res.writeHead(200, { 'content-length': '5000' }); res.end('x'.repeat(5000)); });
      const r = await runOnce({ type: 'http', url: `${target.url}/large`, max_body_bytes: 1000, expect: { body_regex: 'x' } });
      expect(r).toMatchObject({ ok: false, reason: 'assertion', message: 'body exceeds max_body_bytes 1000B (Content-Length 5000)' });
      expect(values(r, ['status_code', 'content_length', 'http_version'])).toEqual({ status_code: 200, content_length: 5000, http_version: 1.1 });
      expect(sample(r, 'duration_processing', { phase: 'processing' })).toBeGreaterThan(0);
    });

    it('a body regex that fails sets probe_failed_due_to_regex', async () => {
      target.set({ status: 200, body: 'all systems go' });
      const miss = await runOnce({ type: 'http', url: `${target.url}/`, expect: { body_regex: 'nope' } });
      expect(sample(miss, 'failed_due_to_regex')).toBe(1);
      const hit = await runOnce({ type: 'http', url: `${target.url}/`, expect: { body_regex: 'systems' } });
      expect(sample(hit, 'failed_due_to_regex')).toBe(0);
    });

    it('TLS: version, leaf certificate and the last chain (Go\'s zero time when not verified)', async () => {
      const r = await runOnce({ type: 'http', url: `${tlsTarget.url}/`, tls: { insecure_skip_verify: true } });
      expect(sample(r, 'ssl')).toBe(1);
      expect(r.samples.find((s) => s.metric === 'probe_tls_version_info')?.labels).toEqual({ version: 'TLS 1.3' });
      expect(sample(r, 'last_chain_expiry')).toBe(-62135596800);
      const leaf = r.samples.find((s) => s.metric === 'probe_ssl_last_chain_info')!.labels!;
      expect(leaf).toMatchObject({ subject: 'CN=localhost', issuer: 'CN=localhost', subjectalternative: 'localhost' });
      expect(leaf.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  it('extracts numeric response headers with thresholds (rate limits)', async () => {
    target.set({ status: 200, body: 'ok', headers: { 'x-ratelimit-remaining': '42', 'x-ratelimit-limit': '5000' } });
    const r = await runOnce({
      type: 'http', url: `${target.url}/`,
      extract_headers: [{ header: 'X-RateLimit-Remaining', name: 'rate_limit_remaining' }],
      thresholds: { rate_limit_remaining: { warning: 100, critical: 10, direction: 'below' } },
    });
    expect(r.samples.find((s) => s.key === 'rate_limit_remaining')).toMatchObject({ metric: 'vigil_http_header_value', value: 42, labels: { header: 'X-RateLimit-Remaining' } });
    expect(r.status).toBe('degraded');
    target.set({ headers: {} });
  });

  it('sends method, headers and body', async () => {
    let seen: { method?: string; auth?: string; body?: string } = {};
    target.route('/echo', (req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { seen = { method: req.method, auth: req.headers.authorization, body }; res.end('ok'); });
    });
    const r = await runOnce({ type: 'http', url: `${target.url}/echo`, method: 'POST', headers: { Authorization: 'Bearer abc' }, body: '{"ping":1}' });
    expect(r.ok).toBe(true);
    expect(seen).toEqual({ method: 'POST', auth: 'Bearer abc', body: '{"ping":1}' });
  });

  it('rejects a self-signed certificate as tls, unless verification is off', async () => {
    const r = await runOnce({ type: 'http', url: `${tlsTarget.url}/` });
    expect(r).toMatchObject({ ok: false, reason: 'tls' });
    const insecure = await runOnce({ type: 'http', url: `${tlsTarget.url}/`, tls: { insecure_skip_verify: true } });
    expect(insecure.ok).toBe(true);
    expect(sample(insecure, 'duration_tls', { phase: 'tls' })).toBeGreaterThan(0);
    // The cert is valid for 10 days: under the 14-day default warning.
    const expiry = sample(insecure, 'cert_expiry_timestamp')!;
    expect(expiry - Date.now() / 1000).toBeGreaterThan(9 * 86400);
    expect(expiry - Date.now() / 1000).toBeLessThan(11 * 86400);
    expect(insecure.status).toBe('degraded');
    expect(insecure.message).toMatch(/^cert_expires_in \d+(\.\d+)? d < warning 14 d$/);
  });

  it('sends SNI for host names and server_name, none for IP literals, and uses the default ports', async () => {
    const seen: Array<string | false> = [];
    const server = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => res.end('ok'));
    server.on('secureConnection', (s) => seen.push(s.servername ?? false));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const tls = { insecure_skip_verify: true };
      expect((await runOnce({ type: 'http', url: `https://localhost:${port}/`, tls })).ok).toBe(true);
      expect((await runOnce({ type: 'http', url: `https://127.0.0.1:${port}/`, tls: { ...tls, server_name: 'api.example.internal' } })).ok).toBe(true);
      expect((await runOnce({ type: 'http', url: `https://127.0.0.1:${port}/`, tls })).ok).toBe(true);
      expect(seen).toEqual(['localhost', 'api.example.internal', false]);
    } finally {
      await new Promise((r) => server.close(r));
    }
    // No explicit port: 80 for http. Nothing listens there on a test box, so the refused connect names it.
    const r = await runOnce({ type: 'http', url: 'http://127.0.0.1/', timeout: '1s' });
    if (!r.ok) expect(r.message).toMatch(/127\.0\.0\.1:80\b/);
  });

  it('opens a fresh connection on every run, as blackbox_exporter does', async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', () => { connections++; });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      for (let i = 0; i < 3; i++) expect((await runOnce({ type: 'http', url })).ok).toBe(true);
      expect(connections).toBe(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('never leaks URL credentials into messages', async () => {
    const r = await runOnce({ type: 'http', url: 'http://user:pa55word@no-such-host.invalid/' });
    expect(r.ok).toBe(false);
    expect(r.message).not.toContain('pa55word');
  });
});

describe('http probe against servers that are not Node\'s', () => {
  /** A TCP server that answers every connection with `answer` (written in pieces, then closed unless told not to). */
  async function rawServer(answer: (sock: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.once('data', () => answer(sock));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    };
  }
  const dribble = async (sock: net.Socket, text: string) => {
    for (const ch of text) {
      sock.write(ch);
      await new Promise((r) => setTimeout(r, 1));
    }
  };

  it('reads a response sent a byte at a time with bare LF line ends, after an interim 100', async () => {
    const server = await rawServer(async (sock) => {
      await dribble(sock, 'HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX-Queue-Depth: 7\n\n3\nall\n3\n-ok\n0\n\n');
      sock.end();
    });
    try {
      const r = await runOnce({ type: 'http', url: server.url, expect: { body_regex: '^all-ok$' }, extract_headers: [{ header: 'X-Queue-Depth', name: 'depth' }] });
      expect(r).toMatchObject({ ok: true, status: 'healthy' });
      expect(sample(r, 'status_code')).toBe(200);
      expect(sample(r, 'body_length')).toBe(6);
      expect(sample(r, 'content_length')).toBe(-1);
      expect(sample(r, 'depth', { header: 'X-Queue-Depth' })).toBe(7);
    } finally {
      await server.close();
    }
  });

  it('keeps a body that spans many reads intact for its assertions', async () => {
    // ~400 KB in pieces of 7 KB: each read lands in the probe's shared read buffer, so a kept
    // body that were not copied out of it would read back as the last piece repeated.
    const items = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `item-${i}`, pad: 'x'.repeat(80) }));
    const body = JSON.stringify({ first: 'alpha', items, last: 'omega' });
    const server = await rawServer(async (sock) => {
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
      for (let at = 0; at < body.length; at += 7000) {
        sock.write(body.slice(at, at + 7000));
        await new Promise((r) => setTimeout(r, 1));
      }
      sock.end();
    });
    try {
      const r = await runOnce({ type: 'http', url: server.url, expect: { body_regex: '^\\{"first":"alpha","items":\\[\\{"id":0,', json: [{ path: '$.last', equals: 'omega' }, { path: '$.items[3999].name', equals: 'item-3999' }] } });
      expect(r).toMatchObject({ ok: true });
      expect(sample(r, 'body_length')).toBe(Buffer.byteLength(body));
    } finally {
      await server.close();
    }
  });

  it('fails a reply that is not HTTP, naming what came back', async () => {
    const server = await rawServer((sock) => sock.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    try {
      const r = await runOnce({ type: 'http', url: server.url });
      expect(r).toMatchObject({ ok: false, reason: 'error' });
      expect(r.message).toBe(`GET ${server.url.slice(0, -1)}/: HPE_INVALID_CONSTANT: not an HTTP/1.x response: "SSH-2.0-OpenSSH_9.6"`);
      expect(sample(r, 'status_code')).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('fails a body cut short, and a connection closed without a response, as connect errors', async () => {
    const cut = await rawServer((sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'));
    const silent = await rawServer((sock) => sock.end());
    try {
      const r = await runOnce({ type: 'http', url: cut.url, expect: { body_regex: 'x' } });
      expect(r).toMatchObject({ ok: false, reason: 'connect', message: expect.stringContaining('connection closed before the response body ended') });
      const s = await runOnce({ type: 'http', url: silent.url });
      expect(s).toMatchObject({ ok: false, reason: 'connect', message: expect.stringContaining('socket hang up') });
    } finally {
      await cut.close();
      await silent.close();
    }
  });

  it('fails headers past Node\'s header size limit without buffering more', async () => {
    const server = await rawServer((sock) => {
      sock.write('HTTP/1.1 200 OK\r\n');
      // Headers that never end: the probe must stop at the limit, not at its timeout.
      const timer = setInterval(() => { if (!sock.destroyed) sock.write(`X-Pad: ${'a'.repeat(1000)}\r\n`); else clearInterval(timer); }, 1);
      sock.once('close', () => clearInterval(timer));
    });
    try {
      const r = await runOnce({ type: 'http', url: server.url, timeout: '5s' });
      expect(r).toMatchObject({ ok: false, reason: 'error', message: expect.stringContaining('HPE_HEADER_OVERFLOW: response headers exceed') });
      expect(sample(r, 'response_time')).toBeLessThan(4);
    } finally {
      await server.close();
    }
  });
});

describe('tcp probe', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((sock) => {
      sock.on('data', (d) => { if (String(d).startsWith('PING')) sock.write('+PONG\r\n'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('connects and measures', async () => {
    const r = await runOnce({ type: 'tcp', host: '127.0.0.1', port });
    expect(r.ok).toBe(true);
    expect(sample(r, 'duration_connect', { phase: 'connect' })).toBeGreaterThanOrEqual(0);
  });

  it('sends and expects', async () => {
    const r = await runOnce({ type: 'tcp', host: '127.0.0.1', port, send: 'PING\r\n', expect: '^\\+PONG' });
    expect(r.ok).toBe(true);
    const bad = await runOnce({ type: 'tcp', host: '127.0.0.1', port, send: 'PING\r\n', expect: '^NOPE', timeout: '300ms', interval: '1s' });
    expect(bad).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('speaks TLS and reads the certificate', async () => {
    const tls = await startHttpTarget({ tls: cert });
    try {
      const r = await runOnce({ type: 'tcp', host: '127.0.0.1', port: tls.port, tls: { insecure_skip_verify: true } });
      expect(r.ok).toBe(true);
      expect(sample(r, 'cert_expiry_timestamp')).toBeGreaterThan(Date.now() / 1000);
      const strict = await runOnce({ type: 'tcp', host: '127.0.0.1', port: tls.port, tls: true });
      expect(strict).toMatchObject({ ok: false, reason: 'tls' });
    } finally {
      await tls.close();
    }
  });
});

