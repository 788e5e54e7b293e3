// The record's hour and day tiers (exporter/record/tiers.ts) and their response-time sketch
// (sketch.ts) on a real SQLite file and a real PostgreSQL (the same cases against both), fed through the real write path (CheckRecord.addResult and
// flush with a moving `now`): hours rolled up from minutes and raw results, days from hours,
// resumed after a restart without double counting, pruned in bounded steps, and read back over
// windows that cross the tiers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import type { CheckResult } from '../../exporter/model/result.js';
import type { Status } from '../../exporter/model/status.js';
import { CheckRecord, PRUNE_STEP, pruneRoundMs, recordRetentionOf, type RecordRetention } from '../../exporter/record/record.js';
import { bucketOf, bucketSql, SKETCH_RELATIVE_ERROR, Sketch } from '../../exporter/record/sketch.js';
import { DayPieceCache, DAY_MS, HOUR_MS, HOUR_SETTLE_MS, planPieces } from '../../exporter/record/tiers.js';
import { percentiles } from '../../exporter/health/report-period.js';
import { DAY_ROW_BYTES, estimateRecordBytes, HOUR_ROW_BYTES, RAW_ROW_BYTES, ROLLUP_ROW_BYTES } from '../../exporter/record/size.js';
import { recordBackends, type RecordBackend } from '../support/record-backends.js';

const M = 60_000;
let dir: string;
let now: number;
let errors: string[];
let open: CheckRecord[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-tiers-'));
  now = Date.UTC(2026, 10, 1, 0, 0, 0);
  errors = [];
  open = [];
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

const backends = recordBackends();
let backend: RecordBackend | undefined;

function record(retention: RecordRetention = { rawMs: 48 * HOUR_MS, rollupMs: 90 * DAY_MS, minuteMs: DAY_MS, hourMs: 30 * DAY_MS }): CheckRecord {
  const r = new CheckRecord({ dir, connect: backend?.connect, log: createLogger({ level: 'error', write: () => {} }), report: { countWriteError: (s) => errors.push(s) }, now: () => now });
  r.configure(retention);
  open.push(r);
  return r;
}

function result(check: string, t: number, status: Status, duration: number): CheckResult {
  const ok = status === 'healthy';
  return { check, ok, status, violations: [], duration, samples: [], attempts: 1, startedAt: t - duration * 1000, finishedAt: t };
}

const rows = <T = Record<string, unknown>>(sql: string, params: Array<number | string> = []) => backend!.rows<T>(sql, params);
const count = async (table: string) => Number(Object.values((await rows(`SELECT count(*) AS n FROM ${table}`))[0])[0]);

/** Run a check every `step` ms over [from, to) through the write path, `now` following; critical during [badFrom, badTo). */
async function feed(r: CheckRecord, check: string, from: number, to: number, step: number, bad?: [number, number]): Promise<number[]> {
  const durations: number[] = [];
  let k = 0;
  for (let t = from; t < to; t += step, k++) {
    const critical = bad && t >= bad[0] && t < bad[1];
    const d = 0.01 + ((k * 7919) % 1000) / 10_000; // 10-110 ms, spread
    durations.push(d);
    now = t;
    r.addResult(result(check, t, critical ? 'critical' : 'healthy', d), 3 * step);
    if (k % 500 === 499) await r.flush();
  }
  await r.flush();
  return durations;
}

/** Roll up everything due at `at`. */
async function rollAll(r: CheckRecord, at: number): Promise<void> {
  now = at;
  while (await r.rollUp(1_000) > 0) { /* until nothing is due */ }
}

describe('the response-time sketch', () => {
  it('answers each percentile within its stated relative error, merged or not, after a round trip', () => {
    const cases: Array<{ name: string; values: number[] }> = [
      { name: 'uniform 1-100 ms', values: Array.from({ length: 5_000 }, (_, i) => 0.001 + ((i * 7919) % 9_901) / 100_000) },
      { name: 'long tail', values: Array.from({ length: 3_000 }, (_, i) => 0.005 * Math.exp(((i * 104_729) % 3_000) / 500)) },
      { name: 'one value', values: [0.25] },
      { name: 'sub-microsecond and huge', values: [0, 1e-7, 0.5, 300] },
    ];
    for (const { name, values } of cases) {
      const a = new Sketch();
      const b = new Sketch();
      values.forEach((v, i) => (i % 2 ? a : b).add(v));
      const merged = Sketch.decode(a.encode());
      merged.mergeEncoded(b.encode());
      expect(merged.total, name).toBe(values.length);
      const exact = percentiles(values)!;
      for (const [q, want] of [[0.5, exact.p50], [0.95, exact.p95], [0.99, exact.p99]] as const) {
        const got = merged.quantile(q)!;
        if (want <= 1e-6) expect(got, `${name} p${q * 100}`).toBeLessThanOrEqual(1e-6);
        else expect(Math.abs(got - want) / want, `${name} p${q * 100}`).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR + 1e-9);
      }
    }
    expect(new Sketch().quantile(0.5)).toBeNull();
    expect(() => Sketch.decode(Buffer.from([0x80]))).toThrow(/truncated/);
  });

  it('is compact: an hour of runs at 10 s with a typical spread takes a few dozen bytes', () => {
    const s = new Sketch();
    for (let i = 0; i < 360; i++) s.add(0.04 + ((i * 31) % 40) / 1_000); // 40-80 ms
    expect(s.encode().length).toBeLessThan(40);
  });
});

