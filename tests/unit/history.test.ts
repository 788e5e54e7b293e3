import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAR_MINUTES, HistoryRing, MinuteSlots, type HistoryPoint } from '../../exporter/engine/history.js';
import { StateStore } from '../../exporter/engine/state.js';
import { parseConfig } from '../../exporter/config/load.js';
import { PROBE_KINDS } from '../../exporter/probes/index.js';
import { statusRank, STATUSES, type Status } from '../../exporter/model/status.js';
import { barEnd, barOf, barSpec, BucketAccumulator, bucketAt, bucketize } from '../../exporter/views/bar.js';

describe('HistoryRing', () => {
  it('keeps the newest points up to capacity, oldest first', () => {
    const ring = new HistoryRing(100);
    for (let i = 0; i < 250; i++) ring.push({ t: i, duration: i / 10, status: i % 2 ? 'healthy' : 'critical' });
    expect(ring.length).toBe(100);
    const pts = ring.since();
    expect(pts[0].t).toBe(150);
    expect(pts.at(-1)!.t).toBe(249);
    expect(pts.at(-1)!.status).toBe('healthy');
    expect(ring.since(240)).toHaveLength(10);
  });

  it('grows lazily and stays within 9 bytes a point while its times span less than 49 days (13 past that)', () => {
    const ring = new HistoryRing(8640);
    const t0 = Date.UTC(2026, 11, 6);
    ring.push({ t: t0, duration: 0.1, status: 'healthy' });
    expect(ring.bytes()).toBe(64 * 9);
    for (let i = 0; i < 10_000; i++) ring.push({ t: t0 + i * 10_000, duration: 0.1, status: 'healthy' });
    expect(ring.bytes()).toBe(8640 * 9);
    expect(ring.oldest()).toBe(t0 + (10_000 - 8640) * 10_000);
    // The default 300 points: from 64 to 300 in one step, no buffers of 128 and 256 left behind.
    const small = new HistoryRing(300);
    const sizes = new Set<number>();
    for (let i = 0; i < 400; i++) { small.push({ t: t0 + i * 10_000, duration: 0.1, status: 'healthy' }); sizes.add(small.bytes()); }
    expect([...sizes]).toEqual([64 * 9, 300 * 9]);
    // A check every 8 h keeping 8 640 runs spans years: its times take 8 bytes, and stay exact.
    const slow = new HistoryRing(8640);
    for (let i = 0; i < 200; i++) slow.push({ t: t0 + i * 8 * 3_600_000, duration: 0.1, status: 'healthy' });
    expect(slow.bytes()).toBe(256 * 13);
    expect(slow.since().map((p) => p.t)).toEqual(Array.from({ length: 200 }, (_, i) => t0 + i * 8 * 3_600_000));
  });

  it('reads back what a plain list of its newest points holds, whatever the gaps between them', () => {
    const DAY = 86_400_000;
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 80 }),
      fc.array(fc.oneof(
        // Gaps from a millisecond to 60 days (past what 4-byte offsets span), some not whole.
        fc.tuple(fc.constant('push' as const), fc.oneof(fc.nat(20_000), fc.nat(60 * DAY), fc.double({ min: 0, max: 10, noNaN: true })), fc.nat(3)),
        fc.tuple(fc.constant('trim' as const), fc.nat(30 * DAY)),
      ), { maxLength: 150 }),
      fc.nat(90 * DAY),
      (capacity, ops, probe) => {
        const ring = new HistoryRing(capacity);
        let model: HistoryPoint[] = [];
        let t = Date.UTC(2026, 0, 1);
        for (const op of ops) {
          if (op[0] === 'push') {
            t += op[1];
            const p: HistoryPoint = { t, duration: 0.25 * op[2], status: STATUSES[op[2]] };
            ring.push(p);
            model.push(p);
            if (model.length > capacity) model = model.slice(-capacity);
          } else {
            ring.trim(t - op[1]);
            model = model.filter((p) => p.t >= t - op[1]);
          }
        }
        expect(ring.since()).toEqual(model);
        expect(ring.length).toBe(model.length);
        expect(ring.oldest()).toBe(model[0]?.t);
        const since = t - probe;
        expect(ring.since(since)).toEqual(model.filter((p) => p.t >= since));
        const seen: number[] = [];
        ring.forEach(since, (at) => seen.push(at));
        expect(seen).toEqual(model.filter((p) => p.t >= since).map((p) => p.t));
        const cols = ring.columns(since, t);
        expect(Array.from(cols.t)).toEqual(model.filter((p) => p.t >= since && p.t < t).map((p) => p.t));
        expect(ring.lastDurations(5)).toEqual(model.slice(-5).map((p) => p.duration));
      },
    ), { numRuns: 300 });
  });

  it('trims points past retention', () => {
    const ring = new HistoryRing(50);
    for (let i = 0; i < 30; i++) ring.push({ t: i * 1000, duration: 0, status: 'healthy' });
    ring.trim(20_000);
    expect(ring.length).toBe(10);
    expect(ring.since()[0].t).toBe(20_000);
  });
});

