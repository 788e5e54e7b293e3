// Per-check history in memory: the newest runs in a fixed-size ring of typed arrays (9 bytes a
// point: time, duration, status; history.max_points of them, 300 by default, allocated lazily)
// for the sparkline, the live page and short reports, and the status bar's 24 h one slot a
// minute (MinuteSlots, 1.4 KB a check at most, 64-128 bytes for a steady one). Everything older
// or longer is read from the record (exporter/record): history does not live on the heap.
import { statusRank, STATUSES, type Status } from '../model/status.js';
import { PagedCells } from './paged-cells.js';

export interface HistoryPoint {
  t: number; // epoch ms
  duration: number; // seconds
  status: Status;
}

const GROW = 64;
/**
 * A ring of at most this many points goes from GROW to its capacity in one step. Doubling left
 * each ring's buffers of 128 and 256 points behind as holes in the allocator's heap that the
 * larger buffers after them could not use: 10 000 rings filled to 300 points in turn took 29 MB
 * more RSS that way for the same 32 MB of buffers.
 */
const ONE_STEP = 1_024;

/** The most milliseconds a ring's times span while it holds them as offsets from its base (49.7 days). */
const NARROW_SPAN = 2 ** 32;

/**
 * The ring's three columns of `n` points in one ArrayBuffer: each buffer of its own cost ~0.2 KB
 * besides its bytes (its JS object, V8's backing-store record and the allocation), more than the
 * points of a young ring. Times are whole milliseconds after the ring's base in 4 bytes, or
 * (`wide`) epoch milliseconds in 8 once the points held span more than NARROW_SPAN (a check every
 * 4 h or slower keeping 300 points) or a time is not whole.
 */
function columnsOf(n: number, wide: boolean): [Uint32Array | Float64Array, Float32Array, Uint8Array] {
  const bytes = wide ? 8 : 4;
  const buffer = new ArrayBuffer(n * (bytes + 5));
  return [wide ? new Float64Array(buffer, 0, n) : new Uint32Array(buffer, 0, n), new Float32Array(buffer, n * bytes, n), new Uint8Array(buffer, n * (bytes + 4), n)];
}

export class HistoryRing {
  /** Milliseconds after `base` (Uint32Array), or epoch milliseconds once wide (`base` is then 0). */
  private times: Uint32Array | Float64Array;
  private base = 0;
  private durations: Float32Array;
  private statuses: Uint8Array;
  private start = 0;
  private count = 0;
  /** The status bar's 24 h, per minute (fed by every push; refilled from the record's minute rollups at start). */
  readonly minutes = new MinuteSlots();

  constructor(readonly capacity: number) {
    // Start small and grow: most checks never fill 24 h before a reload or restart.
    [this.times, this.durations, this.statuses] = columnsOf(Math.min(capacity, GROW), false);
  }

  /** Add the newest run; `minutes: false` leaves the per-minute bar alone (a restored run it already counts). */
  push(p: HistoryPoint, minutes = true): void {
    if (minutes) this.minutes.add(p.t, statusRank(p.status));
    if (this.count < this.capacity && this.count === this.times.length) this.grow();
    const offset = p.t - this.base;
    if (this.times instanceof Uint32Array && !(offset >= 0 && offset < NARROW_SPAN && Number.isInteger(offset))) this.rebase(p.t);
    const size = this.times.length;
    const i = (this.start + this.count) % size;
    this.times[i] = p.t - this.base;
    this.durations[i] = p.duration;
    this.statuses[i] = statusRank(p.status);
    if (this.count < size) this.count++;
    else this.start = (this.start + 1) % size;
  }

  get length(): number {
    return this.count;
  }

