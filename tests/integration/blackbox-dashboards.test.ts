// Dashboards built for blackbox_exporter (issue 15), their queries stored as fixtures written
// from the public definitions (fixtures/blackbox-dashboards.json), run on a live Prometheus that
// scrapes the real blackbox_exporter (the standard /probe relabeling) and Vigil through the
// shipped prometheus.yml's vigil-probes job: every panel that has data for a blackbox target
// has data for the Vigil check probing the same target, and the variables and the mixin's
// status map show one row per check with its own status.
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlackbox, type RunningBlackbox } from '../support/blackbox.js';
import { selfSignedCert } from '../support/certs.js';
import { startDns, TYPES } from '../support/dns.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { writePrometheusTestConfig } from '../support/prometheus-config.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

interface Fixture {
  dashboards: Array<{ name: string; variables: Record<string, string>; panels: Array<{ title: string; expr: string; summary?: boolean }> }>;
}
const FIXTURE = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/blackbox-dashboards.json'), 'utf8')) as Fixture;

let dir: string;
let web: http.Server;
let secure: https.Server;
let dns: { port: number; close(): void };
let blackbox: RunningBlackbox;
let vigil: RunningExporter;
let prom: RunningPrometheus;
/** The same targets, as each names them: [blackbox instance, Vigil check]. */
let pairs: Array<[string, string]>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-bb-dash-'));
  const cert = selfSignedCert(20);
  web = http.createServer((req, res) => {
    res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-length': '3' });
    res.end('ok\n');
  });
  secure = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => res.end('ok\n'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  dns = await startDns({ 'api.example.test': [{ type: TYPES.A, data: Buffer.from([10, 0, 0, 7]) }] });
  const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const tlsUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}/`;
  const tcp = base.slice('http://'.length);
  const dnsServer = `127.0.0.1:${dns.port}`;
  pairs = [[`${base}/ok`, 'web-ok'], [`${base}/fail`, 'web-fail'], [tlsUrl, 'web-tls'], [tcp, 'tcp-port'], [dnsServer, 'dns-a']];

  [blackbox, vigil] = await Promise.all([
    startBlackbox(`
modules:
  http_2xx: { prober: http, timeout: 2s }
  http_insecure: { prober: http, timeout: 2s, http: { tls_config: { insecure_skip_verify: true } } }
  tcp_connect: { prober: tcp, timeout: 2s }
  dns_a: { prober: dns, timeout: 2s, dns: { query_name: api.example.test, query_type: A } }
`),
    startExporter({ config: `
defaults: { interval: 1s, timeout: 900ms, retries: 0 }
checks:
  - { name: web-ok, type: http, url: "${base}/ok" }
  - { name: web-fail, type: http, url: "${base}/fail" }
  - { name: web-tls, type: http, url: "${tlsUrl}", tls: { insecure_skip_verify: true } }
  - { name: tcp-port, type: tcp, host: 127.0.0.1, port: ${tcp.split(':')[1]} }
  - { name: dns-a, type: dns, query_name: api.example.test, server: "${dnsServer}" }
` }),
  ]);

  // The shipped vigil and vigil-probes jobs (loopback copy), faster here; blackbox's jobs the standard way.
  const vigilPort = Number(new URL(vigil.url).port);
  const { configFile, config } = await writePrometheusTestConfig({ dir, ports: { vigil: vigilPort, 'vigil-probes': vigilPort }, ruleFiles: [], global: { scrape_interval: '1s', scrape_timeout: '900ms' } });
  for (const job of config.scrape_configs) Object.assign(job, { scrape_interval: '1s', scrape_timeout: '900ms' });
  const bbAddress = new URL(blackbox.url).host;
  const probeJob = (module: string, targets: string[]) => ({
    job_name: `blackbox-${module}`, metrics_path: '/probe', params: { module: [module] },
    static_configs: [{ targets }],
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: bbAddress },
      { target_label: 'job', replacement: 'blackbox' },
    ],
  });
  config.scrape_configs.push(probeJob('http_2xx', [`${base}/ok`, `${base}/fail`]), probeJob('http_insecure', [tlsUrl]), probeJob('tcp_connect', [tcp]), probeJob('dns_a', [dnsServer]));
  writeFileSync(configFile, stringify(config, { lineWidth: 0 }));
  prom = await startPrometheus({ configFile });

  // Both sides scraped at least twice for every target.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const counts = await prom.query('count by (job) (count_over_time(probe_success[1m]) >= 2)');
    const byJob = Object.fromEntries(counts.map((s) => [s.metric.job, Number(s.value[1])]));
    if (byJob.blackbox === pairs.length && byJob['vigil-probes'] === pairs.length) break;
    if (Date.now() > deadline) throw new Error(`targets not scraped in time: ${JSON.stringify(byJob)}\n${prom.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}, 90_000);

