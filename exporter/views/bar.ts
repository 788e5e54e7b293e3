// The availability bar: a check's runs in equal time buckets, each holding the worst status of
// the runs that finished in it and how many of them were up (not critical); a bucket with no run
// is "no data". The one definition of bucketing: the status snapshot, the live diffs (which
// carry the bucket a run landed in, so the page applies it instead of re-deriving it) and the
// bucketed check history all use it.
import type { HistoryRing } from '../engine/history.js';
import { statusRank, STATUSES, type Status } from '../model/status.js';
import type { PeriodPoint } from '../health/report-period.js';
import { iso } from './format.js';

/** The page's bar: 48 half-hour buckets over 24 h. */
export const DEFAULT_BAR_BUCKETS = 48;
export const BAR_SPAN_MS = 86_400_000;

export interface BarSpec {
  /** Epoch ms where bucket 0 starts. */
  start: number;
  /** Bucket width, ms. */
  step: number;
  count: number;
}

/** `count` buckets covering `span` ms, aligned to multiples of the bucket width, the last one containing `now`. */
export function barSpec(now: number, count = DEFAULT_BAR_BUCKETS, span = BAR_SPAN_MS): BarSpec {
  const step = Math.max(1, Math.floor(span / count));
  const end = (Math.floor(now / step) + 1) * step;
  return { start: end - count * step, step, count };
}

/** Where the bar of `spec` ends (exclusive), epoch ms. */
export const barEnd = (spec: BarSpec): number => spec.start + spec.count * spec.step;

const MINUTE = 60_000;
const UNKNOWN = statusRank('unknown');
const CRITICAL = statusRank('critical');

/** One letter per status in a bar: h(ealthy) d(egraded) c(ritical); `-` is a bucket with no data. */
export const LETTER: Record<Status, string> = { healthy: 'h', unknown: 'u', degraded: 'd', critical: 'c' };
export const NO_DATA = '-';

/** Times in maintenance windows, sorted and merged (Maintenance.excluded), epoch ms [from, to). */
export type PlannedSpans = ReadonlyArray<readonly [number, number]>;

export class BucketAccumulator {
  /** Worst status per bucket, as its rank (index into STATUSES), -1 when no run. */
  readonly worst: Int8Array;
  /** Runs that count in availability: those in maintenance windows do not. */
  readonly runs: Uint32Array;
  readonly up: Uint32Array;
  /** Runs in maintenance windows: they set the bucket's letter (the bar shows what happened) but not its availability. */
  readonly planned: Uint32Array;

  constructor(readonly spec: BarSpec) {
    this.worst = new Int8Array(spec.count).fill(-1);
    this.runs = new Uint32Array(spec.count);
    this.up = new Uint32Array(spec.count);
    this.planned = new Uint32Array(spec.count);
  }

  /** The bucket holding time `t`, or -1 outside the bar. */
  index(t: number): number {
    const i = Math.floor((t - this.spec.start) / this.spec.step);
    return i >= 0 && i < this.spec.count ? i : -1;
  }

  /** Add one run; `status` is its rank (the HistoryRing's own encoding). Unknown runs say nothing. */
  add(t: number, status: number): void {
    const i = this.index(t);
    if (i < 0 || status === UNKNOWN) return;
    this.runs[i]++;
    if (status !== CRITICAL) this.up[i]++;
    if (status > this.worst[i]) this.worst[i] = status;
  }

  /**
   * `minutes` consecutive minutes from `t` (MinuteSlots' stretches), each holding the same counts: `worst`
   * its worst rank, `runs` of them, `up` not critical; `planned` when in maintenance. Added a bucket at a time.
   */
  addMinutes(t: number, minutes: number, worst: number, runs: number, up: number, planned = false): void {
    const { start, step } = this.spec;
    const end = barEnd(this.spec);
    for (let k = 0; k < minutes;) {
      const at = t + k * MINUTE;
      if (at >= end) return;
      const i = this.index(at);
      // Minutes up to the next bucket's start (before the bar: up to the bar's start).
      const n = Math.min(minutes, Math.ceil(((i >= 0 ? start + (i + 1) * step : start) - t) / MINUTE)) - k;
      if (i >= 0 && runs > 0) {
        if (planned) this.planned[i] += n * runs;
        else {
          this.runs[i] += n * runs;
          this.up[i] += n * up;
        }
        if (worst > this.worst[i]) this.worst[i] = worst;
      }
      k += n;
    }
  }