  /** Points with t >= since, oldest first. */
  since(since = 0): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const size = this.times.length;
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % size;
      if (this.times[i] + this.base < since) continue;
      out.push({ t: this.times[i] + this.base, duration: this.durations[i], status: STATUSES[this.statuses[i]] });
    }
    return out;
  }

  // The helpers below find `since` by binary search: they rely on points being pushed in time
  // order, which the state store guarantees (a check's runs never overlap).

  /** Visit points with t >= since, oldest first, without allocating (status as an index into STATUSES). */
  forEach(since: number, fn: (t: number, duration: number, status: number) => void): void {
    const size = this.times.length;
    for (let k = this.lowerBound(since); k < this.count; k++) {
      const i = this.start + k < size ? this.start + k : this.start + k - size;
      fn(this.times[i] + this.base, this.durations[i], this.statuses[i]);
    }
  }

  /** Points with since <= t < until as columns in time order (copies; status as an index into STATUSES). */
  columns(since = 0, until = Infinity): { t: Float64Array; duration: Float32Array; status: Uint8Array } {
    const from = this.lowerBound(since);
    const to = until === Infinity ? this.count : this.lowerBound(until);
    const n = Math.max(0, to - from);
    const out = { t: new Float64Array(n), duration: new Float32Array(n), status: new Uint8Array(n) };
    const size = this.times.length;
    // At most two contiguous runs of the ring: copy each with TypedArray.set.
    let written = 0;
    let k = from;
    while (written < n) {
      const i = (this.start + k) % size;
      const run = Math.min(n - written, size - i);
      out.t.set(this.times.subarray(i, i + run), written);
      out.duration.set(this.durations.subarray(i, i + run), written);
      out.status.set(this.statuses.subarray(i, i + run), written);
      written += run;
      k += run;
    }
    if (this.base) for (let j = 0; j < n; j++) out.t[j] += this.base;
    return out;
  }

  /** Durations (seconds) of the newest `n` points, oldest first. */
  lastDurations(n: number): number[] {
    const out: number[] = [];
    const size = this.times.length;
    for (let k = Math.max(0, this.count - n); k < this.count; k++) out.push(this.durations[(this.start + k) % size]);
    return out;
  }

  /** Time of the oldest point held, if any. */
  oldest(): number | undefined {
    return this.count ? this.times[this.start] + this.base : undefined;
  }

  /** Logical index of the first point with t >= since (points are pushed in time order). */
  private lowerBound(since: number): number {
    const size = this.times.length;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[(this.start + mid) % size] + this.base < since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop points older than `before` (retention). */
  trim(before: number): void {
    const size = this.times.length;
    while (this.count > 0 && this.times[this.start] + this.base < before) {
      this.start = (this.start + 1) % size;
      this.count--;
    }
  }

  bytes(): number {
    return this.times.buffer.byteLength;
  }

  private grow(): void {
    const next = this.capacity <= ONE_STEP ? this.capacity : Math.min(this.capacity, Math.max(GROW, this.times.length * 2));
    this.copyTo(next, this.times instanceof Float64Array, this.base);
  }

  /**
   * Time `t` does not fit the offsets from the base: count from the oldest point held (or `t`)
   * instead, or hold epoch milliseconds once the points span more than NARROW_SPAN.
   */
  private rebase(t: number): void {
    if (!this.count && Number.isInteger(t)) {
      this.base = t;
      return;
    }
    const oldest = this.count ? this.times[this.start] + this.base : t;
    const newest = this.count ? this.times[(this.start + this.count - 1) % this.times.length] + this.base : t;
    const base = Math.min(oldest, t);
    if (Number.isInteger(t) && Math.max(newest, t) - base < NARROW_SPAN) this.copyTo(this.times.length, false, base);
    else this.copyTo(this.times.length, true, 0);
  }

  /** The points held into new columns of `size`, oldest first, times as offsets from `base` (or wide). */
  private copyTo(size: number, wide: boolean, base: number): void {
    const [times, durations, statuses] = columnsOf(size, wide);
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.times.length;
      times[k] = this.times[i] + this.base - base;
      durations[k] = this.durations[i];
      statuses[k] = this.statuses[i];
    }
    this.times = times;
    this.base = base;
    this.durations = durations;
    this.statuses = statuses;
    this.start = 0;
  }
}

/** One minute of the status bar as the record keeps it: [epoch minute, worst rank (-1 none), runs, up runs]. */
export type RestoredMinute = [minute: number, worst: number, runs: number, up: number];

/** Minutes of the per-minute bar kept: 24 h and the two minutes a bar's start can reach into. */
export const BAR_MINUTES = 1442;
const MINUTE = 60_000;
const UNKNOWN_RANK = 1; // statusRank('unknown')
const CRITICAL_RANK = 3; // statusRank('critical')
/** The most runs (and down runs) a minute counts in one byte, and in two: a code adds 4 to them. */
const NARROW_MAX = 251;
const WIDE_MAX = 65_531;
/** The most runs a minute holds in the packed form (a check every 3.4 s or slower). */
const PACKED_MAX = 18;

