// Differential test against the real prometheus-blackbox-exporter: the same targets probed by
// both through GET /probe with equivalent modules. Every probe_* family either emits must be in
// the other's answer, with the same series and values (durations within a tolerance).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, startBlackbox, type RunningBlackbox } from '../support/blackbox.js';
import { selfSignedCert } from '../support/certs.js';
import { startDns, TYPES } from '../support/dns.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { freePort } from '../support/ports.js';

const BLACKBOX_CONFIG = `
modules:
  http_2xx: { prober: http, timeout: 5s }
  http_noredirect: { prober: http, timeout: 5s, http: { follow_redirects: false } }
  http_insecure: { prober: http, timeout: 5s, http: { tls_config: { insecure_skip_verify: true } } }
  http_regex: { prober: http, timeout: 5s, http: { fail_if_body_not_matches_regexp: ["no such text"] } }
  tcp_connect: { prober: tcp, timeout: 5s }
  tcp_tls: { prober: tcp, timeout: 5s, tcp: { tls: true, tls_config: { insecure_skip_verify: true } } }
  dns_a: { prober: dns, timeout: 5s, dns: { query_name: api.example.test, query_type: A } }
  dns_nx: { prober: dns, timeout: 5s, dns: { query_name: nope.example.test, query_type: A } }
  icmp: { prober: icmp, timeout: 5s }
`;

const VIGIL_CONFIG = `
server:
  probe:
    allowed_targets: ["127.0.0.1", "*.invalid"]
modules:
  http_2xx: { type: http, timeout: 5s }
  http_noredirect: { type: http, timeout: 5s, follow_redirects: false }
  http_insecure: { type: http, timeout: 5s, tls: { insecure_skip_verify: true } }
  http_regex: { type: http, timeout: 5s, expect: { body_regex: "no such text" } }
  tcp_connect: { type: tcp, timeout: 5s }
  tcp_tls: { type: tcp, timeout: 5s, tls: { insecure_skip_verify: true } }
  dns_a: { type: dns, timeout: 5s, query_name: api.example.test, record_type: A }
  dns_nx: { type: dns, timeout: 5s, query_name: nope.example.test, record_type: A }
  icmp: { type: icmp, timeout: 5s }
`;

/** Families whose values are durations: equal within a tolerance. */
const DURATIONS = new Set(['probe_duration_seconds', 'probe_http_duration_seconds', 'probe_dns_lookup_time_seconds', 'probe_dns_duration_seconds', 'probe_icmp_duration_seconds']);

let blackbox: RunningBlackbox;
let vigil: RunningExporter;
let web: http.Server;
let secure: https.Server;
let dns: { port: number; close(): void };
let base: string;
let tlsBase: string;
let closed: number;

