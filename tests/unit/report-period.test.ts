import { describe, expect, it } from 'vitest';
import { percentiles, seriesOf, summarizePeriod, type PeriodPoint } from '../../exporter/health/report-period.js';
import { parseTimeParam } from '../../exporter/server/params.js';
import { barSpec, bucketize } from '../../exporter/views/bar.js';
import { toCsv } from '../../exporter/views/csv.js';
import { STATUSES, worst, type Status } from '../../exporter/model/status.js';

const S = 1000;
/** Runs every 10 s from t=0 s; `overrides` maps a time in seconds to a status. */
function runs(count: number, overrides: Record<number, Status> = {}, start = 0, every = 10): PeriodPoint[] {
  return Array.from({ length: count }, (_, i) => {
    const t = start + i * every;
    return { t: t * S, duration: 0.01 * (i + 1), status: overrides[t] ?? 'healthy' };
  });
}

describe('summarizePeriod', () => {
  const cases: Array<{
    name: string;
    points: PeriodPoint[];
    from?: number; to?: number; maxGap?: number;
    expected: {
      runs?: number; observed?: number; availability?: number | null; healthy?: number | null;
      incidents?: Array<{ start: number; end: number; worst: Status; runs?: number; ongoing?: boolean; clipped_start?: boolean }>;
    };
  }> = [
    {
      name: 'all healthy: fully available, no incidents',
      points: runs(10),
      expected: { runs: 10, observed: 100, availability: 1, healthy: 1, incidents: [] },
    },
    {
      name: 'one critical run: 10 s down of 100 s, one incident until the next healthy run',
      points: runs(10, { 50: 'critical' }),
      expected: { availability: 0.9, healthy: 0.9, incidents: [{ start: 50, end: 60, worst: 'critical', runs: 1, ongoing: false }] },
    },
    {
      name: 'degraded is up but not healthy',
      points: runs(10, { 50: 'degraded' }),
      expected: { availability: 1, healthy: 0.9, incidents: [{ start: 50, end: 60, worst: 'degraded' }] },
    },
    {
      name: 'an incident takes its worst status',
      points: runs(10, { 30: 'degraded', 40: 'critical', 50: 'degraded' }),
      expected: { availability: 0.9, healthy: 0.7, incidents: [{ start: 30, end: 60, worst: 'critical', runs: 3 }] },
    },
    {
      name: 'still failing at the end of the period: ongoing, ends at `to`',
      points: runs(10, { 80: 'critical', 90: 'critical' }),
      expected: { availability: 0.8, incidents: [{ start: 80, end: 100, worst: 'critical', runs: 2, ongoing: true }] },
    },
    {
      name: 'failing before the period: clipped to `from`',
      points: runs(12, { [-10]: 'critical', 0: 'critical' }, -10),
      from: 5,
      expected: { runs: 9, observed: 95, incidents: [{ start: 5, end: 10, worst: 'critical', runs: 0, clipped_start: true }] },
    },
    {
      name: 'a run before the period older than maxGap says nothing about `from`',
      points: [{ t: -100 * S, duration: 0.1, status: 'critical' }, ...runs(10)],
      expected: { observed: 100, availability: 1, incidents: [] },
    },
    {
      name: 'a silence longer than maxGap is a gap, not a status',
      points: [...runs(3), ...runs(2, {}, 80)],
      expected: { runs: 5, observed: 45 + 20, availability: 1 },
    },
    {
      name: 'a gap ends an open incident where the data ends',
      points: [...runs(3, { 20: 'critical' }), ...runs(2, {}, 80)],
      expected: { incidents: [{ start: 20, end: 45, worst: 'critical', ongoing: false }], availability: 40 / 65 },
    },
    {
      name: 'no data: nothing known',
      points: [],
      expected: { runs: 0, observed: 0, availability: null, healthy: null, incidents: [] },
    },
    {
      name: 'runs after `to` are ignored',
      points: runs(20, { 150: 'critical' }),
      expected: { runs: 10, availability: 1, incidents: [] },
    },
    {
      name: 'unknown runs are not observations',
      points: runs(10, { 50: 'unknown' }),
      expected: { runs: 9, observed: 90, availability: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = summarizePeriod(seriesOf(c.points), { from: (c.from ?? 0) * S, to: (c.to ?? 100) * S, maxGap: (c.maxGap ?? 25) * S });
      const e = c.expected;
      if (e.runs !== undefined) expect(r.runs).toBe(e.runs);
      if (e.observed !== undefined) expect(r.observed_seconds).toBeCloseTo(e.observed, 6);
      if (e.availability !== undefined) e.availability === null ? expect(r.availability).toBeNull() : expect(r.availability).toBeCloseTo(e.availability, 6);
      if (e.healthy !== undefined) e.healthy === null ? expect(r.healthy_ratio).toBeNull() : expect(r.healthy_ratio).toBeCloseTo(e.healthy, 6);
      if (e.incidents) {
        expect(r.incidents).toHaveLength(e.incidents.length);
        e.incidents.forEach((want, i) => {
          const got = r.incidents[i];
          expect(got.start).toBe(want.start * S);
          expect(got.end).toBe(want.end * S);
          expect(got.duration_seconds).toBe(want.end - want.start);
          expect(got.worst).toBe(want.worst);
          if (want.runs !== undefined) expect(got.runs).toBe(want.runs);
          if (want.ongoing !== undefined) expect(got.ongoing).toBe(want.ongoing);
          if (want.clipped_start !== undefined) expect(got.clipped_start).toBe(want.clipped_start);
        });
      }
    });
  }

  it('time by status adds up to the observed time', () => {
    const r = summarizePeriod(seriesOf(runs(10, { 20: 'degraded', 70: 'critical' })), { from: 0, to: 100 * S, maxGap: 25 * S });
    expect(r.seconds_by_status).toEqual({ healthy: 80, degraded: 10, critical: 10 });
    expect(r.observed_seconds).toBe(100);
  });

  it('response-time percentiles cover the runs in the period only', () => {
    const r = summarizePeriod(seriesOf(runs(20)), { from: 0, to: 95 * S, maxGap: 25 * S });
    expect(r.response_time).toMatchObject({ p50: 0.05, max: 0.1 });
  });
});

