// Several Vigil instances behind one Prometheus and one Alertmanager (issue 18), all real
// processes: an HA pair (two exporters, one config), three shards of one config sharing a
// PostgreSQL record, and two locations that see one target differently. The shipped rules
// (group intervals cut to 1 s) and the shipped scrape jobs (scraped every second) run on a real
// Prometheus; Alertmanager notifies a webhook sink, one notification per alert group. Every
// failure is driven by stopping a target or killing an instance.
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../exporter/config/scale.js';
import { REPO_ROOT } from '../support/alertmanager-config.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { writePrometheusTestConfig } from '../support/prometheus-config.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { startHttpSink, type HttpSink } from '../support/sinks.js';

const SHARD_CHECKS = Array.from({ length: 12 }, (_, i) => `shard-${i}`);
const FAST = 'interval: 1s, timeout: 900ms, retries: 0';

let dir: string;
let target: http.Server;
/** Paths of the target that answer 500 instead of 200. */
const failing = new Set<string>(['/ha']);
let pg: PostgresServer;
let sink: HttpSink;
let am: RunningAlertmanager;
let prom: RunningPrometheus;
const ha: RunningExporter[] = [];
const shards: RunningExporter[] = [];
const geo: Record<'eu' | 'us', RunningExporter> = {} as never;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** The repo's rules with every group evaluated each second. */
function fastRules(into: string): string[] {
  mkdirSync(into, { recursive: true });
  return readdirSync(path.join(REPO_ROOT, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => {
    const doc = parse(readFileSync(path.join(REPO_ROOT, 'rules', f), 'utf8')) as { groups: Array<{ interval?: string }> };
    for (const g of doc.groups) g.interval = '1s';
    writeFileSync(path.join(into, f), stringify(doc, { lineWidth: 0 }));
    return path.join(into, f);
  });
}

interface Notification { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string }
/** Every alert in every webhook notification so far, one entry per (notification, alert). */
const notified = (pred: (a: Notification) => boolean) =>
  sink.on('/hook').flatMap((r) => (r.body.alerts as Notification[]).filter(pred).map((a) => ({ ...a, notification: r })));
const isAlert = (name: string, check: string) => (a: Notification) => a.labels.alertname === name && a.labels.check === check;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-scale-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  target = http.createServer((req, res) => {
    res.writeHead(failing.has(req.url ?? '') ? 500 : 200, { 'content-length': '3' });
    res.end('ok\n');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  cleanups.push(() => { target.closeAllConnections(); return new Promise((r) => target.close(r)); });
  const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  const closed = `http://127.0.0.1:${await freePort()}`;

  [pg, sink] = await Promise.all([startPostgres(), startHttpSink()]);
  cleanups.push(() => pg.stop(), () => sink.close());
  const dsnFile = path.join(dir, 'record.dsn');
  writeFileSync(dsnFile, pg.url);

  const haConfig = `checks:\n  - { name: ha-web, component: shop, type: http, url: "${base}/ha", ${FAST} }\n`;
  const shardConfig = `storage: { type: postgres, dsn_file: "${dsnFile}" }\nchecks:\n${SHARD_CHECKS.map((n) => `  - { name: ${n}, component: fleet, type: http, url: "${base}/ok", ${FAST} }\n`).join('')}`;
  // The same check names in both places; eu's URLs lead nowhere (it cannot see the target).
  const geoConfig = (url: string) => `checks:\n  - { name: geo-any, component: geo, type: http, url: "${url}/geo", quorum: 1, ${FAST} }\n  - { name: geo-both, component: geo2, type: http, url: "${url}/geo", quorum: 2, ${FAST} }\n`;
  const started = await Promise.all([
    startExporter({ config: haConfig, timeoutMs: 90_000 }),
    startExporter({ config: haConfig, timeoutMs: 90_000 }),
    ...[0, 1, 2].map((i) => startExporter({ config: shardConfig, args: ['--shard.count=3', `--shard.index=${i}`], timeoutMs: 90_000 })),
    startExporter({ config: geoConfig(closed), args: ['--location=eu'], timeoutMs: 90_000 }),
    startExporter({ config: geoConfig(base), args: ['--location=us'], timeoutMs: 90_000 }),
  ]);
  for (const e of started) cleanups.push(() => e.stop());
  ha.push(started[0]!, started[1]!);
  shards.push(started[2]!, started[3]!, started[4]!);
  geo.eu = started[5]!;
  geo.us = started[6]!;

  const amConfig = path.join(dir, 'alertmanager.yml');
  writeFileSync(amConfig, stringify({
    // One group per alert: two alerts for one check would be two notifications.
    route: { receiver: 'sink', group_by: ['...'], group_wait: '1s', group_interval: '5s', repeat_interval: '1h' },
    receivers: [{ name: 'sink', webhook_configs: [{ url: `${sink.url}/hook`, send_resolved: true }] }],
  }));
  am = await startAlertmanager({ configFile: amConfig });
  cleanups.push(() => am.stop());

  const ports = started.map((e) => e.port);
  const { configFile, config } = await writePrometheusTestConfig({
    dir: path.join(dir, 'prom'), ports: { vigil: ports, 'vigil-probes': ports, alertmanager: am.port },
    ruleFiles: fastRules(path.join(dir, 'rules')), global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
  });
  for (const job of config.scrape_configs) Object.assign(job, { scrape_interval: '1s', scrape_timeout: '900ms' });
  writeFileSync(configFile, stringify(config, { lineWidth: 0 }));
  prom = await startPrometheus({ configFile, args: ['--rules.alert.resend-delay=1s'] });
  cleanups.push(() => prom.stop());
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

describe('several instances behind one Prometheus and Alertmanager', () => {
  it('shards: each check runs on exactly one shard, and every shard lists the others\' from the shared record', async () => {
    const expected = [0, 1, 2].map((i) => SHARD_CHECKS.filter((n) => shardOf(n, 3) === i).sort());
    for (const part of expected) expect(part.length).toBeGreaterThan(0);
    const served = await Promise.all(shards.map(async (s) => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return [...text.matchAll(/^vigil_check_info\{check="([^"]+)"/gm)].map((m) => m[1]!).sort();
    }));
    expect(served).toEqual(expected);
    // Prometheus sees the union, each check once, with its shard's identity.
    const counted = await waitFor(async () => {
      const r = await prom.query('count by (check) (vigil_check_info{job="vigil", component="fleet"})');
      return r.length === SHARD_CHECKS.length ? r : undefined;
    }, 60_000, 300);
    expect(counted.every((s) => s.value[1] === '1')).toBe(true);

    // Shard 1 of 3's /health: its own checks, and the others' with their recorded status.
    const others = await waitFor(async () => {
      const body = await (await fetch(`${shards[0]!.url}/health`)).json() as { other_shards?: { shard: string; source: string; checks: Array<{ name: string; served_by: string; status: string; last_run: string | null }> } };
      const o = body.other_shards;
      return o && o.checks.every((c) => c.status === 'healthy' && c.last_run) ? o : undefined;
    }, 60_000, 300);
    expect(others.shard).toBe('shard 1 of 3');
    expect(others.source).toBe('record');
    expect(others.checks.map((c) => c.name).sort()).toEqual([...expected[1]!, ...expected[2]!].sort());
    for (const c of others.checks) expect(c.served_by).toBe(`shard ${shardOf(c.name, 3) + 1} of 3`);
    const page = await (await fetch(`${shards[0]!.url}/api/v1/status`)).json() as { checks: Array<{ name: string }>; other_shards: { checks: unknown[] } };
    expect(page.checks.map((c) => c.name).sort()).toEqual(expected[0]);
    expect(page.other_shards.checks).toHaveLength(others.checks.length);

    // Shard 2 of 3 dies: nobody runs its checks, so its down alert is the critical one; shard
    // 1 still lists them, as last recorded.
    shards[1]!.proc.kill('SIGKILL');
    const pending = await waitFor(async () => {
      const a = (await prom.alerts()).filter((x) => x.labels.alertname === 'VigilExporterDown' && x.labels.instance === `127.0.0.1:${shards[1]!.port}`);
      return a.length ? a : undefined;
    }, 60_000, 300);
    expect(pending.map((a) => a.labels.severity)).toEqual(['critical']);
    const after = await (await fetch(`${shards[0]!.url}/health`)).json() as { other_shards: { checks: Array<{ name: string; status: string }> } };
    expect(after.other_shards.checks.filter((c) => expected[1]!.includes(c.name)).map((c) => c.status)).toEqual(expected[1]!.map(() => 'healthy'));
  }, 180_000);

  it('HA pair and locations: one notification per alert; it keeps firing when one instance dies; locations page at their quorum', async () => {
    // Both HA instances see ha-web fail: one alert, one notification, no instance label.
    const [first] = await waitFor(async () => {
      const n = notified((a) => isAlert('VigilCheckCritical', 'ha-web')(a) && a.status === 'firing');
      return n.length ? n : undefined;
    }, 90_000, 300);
    expect(first!.labels).not.toHaveProperty('instance');
    // Only eu fails geo-any (quorum 1): it pages, once; geo-both (quorum 2) does not.
    const [geoAny] = await waitFor(async () => {
      const n = notified((a) => isAlert('VigilCheckCritical', 'geo-any')(a) && a.status === 'firing');
      return n.length ? n : undefined;
    }, 60_000, 300);
    expect(geoAny!.labels).not.toHaveProperty('location');
    expect(geoAny!.annotations.description).toContain('Critical at 1 of 2 locations.');
    // The per-location series are there, one location failing.
    const perLocation = await prom.query('check:vigil_check_critical:last_over_time15s{check="geo-both"}');
    expect(Object.fromEntries(perLocation.map((s) => [s.metric.location, s.value[1]]))).toEqual({ eu: '1', us: '0' });
    expect((await prom.alerts()).filter((a) => a.labels.check === 'geo-both')).toEqual([]);

    // Kill one HA instance, and take the target away from us too.
    ha[1]!.proc.kill('SIGKILL');
    const killedAt = Date.now();
    failing.add('/geo');
    const [geoBoth] = await waitFor(async () => {
      const n = notified((a) => isAlert('VigilCheckCritical', 'geo-both')(a) && a.status === 'firing');
      return n.length ? n : undefined;
    }, 90_000, 300);
    expect(geoBoth!.annotations.description).toContain('Critical at 2 of 2 locations.');
    // Past the 15 s in which the dead instance's last samples still count: still firing.
    await waitFor(async () => (await prom.query(`up{job="vigil", instance="127.0.0.1:${ha[1]!.port}"} == 0`)).length > 0, 30_000, 300);
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 20_000 - Date.now())));
    const active = (await am.alerts()).filter((a) => a.labels.alertname === 'VigilCheckCritical' && a.labels.check === 'ha-web');
    expect(active).toHaveLength(1);
    // One alert (one label set), notified firing once and never resolved: a delivery Alertmanager
    // retried (the sink answered late on a loaded box) repeats the same alert and start.
    const told = (check: string) => [...new Set(notified(isAlert('VigilCheckCritical', check)).map((a) => `${a.status} ${JSON.stringify(a.labels)} since ${a.startsAt}`))];
    expect(told('ha-web')).toHaveLength(1);
    expect(told('geo-any')).toHaveLength(1);
    // The dead instance's twin covers it: a warning, never the critical "nobody watches" page.
    const down = (await prom.alerts()).filter((a) => a.labels.alertname === 'VigilExporterDown' && a.labels.instance === `127.0.0.1:${ha[1]!.port}`);
    expect(down.map((a) => a.labels.severity)).toEqual(['warning']);
    // Nothing of the HA pair's check went stale or doubled in Prometheus either.
    const alerts = (await prom.alerts()).filter((a) => a.labels.check === 'ha-web');
    expect(alerts.map((a) => `${a.labels.alertname} ${a.state}`)).toEqual(['VigilCheckCritical firing']);
  }, 300_000);
});