describe('planPieces', () => {
  const now = Date.UTC(2026, 10, 20, 12, 30);
  const retention = { minuteMs: DAY_MS, hourMs: 30 * DAY_MS };
  const done = { now, hourDone: Date.UTC(2026, 10, 20, 11), dayDone: Date.UTC(2026, 10, 20), retention };
  const at = (d: number, h = 0, m = 0) => Date.UTC(2026, 10, d, h, m);
  const cases: Array<{ name: string; from: number; to: number; want: Array<[string, number, number]> }> = [
    { name: 'a recent window: whole hours, minutes at both edges and since the last hour rolled up', from: at(20, 2, 10), to: now,
      want: [['minute', at(20, 2, 10), at(20, 3)], ['hour', at(20, 3), at(20, 11)], ['minute', at(20, 11), now]] },
    { name: '7 days: an old edge widened to its hour, whole days, then hours and minutes', from: at(13, 12, 30), to: now,
      want: [['hour', at(13, 12), at(14)], ['day', at(14), at(20)], ['hour', at(20), at(20, 11)], ['minute', at(20, 11), now]] },
    { name: '90 days: an edge older than the hour rows widened to its day', from: at(20, 12, 30) - 90 * DAY_MS, to: now,
      want: [['day', at(20) - 90 * DAY_MS, at(20)], ['hour', at(20), at(20, 11)], ['minute', at(20, 11), now]] },
    { name: 'an old window ending inside an hour: the hour is taken whole', from: at(10), to: at(10, 5, 20),
      want: [['hour', at(10), at(10, 6)]] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(planPieces(c.from, c.to, done).map((p) => [p.tier, p.from, p.to])).toEqual(c.want);
    });
  }
});

