// Per-check history in a fixed-size ring of typed arrays: 13 bytes a point (time, duration,
// status), so 500 checks x 8 640 points (24 h at 10 s) is about 56 MB at most, allocated lazily.
import { statusRank, STATUSES, type Status } from '../model/status.js';

export interface HistoryPoint {
  t: number; // epoch ms
  duration: number; // seconds
  status: Status;
}

const GROW = 64;

export class HistoryRing {
  private times: Float64Array;
  private durations: Float32Array;
  private statuses: Uint8Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    // Start small and grow: most checks never fill 24 h before a reload or restart.
    const initial = Math.min(capacity, GROW);
    this.times = new Float64Array(initial);
    this.durations = new Float32Array(initial);
    this.statuses = new Uint8Array(initial);
  }

  push(p: HistoryPoint): void {
    if (this.count < this.capacity && this.count === this.times.length) this.grow();
    const size = this.times.length;
    const i = (this.start + this.count) % size;
    this.times[i] = p.t;
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
      if (this.times[i] < since) continue;
      out.push({ t: this.times[i], duration: this.durations[i], status: STATUSES[this.statuses[i]] });
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
      fn(this.times[i], this.durations[i], this.statuses[i]);
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
    return this.count ? this.times[this.start] : undefined;
  }

  /** Logical index of the first point with t >= since (points are pushed in time order). */
  private lowerBound(since: number): number {
    const size = this.times.length;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[(this.start + mid) % size] < since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop points older than `before` (retention). */
  trim(before: number): void {
    const size = this.times.length;
    while (this.count > 0 && this.times[this.start] < before) {
      this.start = (this.start + 1) % size;
      this.count--;
    }
  }

  bytes(): number {
    return this.times.byteLength + this.durations.byteLength + this.statuses.byteLength;
  }

  private grow(): void {
    const next = Math.min(this.capacity, Math.max(GROW, this.times.length * 2));
    const times = new Float64Array(next);
    const durations = new Float32Array(next);
    const statuses = new Uint8Array(next);
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.times.length;
      times[k] = this.times[i];
      durations[k] = this.durations[i];
      statuses[k] = this.statuses[i];
    }
    this.times = times;
    this.durations = durations;
    this.statuses = statuses;
    this.start = 0;
  }
}
