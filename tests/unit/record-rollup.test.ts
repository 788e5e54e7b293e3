// The record's per-minute rollup math (exporter/record/rollup.ts): runs, failures, seconds per
// status split at minute boundaries, response-time sum and max.
import { describe, expect, it } from 'vitest';
import { countRun, RollupBuffer, minuteOf, splitByMinute, type RollupRow } from '../../exporter/record/rollup.js';
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

describe('RollupBuffer drained every second', () => {
  // The record drains its buffer each flush (a second) and adds the rows to the merge's buffer:
  // the sums must not depend on how often that happens, and a drained row must not change when
  // the buffer, which keeps its rows for the rest of their minute, counts on.
  const run = (i: number) => {
    const rank = i % 11 === 0 ? statusRank('critical') : i % 5 === 0 ? statusRank('degraded') : statusRank('healthy');
    return { check: `c${i % 3}`, t: T0 + 20_000 + i * 1_000 + (i % 7) * 13, duration: 0.001 * (i % 17), ok: rank !== statusRank('critical'), rank };
  };
  const rounded = (r: RollupRow) => ({ ...r, seconds: r.seconds.map((s) => +s.toFixed(6)), rtSum: +r.rtSum.toFixed(9) });

  it('adds up to the same rows as one drain at the end', () => {
    const once = new RollupBuffer();
    const live = new RollupBuffer();
    const merged = new RollupBuffer();
    const previous = [new Map<string, { t: number; rank: number }>(), new Map<string, { t: number; rank: number }>()];
    for (let i = 0; i < 400; i++) {
      const r = run(i);
      countRun(once, previous[0], r.check, r.t, r.duration, r.ok, r.rank, 30_000);
      countRun(live, previous[1], r.check, r.t, r.duration, r.ok, r.rank, 30_000);
      if (i % 4 === 3) merged.add(live.drain());
    }
    merged.add(live.drain());
    const expected = once.drain().map(rounded);
    const got = merged.drain().map(rounded);
    const key = (r: RollupRow) => `${r.check}@${r.minute}`;
    expect(got.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
    expect(expected.length).toBeGreaterThan(10);
    expect(live.empty).toBe(true);
    expect(live.drain()).toEqual([]);
  });

  it('two buffers taking turns, each added whole to the merge\'s and cleared, give the same rows (the record\'s flushes)', () => {
    const once = new RollupBuffer();
    const turns = [new RollupBuffer(), new RollupBuffer()];
    const merged = new RollupBuffer();
    const previous = [new Map<string, { t: number; rank: number }>(), new Map<string, { t: number; rank: number }>()];
    let live = 0;
    for (let i = 0; i < 400; i++) {
      const r = run(i);
      countRun(once, previous[0], r.check, r.t, r.duration, r.ok, r.rank, 30_000);
      countRun(turns[live], previous[1], r.check, r.t, r.duration, r.ok, r.rank, 30_000);
      if (i % 4 === 3) {
        const taken = turns[live];
        live = 1 - live;
        // What a flush writes: the checks it names and the rows it counts, then the rows added whole.
        const { checks, rows } = taken.counted();
        expect(rows).toBe(taken.peek().length);
        expect(new Set(checks)).toEqual(new Set(taken.peek().map((x) => x.check)));
        merged.addFrom(taken);
        taken.clear();
        expect(taken.empty).toBe(true);
        expect(taken.counted()).toEqual({ checks: [], rows: 0 });
      }
    }
    for (const b of turns) merged.addFrom(b);
    const key = (r: RollupRow) => `${r.check}@${r.minute}`;
    const expected = once.drain().map(rounded).sort((a, b) => key(a).localeCompare(key(b)));
    expect(merged.drain().map(rounded).sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
  });

  it('hands out rows that stay as they were while the buffer counts on', () => {
    const b = new RollupBuffer();
    const previous = new Map<string, { t: number; rank: number }>();
    countRun(b, previous, 'db', T0 + 1_000, 0.1, true, statusRank('healthy'), 30_000);
    countRun(b, previous, 'db', T0 + 2_000, 0.2, true, statusRank('healthy'), 30_000);
    const first = b.drain();
    const snapshot = structuredClone(first);
    countRun(b, previous, 'db', T0 + 3_000, 0.3, false, statusRank('critical'), 30_000);
    const second = b.drain();
    expect(first).toEqual(snapshot);
    expect(second).toEqual([expect.objectContaining({ check: 'db', runs: 1, failures: 1, seconds: [1, 0, 0, 0] })]);
    expect(b.empty).toBe(true);
  });
});