describe('percentiles (nearest rank)', () => {
  const cases = [
    { name: '1..100', input: Array.from({ length: 100 }, (_, i) => i + 1), expected: { p50: 50, p95: 95, p99: 99, mean: 50.5, max: 100 } },
    { name: 'unsorted input', input: [5, 1, 4, 2, 3], expected: { p50: 3, p95: 5, p99: 5, mean: 3, max: 5 } },
    { name: 'one value', input: [0.25], expected: { p50: 0.25, p95: 0.25, p99: 0.25, mean: 0.25, max: 0.25 } },
    { name: 'ten values: p95 and p99 are the slowest', input: [1, 1, 1, 1, 1, 1, 1, 1, 1, 9], expected: { p50: 1, p95: 9, p99: 9, mean: 1.8, max: 9 } },
  ];
  for (const c of cases) it(c.name, () => {
    const p = percentiles(c.input)!;
    for (const [k, v] of Object.entries(c.expected)) expect(p[k as keyof typeof p]).toBeCloseTo(v, 9);
  });
  it('no values: null', () => expect(percentiles([])).toBeNull());
  it('agrees with sorting on random data, duplicates included', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const n of [2, 3, 17, 100, 1001, 8640]) {
      const xs = Array.from({ length: n }, () => Math.round(rnd() * 50) / 10);
      const sorted = [...xs].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * n) - 1)];
      expect(percentiles(xs), `n=${n}`).toMatchObject({ p50: at(50), p95: at(95), p99: at(99), max: sorted[n - 1] });
    }
  });
});

