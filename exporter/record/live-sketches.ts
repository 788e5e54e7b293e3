// Response-time sketches of the hours not rolled up yet, per check, kept beside the write path:
// a report's recent edge (the hour or two before the roller has written their hour rows) gets
// its percentiles from here instead of reading those hours' raw results back, and the
// in-memory ring need not hold them. Counts in the sketch's buckets, only those in use (a check's
// response times fill a few of the 256: ~100 bytes a check and hour where all of them took 1 KB,
// 10 MB an hour at 10 000 checks); hours the roller has written are dropped, and never more than
// MAX_HOURS are held. After a restart an hour's runs from before it are not here: that hour's
// percentiles come from the runs since (its hour row, once written, has them all).
import { bucketOf, Sketch, SKETCH_BUCKETS } from './sketch.js';

const HOUR_MS = 3_600_000;
/** Hours held per check at most (the current one, the one settling, and one for a slow roller). */
export const MAX_HOURS = 3;

/** A bucket's count in a packed entry: bucket << COUNT_BITS | count. */
const COUNT_BITS = 24;
const COUNT_MAX = 2 ** COUNT_BITS - 1;

/**
 * One check's hour: an entry per bucket in use (bucket << COUNT_BITS | count), unsorted, in an
 * array that doubles as buckets come into use (at most SKETCH_BUCKETS). A count stops at 16.7 M,
 * a run every 0.2 ms for an hour.
 */
class SparseCounts {
  entries = new Uint32Array(8);
  used = 0;

  add(bucket: number): void {
    const e = this.entries;
    for (let k = 0; k < this.used; k++) {
      if (e[k] >>> COUNT_BITS === bucket) {
        if ((e[k] & COUNT_MAX) < COUNT_MAX) e[k]++;
        return;
      }
    }
    if (this.used === e.length) {
      this.entries = new Uint32Array(Math.min(SKETCH_BUCKETS, 2 * e.length));
      this.entries.set(e);
    }
    this.entries[this.used++] = ((bucket << COUNT_BITS) | 1) >>> 0;
  }

  addTo(s: Sketch): void {
    for (let k = 0; k < this.used; k++) {
      const n = this.entries[k] & COUNT_MAX;
      s.counts[this.entries[k] >>> COUNT_BITS] += n;
      s.total += n;
    }
  }
}

export class LiveSketches {
  private byCheck = new Map<string, Map<number, SparseCounts>>();

  add(check: string, t: number, seconds: number): void {
    const hour = Math.floor(t / HOUR_MS);
    let hours = this.byCheck.get(check);
    if (!hours) this.byCheck.set(check, hours = new Map());
    let counts = hours.get(hour);
    if (!counts) {
      hours.set(hour, counts = new SparseCounts());
      if (hours.size > MAX_HOURS) hours.delete(Math.min(...hours.keys()));
    }
    counts.add(bucketOf(seconds));
  }

  /** The check's sketch of one hour, undefined when none is held. */
  sketch(check: string, hour: number): Sketch | undefined {
    const counts = this.byCheck.get(check)?.get(hour);
    if (!counts) return undefined;
    const s = new Sketch();
    counts.addTo(s);
    return s;
  }

  /** Forget the hours before `hour` (rolled up: their hour rows hold them). */
  dropBefore(hour: number): void {
    for (const [check, hours] of this.byCheck) {
      for (const h of hours.keys()) if (h < hour) hours.delete(h);
      if (!hours.size) this.byCheck.delete(check);
    }
  }

  /** Each check's sketch of the hours in [fromHour, toHour). */
  sketches(fromHour: number, toHour: number): Map<string, Sketch> {
    const out = new Map<string, Sketch>();
    for (const [check, hours] of this.byCheck) {
      for (const [h, counts] of hours) {
        if (h < fromHour || h >= toHour) continue;
        let s = out.get(check);
        if (!s) out.set(check, s = new Sketch());
        counts.addTo(s);
      }
    }
    return out;
  }
}