describe.each(backends.list)('the hour and day tiers (%s)', { timeout: 120_000 }, (kind) => {
  beforeEach(async () => {
    backend = backends.get(kind);
    await backend.fresh(dir);
  });
  afterEach(() => { backend = undefined; });

  it('rolls finished hours up from minutes and raw results, and days from hours, once settled', async () => {
    const r = record();
    const start = now;
    const durations = await feed(r, 'db', start, start + 26 * HOUR_MS, 30_000, [start + 3 * HOUR_MS, start + 3 * HOUR_MS + 30 * M]);
    await rollAll(r, start + 25 * HOUR_MS + HOUR_SETTLE_MS - 1); // hour 24 not settled yet
    expect(await count('rollup_hour')).toBe(24);
    expect(Number((await rows<{ h: number }>('SELECT max(hour) AS h FROM rollup_hour'))[0].h)).toBe(start / HOUR_MS + 23);
    // Each hour row is its minutes added up; its sketch holds every run of the hour.
    const hours = await rows<Record<string, number | Buffer>>('SELECT * FROM rollup_hour ORDER BY hour');
    const minutes = await rows<Record<string, number>>(`SELECT minute / 60 AS hour, sum(runs) AS runs, sum(failures) AS failures, sum(critical_s) AS critical_s, sum(healthy_s) AS healthy_s,
      sum(rt_sum) AS rt_sum FROM rollup_minute GROUP BY minute / 60 ORDER BY 1`);
    for (const h of hours) {
      const m = minutes.find((x) => Number(x.hour) === Number(h.hour))!;
      expect(h).toMatchObject({ runs: m.runs, failures: m.failures, critical_ms: Math.round(m.critical_s * 1000), healthy_ms: Math.round(m.healthy_s * 1000) });
      expect(Number(h.rt_sum_us)).toBeCloseTo(m.rt_sum * 1e6, -1);
      expect(Sketch.decode(h.sketch as Buffer).total).toBe(m.runs);
    }
    expect(hours[3]).toMatchObject({ runs: 120, failures: 60, critical_ms: 1_800_000 });
    // The day: its 24 hours added up, sketches merged.
    const [day] = await rows<Record<string, number | Buffer>>('SELECT * FROM rollup_day');
    expect(day).toMatchObject({ day: start / DAY_MS, runs: 24 * 120, failures: 60, critical_ms: 1_800_000 });
    expect(Sketch.decode(day.sketch as Buffer).total).toBe(24 * 120);
    const exact = percentiles(durations.slice(0, 24 * 120))!;
    expect(Math.abs(Sketch.decode(day.sketch as Buffer).quantile(0.95)! - exact.p95) / exact.p95).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR);
    expect(errors).toEqual([]);
  });

  it('rolls many checks\' hours in one step, each from its own minutes and runs, none where a check has no data', async () => {
    const r = record();
    const start = now;
    const names = ['a', 'b', 'c', 'd', 'e'];
    const durations = new Map<string, number[]>();
    // e runs in the first hour only; each check at its own interval.
    for (const [k, name] of names.entries()) durations.set(name, await feed(r, name, start, start + (name === 'e' ? 1 : 3) * HOUR_MS, 20_000 + 10_000 * k));
    now = start + 2 * HOUR_MS + HOUR_SETTLE_MS;
    expect(await r.rollUp(3)).toBeGreaterThanOrEqual(3); // three checks' hours in one call
    expect(await count('rollup_hour')).toBe(3);
    await rollAll(r, now);
    const hours = await rows<{ name: string; hour: number; runs: number; sketch: Buffer }>(
      'SELECT c.name, h.hour, h.runs, h.sketch FROM rollup_hour h JOIN checks c ON c.id = h.check_id ORDER BY c.name, h.hour');
    expect(hours.map((h) => `${h.name}${Number(h.hour) - start / HOUR_MS}`)).toEqual(['a0', 'a1', 'b0', 'b1', 'c0', 'c1', 'd0', 'd1', 'e0']);
    for (const h of hours) {
      const k = names.indexOf(h.name);
      const runs = HOUR_MS / (20_000 + 10_000 * k);
      expect(Number(h.runs)).toBe(runs);
      const sketch = Sketch.decode(h.sketch);
      expect(sketch.total).toBe(runs);
      // The database's buckets are the ones the sketch would have counted itself.
      const own = new Sketch();
      const first = (Number(h.hour) - start / HOUR_MS) * runs;
      for (const d of durations.get(h.name)!.slice(first, first + runs)) own.add(Math.round(d * 1e6) / 1e6);
      expect(Array.from(sketch.counts)).toEqual(Array.from(own.counts));
    }
    expect(errors).toEqual([]);
  });

  it('takes an hour\'s response times from the live sketch when this process wrote all of it to vigil.db, without reading its raw results back', async () => {
    const r = record();
    const start = now;
    await r.open(); // before the hour begins
    const durations = await feed(r, 'db', start, start + HOUR_MS, 30_000);
    await feed(r, 'db', start + HOUR_MS, start + HOUR_MS + HOUR_SETTLE_MS, 30_000);
    // The hour's raw results removed behind the record's back: only the live sketch still holds them.
    await r.read((sql) => sql.transaction([{ sql: 'DELETE FROM results WHERE t < ?', params: [start + HOUR_MS] }]));
    expect(await count('results')).toBe(30); // the quarter hour after it
    await rollAll(r, start + HOUR_MS + HOUR_SETTLE_MS);
    const [hour] = await rows<{ runs: number; sketch: Buffer | null }>('SELECT runs, sketch FROM rollup_hour WHERE hour = ?', [start / HOUR_MS]);
    expect(Number(hour.runs)).toBe(120);
    if (kind === 'postgres') {
      // Other instances may write a shared record: the hour is read back, and here nothing is left.
      expect(hour.sketch).toBeNull();
    } else {
      const own = new Sketch();
      for (const d of durations) own.add(Math.round(d * 1e6) / 1e6);
      expect(Array.from(Sketch.decode(hour.sketch!).counts)).toEqual(Array.from(own.counts));
    }
    expect(errors).toEqual([]);
  });

  it('an hour begun before a restart is read back from the raw results, every run of it', async () => {
    const start = now;
    const before = record();
    await before.open();
    const durations = await feed(before, 'db', start, start + HOUR_MS / 2, 30_000);
    await before.stop();
    const after = record();
    await after.open(); // mid-hour: its live sketch holds the second half only
    durations.push(...await feed(after, 'db', start + HOUR_MS / 2, start + HOUR_MS + HOUR_SETTLE_MS, 30_000));
    await rollAll(after, start + HOUR_MS + HOUR_SETTLE_MS);
    const [hour] = await rows<{ runs: number; sketch: Buffer }>('SELECT runs, sketch FROM rollup_hour WHERE hour = ?', [start / HOUR_MS]);
    expect(Number(hour.runs)).toBe(120);
    const own = new Sketch();
    for (const d of durations.slice(0, 120)) own.add(Math.round(d * 1e6) / 1e6);
    expect(Array.from(Sketch.decode(hour.sketch).counts)).toEqual(Array.from(own.counts));
    expect(errors).toEqual([]);
  });

  it('the database counts a sketch\'s buckets as bucketOf does (the hour rows count them in SQL)', async () => {
    const durationsUs = [0, 1, 2, 3, 10, 11, 999, 1_000, 1_001, 12_345, 40_000, 65_432, 1_000_000, 3_600_000_000, 100_000_000_000];
    let x = 7;
    for (let i = 0; i < 400; i++) {
      x = (x * 48_271) % 2_147_483_647;
      durationsUs.push(Math.round(10 ** (1 + (x / 2_147_483_647) * 8))); // 10 µs to 1 000 s, spread over the decades
    }
    await record().open(); // the database, on either backend
    const bucket = bucketSql(kind, 'v');
    const got = await backend!.rows<{ v: number; b: number }>(
      `WITH t(v) AS (VALUES ${durationsUs.map(() => '(?)').join(', ')}) SELECT v, ${bucket.sql} AS b FROM t`, [...durationsUs, ...bucket.params]);
    expect(got.map((r) => [Number(r.v), Number(r.b)])).toEqual(durationsUs.map((d) => [d, bucketOf(d / 1e6)]));
  });

  it('resumes after a restart where it stopped, rewriting nothing twice and skipping a stretch with no data', async () => {
    const start = now;
    const first = record();
    await feed(first, 'a', start, start + 2 * HOUR_MS, 30_000);
    await feed(first, 'b', start, start + 2 * HOUR_MS, 30_000);
    now = start + 2 * HOUR_MS + HOUR_SETTLE_MS;
    await first.rollUp(3); // hour 0 for a and b, then the period closes: 3 steps of rolling up
    expect(await rows('SELECT check_id, hour - ? AS h FROM rollup_hour ORDER BY check_id', [start / HOUR_MS])).toEqual([{ check_id: 1, h: 0 }, { check_id: 2, h: 0 }]);
    await first.stop();
    const again = record();
    // Down for 3 days: then runs again.
    await feed(again, 'a', start + 3 * DAY_MS, start + 3 * DAY_MS + 2 * HOUR_MS, 30_000);
    await rollAll(again, start + 3 * DAY_MS + 2 * HOUR_MS + HOUR_SETTLE_MS + M);
    expect(await rows('SELECT check_id, hour - ? AS h, runs FROM rollup_hour ORDER BY hour, check_id', [start / HOUR_MS])).toEqual([
      { check_id: 1, h: 0, runs: 120 }, { check_id: 2, h: 0, runs: 120 }, { check_id: 1, h: 1, runs: 120 }, { check_id: 2, h: 1, runs: 120 },
      { check_id: 1, h: 72, runs: 120 }, { check_id: 1, h: 73, runs: 120 },
    ]);
    // The first day is rolled up whole from its two hours; the empty days in between have no rows.
    expect(await rows('SELECT check_id, day - ? AS d, runs FROM rollup_day ORDER BY day, check_id', [start / DAY_MS])).toEqual([
      { check_id: 1, d: 0, runs: 240 }, { check_id: 2, d: 0, runs: 240 },
    ]);
    expect(errors).toEqual([]);
  });

  it('reads a window across tiers with the same totals as the minutes it came from', async () => {
    const r = record();
    const start = now;
    await feed(r, 'db', start, start + 3 * DAY_MS, 60_000, [start + DAY_MS + 5 * HOUR_MS, start + DAY_MS + 7 * HOUR_MS]);
    await rollAll(r, start + 3 * DAY_MS);
    // Everything but the last day is in day rows, the last day in hours, the last hour in minutes.
    const whole = await r.periodTotals(start, start + 3 * DAY_MS);
    expect(whole!.pieces.map((p) => p.tier)).toEqual(['day', 'hour', 'minute']);
    const t = whole!.totals.get('db')!;
    expect(t.runs).toBe(3 * 1_440);
    expect(t.failures).toBe(120);
    expect(t.ms[3]).toBe(2 * HOUR_MS);
    expect(t.ms[0] + t.ms[3]).toBe(3 * DAY_MS - 60_000); // the first run's minute: no status before it
    expect(t.first).toBe(start);
    // A window with edges inside hours: minute resolution where the minute rows are kept.
    now = start + 3 * DAY_MS;
    const part = await r.periodTotals(start + 2 * DAY_MS + 90 * M, start + 2 * DAY_MS + 150 * M);
    expect(part!.totals.get('db')!.runs).toBe(60);
    expect(errors).toEqual([]);
  });

  it('a long read asked again takes its whole days from memory, never a day retention has removed since', async () => {
    const r = record();
    const start = now;
    await feed(r, 'db', start, start + 4 * DAY_MS, 10 * M);
    await rollAll(r, start + 4 * DAY_MS + HOUR_SETTLE_MS + M / 2); // the last hour is rolled up, its day not yet
    const first = await r.periodTotals(start, start + 4 * DAY_MS);
    expect(first!.pieces.map((p) => [p.tier, p.from, p.to])).toEqual([['day', start, start + 3 * DAY_MS], ['hour', start + 3 * DAY_MS, start + 4 * DAY_MS]]);
    expect(first!.totals.get('db')!.runs).toBe(4 * 144);
    const again = await r.periodTotals(start, start + 4 * DAY_MS);
    expect(again!.totals.get('db')).toEqual(first!.totals.get('db'));
    // Three days of retention from here: the first day's rows go, and the same read no longer counts them.
    r.configure({ rawMs: 48 * HOUR_MS, rollupMs: 3 * DAY_MS, minuteMs: DAY_MS, hourMs: 3 * DAY_MS });
    await r.rollUp(1_000);
    expect(await count('rollup_day')).toBe(2);
    const after = await r.periodTotals(start, start + 4 * DAY_MS);
    expect(after!.totals.get('db')!.runs).toBe(3 * 144);
    expect(after!.totals.get('db')!.first).toBe(start + DAY_MS);
    expect(errors).toEqual([]);
  });

  it('removes hour rows past their retention in bounded steps and keeps the days', async () => {
    const r = record({ rawMs: 48 * HOUR_MS, rollupMs: 90 * DAY_MS, minuteMs: DAY_MS, hourMs: 2 * DAY_MS });
    const start = now;
    await feed(r, 'db', start, start + 4 * DAY_MS, 5 * 60_000);
    await rollAll(r, start + 4 * DAY_MS + HOUR_SETTLE_MS);
    while (await r.prune(1_000) > 0) { /* raw results and minutes past their retention */ }
    expect(await count('rollup_hour')).toBe(2 * 24); // older hours went as the days were rolled up
    expect(await count('rollup_day')).toBe(3);
    expect(await count('rollup_minute')).toBeLessThanOrEqual(24 * 60 + 1); // a row a minute: each run's status holds 5 of them
    expect(errors).toEqual([]);
  });

  it('removes raw results and minutes past their retention, PRUNE_STEP rows a statement at most, check by check', async () => {
    const r = record();
    const start = now;
    const expired = { a: 2 * PRUNE_STEP + 37, b: 12, c: 0 };
    for (const [check, n] of Object.entries(expired)) {
      for (let i = 0; i < n; i++) r.addResult(result(check, start + i * 10_000, 'healthy', 0.02), 30_000);
    }
    await r.flush();
    now = start + 60 * HOUR_MS;
    for (const check of Object.keys(expired)) {
      for (let i = 0; i < 5; i++) r.addResult(result(check, now - i * 1_000, 'healthy', 0.02), 30_000);
    }
    await r.flush();
    // One statement a call: check a's results take three (the first two full), then its minutes.
    expect([await r.prune(1), await r.prune(1), await r.prune(1)]).toEqual([PRUNE_STEP, PRUNE_STEP, 37]);
    const minutesOfA = Math.ceil(expired.a * 10_000 / 60_000);
    expect(await r.prune(1)).toBe(minutesOfA);
    expect(r.pruning).toBe(true);
    while (await r.prune(3) > 0 || r.pruning) { /* the rest of the round */ }
    expect(r.pruneStats.results).toBe(expired.a + expired.b);
    expect(await count('results')).toBe(15);
    expect(Number((await rows<{ t: number }>('SELECT min(t) AS t FROM results'))[0].t)).toBe(now - 4_000);
    expect(Number((await rows<{ m: number }>('SELECT min(minute) AS m FROM rollup_minute'))[0].m)).toBe(Math.floor((now - 4_000) / 60_000));
    expect(errors).toEqual([]);
  });
});

