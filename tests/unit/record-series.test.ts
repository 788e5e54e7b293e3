// One check's history over a window from the record's tiers (exporter/record/series.ts and
// views/series.ts), behind the status page's check detail chart: which tier answers which part
// of a window (pure), rows into buckets, and a real SQLite record fed through the write path
// over three days, rolled up and pruned as it would be, read back over 24 h, 7 d and 90 d with
// every run counted once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { CheckRecord } from '../../exporter/record/record.js';
import { bucketRows, checkSeries, planSeries, tierFor, type SeriesRow } from '../../exporter/record/series.js';
import { DAY_MS, HOUR_MS } from '../../exporter/record/tiers.js';
import { bucketView, seriesGrid } from '../../exporter/views/series.js';

const M = 60_000;
const at = (d: number, h = 0, m = 0) => Date.UTC(2026, 10, d, h, m);

describe('tierFor and planSeries', () => {
  it('picks the coarsest tier whose rows fit in a bucket', () => {
    expect([30_000, M, 15 * M, HOUR_MS, 6 * HOUR_MS, DAY_MS].map(tierFor)).toEqual(['raw', 'minute', 'minute', 'hour', 'hour', 'day']);
  });

  // A record as it is at 20 Nov 12:30: days rolled up to the 20th, hours to 11:00, minutes kept a
  // day, hours 30 days, days 90 days.
  const spans = {
    minute: { start: at(19, 12, 31), end: at(20, 12, 31) },
    hour: { start: at(20, 13) - 30 * DAY_MS, end: at(20, 11) },
    day: { start: at(20) - 90 * DAY_MS, end: at(20) },
  };
  const plan = (from: number, to: number, tier: Parameters<typeof planSeries>[2], s: Parameters<typeof planSeries>[3] = spans) =>
    planSeries(from, to, tier, s).map((p) => [p.tier, p.from, p.to]);

  it('90 days in days: day rows, then the hours and minutes not rolled up into days yet', () => {
    expect(plan(at(21) - 90 * DAY_MS, at(21), 'day')).toEqual([
      ['day', at(21) - 90 * DAY_MS, at(20)], ['hour', at(20), at(20, 11)], ['minute', at(20, 11), at(21)]]);
  });

  it('30 and 35 days in hours: hour rows, minutes after them, and whole days before the day the oldest hour row starts in', () => {
    expect(plan(at(21) - 30 * DAY_MS, at(21), 'hour')).toEqual([['hour', at(21) - 30 * DAY_MS, at(20, 11)], ['minute', at(20, 11), at(21)]]);
    // The day the oldest hour row starts in (21 Oct, hours from 13:00) is neither: a day row would count its afternoon twice.
    expect(plan(at(21) - 35 * DAY_MS, at(21), 'hour')).toEqual([
      ['day', at(21) - 35 * DAY_MS, at(20) - 30 * DAY_MS], ['hour', at(20, 13) - 30 * DAY_MS, at(20, 11)], ['minute', at(20, 11), at(21)]]);
  });

  it('24 hours in minutes: minute rows; hours only before the hour the oldest minute row is in', () => {
    expect(plan(at(19, 12, 15), at(20, 12, 45), 'minute')).toEqual([['minute', at(19, 12, 31), at(20, 12, 45)]]);
    expect(plan(at(19, 10), at(20, 12, 45), 'minute')).toEqual([['hour', at(19, 10), at(19, 12)], ['minute', at(19, 12, 31), at(20, 12, 45)]]);
  });

  it('never counts a period twice, whatever the spans', () => {
    for (const tier of ['raw', 'minute', 'hour', 'day'] as const) {
      const pieces = planSeries(at(1), at(25), tier, { ...spans, raw: { start: at(18, 12, 31), end: at(20, 12, 31) } });
      for (let i = 1; i < pieces.length; i++) expect(pieces[i].from, tier).toBeGreaterThanOrEqual(pieces[i - 1].to);
    }
  });

  it('a fresh record (minute rows only) answers every window from its minutes', () => {
    const fresh = { minute: { start: at(20, 12, 1), end: at(20, 12, 31) } };
    for (const tier of ['minute', 'hour', 'day'] as const) expect(plan(at(13), at(21), tier, fresh)).toEqual([['minute', at(20, 12, 1), at(21)]]);
    expect(plan(at(13), at(21), 'hour', {})).toEqual([]);
  });
});

