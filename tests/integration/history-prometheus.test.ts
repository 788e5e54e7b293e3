// history.prometheus_url against a real Prometheus: long windows (7 d / 30 d / 90 d) come from
// the availability recording rules (rules/vigil-availability.yml, loaded as they are but for a
// faster evaluation interval) and equal what the Grafana dashboards' expression gives; when
// Prometheus does not answer in time the record answers, and the answer says so. Scraping cannot
// produce 90 days in a test, so the recordings the rules read (5 m and 1 h availability, 1 h
// latency) are backfilled as TSDB blocks (promtool tsdb create-blocks-from openmetrics).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { PROMETHEUS_BIN, startDaemon, type Daemon } from '../support/prometheus.js';
import { REPO_ROOT } from '../support/alertmanager-config.js';

const H = 3600;
const DAY = 24 * H;
const LABELS = (check: string) => `job="vigil",instance="vigil:9470",check="${check}",component="shop"`;

/** Synthetic history by age: availability 0.99 and 100 ms in the last 7 days, 0.95 and 200 ms before, 0.5 before 30 days (api); site is always up at 50 ms. */
function availabilityAt(check: string, age: number): number {
  if (check === 'site') return 1;
  return age <= 7 * DAY ? 0.99 : age <= 30 * DAY ? 0.95 : 0.5;
}
const durationAt = (check: string, age: number) => (check === 'site' ? 0.05 : age <= 7 * DAY ? 0.1 : 0.2);

function openMetrics(end: number): string {
  const lines: string[] = [];
  const family = (name: string, step: number, span: number, value: (check: string, age: number) => number) => {
    lines.push(`# TYPE ${name} gauge`);
    for (const check of ['api', 'site']) {
      for (let t = end - span; t <= end; t += step) lines.push(`${name}{${LABELS(check)}} ${value(check, end - t)} ${t}`);
    }
  };
  family('check:probe_success:avg_over_time5m', 300, 8 * DAY, availabilityAt);
  family('check:probe_success:avg_over_time1h', H, 92 * DAY, availabilityAt);
  family('check:probe_duration_seconds:avg_over_time1h', H, 92 * DAY, durationAt);
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(bin, args, { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`${bin}: ${err.message} ${stderr}`)) : resolve())));
}

let dir: string;
let prometheus: Daemon;
const exporters: RunningExporter[] = [];
const silent: net.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-history-prom-'));
  const end = Math.floor(Date.now() / 1000 / H) * H; // the last whole hour: 1 h recordings sit on hour boundaries
  writeFileSync(path.join(dir, 'history.om'), openMetrics(end));
  const tsdb = path.join(dir, 'tsdb');
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=2400h', path.join(dir, 'history.om'), tsdb]);
  // The repository's rules, evaluated every 2 s instead of every minute so the test need not wait.
  writeFileSync(path.join(dir, 'vigil-availability.yml'), readFileSync(path.join(REPO_ROOT, 'rules/vigil-availability.yml'), 'utf8').replace(/interval: 1m/g, 'interval: 2s'));
  writeFileSync(path.join(dir, 'prometheus.yml'), 'global:\n  evaluation_interval: 2s\nrule_files:\n  - vigil-availability.yml\n');
  prometheus = await startDaemon('prometheus', PROMETHEUS_BIN, (d) => [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${tsdb}`, '--storage.tsdb.retention.time=200d',
    `--web.listen-address=127.0.0.1:${d.port}`, '--log.level=warn',
  ], { readyTimeoutMs: 60_000 });
  // Wait for the rules' first evaluation over the backfilled data: every window the test reads,
  // for both checks. On a loaded box the first evaluation can come late; the test must not start
  // before it (it would read null where Prometheus has no recording yet).
  const windows = ['7d', '30d', '90d'].map((w) => `check:probe_success:avg_over_time${w}`);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const counts = await Promise.all(windows.map(async (w) => (await query(w)).length));
    if (counts.every((n) => n >= 2)) break;
    if (Date.now() > deadline) throw new Error(`the availability rules did not evaluate within 90 s (series per window: ${counts.join(', ')})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}, 150_000);