describe('DayPieceCache', () => {
  it('keeps a few ranges, forgets one when a day inside it changes, and the oldest first', () => {
    const c = new DayPieceCache();
    const piece = (d0: number, d1: number) => ({ tier: 'day' as const, from: d0 * DAY_MS, to: d1 * DAY_MS });
    for (let i = 0; i < DayPieceCache.MAX_ENTRIES + 1; i++) c.set(piece(i, i + 10), new Map());
    expect(c.get(piece(0, 10))).toBeUndefined(); // the oldest made room
    expect(c.get(piece(1, 11))).toBeDefined();
    const v = c.version;
    c.changed(11 * DAY_MS, 12 * DAY_MS); // a day in [2, 12), [3, 13), [4, 14) but not [1, 11)
    expect(c.version).toBe(v + 1);
    expect(c.get(piece(1, 11))).toBeDefined();
    expect(c.get(piece(2, 12))).toBeUndefined();
    expect(c.get(piece(4, 14))).toBeUndefined();
  });
});

describe('the size estimate', () => {
  it('500 checks at 10 s with the default history section stay under 300 MB, the 48 h of raw results included (and the hour a round of retention lets them outlive it)', () => {
    const checks = Array.from({ length: 500 }, () => ({ interval: 10_000 }));
    const retention = recordRetentionOf({ retention: 90 * DAY_MS, raw_retention: 48 * HOUR_MS });
    const total = estimateRecordBytes(checks, retention);
    const raw = estimateRecordBytes(checks, { rawMs: 48 * HOUR_MS, rollupMs: 0, minuteMs: 0, hourMs: 0 });
    // (rawMs alone: the minute rows an hour's round keeps count too)
    expect(raw).toBe(500 * ((17_280 + 360) * RAW_ROW_BYTES + 60 * ROLLUP_ROW_BYTES));
    expect(total).toBeLessThan(300e6);
    // Minute rows a day (and an hour), hour rows 30 days, day rows 90 days.
    expect(total - raw).toBe(500 * (1_440 * ROLLUP_ROW_BYTES + 720 * HOUR_ROW_BYTES + 90 * DAY_ROW_BYTES));
  });
});