describe('history in memory: a short ring and the bar per minute (history must not live on the heap)', () => {
  const T = Date.UTC(2026, 11, 3, 12, 0, 7);
  const H = 3_600_000;

  it('with the default history section a check at 1 s holds history.max_points runs after 3 h, and its bar still covers the day', () => {
    const cfg = parseConfig('checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, interval: 1s }\n', 't.yml', { kinds: PROBE_KINDS });
    const state = new StateStore();
    state.applyConfig(cfg, new Set());
    const run = (t: number, status: Status) => state.record({ check: 'a', ok: status !== 'critical', status, violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t });
    for (let t = T - 24 * H + 60_000; t < T - 3 * H; t += 60_000) run(t, t === T - 20 * H ? 'critical' : 'healthy');
    for (let t = T - 3 * H; t <= T; t += 1_000) run(t, 'healthy');
    const s = state.get('a')!;
    expect(cfg.history.max_points).toBe(300);
    expect(s.history.length).toBe(300);
    // The ring (300 x 13 bytes) and the bar's minutes (1 442 x 2 bytes): ~7 KB, not 3 h of runs (140 KB).
    expect(state.historyBytes() + s.history.minutes.bytes()).toBeLessThanOrEqual(300 * 13 + BAR_MINUTES * 2);
    const acc = barOf(s.history, barSpec(T));
    const critical = acc.index(T - 20 * H);
    expect(acc.letter(critical)).toBe('c');
    expect(acc.runs[critical]).toBe(30);
    expect(acc.up[critical]).toBe(29);
    expect(acc.runs[acc.index(T - 2 * H)]).toBe(1_800); // a half hour at 1 s
    expect(acc.letters().replace(/h/g, '')).toBe('c');
  });

  it('the bar from the minutes equals the bar from the runs themselves (48 half-hour buckets)', () => {
    const ring = new HistoryRing(50);
    const points: HistoryPoint[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let t = T - 25 * H; t <= T; t += Math.floor(rand() * 300_000)) {
      const p: HistoryPoint = { t, duration: rand(), status: STATUSES[Math.floor(rand() * 4)] };
      points.push(p);
      ring.push(p);
    }
    const spec = barSpec(T);
    const fromMinutes = barOf(ring, spec);
    const fromRuns = bucketize(points, spec);
    expect(fromMinutes.letters()).toBe(fromRuns.letters());
    expect(Array.from(fromMinutes.runs)).toEqual(Array.from(fromRuns.runs));
    expect(Array.from(fromMinutes.up)).toEqual(Array.from(fromRuns.up));
    expect(ring.length).toBe(50);
  });

  it('runs in maintenance windows set the bar\'s letter but count in no availability (the snapshot and the live bucket agree)', () => {
    const ring = new HistoryRing(50);
    // 24 h at one run a minute: critical from 10:00 to 11:00 (a planned upgrade), healthy otherwise.
    const down: [number, number] = [T - 2 * H - 7_000, T - H - 7_000];
    for (let t = T - 24 * H + 60_000 - 7_000; t <= T; t += 60_000) ring.push({ t, duration: 0.1, status: t >= down[0] && t < down[1] ? 'critical' : 'healthy' });
    const spec = barSpec(T);
    const plain = barOf(ring, spec);
    const total = Array.from(plain.runs).reduce((a, b) => a + b, 0);
    expect(plain.availability()).toBe(1 - 60 / total);
    const planned = barOf(ring, spec, [down]);
    expect(planned.availability()).toBe(1);
    const i = planned.index(down[0]);
    // The bucket still shows what happened (red), with its runs counted apart.
    expect([planned.letter(i), planned.runs[i], planned.up[i], planned.planned[i]]).toEqual(['c', 0, 0, 30]);
    expect(Array.from(planned.planned).reduce((a, b) => a + b, 0)).toBe(60);
    expect(Array.from(planned.runs).reduce((a, b) => a + b, 0) + 60).toBe(total);
    // A window over part of a minute-aligned range: only the minutes starting inside it.
    const half = barOf(ring, spec, [[down[0], down[0] + 15 * 60_000]]);
    expect([half.runs[i], half.up[i], half.planned[i]]).toEqual([15, 0, 15]);
    expect(bucketAt(ring, down[0] + 1_000, T, [down])).toMatchObject({ letter: 'c', runs: 0, up: 0, maintenance: 30 });
    expect(bucketAt(ring, down[0] + 1_000, T)).toMatchObject({ letter: 'c', runs: 30, up: 0, maintenance: 0 });
  });

  it('a bar taken by stretches of like minutes equals one taken minute by minute, for any layout and maintenance windows', () => {
    const MIN = 60_000;
    fc.assert(fc.property(
      // A day and a bit of minutes at 6 runs each, in stretches of one status (a few runs critical).
      fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.nat(3), fc.nat(6)), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 100 }),
      fc.nat(3 * 3_600_000),
      // Windows from any millisecond, and on minute starts (where a minute is just in or just out).
      fc.array(fc.oneof(
        fc.tuple(fc.nat(1_700 * MIN), fc.integer({ min: 1, max: 300 * MIN })),
        fc.tuple(fc.nat(1_700).map((m) => m * MIN), fc.integer({ min: 1, max: 300 }).map((m) => m * MIN)),
      ), { maxLength: 4 }),
      (stretches, count, late, windows) => {
        const ring = new HistoryRing(10);
        const t0 = T - 26 * H;
        let m = 0;
        for (const [minutes, rank, down] of stretches) {
          for (let k = 0; k < minutes; k++, m++) {
            for (let r = 0; r < 6; r++) ring.push({ t: t0 + m * MIN + r * 10_000, duration: 0.1, status: r < down ? 'critical' : STATUSES[rank] });
          }
        }
        const now = t0 + m * MIN + late;
        const spec = barSpec(now, count);
        // Windows sorted and merged, as Maintenance.excluded gives them.
        const planned: Array<[number, number]> = [];
        for (const [from, length] of windows.map(([a, b]) => [t0 + a, t0 + a + b]).sort((a, b) => a[0] - b[0])) {
          const prev = planned[planned.length - 1];
          if (prev && from <= prev[1]) prev[1] = Math.max(prev[1], length);
          else planned.push([from, length]);
        }
        // The reference: each minute on its own, straight into its bucket.
        const byMinute = new BucketAccumulator(spec);
        let w = 0;
        ring.minutes.forEach(spec.start, barEnd(spec), (minute, worst, runs, up) => {
          while (w < planned.length && planned[w][1] <= minute) w++;
          const i = byMinute.index(minute);
          if (i < 0 || runs <= 0) return;
          if (w < planned.length && planned[w][0] <= minute) byMinute.planned[i] += runs;
          else { byMinute.runs[i] += runs; byMinute.up[i] += up; }
          if (worst > byMinute.worst[i]) byMinute.worst[i] = worst;
        });
        const byStretch = barOf(ring, spec, planned);
        expect([byStretch.worst, byStretch.runs, byStretch.up, byStretch.planned].map((a) => Array.from(a)))
          .toEqual([byMinute.worst, byMinute.runs, byMinute.up, byMinute.planned].map((a) => Array.from(a)));
      },
    ), { numRuns: 150 });
  });

  it('restored minutes fill the bar without counting the restored runs twice', () => {
    const state = new StateStore();
    state.applyConfig({ checks: [{ name: 'a', type: 'tcp', component: 'c', interval: 1_000, timeout: 500, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true }], components: [], history: { max_points: 100, retention: 90 * 24 * H } } as never, new Set());
    const m = Math.floor((T - 5 * H) / 60_000);
    state.restore('a', { status: 'healthy', since: T - 10 * H, points: [{ t: m * 60_000 + 1_000, duration: 0.1, status: 'healthy' }], minutes: [[m, statusRank('degraded'), 60, 60]] });
    const acc = barOf(state.get('a')!.history, barSpec(T));
    const i = acc.index(m * 60_000);
    expect([acc.letter(i), acc.runs[i], acc.up[i]]).toEqual(['d', 60, 60]);
    expect(state.get('a')!.history.length).toBe(1);
  });
});