afterAll(async () => {
  for (const e of exporters.splice(0)) await e.stop();
  for (const s of silent.splice(0)) s.close();
  await prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

async function exporter(history: string): Promise<RunningExporter> {
  const target = net.createServer((c) => c.end());
  silent.push(target);
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as net.AddressInfo).port;
  const ex = await startExporter({
    config: `history:\n${history}checks:\n  - { name: api, type: tcp, host: 127.0.0.1, port: ${port}, interval: 1s, component: shop }\n  - { name: site, type: tcp, host: 127.0.0.1, port: ${port}, interval: 1s, component: shop }\n`,
  });
  exporters.push(ex);
  return ex;
}

interface TrendsDoc {
  source: string;
  prometheus?: { answered: boolean; error?: string };
  bucket_seconds: number;
  checks: Array<{ name: string; source: string; availability: number | null; response_time_ms: number | null; trend: Array<{ t: string; availability: number | null; response_time_ms: number | null }> }>;
}

const trends = async (ex: RunningExporter, qs: string) => {
  const res = await fetch(`${ex.url}/api/v1/trends?${qs}`, { signal: AbortSignal.timeout(20_000) });
  expect(res.status).toBe(200);
  return (await res.json()) as TrendsDoc;
};

describe('long windows from Prometheus (history.prometheus_url)', () => {
  it('7 d / 30 d / 90 d availability equal the Grafana dashboards\' expression; response times and trends from the hourly recordings', async () => {
    const ex = await exporter(`  prometheus_url: ${prometheus.url}\n  prometheus_selector: job="vigil"\n`);
    const expected = { '7d': 0.99, '30d': (168 * 0.99 + 552 * 0.95) / 720, '90d': (168 * 0.99 + 552 * 0.95 + 1440 * 0.5) / 2160 };
    for (const window of ['7d', '30d', '90d'] as const) {
      const doc = await trends(ex, `window=${window}`);
      expect(doc.source).toBe('prometheus');
      expect(doc.prometheus).toEqual({ answered: true });
      const api = doc.checks.find((c) => c.name === 'api')!;
      expect(api.source).toBe('prometheus');
      // The expression of dashboards/checks.ts' availability table, asked of the same Prometheus.
      const grafana = await query(`max by (component, check) (check:probe_success:avg_over_time${window}{component=~".*", check=~"api"})`);
      expect(api.availability).toBeCloseTo(Number(grafana[0].value[1]), 3);
      expect(api.availability).toBeCloseTo(expected[window], 2);
      expect(doc.checks.find((c) => c.name === 'site')!.availability).toBe(1);
    }
    const d30 = (await trends(ex, 'window=30d')).checks.find((c) => c.name === 'api')!;
    expect(d30.response_time_ms).toBeCloseTo((168 * 100 + 552 * 200) / 720, -1); // within 5 ms
    // 90 daily buckets: the oldest ones at 0.5 and 200 ms, the newest at 0.99 and 100 ms.
    const d90 = await trends(ex, 'window=90d');
    const trend = d90.checks.find((c) => c.name === 'api')!.trend;
    expect(d90.bucket_seconds).toBe(DAY);
    expect(trend).toHaveLength(90);
    expect(trend[5]).toMatchObject({ availability: 0.5, response_time_ms: 200 });
    expect(trend[70]).toMatchObject({ availability: 0.95, response_time_ms: 200 });
    expect(trend[87]).toMatchObject({ availability: 0.99, response_time_ms: 100 });
    expect(Date.parse(trend[1].t) - Date.parse(trend[0].t)).toBe(DAY * 1000);
  });

  it('a Prometheus that does not answer in time: the record answers, within the timeout, and the answer says why', async () => {
    const sockets: net.Socket[] = [];
    const blackhole = net.createServer((s) => sockets.push(s)); // accepts, never answers
    silent.push(blackhole);
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as net.AddressInfo).port;
    const ex = await exporter(`  prometheus_url: http://127.0.0.1:${port}\n  prometheus_timeout: 500ms\n`);
    const started = Date.now();
    const doc = await trends(ex, 'window=7d&check=api');
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const s of sockets) s.destroy();
    expect(doc.source).not.toBe('prometheus');
    expect(doc.checks.map((c) => c.source)).toEqual([doc.source]);
    expect(['record', 'memory']).toContain(doc.source);
    expect(doc.prometheus).toEqual({ answered: false, error: expect.stringMatching(/no answer within 500 ms/) });
    expect(doc.checks[0].trend).toHaveLength(7);
  });

  it('without prometheus_url the record answers; an unknown window is a 400', async () => {
    const ex = await exporter('  retention: 24h\n');
    const doc = await trends(ex, 'window=30d&buckets=10');
    expect(doc.prometheus).toBeUndefined();
    expect(doc.checks.map((c) => c.name).sort()).toEqual(['api', 'site']);
    expect(doc.checks[0].trend).toHaveLength(10);
    expect((await fetch(`${ex.url}/api/v1/trends?window=1y`)).status).toBe(400);
  });
});