describe('the record retention of the config', () => {
  it('keeps minutes a day and hours 30 days (less when history.retention is shorter), days and events the whole retention', () => {
    expect(recordRetentionOf({ retention: 90 * DAY_MS, raw_retention: 2 * DAY_MS })).toEqual({ rawMs: 2 * DAY_MS, rollupMs: 90 * DAY_MS, minuteMs: DAY_MS, hourMs: 30 * DAY_MS });
    expect(recordRetentionOf({ retention: DAY_MS / 2, raw_retention: 2 * HOUR_MS })).toMatchObject({ rollupMs: DAY_MS / 2, minuteMs: DAY_MS / 2, hourMs: DAY_MS / 2 });
  });
});

describe('rounds of retention', () => {
  it('start every 48th of the raw retention, at least a minute and at most an hour apart', () => {
    expect(pruneRoundMs({ rawMs: 48 * HOUR_MS })).toBe(HOUR_MS);
    expect(pruneRoundMs({ rawMs: 7 * DAY_MS })).toBe(HOUR_MS);
    expect(pruneRoundMs({ rawMs: 24 * HOUR_MS })).toBe(HOUR_MS / 2);
    expect(pruneRoundMs({ rawMs: HOUR_MS })).toBe(75_000);
    expect(pruneRoundMs({ rawMs: 10 * 60_000 })).toBe(60_000);
  });
});