describe('bucketRows', () => {
  const row = (start: number, length: number, worst: number, runs: number, failures: number, rtMaxUs: number): SeriesRow =>
    ({ start, length, runs, failures, ms: [length * 0.75, 0, 0, length * 0.25], worst, rtMaxUs, rtSumUs: runs * 1000 });

  it('spreads a row wider than a bucket over the buckets it covers, counts in proportion', () => {
    const b = bucketRows([row(at(1), DAY_MS, 3, 8640, 40, 90_000)], at(1), 6 * HOUR_MS, 4);
    expect(b.map((x) => x.runs)).toEqual([2160, 2160, 2160, 2160]);
    expect(b.map((x) => x.failures)).toEqual([10, 10, 10, 10]);
    expect(b.every((x) => x.worst === 3 && x.rtMaxUs === 90_000)).toBe(true);
    expect(bucketView(b[0], at(1))).toMatchObject({ worst: 'critical', runs: 2160, up_percent: 75, max_response_time_ms: 90, mean_response_time_ms: 1 });
  });

  it('adds rows and points inside a bucket; leaves out what is outside the window', () => {
    const b = bucketRows([
      row(at(1, 0, 0), M, 0, 6, 0, 10_000), row(at(1, 0, 1), M, 2, 6, 0, 50_000),
      { start: at(1, 0, 2), length: 0, runs: 1, failures: 0, ms: [1, 0, 0, 0], worst: 0, rtMaxUs: 5_000, rtSumUs: 5_000 },
      row(at(1, 0, 20), M, 3, 6, 6, 1), row(at(1) - M, M, 3, 6, 6, 1),
    ], at(1), 15 * M, 1);
    expect(b[0]).toMatchObject({ runs: 13, failures: 0, worst: 2, rtMaxUs: 50_000 });
    const empty = bucketView(bucketRows([], at(1), M, 1)[0], at(1));
    expect(empty).toEqual({ start: new Date(at(1)).toISOString(), worst: null, runs: 0, failures: 0, up_percent: null, max_response_time_ms: null, mean_response_time_ms: null });
  });

  it('lays a window out in buckets aligned to their width, the last one holding now', () => {
    const now = at(20, 12, 34);
    expect(seriesGrid('24h', now)).toEqual({ from: at(19, 12, 45), step: 15 * M, count: 96 });
    expect(seriesGrid('90d', now)).toEqual({ from: at(21) - 90 * DAY_MS, step: DAY_MS, count: 90 });
    expect(seriesGrid('7d', now)).toEqual({ from: at(20, 13) - 7 * DAY_MS, step: HOUR_MS, count: 168 });
  });
});

describe('checkSeries on a real record', () => {
  let dir: string;
  let now: number;
  let r: CheckRecord;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-series-'));
    r = new CheckRecord({ dir, log: createLogger({ level: 'error', write: () => {} }), report: { countWriteError: () => { throw new Error('write error'); } }, now: () => now });
    r.configure({ rawMs: 48 * HOUR_MS, rollupMs: 90 * DAY_MS, minuteMs: DAY_MS, hourMs: 30 * DAY_MS });
  });
  afterEach(async () => {
    await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const result = (t: number, critical: boolean, duration: number): CheckResult => ({
    check: 'api', ok: !critical, status: critical ? 'critical' : 'healthy', violations: [], duration, samples: [], attempts: 1, startedAt: t - 5, finishedAt: t,
  });

  it('reads three days back over 24 h, 7 d and 90 d: each run once, the outage in its hour and day, rolled up and pruned as it would be', async () => {
    const start = at(1);
    const end = at(4, 1, 30);
    const bad: [number, number] = [at(2, 5), at(2, 5, 30)];
    const times: number[] = [];
    for (let t = start, k = 0; t < end; t += M, k++) {
      now = t;
      r.addResult(result(t, t >= bad[0] && t < bad[1], t >= bad[0] && t < bad[1] ? 0.9 : 0.02 + (k % 10) / 1000), 3 * M);
      times.push(t);
      if (k % 600 === 599) {
        await r.flush();
        while (await r.rollUp(1_000) > 0) { /* everything due */ }
        while (await r.prune(1_000) > 0) { /* everything past its retention */ }
      }
    }
    now = end;
    await r.flush();
    while (await r.rollUp(1_000) > 0) { /* everything due */ }
    while (await r.prune(1_000) > 0) { /* everything past its retention */ }

    const read = async (window: '24h' | '7d' | '90d', windowFrom?: number) => {
      const g = seriesGrid(window, now);
      return { g, s: (await r.read((sql) => checkSeries(sql, 'api', g.from, g.step, g.count, windowFrom)))! };
    };
    const sum = (xs: Array<{ runs: number }>) => xs.reduce((a, b) => a + b.runs, 0);

    // 90 days in days: day rows for the 1st to the 3rd, today from hours and minutes.
    const d = await read('90d');
    expect(d.s.pieces.map((p) => p.tier)).toEqual(['day', 'hour', 'minute']);
    expect(sum(d.s.buckets)).toBe(times.length);
    const day = (t: number) => d.s.buckets[(t - d.g.from) / DAY_MS];
    expect(day(at(2))).toMatchObject({ runs: 1440, failures: 30, worst: 3 });
    expect(day(at(1))).toMatchObject({ runs: 1440, failures: 0, worst: 0 });
    expect(bucketView(day(at(2)), at(2)).max_response_time_ms).toBe(900);

    // 7 days in hours: the outage is its own hour.
    const w = await read('7d');
    expect(w.s.pieces.map((p) => p.tier)).toEqual(['hour', 'minute']);
    expect(sum(w.s.buckets)).toBe(times.length);
    const hour = w.s.buckets[(at(2, 5) - w.g.from) / HOUR_MS];
    expect(hour).toMatchObject({ runs: 60, failures: 30, worst: 3 });
    expect(bucketView(hour, at(2, 5)).up_percent).toBe(50);
    expect(w.s.buckets[(at(2, 6) - w.g.from) / HOUR_MS]).toMatchObject({ runs: 60, failures: 0, worst: 0 });

    // 24 h in quarter hours: minute rows (kept a day), the older edge from whole hours.
    const q = await read('24h');
    expect(q.s.pieces.map((p) => p.tier)).toContain('minute');
    expect(sum(q.s.buckets)).toBe(times.filter((t) => t >= q.g.from).length);
    // The window's total: exactly the runs of the last 24 h (the grid starts up to a bucket earlier).
    const exact = await read('24h', now - DAY_MS);
    expect(exact.s.total.runs).toBe(times.filter((t) => t >= now - DAY_MS).length);
    expect(d.s.total).toMatchObject({ runs: times.length, failures: 30, worst: 3 });

    expect(await r.read((sql) => checkSeries(sql, 'nope', d.g.from, d.g.step, d.g.count))).toBeUndefined();
  }, 60_000);
});