describe('availability bar buckets', () => {
  it('STATUSES are in rank order (the bar relies on index = rank)', () => {
    for (let i = 1; i < STATUSES.length; i++) expect(worst([STATUSES[i - 1], STATUSES[i]])).toBe(STATUSES[i]);
  });

  it('barSpec: aligned buckets covering 24 h, the last one containing now', () => {
    const now = Date.UTC(2026, 10, 20, 10, 47, 12);
    const spec = barSpec(now, 48);
    expect(spec.step).toBe(30 * 60 * S);
    expect(spec.start % spec.step).toBe(0);
    expect(spec.start + 47 * spec.step).toBeLessThanOrEqual(now);
    expect(spec.start + 48 * spec.step).toBeGreaterThan(now);
    expect(new Date(spec.start + 48 * spec.step).toISOString()).toBe('2026-11-20T11:00:00.000Z');
  });

  const spec = { start: 0, step: 10 * S, count: 4 };
  const cases: Array<{ name: string; points: Array<[number, Status]>; letters: string; up: Array<number | null>; availability: number | null }> = [
    { name: 'empty: no data everywhere', points: [], letters: '----', up: [null, null, null, null], availability: null },
    {
      name: 'worst status per bucket; up = not critical',
      points: [[1, 'healthy'], [2, 'degraded'], [11, 'healthy'], [12, 'critical'], [13, 'healthy'], [14, 'healthy'], [35, 'healthy']],
      letters: 'dc-h', up: [100, 75, null, 100], availability: 6 / 7,
    },
    { name: 'points outside the bar and unknown points are ignored', points: [[-1, 'critical'], [40, 'critical'], [5, 'unknown'], [5, 'healthy']], letters: 'h---', up: [100, null, null, null], availability: 1 },
  ];
  for (const c of cases) it(c.name, () => {
    const acc = bucketize(c.points.map(([t, status]) => ({ t: t * S, duration: 0, status })), spec);
    expect(acc.letters()).toBe(c.letters);
    expect(acc.upPercent()).toEqual(c.up);
    c.availability === null ? expect(acc.availability()).toBeNull() : expect(acc.availability()).toBeCloseTo(c.availability, 9);
  });
});

describe('parseTimeParam', () => {
  const now = Date.UTC(2026, 10, 20, 12, 0, 0);
  const cases: Array<{ name: string; input: string | undefined; expected: number | undefined }> = [
    { name: 'absent', input: undefined, expected: undefined },
    { name: 'now', input: 'now', expected: now },
    { name: 'RFC 3339', input: '2026-11-20T10:00:00Z', expected: Date.UTC(2026, 10, 20, 10) },
    { name: 'RFC 3339 with offset', input: '2026-11-20T10:00:00+01:00', expected: Date.UTC(2026, 10, 20, 9) },
    { name: 'Unix seconds', input: '1700000000', expected: 1_700_000_000_000 },
    { name: 'Unix seconds with a fraction', input: '1700000000.5', expected: 1_700_000_000_500 },
    { name: 'epoch milliseconds', input: '1700000000000', expected: 1_700_000_000_000 },
    { name: 'duration back from now', input: '24h', expected: now - 86_400_000 },
    { name: 'negative duration back from now', input: '-90m', expected: now - 90 * 60_000 },
    { name: 'garbage', input: 'yesterday', expected: undefined },
    { name: 'impossible date', input: '2026-13-45T00:00:00Z', expected: undefined },
  ];
  for (const c of cases) it(c.name, () => expect(parseTimeParam(c.input, now)).toBe(c.expected));
});

describe('toCsv', () => {
  it('quotes commas, quotes and newlines; CRLF rows; empty for null', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', null]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\r\n');
  });
  it('defuses spreadsheet formulas but keeps negative numbers', () => {
    expect(toCsv(['v'], [['=1+1'], ['@cmd'], [-5], ['-3.5']])).toBe("v\r\n'=1+1\r\n'@cmd\r\n-5\r\n-3.5\r\n");
  });
});
