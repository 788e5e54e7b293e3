// A report the record answers (views/report.ts reportRows with a LongHistory): the figures come
// from the record's totals alone, its incidents from the record's stored incidents (not from the
// ring, which is not read), and time in a maintenance window is taken off the statuses there too.
// And the live response-time sketches of the hours not rolled up yet (record/live-sketches.ts).
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckCommon } from '../../exporter/model/check.js';
import { LiveSketches, MAX_HOURS } from '../../exporter/record/live-sketches.js';
import { Sketch } from '../../exporter/record/sketch.js';
import { emptyTotals, type TierTotals } from '../../exporter/record/tiers.js';
import { reportRows, type LongHistory } from '../../exporter/views/report.js';
import { TimeSlice } from '../../exporter/views/time-slice.js';

const H = 3_600_000;
const T = Date.UTC(2026, 11, 3, 12);
const check: CheckCommon = { name: 'a', type: 'http', component: 'c', interval: 10_000, timeout: 1_000, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true };

function totals(ms: number[], runs: number, first: number): TierTotals {
  const t = emptyTotals();
  t.ms = ms;
  t.runs = runs;
  t.first = first;
  for (let i = 0; i < runs; i++) t.sketch.add(0.02);
  return t;
}

describe('a report the record answers', () => {
  it('takes its incidents from the record and maintenance time off its statuses; the ring is not read', async () => {
    const state = new StateStore();
    state.applyConfig({ checks: [check], components: [], history: { max_points: 100, retention: 90 * 24 * H } } as never, new Set());
    // A run in the ring, failing: were the ring summarised, it would add an incident of its own.
    state.record({ check: 'a', ok: false, status: 'critical', violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: T - 20, finishedAt: T - 10 });
    const from = T - 7 * 24 * H;
    const to = T;
    const window: [number, number] = [T - 50 * H, T - 49 * H];
    const asked: Array<[number, number]> = [];
    const long: LongHistory = {
      dataSince: async () => from - H,
      periodTotals: async (a, b) => {
        asked.push([a, b]);
        const t = a === from ? totals([7 * 24 * H - 2 * H, 0, 0, 2 * H], 60_480, from) : totals([0, 0, 0, H], 360, a);
        return { totals: new Map([['a', t]]), pieces: [] };
      },
      checkIncidents: async () => new Map([['a', [{ start: window[0], end: window[1], duration_seconds: 3_600, worst: 'critical' as const, runs: null, clipped_start: false, ongoing: false, id: 7 }]]]),
    };
    const [row] = await reportRows(state.list(), { from, to }, new TimeSlice(), long, () => [window]);
    expect(row.source).toBe('record');
    expect(row.r.incidents).toEqual([expect.objectContaining({ id: 7, start: window[0], runs: null })]);
    expect(row.r.maintenance_seconds).toBe(3_600);
    expect(row.r.seconds_by_status.critical).toBe(3_600); // two hours critical, one of them in maintenance
    expect(row.r.observed_seconds).toBe(7 * 24 * 3_600 - 3_600);
    expect(asked).toEqual([[from, to], window]);
    expect(row.r.response_time!.p50).toBeCloseTo(0.02, 2);
  });
});

describe('LiveSketches', () => {
  it('holds the hours not rolled up per check, merges them on request, and forgets rolled-up hours', () => {
    const live = new LiveSketches();
    for (let i = 0; i < 100; i++) live.add('a', T + i * 1_000, 0.01 * (1 + (i % 10)));
    live.add('a', T + H, 5);
    live.add('b', T, 0.2);
    const both = live.sketches(T / H, T / H + 2);
    const exact = new Sketch();
    for (let i = 0; i < 100; i++) exact.add(0.01 * (1 + (i % 10)));
    exact.add(5);
    expect(Array.from(both.get('a')!.counts)).toEqual(Array.from(exact.counts));
    expect(both.get('a')!.total).toBe(101);
    expect(live.sketches(T / H + 1, T / H + 2).get('a')!.total).toBe(1);
    live.dropBefore(T / H + 1);
    expect(live.sketches(0, Infinity).get('a')!.total).toBe(1);
    expect(live.sketches(0, Infinity).has('b')).toBe(false);
    // Bounded: never more than MAX_HOURS hours a check, whatever the roller does.
    for (let h = 0; h < 10; h++) live.add('c', T + h * H, 0.1);
    expect(live.sketches(0, Infinity).get('c')!.total).toBe(MAX_HOURS);
  });

  it('counts exactly however many of the buckets an hour uses (they are kept only once in use)', () => {
    const live = new LiveSketches();
    const exact = new Sketch();
    // From 10 µs to 100 s: every bucket in between comes into use, in no particular order.
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const seconds = 1e-5 * 10 ** (7 * (x / 2 ** 31));
      live.add('wide', T + i * 100, seconds);
      exact.add(seconds);
    }
    const got = live.sketches(T / H, T / H + 1).get('wide')!;
    expect(Array.from(got.counts)).toEqual(Array.from(exact.counts));
    expect(got.total).toBe(20_000);
    expect(exact.counts.filter((n) => n > 0).length).toBeGreaterThan(100);
  });
});