beforeAll(async () => {
  const cert = selfSignedCert(20);
  const body = 'all systems go\n';
  web = http.createServer((req, res) => {
    switch (req.url) {
      case '/ok': res.writeHead(200, { 'content-length': String(body.length) }); return res.end(body);
      case '/404': res.writeHead(404, { 'content-length': '10' }); return res.end('not found\n');
      case '/500': res.writeHead(500); return res.end('internal error\n');
      case '/redirect': res.writeHead(302, { location: '/ok', 'content-length': '0' }); return res.end();
      case '/slow': return setTimeout(() => { res.writeHead(200, { 'content-length': '5' }); res.end('slow\n'); }, 300);
      case '/chunked': res.writeHead(200); res.write('first part, '); return setTimeout(() => res.end('second part\n'), 20);
      default: res.writeHead(404); return res.end();
    }
  });
  secure = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => { res.writeHead(200, { 'content-length': '3' }); res.end('ok\n'); });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  tlsBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  closed = await freePort();
  dns = await startDns({ 'api.example.test': [{ type: TYPES.A, data: Buffer.from([10, 0, 0, 7]) }, { type: TYPES.A, data: Buffer.from([10, 0, 0, 8]) }] });
  [blackbox, vigil] = await Promise.all([startBlackbox(BLACKBOX_CONFIG), startExporter({ config: VIGIL_CONFIG })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([blackbox?.stop(), vigil?.stop()]);
  web?.closeAllConnections();
  secure?.closeAllConnections();
  await Promise.all([new Promise((r) => web?.close(r)), new Promise((r) => secure?.close(r))]);
  dns?.close();
});

async function probe(url: string, module: string, target: string): Promise<Map<string, Map<string, number>>> {
  const res = await fetch(`${url}/probe?module=${module}&target=${encodeURIComponent(target)}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '10' }, signal: AbortSignal.timeout(15_000) });
  expect(res.status, await res.clone().text()).toBe(200);
  return parseExposition(await res.text());
}

const cases: Array<{ name: string; module: string; target: () => string; success: 0 | 1 }> = [
  { name: '200', module: 'http_2xx', target: () => `${base}/ok`, success: 1 },
  { name: '404', module: 'http_2xx', target: () => `${base}/404`, success: 0 },
  { name: '500 (chunked error body)', module: 'http_2xx', target: () => `${base}/500`, success: 0 },
  { name: 'redirect followed', module: 'http_2xx', target: () => `${base}/redirect`, success: 1 },
  { name: 'redirect not followed', module: 'http_noredirect', target: () => `${base}/redirect`, success: 0 },
  { name: 'slow', module: 'http_2xx', target: () => `${base}/slow`, success: 1 },
  { name: 'chunked body', module: 'http_2xx', target: () => `${base}/chunked`, success: 1 },
  { name: 'regex fail', module: 'http_regex', target: () => `${base}/ok`, success: 0 },
  { name: 'self-signed TLS, verified', module: 'http_2xx', target: () => `${tlsBase}/`, success: 0 },
  { name: 'self-signed TLS, not verified', module: 'http_insecure', target: () => `${tlsBase}/`, success: 1 },
  { name: 'closed port', module: 'http_2xx', target: () => `http://127.0.0.1:${closed}/`, success: 0 },
  { name: 'NXDOMAIN', module: 'http_2xx', target: () => 'http://no-such-host.invalid/', success: 0 },
  { name: 'TCP', module: 'tcp_connect', target: () => base.slice('http://'.length), success: 1 },
  { name: 'TCP closed port', module: 'tcp_connect', target: () => `127.0.0.1:${closed}`, success: 0 },
  { name: 'TCP+TLS', module: 'tcp_tls', target: () => tlsBase.slice('https://'.length), success: 1 },
  { name: 'DNS A', module: 'dns_a', target: () => `127.0.0.1:${dns.port}`, success: 1 },
  { name: 'DNS NXDOMAIN', module: 'dns_nx', target: () => `127.0.0.1:${dns.port}`, success: 0 },
  { name: 'ICMP echo', module: 'icmp', target: () => '127.0.0.1', success: 1 },
];

describe('Vigil /probe against blackbox_exporter /probe', () => {
  it.each(cases)('$name: the same probe_* families, series and values', async ({ module, target, success }) => {
    const [bb, vg] = await Promise.all([probe(blackbox.url, module, target()), probe(vigil.url, module, target())]);
    const probeFamilies = (m: Map<string, unknown>) => [...m.keys()].filter((f) => f.startsWith('probe_')).sort();
    expect(probeFamilies(vg)).toEqual(probeFamilies(bb));
    expect(bb.get('probe_success')!.get('')).toBe(success);
    const diffs: string[] = [];
    for (const family of probeFamilies(bb)) {
      const b = bb.get(family)!;
      const v = vg.get(family)!;
      expect([...v.keys()].sort(), family).toEqual([...b.keys()].sort());
      for (const [labels, bv] of b) {
        const vv = v.get(labels)!;
        // Durations: both measure the same loopback exchange, each with its own overheads.
        const ok = DURATIONS.has(family) ? Math.abs(vv - bv) <= 0.25 + 0.5 * Math.max(vv, bv) : vv === bv;
        if (!ok) diffs.push(`${family}${labels}: blackbox ${bv}, vigil ${vv}`);
      }
    }
    expect(diffs).toEqual([]);
    if (process.env.PARITY_DUMP) console.log(JSON.stringify({ module, bb: [...bb].map(([f, s]) => [f, [...s]]) }));
  });
});