afterAll(async () => {
  await Promise.all([prom?.stop(), blackbox?.stop(), vigil?.stop()]);
  web?.closeAllConnections();
  secure?.closeAllConnections();
  await Promise.all([new Promise((r) => web?.close(r)), new Promise((r) => secure?.close(r))]);
  dns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\/g, '\\\\');
const substitute = (expr: string, job: string, instance: string) =>
  expr.replace(/\$job/g, job).replace(/\$(instance|target)/g, escapeRegex(instance));

describe('blackbox dashboards on Vigil (vigil-probes job)', () => {
  it('the instance variable lists one value per check; the status map one row per check with its status', async () => {
    const values = await (await fetch(`${prom.url}/api/v1/label/instance/values?match[]=${encodeURIComponent('probe_success{job="vigil-probes"}')}`)).json() as { data: string[] };
    expect(values.data.sort()).toEqual(pairs.map(([, check]) => check).sort());
    const map = await prom.query('max by (instance) (probe_success{job=~"vigil-probes"})');
    expect(Object.fromEntries(map.map((s) => [s.metric.instance, Number(s.value[1])]))).toEqual({ 'web-ok': 1, 'web-fail': 0, 'web-tls': 1, 'tcp-port': 1, 'dns-a': 1 });
    // The exporter's address is kept, and the check's redacted target joins in.
    const joined = await prom.query('probe_success{job="vigil-probes"} * on (instance) group_left (target) label_replace(vigil_check_info{job="vigil-probes"}, "instance", "$1", "check", "(.+)")');
    expect(joined.find((s) => s.metric.instance === 'web-fail')?.metric).toMatchObject({ target: pairs[1][0], exporter: new URL(vigil.url).host });
  });

  it('7587 (no job variable): its target list has the checks and blackbox\'s targets, no row for the exporter itself', async () => {
    // The vigil job is scraped too (Vigil's rules read it): it must not add the exporter's address.
    await expect.poll(async () => (await prom.query('count(up{job="vigil"} == 1)')).length, { timeout: 30_000 }).toBe(1);
    const values = await (await fetch(`${prom.url}/api/v1/label/instance/values?match[]=probe_success`)).json() as { data: string[] };
    expect(values.data.sort()).toEqual(pairs.flat().sort());
    expect(values.data).not.toContain(new URL(vigil.url).host);
    // Its status panel per $target: one series per check, none summing every check.
    const perTarget = await prom.query('count by (instance) (probe_success)');
    expect(perTarget.every((s) => s.value[1] === '1')).toBe(true);
  });

  for (const d of FIXTURE.dashboards) {
    it(`${d.name}: every panel with data for blackbox has data for Vigil`, async () => {
      const missing: string[] = [];
      let compared = 0;
      for (const panel of d.panels) {
        const runs: Array<[string, string]> = panel.summary ? [['', '']] : pairs;
        for (const [bbInstance, check] of runs) {
          const bb = await prom.query(substitute(panel.expr, 'blackbox', bbInstance));
          if (!bb.length) continue;
          compared++;
          const vg = await prom.query(substitute(panel.expr, 'vigil-probes', check));
          if (!vg.length) missing.push(`${panel.title} (${check || 'summary'})`);
        }
      }
      expect(compared).toBeGreaterThan(d.panels.length / 2);
      expect(missing).toEqual([]);
    });
  }
});