describe('MinuteSlots', () => {
  const MIN = 60_000;
  const PAGES = Math.ceil(BAR_MINUTES / 64);
  const t0 = 29_000_000 * MIN; // an epoch minute
  const counts = (slots: MinuteSlots, from: number, to: number) => {
    const out: Array<[number, number, number, number]> = [];
    slots.forEach(from, to, (m, worst, runs, up) => out.push([m, worst, runs, up]));
    return out;
  };

  it('keeps a minute in one byte while it holds at most 18 runs, and unpacks without losing any', () => {
    const slots = new MinuteSlots();
    // A day of a check at 10 s, one run in 7 critical and one in 5 degraded: six runs a minute.
    const day: Array<[number, number, number, number]> = [];
    for (let m = 0; m < BAR_MINUTES - 2; m++) {
      let worst = -1;
      let up = 0;
      for (let k = 0; k < 6; k++) {
        const n = m * 6 + k;
        const rank = statusRank(n % 7 === 0 ? 'critical' : n % 5 === 0 ? 'degraded' : 'healthy');
        slots.add(t0 + m * MIN + k * 10_000, rank);
        worst = Math.max(worst, rank);
        if (rank !== statusRank('critical')) up++;
      }
      day.push([t0 + m * MIN, worst, 6, up]);
    }
    expect(slots.width).toBe(1);
    // No stretch of 64 minutes is the same throughout: every page is held, a byte a minute.
    expect(slots.bytes()).toBe(PAGES * 64);
    expect(counts(slots, 0, Infinity)).toEqual(day);
    // 18 runs fit the byte; the 19th unpacks every minute into a byte of runs and a byte of code.
    const last = t0 + (BAR_MINUTES - 2) * MIN;
    for (let k = 0; k < 18; k++) slots.add(last + k * 3_000, statusRank(k === 3 ? 'critical' : 'healthy'));
    expect(slots.width).toBe(1);
    slots.add(last + 59_000, statusRank('degraded'));
    expect(slots.width).toBe(2);
    expect(slots.bytes()).toBeLessThanOrEqual(PAGES * 64 * 2);
    expect(counts(slots, 0, Infinity)).toEqual([...day, [last, statusRank('critical'), 19, 18]]);
  });

  it('holds a steady day in a page or two, the pages around an outage while it is in the day, and small again once it has left', () => {
    const slots = new MinuteSlots();
    const run = (m: number, status: 'healthy' | 'critical') => { for (let k = 0; k < 6; k++) slots.add(t0 + m * MIN + k * 10_000, statusRank(status)); };
    // A check at 10 s, healthy for a day: every minute six healthy runs.
    for (let m = 0; m < BAR_MINUTES; m++) run(m, 'healthy');
    expect(slots.bytes()).toBeLessThanOrEqual(128);
    // Three hours down, then healthy again.
    for (let m = BAR_MINUTES; m < BAR_MINUTES + 180; m++) run(m, m % 10 === 0 ? 'healthy' : 'critical');
    for (let m = BAR_MINUTES + 180; m < BAR_MINUTES + 300; m++) run(m, 'healthy');
    expect(slots.bytes()).toBeGreaterThanOrEqual(3 * 64);
    const day = counts(slots, 0, Infinity);
    expect(day).toHaveLength(BAR_MINUTES);
    expect(day.filter(([, worst]) => worst === statusRank('critical'))).toHaveLength(162);
    // A day later the outage has left the bar: the pages it needed are given back.
    for (let m = BAR_MINUTES + 300; m < 2 * BAR_MINUTES + 400; m++) run(m, 'healthy');
    expect(slots.bytes()).toBeLessThanOrEqual(128);
    expect(counts(slots, 0, Infinity).every(([, worst, runs, up]) => worst === statusRank('healthy') && runs === 6 && up === 6)).toBe(true);
  });

  it('keeps counts in a byte until a minute holds more than 251 runs, then widens without losing any', () => {
    const slots = new MinuteSlots();
    // Minute 0: 200 runs, one critical. Minute 1: 1 000 runs (a check every 60 ms), 10 critical.
    for (let i = 0; i < 200; i++) slots.add(t0 + i * 100, statusRank(i === 7 ? 'critical' : 'healthy'));
    expect(slots.width).toBe(2);
    for (let i = 0; i < 1000; i++) slots.add(t0 + MIN + i * 60, statusRank(i % 100 === 0 ? 'critical' : 'healthy'));
    expect(slots.width).toBe(4);
    // Two minutes written: their pages are held, the empty rest of the day is not.
    expect(slots.bytes()).toBeLessThanOrEqual(2 * 64 * 2);
    expect(counts(slots, t0, t0 + 2 * MIN)).toEqual([
      [t0, statusRank('critical'), 200, 199],
      [t0 + MIN, statusRank('critical'), 1000, 990],
    ]);
  });

  it('counts what a plain per-minute model counts, through widening and the 24 h window', () => {
    // The model: a map minute -> [worst, runs, up] with the rules the bar relies on.
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.tuple(fc.constant('run' as const), fc.nat(3000), fc.nat(3), fc.oneof(fc.nat(20), fc.nat(400))),
        fc.tuple(fc.constant('minute' as const), fc.nat(3000), fc.nat(3), fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 400 })), fc.nat(450)),
      ), { maxLength: 200 }),
      (ops) => {
        const slots = new MinuteSlots();
        const model = new Map<number, [number, number, number]>();
        let head = -Infinity;
        const base = t0 / MIN;
        const current = (m: number) => {
          if (m > head) {
            head = m;
            for (const k of model.keys()) if (k <= head - BAR_MINUTES) model.delete(k);
          }
          return m > head - BAR_MINUTES;
        };
        for (const op of ops) {
          if (op[0] === 'run') {
            // `repeat` runs of one rank in one minute (enough to pass a byte now and then).
            const [, minute, rank, repeat] = op;
            for (let k = 0; k < repeat; k++) {
              slots.add((base + minute) * MIN + k, rank);
              if (!current(base + minute) || rank === statusRank('unknown')) continue;
              const e = model.get(base + minute) ?? [-1, 0, 0];
              model.set(base + minute, [Math.max(e[0], rank), e[1] + 1, e[2] + (rank === statusRank('critical') ? 0 : 1)]);
            }
          } else {
            const [, minute, worst, runs, up] = op;
            slots.addMinute(base + minute, worst, runs, up);
            if (!current(base + minute)) continue;
            const e = model.get(base + minute) ?? [-1, 0, 0];
            const total = e[1] + runs;
            const ups = Math.min(total, e[2] + up);
            // A minute with a run that was not up holds critical as its worst.
            model.set(base + minute, [ups < total ? statusRank('critical') : Math.max(e[0], worst), total, ups]);
          }
        }
        const expected = [...model].filter(([, e]) => e[1] > 0).sort((a, b) => a[0] - b[0]).map(([m, e]) => [m * MIN, ...e]);
        expect(counts(slots, 0, Infinity)).toEqual(expected);
      },
    ), { numRuns: 200 });
  });

  it('widens for a restored minute that does not fit a byte, and never counts more up runs than runs', () => {
    const slots = new MinuteSlots();
    slots.addMinute(t0 / MIN, statusRank('healthy'), 250, 250);
    slots.addMinute(t0 / MIN, statusRank('degraded'), 30, 30);
    slots.addMinute(t0 / MIN + 1, statusRank('critical'), 3, 9);
    expect(counts(slots, t0, t0 + 2 * MIN)).toEqual([
      [t0, statusRank('degraded'), 280, 280],
      [t0 + MIN, statusRank('critical'), 3, 3],
    ]);
  });
});
