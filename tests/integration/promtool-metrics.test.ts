// Every metrics endpoint Vigil serves goes through `promtool check metrics` and must exit 0:
// exit 1 (duplicate or malformed families, silently mis-ingested by Prometheus) and exit 3 (lint,
// e.g. a gauge named *_total) both fail unfiltered CI gates. The endpoints:
// - the exporter's /metrics, with a check of every probe kind, each against a real local service
//   and succeeding (so that each kind's success-path families are in the scrape);
// - the exporter's /probe (blackbox_exporter's endpoint), for a module of every kind it takes,
//   with a target that answers and one that does not;
// - an app's /metrics under vigil/instrument, with either runtime set.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_KINDS, probeTypes } from '../../exporter/probes/index.js';
import { selfSignedCert } from '../support/certs.js';
import { startDns, TYPES } from '../support/dns.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { startInstrumentedApp, type InstrumentedApp } from '../support/instrumented-app.js';
import { startMariaDB, type MariaDBServer } from '../support/mariadb.js';
import { startPm2, type Pm2Daemon } from '../support/pm2.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startPrometheus, freePort, type RunningPrometheus } from '../support/prometheus.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const HEARTBEAT_TOKEN = 'promtool-heartbeat-token-0123';

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return res.text();
}

describe('promtool check metrics: the exporter (/metrics with a check of every probe kind, /probe)', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  let exp: RunningExporter;
  let kinds: string[];
  let checks: string[];
  let moduleKinds: string[];
  /** module -> [a target that answers, one that does not] */
  let probes: Record<string, [string, string]>;

  beforeAll(async () => {
    const target: HttpTarget = await startHttpTarget();
    cleanup.push(() => target.close());
    target.set({ headers: { 'x-ratelimit-remaining': '10' } });
    const tlsTarget = await startHttpTarget({ tls: selfSignedCert(30) });
    cleanup.push(() => tlsTarget.close());
    const dns = await startDns({ 'app.test': [{ type: TYPES.A, data: Buffer.from([127, 0, 0, 1]) }] });
    cleanup.push(() => dns.close());
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => ws.on('message', () => ws.send('pong')));
    await new Promise((r) => wss.once('listening', r));
    cleanup.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
    const smtp = new SMTPServer({ disabledCommands: ['STARTTLS', 'AUTH'], banner: 'mx.test', logger: false });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => smtp.close(() => r(undefined))));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    const wsPort = (wss.address() as { port: number }).port;

    const [pg, maria, redis, pm2, app] = await Promise.all([startPostgres(), startMariaDB(), startRedis(), startPm2(), startInstrumentedApp()]);
    cleanup.push(() => (pg as PostgresServer).stop(), () => (maria as MariaDBServer).stop(), () => (redis as RedisServer).stop(), () => (pm2 as Pm2Daemon).stop(), () => (app as InstrumentedApp).stop());
    await pm2.startApp('web', "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1');");

    const promPort = await freePort();
    const promConfig = path.join(pm2.dir, 'prometheus.yml');
    writeFileSync(promConfig, `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: app\n    static_configs: [ { targets: ['127.0.0.1:${app.metricsPort}'] } ]\n`);
    const prom: RunningPrometheus = await startPrometheus({ configFile: promConfig, port: promPort });
    cleanup.push(() => prom.stop());

    const file = path.join(pm2.dir, 'backup.sql.gz');
    writeFileSync(file, 'backup');
    const deadPort = await freePort();
    probes = {
      http_2xx: [`${target.url}/`, `http://127.0.0.1:${deadPort}/`],
      tls_2xx: [`${tlsTarget.url}/`, `https://127.0.0.1:${deadPort}/`],
      tcp_connect: [`127.0.0.1:${target.port}`, `127.0.0.1:${deadPort}`],
      dns_a: [`127.0.0.1:${dns.port}`, `127.0.0.1:${deadPort}`],
      smtp_banner: [`127.0.0.1:${smtpPort}`, `127.0.0.1:${deadPort}`],
      icmp: ['127.0.0.1', 'no-such-host.invalid'],
      ws_connect: [`ws://127.0.0.1:${wsPort}/`, `ws://127.0.0.1:${deadPort}/`],
    };
    const config = `
defaults: { interval: 1s, retries: 0, timeout: 3s }
server: { probe: { allowed_targets: ["127.0.0.1", "*.invalid"] } }
modules:
  http_2xx: { type: http }
  tls_2xx: { type: http, tls: { insecure_skip_verify: true } }
  tcp_connect: { type: tcp }
  dns_a: { type: dns, query_name: app.test, record_type: A }
  smtp_banner: { type: smtp }
  icmp: { type: icmp }
  ws_connect: { type: websocket }
checks:
  - { name: api, type: http, url: "${target.url}/", extract_headers: [{ header: X-RateLimit-Remaining, name: remaining }], labels: { team: core } }
  - { name: tls, type: http, url: "${tlsTarget.url}/", tls: { insecure_skip_verify: true } }
  - { name: port, type: tcp, host: 127.0.0.1, port: ${target.port} }
  - { name: host, type: system }
  - { name: self, type: process }
  - { name: db, type: postgres, dsn: "${pg.url}" }
  - name: db-figures
    type: sql
    dsn: "${pg.url}"
    queries: [ { name: one, query: "SELECT 1" } ]
  - { name: mariadb, type: mysql, dsn: "${maria.url}" }
  - { name: cache, type: redis, dsn: "${redis.url}" }
  - { name: workers, type: pm2, pm2_home: "${pm2.home}", processes: [web] }
  - { name: nightly, type: heartbeat, period: 1h, grace: 10m, token: "${HEARTBEAT_TOKEN}" }
  - name: app-up
    type: promql
    url: "${prom.url}"
    queries: [ { name: up, query: 'sum(up{job="app"})' } ]
  - name: app-metrics
    type: metrics
    url: "${app.metricsUrl}"
    values: [ { name: requests, mode: rate_per_minute, series: http_server_request_duration_seconds_count } ]
  - { name: backup, type: file, path: "${file}" }
  - { name: app-dns, type: dns, server: "127.0.0.1:${dns.port}", query_name: app.test, record_type: A }
  - { name: live, type: websocket, url: "ws://127.0.0.1:${wsPort}/", send: ping, expect: pong }
  - { name: mail, type: smtp, host: 127.0.0.1, port: ${smtpPort} }
  - { name: ping, type: icmp, host: 127.0.0.1 }
  - { name: app-log, type: log, paths: ["${file}"], patterns: [ { name: error, plain: error } ] }
`;
    const checksPart = config.slice(config.indexOf('\nchecks:'));
    kinds = [...new Set([...checksPart.matchAll(/type: ([a-z0-9_]+)/g)].map((m) => m[1]!))].sort();
    const modulesPart = config.slice(config.indexOf('\nmodules:'), config.indexOf('\nchecks:'));
    moduleKinds = [...new Set([...modulesPart.matchAll(/type: ([a-z0-9_]+)/g)].map((m) => m[1]!))].sort();
    checks = [...config.matchAll(/^ {2}- (?:\{ )?name: ([\w-]+)/gm)].map((m) => m[1]!);
    exp = await startExporter({ config });
    const ping = await fetch(`${exp.url}/api/v1/heartbeats/nightly`, { method: 'POST', headers: { authorization: `Bearer ${HEARTBEAT_TOKEN}` } });
    expect(ping.status).toBeLessThan(300);
    await app.hit('/hello/promtool');
  }, 90_000);

  afterAll(async () => {
    await exp?.stop(); // first: its probes would see the services go away
    await Promise.allSettled(cleanup.map((fn) => Promise.resolve().then(fn)));
  }, 60_000);

  it('covers every probe kind', () => {
    expect(kinds, 'add a check of the new kind to this config').toEqual(probeTypes());
    // /probe serves each kind that takes a target: a kind gaining one needs a module here.
    expect(moduleKinds, 'add a module of the new kind to this config (and its targets to `probes`)').toEqual(PROBE_KINDS.filter((k) => k.target).map((k) => k.type).sort());
  });

  it('exits 0 once every check succeeded (no errors, no lint findings)', async () => {
    const text = await waitFor(async () => {
      const t = await scrape(`${exp.url}/metrics`);
      const failing = [...t.matchAll(/^probe_success\{check="([^"]+)"[^}]*\} 0$/gm)].map((m) => m[1]);
      const ran = [...t.matchAll(/^probe_success\{check="([^"]+)"/gm)].length;
      return ran === checks.length && failing.length === 0 && t;
    }, 30_000, 250).catch(async (err) => {
      const t = await scrape(`${exp.url}/metrics`);
      throw new Error(`${(err as Error).message}; probe_success: ${t.split('\n').filter((l) => l.startsWith('probe_success')).join(' | ')}\n${exp.logs().slice(-3000)}`);
    });
    for (const family of ['probe_ssl_earliest_cert_expiry', 'vigil_system_disk_used_ratio', 'vigil_http_header_value', 'nodejs_active_handles_total']) {
      expect(text, family).toMatch(new RegExp(`^${family}[{ ]`, 'm'));
    }
    const r = promtool(text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('exits 0 for a module of every kind /probe takes, on a target that answers and one that does not', async () => {
    for (const [module, [up, down]] of Object.entries(probes)) {
      for (const [target, success] of [[up, 1], [down, 0]] as const) {
        const text = await scrape(`${exp.url}/probe?module=${module}&target=${encodeURIComponent(target)}`);
        expect(text, `${module} ${target}`).toMatch(new RegExp(`^probe_success ${success}$`, 'm'));
        const r = promtool(text);
        expect(r.output, `${module} ${target}`).toBe('');
        expect(r.status).toBe(0);
      }
    }
  });
});

describe('promtool check metrics: an app under vigil/instrument', () => {
  for (const set of ['otel', 'prom-client'] as const) {
    it(`VIGIL_RUNTIME_METRICS=${set}: exits 0 with requests, outbound calls, errors and app signals recorded`, async () => {
      const app = await startInstrumentedApp({ VIGIL_RUNTIME_METRICS: set });
      try {
        expect(await app.hit('/hello/a')).toBe(200);
        expect(await app.hit('/fail')).toBe(503);
        expect(await app.hit('/outbound')).toBe(200);
        expect(await app.hit('/signals', 'POST')).toBe(200);
        const text = await scrape(app.metricsUrl);
        for (const family of ['http_server_request_duration_seconds', 'http_client_request_duration_seconds', 'vigil_message_deliveries_total', 'target_info']) {
          expect(text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
        }
        expect(text).toMatch(set === 'prom-client' ? /^nodejs_version_info\{/m : /^v8js_memory_heap_used_bytes\{/m);
        const r = promtool(text);
        expect(r.output).toBe('');
        expect(r.status).toBe(0);
      } finally {
        await app.stop();
      }
    });
  }
});
