// Per-minute rollups of check results, added up in memory between flushes and written as
// "add these to the row" upserts, so a minute spread over several flushes (or a restart) sums
// correctly. Seconds per status come from the time between two results of a check: the status
// of the earlier one held until the later one arrived.
import { statusRank, STATUSES } from '../model/status.js';

const UNKNOWN_RANK = statusRank('unknown');
const CRITICAL_RANK = statusRank('critical');

export const MINUTE_MS = 60_000;

export interface MinuteRollup {
  runs: number;
  failures: number;
  /** Seconds spent in each status, indexed like STATUSES. */
  seconds: number[];
  /** Response time (the final attempt's duration, seconds): sum and largest. */
  rtSum: number;
  rtMax: number;
  /** The status bar's minute (engine/history.ts MinuteSlots): worst rank (-1 none), runs (unknown ones left out), runs up. */
  barWorst: number;
  barRuns: number;
  barUp: number;
}

export interface RollupRow extends MinuteRollup {
  check: string;
  /** Epoch minute (ms / 60 000, floored). */
  minute: number;
}

export function minuteOf(t: number): number {
  return Math.floor(t / MINUTE_MS);
}

/** [from, to) cut at minute boundaries: the epoch minute and the seconds of it covered. */
export function splitByMinute(from: number, to: number): Array<[minute: number, seconds: number]> {
  const out: Array<[number, number]> = [];
  let t = from;
  while (t < to) {
    const minute = minuteOf(t);
    const end = Math.min(to, (minute + 1) * MINUTE_MS);
    out.push([minute, (end - t) / 1000]);
    t = end;
  }
  return out;
}

function empty(): MinuteRollup {
  return { runs: 0, failures: 0, seconds: STATUSES.map(() => 0), rtSum: 0, rtMax: 0, barWorst: -1, barRuns: 0, barUp: 0 };
}

export class RollupBuffer {
  private rows = new Map<string, Map<number, MinuteRollup>>();

  private row(check: string, minute: number): MinuteRollup {
    let byMinute = this.rows.get(check);
    if (!byMinute) this.rows.set(check, byMinute = new Map());
    let r = byMinute.get(minute);
    if (!r) byMinute.set(minute, r = empty());
    return r;
  }

  /** One completed run, counted in the minute it finished; `rank` its status (index into STATUSES). */
  addRun(check: string, t: number, duration: number, ok: boolean, rank = -1): void {
    const r = this.row(check, minuteOf(t));
    r.runs++;
    if (!ok) r.failures++;
    r.rtSum += duration;
    if (duration > r.rtMax) r.rtMax = duration;
    // As the bar counts: unknown runs say nothing.
    if (rank >= 0 && rank !== UNKNOWN_RANK) {
      r.barRuns++;
      if (rank !== CRITICAL_RANK) r.barUp++;
      if (rank > r.barWorst) r.barWorst = rank;
    }
  }

  /** The check was in status `rank` (index into STATUSES) from `from` to `to` (epoch ms). */
  addStatusTime(check: string, from: number, to: number, rank: number): void {
    for (const [minute, seconds] of splitByMinute(from, to)) this.row(check, minute).seconds[rank] += seconds;
  }

  get size(): number {
    let n = 0;
    for (const m of this.rows.values()) n += m.size;
    return n;
  }

  /** Everything added since the last drain, and empty again. */
  drain(): RollupRow[] {
    const out: RollupRow[] = [];
    for (const [check, byMinute] of this.rows) for (const [minute, r] of byMinute) out.push({ check, minute, ...r });
    this.rows.clear();
    return out;
  }
}