// The packed form: a minute's runs and code (see MinuteSlots) as one byte. A minute with r runs
// has 4 + r codes (1-3 worst, 4 critical with none down, 4 + down), so 1 + Σ(4 + r) for r up to
// PACKED_MAX is 244 values; these tables turn a byte back into the two.
const PACKED_BASE = new Uint8Array(PACKED_MAX + 1);
const PACKED_RUNS = new Uint8Array(256);
const PACKED_CODE = new Uint8Array(256);
for (let r = 1, k = 1; r <= PACKED_MAX; r++) {
  PACKED_BASE[r] = k;
  for (let code = 1; code <= 4 + r; code++, k++) {
    PACKED_RUNS[k] = r;
    PACKED_CODE[k] = code;
  }
}

/**
 * The status bar's 24 h, one slot a minute: how many runs finished in it (unknown runs left
 * out, as the bar does), the worst status among them and how many were down (critical). Two
 * counts a minute — the runs, then a code: 0 for a minute with no run, 1 + worst for a minute
 * without a critical run (every run was up), 4 + down otherwise. The bar never needs the runs
 * themselves, so they need not stay in memory for 24 h (the record keeps them).
 *
 * While no minute holds more than 18 runs (a check every 3.4 s or slower: most), the two take one
 * byte together (1.4 KB a check at most); past that a byte each (2.9 KB) until a minute holds more
 * than 251 runs (a check every 240 ms or faster), then two each. Stretches of 64 minutes that
 * hold the same throughout (a steady check's day) take no bytes of their own (paged-cells.ts).
 * With 10 000 steady checks at 10 s that is ~1 MB, where a byte a minute was 14 MB, a byte each
 * 29 MB and three arrays of a byte a minute 43 MB.
 */
export class MinuteSlots {
  /**
   * Packed: a byte a minute. Otherwise runs at [0, BAR_MINUTES), codes at [BAR_MINUTES, 2 * BAR_MINUTES).
   * Paged (paged-cells.ts): the pages the head has left that hold one value throughout (a steady
   * check's day) are kept as that value, so a check holds ~64 bytes of them, not 1 442.
   */
  private cells?: PagedCells;
  private packed = true;
  /** The most a count holds now: PACKED_MAX while packed, NARROW_MAX in bytes, WIDE_MAX in two. */
  private maxCount = PACKED_MAX;
  /** Newest epoch minute held; slots hold (head - BAR_MINUTES, head]. */
  private head = -Infinity;

  /** One run finished at `t` with status rank `rank`. */
  add(t: number, rank: number): void {
    const m = Math.floor(t / MINUTE);
    if (!this.advance(m) || rank === UNKNOWN_RANK) return;
    const i = m % BAR_MINUTES;
    let runs = this.runs(i);
    if (runs === this.maxCount && this.maxCount < WIDE_MAX) this.widen();
    let down = this.down(i);
    const worst = Math.max(this.worst(i), rank);
    // down never exceeds runs: one bound for both.
    if (runs < this.maxCount) {
      runs++;
      if (rank === CRITICAL_RANK) down++;
    }
    this.put(i, runs, worst, down);
  }

  /** A whole minute as the record's minute rollup keeps it (restore). */
  addMinute(m: number, worst: number, runs: number, up: number): void {
    if (!this.advance(m) || worst < 0 || runs <= 0) return;
    const i = m % BAR_MINUTES;
    const had = this.runs(i);
    while (had + runs > this.maxCount && this.maxCount < WIDE_MAX) this.widen();
    const total = Math.min(this.maxCount, had + runs);
    // A minute holds no more up runs than runs: what is not up of the total is down.
    const down = Math.max(0, total - (had - this.down(i)) - Math.max(0, up));
    this.put(i, total, Math.max(this.worst(i), worst), down);
  }

