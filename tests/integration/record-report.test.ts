// GET /api/v1/report beyond the in-memory ring, against the compiled exporter: a record holding
// three days of a check's history (written through the record's own write path, rolled up into
// hours and days) answers a 72 h report with the availability, runs and response times of all
// three days, while the ring (history.max_points: 100) holds under two hours of them; so does
// the long-window trend (/api/v1/trends without Prometheus). A window the ring holds is still
// answered from the ring.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import { CheckRecord, recordRetentionOf } from '../../exporter/record/record.js';
import { SKETCH_RELATIVE_ERROR } from '../../exporter/record/sketch.js';
import { percentiles } from '../../exporter/health/report-period.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const H = 3_600_000;
const running: RunningExporter[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface ReportCheck {
  name: string; source: string; runs: number; failures: number | null; data_from: string; availability: number;
  seconds_by_status: { healthy: number; critical: number }; response_time_ms: { p50: number; p95: number; max: number } | null;
}

/** Three days of `db` every minute until an hour ago, critical for two hours in the middle, through the write path; rolled up. */
async function seed(dir: string, end: number): Promise<{ durations: number[]; outage: number[] }> {
  let clock = end - 72 * H;
  mkdirSync(dir, { recursive: true });
  const r = new CheckRecord({ dir, log: createLogger({ level: 'error', write: () => {} }), report: { countWriteError: () => { throw new Error('seed write failed'); } }, now: () => clock });
  r.configure(recordRetentionOf({ retention: 90 * 24 * H, raw_retention: 48 * H }));
  const durations: number[] = [];
  const outage = [Math.floor((end - 40 * H) / 60_000) * 60_000 + (end % 60_000), 0];
  outage[1] = outage[0] + 2 * H; // both on the minute grid of the runs below
  for (let t = end - 72 * H, k = 0; t < end - H; t += 60_000, k++) {
    clock = t;
    const critical = t >= outage[0] && t < outage[1];
    // The status changes, as the engine hands them over: the record stores the outage as an incident.
    if (t === outage[0]) r.addStatusChange({ t, check: 'db', component: 'data', from: 'healthy', to: 'critical', reason: 'connect', message: 'refused' });
    if (t === outage[1]) r.addStatusChange({ t, check: 'db', component: 'data', from: 'critical', to: 'healthy' });
    const d = 0.02 + ((k * 7_919) % 200) / 10_000; // 20-40 ms
    durations.push(d);
    r.addResult({ check: 'db', ok: !critical, status: critical ? 'critical' : 'healthy', violations: [], duration: d, samples: [], attempts: 1, startedAt: t - 30, finishedAt: t }, 180_000);
    if (k % 1_000 === 999) await r.flush();
  }
  clock = end;
  await r.flush();
  while (await r.rollUp(1_000) > 0) { /* every hour and day due */ }
  await r.stop();
  return { durations, outage };
}

describe('the report beyond the in-memory ring', () => {
  it('a 72 h report is read from the record\'s rollups: availability, runs, failures and percentiles of all three days', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-report-it-'));
    dirs.push(dir);
    const { durations, outage } = await seed(path.join(dir, 'data'), Date.now());
    const target = net.createServer((c) => c.end());
    servers.push(target);
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const port = (target.address() as net.AddressInfo).port;
    // The live runs must not fail: the test counts the seed's failures, incidents and failing days
    // exactly. A 1 s timeout and one retry: at 500 ms a stall of a loaded CI box was a failure.
    const ex = await startExporter({ dir, config: `history: { max_points: 100 }
checks:\n  - { name: db, type: tcp, host: 127.0.0.1, port: ${port}, interval: 1s, timeout: 1s, retries: 1 }\n` });
    running.push(ex);
    await waitFor(async () => (await fetch(`${ex.url}/-/ready`)).ok, 20_000);

    const from = new Date(Date.now() - 72 * H).toISOString();
    const long = (await (await fetch(`${ex.url}/api/v1/report?from=${from}&check=db`)).json()) as { checks: ReportCheck[]; definitions: Record<string, string> };
    const c = long.checks[0];
    expect(c.source).toBe('record');
    expect(c.runs).toBeGreaterThanOrEqual(71 * 60);
    expect(c.failures).toBe(120);
    expect(c.seconds_by_status.critical).toBeCloseTo(2 * 3_600, -1);
    expect(c.availability).toBeGreaterThan(1 - 2.1 / 71);
    expect(c.availability).toBeLessThan(1 - 1.9 / 72);
    expect(Date.parse(c.data_from)).toBeLessThan(Date.now() - 70 * H);
    const exact = percentiles(durations)!;
    expect(Math.abs(c.response_time_ms!.p95 / 1000 - exact.p95) / exact.p95).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR + 0.01);
    expect(c.response_time_ms!.max).toBeGreaterThanOrEqual(39);
    expect(long.definitions.data).toMatch(/source "record"/);
    // The outage before the restart is the record's stored incident (the ring, refilled with
    // 100 points, knows nothing of it), with the id that opens it at /api/v1/incidents/<id>.
    const incidents = (c as unknown as { incidents: Array<{ start: string; end: string; worst: string; runs: number | null; ongoing: boolean; incident_id: number }> }).incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ start: new Date(outage[0]).toISOString(), end: new Date(outage[1]).toISOString(), worst: 'critical', runs: null, ongoing: false });
    const stored = (await (await fetch(`${ex.url}/api/v1/incidents/${incidents[0].incident_id}`)).json()) as { checks: string[]; started_at: string };
    expect(stored).toMatchObject({ checks: ['db'], started_at: new Date(outage[0]).toISOString() });
    // The status bar's 24 h comes back from the record's minute rollups, not from the 100 runs
    // of the ring: every half hour of the last day up to the seed's end has its 30 runs.
    const status = (await (await fetch(`${ex.url}/api/v1/status`)).json()) as { checks: Array<{ name: string; bar_runs: number[] }> };
    const bar = status.checks.find((x) => x.name === 'db')!.bar_runs;
    expect(bar.slice(1, -4).every((n) => n >= 29)).toBe(true);

    // The CSV table says where the data starts too.
    const csv = await (await fetch(`${ex.url}/api/v1/report?from=${from}&check=db&format=csv`)).text();
    expect(csv.split('\n')[1].split(',')[5]).toBe(c.data_from);

    // The status page's long-window trend (no Prometheus configured) is read from the record too:
    // the day holding the outage is the one below 100 %.
    const trends = (await (await fetch(`${ex.url}/api/v1/trends?window=7d&buckets=7&check=db`)).json()) as
      { source: string; checks: Array<{ source: string; availability: number; trend: Array<{ t: string; availability: number | null }> }> };
    expect(trends.checks[0].source).toBe('record');
    const days = trends.checks[0].trend.filter((p) => p.availability !== null);
    expect(days.length).toBeGreaterThanOrEqual(3);
    const worst = days.reduce((a, p) => (p.availability! < a.availability! ? p : a));
    expect(worst.availability).toBeLessThan(0.95);
    expect(Date.parse(worst.t)).toBeLessThanOrEqual(Date.now() - 38 * H);
    expect(Date.parse(worst.t)).toBeGreaterThan(Date.now() - 40 * H - 24 * H);
    expect(days.filter((p) => p.availability! < 1)).toHaveLength(1);

    // A window the ring holds is answered from the ring.
    const short = (await (await fetch(`${ex.url}/api/v1/report?from=30m&check=db`)).json()) as { checks: ReportCheck[] };
    expect(short.checks[0].source).toBe('memory');
  });
});
