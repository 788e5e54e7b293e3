// Response-time sketches of the hours not rolled up yet, per check, kept beside the write path:
// a report's recent edge (the hour or two before the roller has written their hour rows) gets
// its percentiles from here instead of reading those hours' raw results back, and the
// in-memory ring need not hold them. Counts in the sketch's buckets (1 KB a check and hour);
// hours the roller has written are dropped, and never more than MAX_HOURS are held. After a
// restart an hour's runs from before it are not here: that hour's percentiles come from the runs
// since (its hour row, once written, has them all).
import { bucketOf, Sketch, SKETCH_BUCKETS } from './sketch.js';

const HOUR_MS = 3_600_000;
/** Hours held per check at most (the current one, the one settling, and one for a slow roller). */
export const MAX_HOURS = 3;

export class LiveSketches {
  private byCheck = new Map<string, Map<number, Uint32Array>>();

  add(check: string, t: number, seconds: number): void {
    const hour = Math.floor(t / HOUR_MS);
    let hours = this.byCheck.get(check);
    if (!hours) this.byCheck.set(check, hours = new Map());
    let counts = hours.get(hour);
    if (!counts) {
      hours.set(hour, counts = new Uint32Array(SKETCH_BUCKETS));
      if (hours.size > MAX_HOURS) hours.delete(Math.min(...hours.keys()));
    }
    counts[bucketOf(seconds)]++;
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
        for (let i = 0; i < SKETCH_BUCKETS; i++) s.counts[i] += counts[i];
        s.total += counts.reduce((a, b) => a + b, 0);
      }
    }
    return out;
  }
}
