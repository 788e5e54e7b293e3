// The record's per-minute rollup math (exporter/record/rollup.ts): runs, failures, seconds per
// status split at minute boundaries, response-time sum and max.
import { describe, expect, it } from 'vitest';
import { RollupBuffer, minuteOf, splitByMinute } from '../../exporter/record/rollup.js';
import { statusRank } from '../../exporter/model/status.js';

const M = 60_000;
const T0 = 29_000_000 * M; // a minute boundary

describe('splitByMinute', () => {
  it('cuts a span at minute boundaries and covers it exactly', () => {
    expect(splitByMinute(T0 + 50_000, T0 + 2 * M + 5_000)).toEqual([
      [minuteOf(T0), 10], [minuteOf(T0) + 1, 60], [minuteOf(T0) + 2, 5],
    ]);
    expect(splitByMinute(T0, T0 + M)).toEqual([[minuteOf(T0), 60]]);
    expect(splitByMinute(T0 + 1_500, T0 + 2_000)).toEqual([[minuteOf(T0), 0.5]]);
    expect(splitByMinute(T0, T0)).toEqual([]);
    expect(splitByMinute(T0 + 10, T0)).toEqual([]);
  });

  it('adds up to the span for any start and length', () => {
    for (let i = 0; i < 200; i++) {
      const from = T0 + Math.floor(Math.random() * 10 * M);
      const to = from + Math.floor(Math.random() * 5 * M);
      const parts = splitByMinute(from, to);
      expect(parts.reduce((s, [, sec]) => s + sec, 0)).toBeCloseTo((to - from) / 1000, 6);
      for (const [, sec] of parts) expect(sec).toBeLessThanOrEqual(60);
    }
  });
});

describe('RollupBuffer', () => {
  it('counts runs, failures and response time per check and minute', () => {
    const b = new RollupBuffer();
    b.addRun('db', T0 + 1_000, 0.2, true);
    b.addRun('db', T0 + 31_000, 0.5, false);
    b.addRun('db', T0 + M + 1_000, 0.1, true);
    b.addRun('web', T0 + 2_000, 1.5, false);
    const rows = b.drain();
    const row = (check: string, minute: number) => rows.find((r) => r.check === check && r.minute === minute);
    expect(row('db', minuteOf(T0))).toMatchObject({ runs: 2, failures: 1, rtSum: 0.7, rtMax: 0.5 });
    expect(row('db', minuteOf(T0) + 1)).toMatchObject({ runs: 1, failures: 0, rtSum: 0.1, rtMax: 0.1 });
    expect(row('web', minuteOf(T0))).toMatchObject({ runs: 1, failures: 1, rtSum: 1.5, rtMax: 1.5 });
    expect(rows).toHaveLength(3);
    expect(b.drain()).toEqual([]); // drained
  });

  it('puts status time in the status held, split across minutes', () => {
    const b = new RollupBuffer();
    b.addStatusTime('db', T0 + 45_000, T0 + M + 15_000, statusRank('critical'));
    b.addStatusTime('db', T0 + M + 15_000, T0 + M + 45_000, statusRank('healthy'));
    const rows = b.drain().sort((a, c) => a.minute - c.minute);
    expect(rows.map((r) => [r.minute - minuteOf(T0), r.seconds])).toEqual([
      [0, [0, 0, 0, 15]],
      [1, [30, 0, 0, 15]],
    ]);
    expect(rows.every((r) => r.runs === 0)).toBe(true);
  });
});