  /** Make minute `m` current (clearing the minutes passed over); false when it is too old to hold. */
  private advance(m: number): boolean {
    const cells = (this.cells ??= new PagedCells(BAR_MINUTES));
    if (m > this.head) {
      const from = Math.max(this.head + 1, m - BAR_MINUTES + 1);
      // The head's minute is written no more: its page may now hold one value throughout.
      if (this.head > -Infinity) this.compact(this.head % BAR_MINUTES);
      for (let k = from; k <= m; k++) {
        const i = k % BAR_MINUTES;
        cells.set(i, 0);
        if (!this.packed) cells.set(BAR_MINUTES + i, 0);
        if (k < m) this.compact(i);
      }
      this.head = m;
      return true;
    }
    return m > this.head - BAR_MINUTES;
  }

  /** Visit the minutes with runs whose start is in [from, to) (epoch ms), oldest first. */
  forEach(from: number, to: number, fn: (minuteStart: number, worst: number, runs: number, up: number) => void): void {
    this.forEachSpan(from, to, (start, minutes, worst, runs, up) => {
      for (let k = 0; k < minutes; k++) fn(start + k * MINUTE, worst, runs, up);
    });
  }

  /**
   * forEach() by stretches: `minutes` consecutive minutes from `start` that each hold these
   * counts. A steady check's day is ~23 stretches, not 1 440 minutes: a status snapshot of 500
   * checks walked 720 000 minutes, two thirds of its time.
   */
  forEachSpan(from: number, to: number, fn: (start: number, minutes: number, worst: number, runs: number, up: number) => void): void {
    if (!this.cells) return;
    const first = Math.max(Math.ceil(from / MINUTE), this.head - BAR_MINUTES + 1);
    const last = Math.min(Math.ceil(to / MINUTE) - 1, this.head);
    for (let m = first; m <= last;) {
      const i = m % BAR_MINUTES;
      const n = Math.min(this.sameFrom(i), last - m + 1);
      const runs = this.runs(i);
      if (runs) fn(m * MINUTE, n, this.worst(i), runs, runs - this.down(i));
      m += n;
    }
  }

  /** The most bytes a minute takes: 1 packed, 2 (a byte of runs, a byte of code), 4 (two bytes each). */
  get width(): number {
    return this.packed ? 1 : this.cells!.wide ? 4 : 2;
  }

  /** Bytes of minutes held apart (pages that hold one value throughout take none). */
  bytes(): number {
    return this.cells?.bytes() ?? 0;
  }

  /** How many slots from `i` on (at least 1, never past the last) hold what slot `i` holds. */
  private sameFrom(i: number): number {
    const cells = this.cells!;
    return this.packed ? cells.sameTo(i) : Math.min(cells.sameTo(i), cells.sameTo(BAR_MINUTES + i), BAR_MINUTES - i);
  }

  private runs(i: number): number {
    return this.packed ? PACKED_RUNS[this.cells!.get(i)] : this.cells!.get(i);
  }

  private code(i: number): number {
    return this.packed ? PACKED_CODE[this.cells!.get(i)] : this.cells!.get(BAR_MINUTES + i);
  }

  private compact(i: number): void {
    this.cells!.compact(i);
    if (!this.packed) this.cells!.compact(BAR_MINUTES + i);
  }

  private worst(i: number): number {
    const code = this.code(i);
    return code === 0 ? -1 : code <= 3 ? code - 1 : CRITICAL_RANK;
  }

  private down(i: number): number {
    const code = this.code(i);
    return code > 3 ? code - 4 : 0;
  }

  /** A down run is a critical one: a minute with any holds critical as its worst. */
  private put(i: number, runs: number, worst: number, down: number): void {
    const code = runs === 0 ? 0 : down > 0 || worst === CRITICAL_RANK ? 4 + down : worst + 1;
    if (this.packed) this.cells!.set(i, runs === 0 ? 0 : PACKED_BASE[runs] + code - 1);
    else {
      this.cells!.set(i, runs);
      this.cells!.set(BAR_MINUTES + i, code);
    }
  }

  /** The next form up: a minute outgrew this one's counts. */
  private widen(): void {
    const s = this.cells!;
    if (this.packed) {
      const wider = new PagedCells(2 * BAR_MINUTES);
      for (let i = 0; i < BAR_MINUTES; i++) {
        wider.set(i, PACKED_RUNS[s.get(i)]);
        wider.set(BAR_MINUTES + i, PACKED_CODE[s.get(i)]);
      }
      wider.compactAll();
      this.cells = wider;
      this.packed = false;
      this.maxCount = NARROW_MAX;
    } else {
      s.widen();
      this.maxCount = WIDE_MAX;
    }
  }
}
