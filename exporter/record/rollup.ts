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

export interface RollupRow<K = string> extends MinuteRollup {
  /** The check: its name, or its id in the database. */
  check: K;
  /** Epoch minute (ms / 60 000, floored). */
  minute: number;
}

export function minuteOf(t: number): number {
  return Math.floor(t / MINUTE_MS);
}

/** [from, to) cut at minute boundaries: each epoch minute and the seconds of it covered, in order. */
export function eachMinute(from: number, to: number, fn: (minute: number, seconds: number) => void): void {
  for (let t = from; t < to;) {
    const minute = minuteOf(t);
    const end = Math.min(to, (minute + 1) * MINUTE_MS);
    fn(minute, (end - t) / 1000);
    t = end;
  }
}

/** eachMinute's pieces as an array. */
export function splitByMinute(from: number, to: number): Array<[minute: number, seconds: number]> {
  const out: Array<[number, number]> = [];
  eachMinute(from, to, (minute, seconds) => out.push([minute, seconds]));
  return out;
}

function empty(): MinuteRollup {
  return { runs: 0, failures: 0, seconds: STATUSES.map(() => 0), rtSum: 0, rtMax: 0, barWorst: -1, barRuns: 0, barUp: 0 };
}

function isEmpty(r: MinuteRollup): boolean {
  return r.runs === 0 && r.seconds.every((s) => s === 0);
}

/** A row of its own with `r`'s values (a literal: spreading `r` cost more than the rest of a drain). */
function rowOf<K>(check: K, minute: number, r: MinuteRollup, seconds: number[]): RollupRow<K> {
  return { check, minute, runs: r.runs, failures: r.failures, seconds, rtSum: r.rtSum, rtMax: r.rtMax, barWorst: r.barWorst, barRuns: r.barRuns, barUp: r.barUp };
}

function reset(r: MinuteRollup): void {
  r.runs = 0;
  r.failures = 0;
  r.seconds.fill(0);
  r.rtSum = 0;
  r.rtMax = 0;
  r.barWorst = -1;
  r.barRuns = 0;
  r.barUp = 0;
}

/**
 * Minute rollups by check and minute, added to in place. The record drains its buffer every
 * second, and a check at 1 s adds to the same row sixty times before its minute ends: a drain
 * zeroes the rows it hands out and keeps them, and drops only those nothing was added to since the
 * drain before. Rebuilding every check's rows each second (a map, a row and its seconds per
 * check, each living a second, long enough to be promoted) made counting the minute rollups cost
 * more than writing the results (docs/development.md).
 */
export class RollupBuffer<K = string> {
  private rows = new Map<K, Map<number, MinuteRollup>>();
  /** Anything added since the last drain. */
  private added = false;

  private row(check: K, minute: number): MinuteRollup {
    this.added = true;
    let byMinute = this.rows.get(check);
    if (!byMinute) this.rows.set(check, byMinute = new Map());
    let r = byMinute.get(minute);
    if (!r) byMinute.set(minute, r = empty());
    return r;
  }

  /** One completed run, counted in the minute it finished; `rank` its status (index into STATUSES). */
  addRun(check: K, t: number, duration: number, ok: boolean, rank = -1): void {
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
  addStatusTime(check: K, from: number, to: number, rank: number): void {
    // Visited, not split into an array of pieces: this runs for every result.
    eachMinute(from, to, (minute, seconds) => { this.row(check, minute).seconds[rank] += seconds; });
  }

  /** Rows drained from another buffer, added to these. */
  add(rows: readonly RollupRow<K>[]): void {
    for (const x of rows) this.addTo(x.check, x.minute, x);
  }

  private addTo(check: K, minute: number, x: MinuteRollup): void {
    const r = this.row(check, minute);
    r.runs += x.runs;
    r.failures += x.failures;
    for (let i = 0; i < r.seconds.length; i++) r.seconds[i] += x.seconds[i];
    r.rtSum += x.rtSum;
    if (x.rtMax > r.rtMax) r.rtMax = x.rtMax;
    if (x.barWorst > r.barWorst) r.barWorst = x.barWorst;
    r.barRuns += x.barRuns;
    r.barUp += x.barUp;
  }

  /** Whether nothing was added since the last drain. */
  get empty(): boolean {
    return !this.added;
  }

  /** Everything added so far, left in place (the rows share their `seconds` with the buffer: read them, do not change them). */
  peek(): RollupRow<K>[] {
    const out: RollupRow<K>[] = [];
    for (const [check, byMinute] of this.rows) {
      for (const [minute, r] of byMinute) if (!isEmpty(r)) out.push(rowOf(check, minute, r, r.seconds));
    }
    return out;
  }

  /** Everything added since the last drain (rows of their own), and empty again. */
  drain(): RollupRow<K>[] {
    const out: RollupRow<K>[] = [];
    for (const [check, byMinute] of this.rows) {
      for (const [minute, r] of byMinute) if (!isEmpty(r)) out.push(rowOf(check, minute, r, r.seconds.slice()));
    }
    this.clear();
    return out;
  }

  /**
   * Empty again, as after a drain: rows are zeroed and kept for what comes next, and those
   * nothing was added to since the drain before are dropped.
   */
  clear(): void {
    for (const [check, byMinute] of this.rows) {
      for (const [minute, r] of byMinute) {
        if (isEmpty(r)) byMinute.delete(minute);
        else reset(r);
      }
      if (!byMinute.size) this.rows.delete(check);
    }
    this.added = false;
  }

  /** Everything in `other` added to these, row by row (no rows of their own made in between). */
  addFrom(other: RollupBuffer<K>): void {
    for (const [check, byMinute] of other.rows) {
      for (const [minute, x] of byMinute) if (!isEmpty(x)) this.addTo(check, minute, x);
    }
  }

  /** The checks with something added since the last drain, and how many rows they hold. */
  counted(): { checks: K[]; rows: number } {
    const checks: K[] = [];
    let rows = 0;
    for (const [check, byMinute] of this.rows) {
      let any = false;
      for (const r of byMinute.values()) if (!isEmpty(r)) { rows++; any = true; }
      if (any) checks.push(check);
    }
    return { checks, rows };
  }
}

/**
 * One completed run of a check counted into `buffer`: the run in its minute, and the time since
 * the check's previous run (from `previous`, then updated) in that run's status, unless longer
 * than `maxGapMs` (a restart, a pause).
 */
export function countRun<K>(buffer: RollupBuffer<K>, previous: Map<K, { t: number; rank: number }>, check: K, t: number, duration: number, ok: boolean, rank: number, maxGapMs: number): void {
  buffer.addRun(check, t, duration, ok, rank);
  const prev = previous.get(check);
  if (!prev) {
    previous.set(check, { t, rank });
    return;
  }
  if (t > prev.t && t - prev.t <= maxGapMs) buffer.addStatusTime(check, prev.t, t, prev.rank);
  // In place: a new object a result would live until the check's next one, and be promoted.
  prev.t = t;
  prev.rank = rank;
}