  /** The letter of bucket `i`. */
  letter(i: number): string {
    const w = this.worst[i];
    return w < 0 ? NO_DATA : LETTER[STATUSES[w]];
  }

  /** One letter per bucket. */
  letters(): string {
    let s = '';
    for (let i = 0; i < this.spec.count; i++) s += this.letter(i);
    return s;
  }

  /** Percent of runs up per bucket (integer 0-100), null for no data. */
  upPercent(): Array<number | null> {
    return Array.from(this.runs, (n, i) => (n ? Math.floor((this.up[i] / n) * 100) : null));
  }

  /** Up runs / runs over the whole bar, null with no runs. */
  availability(): number | null {
    let runs = 0;
    let up = 0;
    for (let i = 0; i < this.spec.count; i++) { runs += this.runs[i]; up += this.up[i]; }
    return runs ? up / runs : null;
  }

  /** Bucket `i` as the live feed sends it. */
  bucket(i: number): BarBucket {
    return { start: iso(this.spec.start + i * this.spec.step)!, step_seconds: this.spec.step / 1000, letter: this.letter(i), runs: this.runs[i], up: this.up[i], maintenance: this.planned[i] };
  }
}

/** One bucket of a bar, whole: the page puts it in place of the bucket starting at `start`. */
export interface BarBucket {
  start: string;
  step_seconds: number;
  /** h, d, c, or - for no data. */
  letter: string;
  /** Runs that finished in the bucket, outside maintenance windows. */
  runs: number;
  /** Of those, runs up (not critical). */
  up: number;
  /** Runs that finished in the bucket inside maintenance windows (in no availability). */
  maintenance: number;
}

/** Bucket plain points (for callers that have arrays rather than a HistoryRing). */
export function bucketize(points: readonly PeriodPoint[], spec: BarSpec): BucketAccumulator {
  const acc = new BucketAccumulator(spec);
  for (const p of points) acc.add(p.t, statusRank(p.status));
  return acc;
}

// A bar is built from the ring's per-minute slots (engine/history.ts MinuteSlots): at most
// 1 442 slots a check, so a page load costs O(minutes), not O(runs in 24 h), and the runs
// themselves need not stay in memory for a day. A minute's runs count in the bucket holding the
// minute's start: exact whenever the bucket width is whole minutes (the page's 48 half-hour
// buckets, or any count dividing 1 440).

/**
 * The bar of `ring` in layout `spec`; runs in `planned` (maintenance) count apart. A minute is
 * in maintenance when its start is: the ring keeps minutes, not runs, for most of the day.
 */
export function barOf(ring: HistoryRing, spec: BarSpec, planned: PlannedSpans = []): BucketAccumulator {
  const acc = new BucketAccumulator(spec);
  addMinutes(acc, ring, spec.start, barEnd(spec), planned);
  return acc;
}

/** The bucket of the page's bar (DEFAULT_BAR_BUCKETS at `now`) that holds time `t`, or null outside it. */
export function bucketAt(ring: HistoryRing, t: number | undefined, now: number, planned: PlannedSpans = []): BarBucket | null {
  if (t === undefined) return null;
  const spec = barSpec(now);
  const acc = new BucketAccumulator(spec);
  const i = acc.index(t);
  if (i < 0) return null;
  // Only the minutes of that bucket.
  const from = spec.start + i * spec.step;
  addMinutes(acc, ring, from, from + spec.step, planned);
  return acc.bucket(i);
}

function addMinutes(acc: BucketAccumulator, ring: HistoryRing, from: number, to: number, planned: PlannedSpans): void {
  if (!planned.length) {
    ring.minutes.forEachSpan(from, to, (m, minutes, worst, runs, up) => acc.addMinutes(m, minutes, worst, runs, up));
    return;
  }
  // Stretches come oldest first and the spans are sorted: one walk over both, each stretch cut
  // where a window starts or ends (a minute is in maintenance when its start is).
  let k = 0;
  ring.minutes.forEachSpan(from, to, (start, minutes, worst, runs, up) => {
    let m = start;
    let left = minutes;
    while (left > 0) {
      while (k < planned.length && planned[k][1] <= m) k++;
      const inside = k < planned.length && planned[k][0] <= m;
      const edge = k === planned.length ? Infinity : inside ? planned[k][1] : planned[k][0];
      const n = Math.min(left, Math.ceil((edge - m) / MINUTE));
      acc.addMinutes(m, n, worst, runs, up, inside);
      m += n * MINUTE;
      left -= n;
    }
  });
}
