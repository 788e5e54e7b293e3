// The record's coarse tiers: hour rows rolled up from the minute rollups (counts, status time,
// response-time sum/max) and the raw results (the response-time sketch) once an hour is over,
// day rows from their hours once a day is over. Rolling up runs in small steps (one check and
// one period a step) on the retention timer, and is idempotent: a step writes the whole row, so
// one redone after a restart changes nothing. rollup_progress says how far each tier is done;
// every period before it is complete for every check, which is what lets a read take a row as
// the whole truth about its period.
//
// A read over [from, to) takes each piece from the coarsest tier that covers it whole: days,
// then hours, then minutes at the edges. Where the minute (or hour) rows of an old edge are
// gone, the edge is widened to the whole hour (or day) holding it: the answer's resolution is
// that of the finest tier still kept there.
import type { RecordSql, SqlValue, Statement } from '../db/sql.js';
import { STATUSES } from '../model/status.js';
import { MINUTE_MS } from './rollup.js';
import { bucketSql, Sketch } from './sketch.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/**
 * An hour is rolled up this long after it ends: its last flush and the status time of a check's
 * last run in it (written when the next run comes) are in by then, for intervals up to ~5 min.
 */
export const HOUR_SETTLE_MS = 15 * MINUTE_MS;
/** A day is rolled up once its last hour is. */
export const DAY_SETTLE_MS = HOUR_SETTLE_MS + MINUTE_MS;

/** One check's totals over some period, summed across tiers. */
export interface TierTotals {
  runs: number;
  failures: number;
  /** Milliseconds spent in each status, indexed like STATUSES. */
  ms: number[];
  rtSumUs: number;
  rtMaxUs: number;
  /** Response times of the rows that carry a sketch (hours and days). */
  sketch: Sketch;
  /** Start of the earliest row counted (epoch ms). */
  first?: number;
}

export function emptyTotals(): TierTotals {
  return { runs: 0, failures: 0, ms: STATUSES.map(() => 0), rtSumUs: 0, rtMaxUs: 0, sketch: new Sketch() };
}

/** A row of rollup_hour or rollup_day, as written. */
export interface TierRow {
  checkId: number;
  /** Epoch hour or epoch day. */
  period: number;
  runs: number;
  failures: number;
  ms: number[];
  rtSumUs: number;
  rtMaxUs: number;
  sketch: Buffer | null;
}

export type Tier = 'hour' | 'day';
const TABLE: Record<Tier, string> = { hour: 'rollup_hour', day: 'rollup_day' };
const PERIOD_MS: Record<Tier, number> = { hour: HOUR_MS, day: DAY_MS };

/** The statement writing one whole hour or day row (a redone period replaces the row). */
export function tierRowStatement(tier: Tier, r: TierRow): Statement {
  const t = TABLE[tier];
  return {
    sql: `INSERT INTO ${t} (check_id, ${tier}, runs, failures, healthy_ms, unknown_ms, degraded_ms, critical_ms, rt_sum_us, rt_max_us, sketch)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (check_id, ${tier}) DO UPDATE SET runs = excluded.runs, failures = excluded.failures, healthy_ms = excluded.healthy_ms,
        unknown_ms = excluded.unknown_ms, degraded_ms = excluded.degraded_ms, critical_ms = excluded.critical_ms,
        rt_sum_us = excluded.rt_sum_us, rt_max_us = excluded.rt_max_us, sketch = excluded.sketch`,
    params: [r.checkId, r.period, r.runs, r.failures, ...r.ms.map(Math.round), Math.round(r.rtSumUs), Math.round(r.rtMaxUs), r.sketch],
  };
}

/** The statement recording how far a tier is rolled up. */
export function progressStatement(tier: Tier, period: number, checkId: number): Statement {
  return {
    sql: 'INSERT INTO rollup_progress (tier, period, check_id) VALUES (?, ?, ?) ON CONFLICT (tier) DO UPDATE SET period = excluded.period, check_id = excluded.check_id',
    params: [tier, period, checkId],
  };
}

interface Progress {
  period: number;
  checkId: number;
  /** A row of this period was written (since this process took it up): data goes on, no need to look for where it resumes. */
  wrote?: boolean;
}

/** Rolls minutes into hours and hours into days, a few steps at a time. */
export class TierRoller {
  private progress = new Map<Tier, Progress>();

  /**
   * `dayCache` is told of every day row written. `live`: a check's response-time sketch of an
   * hour kept in memory as its runs were written (record/live-sketches.ts), when this process
   * wrote all of that hour; used instead of reading the hour's raw results back when it counts
   * as many runs as the hour's minute rows.
   */
  constructor(private dayCache?: DayPieceCache, private live?: (checkId: number, hour: number) => Sketch | undefined) {}

  /** Forget what was read from the database (a new connection). */
  reset(): void {
    this.progress.clear();
    this.dayCache?.clear();
  }

  /** Where `tier` stands: read once per connection, started at the first data there is. */
  private async where(sql: RecordSql, tier: Tier, now: number): Promise<Progress> {
    let p = this.progress.get(tier);
    if (p) return p;
    const row = (await sql.all<{ period: number; check_id: number }>('SELECT period, check_id FROM rollup_progress WHERE tier = ?', [tier]))[0];
    if (row) p = { period: Number(row.period), checkId: Number(row.check_id) };
    else if (tier === 'hour') {
      const first = (await sql.all<{ m: number | null }>('SELECT min(minute) AS m FROM rollup_minute'))[0]?.m;
      p = { period: first == null ? Math.floor(now / HOUR_MS) : Math.floor(Number(first) * MINUTE_MS / HOUR_MS), checkId: 0 };
    } else {
      const first = (await sql.all<{ h: number | null }>('SELECT min(hour) AS h FROM rollup_hour'))[0]?.h;
      const hour = first == null ? (await this.where(sql, 'hour', now)).period : Number(first);
      p = { period: Math.floor(hour * HOUR_MS / DAY_MS), checkId: 0 };
    }
    this.progress.set(tier, p);
    return p;
  }

  /** Rolled up before this (epoch ms): every hour (day) that ends by then has its row, for every check. */
  async done(sql: RecordSql, tier: Tier, now: number): Promise<number> {
    return (await this.where(sql, tier, now)).period * PERIOD_MS[tier];
  }

  /**
   * Roll up at most `maxSteps` (check, period) pairs; returns the steps used. Hours go first: a
   * day waits for its last hour.
   */
  async step(sql: RecordSql, maxSteps: number, now: number): Promise<number> {
    let steps = 0;
    for (const tier of ['hour', 'day'] as const) {
      for (;;) {
        if (steps >= maxSteps) return steps;
        const p = await this.where(sql, tier, now);
        const end = (p.period + 1) * PERIOD_MS[tier];
        if (tier === 'hour' && now < end + HOUR_SETTLE_MS) break;
        if (tier === 'day' && (now < end + DAY_SETTLE_MS || (await this.done(sql, 'hour', now)) < end)) break;
        // The next checks, as many as the steps left: an hour's are read in two queries and
        // written in one transaction (one round trip to the database per check had cost more
        // than the hour's results).
        const ids = (await sql.all<{ id: number }>('SELECT id FROM checks WHERE id > ? ORDER BY id LIMIT ?', [p.checkId, Math.max(1, maxSteps - steps)])).map((r) => Number(r.id));
        if (!ids.length) {
          steps++;
          // The period is done for every check: on to the next one that has data.
          const period = p.wrote ? p.period + 1 : await this.nextWithData(sql, tier, p.period + 1, now);
          await sql.transaction([progressStatement(tier, period, 0)]);
          this.progress.set(tier, { period, checkId: 0 });
          continue;
        }
        steps += ids.length;
        const rows = tier === 'hour' ? await this.hourRows(sql, ids, p.period) : await this.dayRows(sql, ids, p.period);
        const last = ids[ids.length - 1];
        await sql.transaction([...rows.map((row) => tierRowStatement(tier, row)), progressStatement(tier, p.period, last)]);
        if (rows.length) this.dayCache?.changed(p.period * PERIOD_MS[tier], (p.period + 1) * PERIOD_MS[tier], tier);
        this.progress.set(tier, { period: p.period, checkId: last, wrote: p.wrote || rows.length > 0 });
      }
    }
    return steps;
  }

  /** `from`, or past a stretch with no data at all (the exporter was down), never beyond where data may still come. */
  private async nextWithData(sql: RecordSql, tier: Tier, from: number, now: number): Promise<number> {
    // New minute rows come in the current hour; new hour rows only where the hours are not done.
    const limit = tier === 'hour' ? Math.floor(now / HOUR_MS) : Math.floor((await this.done(sql, 'hour', now)) / DAY_MS);
    if (from >= limit) return from;
    const [row] = tier === 'hour'
      ? await sql.all<{ p: number | null }>('SELECT min(minute) AS p FROM rollup_minute WHERE minute >= ?', [from * HOUR_MS / MINUTE_MS])
      : await sql.all<{ p: number | null }>('SELECT min(hour) AS p FROM rollup_hour WHERE hour >= ?', [from * DAY_MS / HOUR_MS]);
    if (row?.p == null) return limit;
    const period = Math.floor(Number(row.p) * (tier === 'hour' ? MINUTE_MS : HOUR_MS) / PERIOD_MS[tier]);
    return Math.max(from, Math.min(period, limit));
  }

  /**
   * The checks' hours from their minute rows, their sketches from the live ones where those hold
   * every run, else from the raw results (null when gone), each bucket counted by the database
   * (bucketSql); none for a check with no minute rows.
   */
  private async hourRows(sql: RecordSql, ids: number[], hour: number): Promise<TierRow[]> {
    const m0 = hour * HOUR_MS / MINUTE_MS;
    const list = ids.map(() => '?').join(', ');
    const minutes = await sql.all<Record<string, number | null>>(`SELECT check_id AS id, sum(runs) AS runs, sum(failures) AS failures,
      sum(healthy_s) AS h, sum(unknown_s) AS u, sum(degraded_s) AS d, sum(critical_s) AS c, sum(rt_sum) AS rt_sum, max(rt_max) AS rt_max
      FROM rollup_minute WHERE check_id IN (${list}) AND minute >= ? AND minute < ? GROUP BY check_id`, [...ids, m0, m0 + 60]);
    if (!minutes.length) return [];
    const sketches = new Map<number, Sketch>();
    for (const a of minutes) {
      const s = this.live?.(Number(a.id), hour);
      if (s && s.total === Number(a.runs)) sketches.set(Number(a.id), s);
    }
    // Reading an hour's raw results back was most of a roll-up's cost.
    const rest = minutes.map((a) => Number(a.id)).filter((id) => !sketches.has(id));
    const bucket = bucketSql(sql.dialect, 'duration_us');
    const counts = rest.length ? await sql.all<{ id: number; b: number; n: number }>(`SELECT check_id AS id, ${bucket.sql} AS b, count(*) AS n
      FROM results WHERE check_id IN (${rest.map(() => '?').join(', ')}) AND t >= ? AND t < ? GROUP BY check_id, b`,
    [...bucket.params, ...rest, hour * HOUR_MS, (hour + 1) * HOUR_MS]) : [];
    for (const r of counts) {
      const id = Number(r.id);
      let s = sketches.get(id);
      if (!s) sketches.set(id, s = new Sketch());
      s.addBucket(Number(r.b), Number(r.n));
    }
    // In key order: instances sharing a PostgreSQL record lock the rows they write in one order.
    return minutes.sort((x, y) => Number(x.id) - Number(y.id)).map((a): TierRow => ({
      checkId: Number(a.id), period: hour, runs: Number(a.runs), failures: Number(a.failures),
      ms: [a.h, a.u, a.d, a.c].map((v) => Number(v) * 1000), rtSumUs: Number(a.rt_sum) * 1e6, rtMaxUs: Number(a.rt_max) * 1e6,
      sketch: sketches.get(Number(a.id))?.encode() ?? null,
    }));
  }

  /** The checks' days, each from its hour rows. */
  private async dayRows(sql: RecordSql, ids: number[], day: number): Promise<TierRow[]> {
    const rows: TierRow[] = [];
    for (const id of ids) {
      const row = await this.dayRow(sql, id, day);
      if (row) rows.push(row);
    }
    return rows;
  }

  /** One check's day from its hour rows. */
  private async dayRow(sql: RecordSql, id: number, day: number): Promise<TierRow | undefined> {
    const h0 = day * DAY_MS / HOUR_MS;
    const rows = await sql.all<Record<string, unknown>>(`SELECT hour AS period, runs, failures, healthy_ms, unknown_ms, degraded_ms, critical_ms, rt_sum_us, rt_max_us, sketch
      FROM rollup_hour WHERE check_id = ? AND hour >= ? AND hour < ?`, [id, h0, h0 + 24]);
    if (!rows.length) return undefined;
    const t = emptyTotals();
    let sketched = false;
    for (const r of rows) {
      addRow(t, r, HOUR_MS);
      if (r.sketch) sketched = true;
    }
    return { checkId: id, period: day, runs: t.runs, failures: t.failures, ms: t.ms, rtSumUs: t.rtSumUs, rtMaxUs: t.rtMaxUs, sketch: sketched ? t.sketch.encode() : null };
  }
}

/** Add one hour or day row (as selected: period, runs, ..., sketch) to `t`. */
function addRow(t: TierTotals, r: Record<string, unknown>, periodMs: number): void {
  t.runs += Number(r.runs);
  t.failures += Number(r.failures);
  t.ms[0] += Number(r.healthy_ms);
  t.ms[1] += Number(r.unknown_ms);
  t.ms[2] += Number(r.degraded_ms);
  t.ms[3] += Number(r.critical_ms);
  t.rtSumUs += Number(r.rt_sum_us);
  t.rtMaxUs = Math.max(t.rtMaxUs, Number(r.rt_max_us));
  try {
    t.sketch.mergeEncoded(r.sketch as Uint8Array | null);
  } catch { /* a damaged sketch: the row's counts still hold, its percentiles are left out */ }
  const start = Number(r.period) * periodMs;
  if (t.first === undefined || start < t.first) t.first = start;
}

export interface TierRetention {
  minuteMs: number;
  hourMs: number;
}

/** A piece of [from, to) and the tier that answers it. */
export interface Piece { tier: 'minute' | Tier; from: number; to: number }

/**
 * Cut [from, to) into pieces, each answered by the coarsest tier that holds it whole: days and
 * hours before `dayDone`/`hourDone` (rolled up), minutes elsewhere. An edge older than the
 * minute (hour) rows is widened to its hour (day).
 */
export function planPieces(from: number, to: number, o: { now: number; hourDone: number; dayDone: number; retention: TierRetention }): Piece[] {
  const minuteFrom = o.now - o.retention.minuteMs + HOUR_MS; // minute rows kept there (with an hour to spare for the step that removes them)
  const hourFrom = o.now - o.retention.hourMs + DAY_MS;
  let t = from;
  if (t < hourFrom) t = Math.floor(t / DAY_MS) * DAY_MS;
  else if (t < minuteFrom) t = Math.floor(t / HOUR_MS) * HOUR_MS;
  const out: Piece[] = [];
  const push = (tier: Piece['tier'], a: number, b: number) => {
    const last = out[out.length - 1];
    if (last && last.tier === tier && last.to === a) last.to = b;
    else out.push({ tier, from: a, to: b });
  };
  while (t < to) {
    const dayEnd = t + DAY_MS;
    const hourEnd = t + HOUR_MS;
    if (t % DAY_MS === 0 && dayEnd <= o.dayDone && (dayEnd <= to || t < hourFrom)) { push('day', t, dayEnd); t = dayEnd; continue; }
    if (t % HOUR_MS === 0 && hourEnd <= o.hourDone && (hourEnd <= to || t < minuteFrom)) { push('hour', t, hourEnd); t = hourEnd; continue; }
    // Minutes: up to the next hour boundary, or all the way when the hours are not rolled up yet.
    const end = t >= o.hourDone ? to : Math.min(to, Math.floor(t / HOUR_MS) * HOUR_MS + HOUR_MS);
    push('minute', t, end);
    t = end;
  }
  return out;
}

/** Checks read per statement: each read holds the database (and, in-process, the event loop) briefly. */
const CHECKS_PER_READ = 100;

/** Add `b` into `a`. */
function addTotals(a: TierTotals, b: TierTotals): void {
  a.runs += b.runs;
  a.failures += b.failures;
  for (let i = 0; i < a.ms.length; i++) a.ms[i] += b.ms[i];
  a.rtSumUs += b.rtSumUs;
  a.rtMaxUs = Math.max(a.rtMaxUs, b.rtMaxUs);
  a.sketch.merge(b.sketch);
  if (b.first !== undefined && (a.first === undefined || b.first < a.first)) a.first = b.first;
}

/**
 * One piece's totals for every check: per group of CHECKS_PER_READ checks, the counts added up
 * by the database and the sketches, which only this side can merge. The checks drive the join,
 * so each check's rows are one range of its key.
 */
async function readPiece(sql: RecordSql, p: Piece): Promise<Map<number, TierTotals>> {
  const out = new Map<number, TierTotals>();
  const of = (id: number) => {
    let t = out.get(id);
    if (!t) out.set(id, t = emptyTotals());
    return t;
  };
  const minute = p.tier === 'minute';
  const periodMs = minute ? MINUTE_MS : PERIOD_MS[p.tier as Tier];
  const table = minute ? 'rollup_minute' : TABLE[p.tier as Tier];
  const col = p.tier;
  // Minute rows hold seconds (REAL); hour and day rows milliseconds and microseconds.
  const [msScale, usScale] = minute ? [1000, 1e6] : [1, 1];
  const cols = minute
    ? 'sum(r.healthy_s) AS h, sum(r.unknown_s) AS u, sum(r.degraded_s) AS d, sum(r.critical_s) AS c, sum(r.rt_sum) AS rt_sum, max(r.rt_max) AS rt_max'
    : 'sum(r.healthy_ms) AS h, sum(r.unknown_ms) AS u, sum(r.degraded_ms) AS d, sum(r.critical_ms) AS c, sum(r.rt_sum_us) AS rt_sum, max(r.rt_max_us) AS rt_max';
  const range = minute ? [Math.floor(p.from / MINUTE_MS), Math.ceil(p.to / MINUTE_MS)] : [p.from / periodMs, p.to / periodMs];
  const maxId = Number((await sql.all<{ m: number | null }>('SELECT max(id) AS m FROM checks'))[0]?.m ?? 0);
  for (let lo = 0; lo <= maxId; lo += CHECKS_PER_READ) {
    const where = `r.check_id = k.id AND k.id >= ? AND k.id < ? AND r.${col} >= ? AND r.${col} < ?`;
    const params = [lo, lo + CHECKS_PER_READ, ...range];
    const rows = await sql.all<Record<string, unknown>>(`SELECT r.check_id AS id, min(r.${col}) AS first, sum(r.runs) AS runs, sum(r.failures) AS failures, ${cols}
      FROM checks k CROSS JOIN ${table} r WHERE ${where} GROUP BY r.check_id`, params);
    for (const r of rows) {
      const t = of(Number(r.id));
      t.runs += Number(r.runs);
      t.failures += Number(r.failures);
      t.ms[0] += Number(r.h) * msScale;
      t.ms[1] += Number(r.u) * msScale;
      t.ms[2] += Number(r.d) * msScale;
      t.ms[3] += Number(r.c) * msScale;
      t.rtSumUs += Number(r.rt_sum) * usScale;
      t.rtMaxUs = Math.max(t.rtMaxUs, Number(r.rt_max) * usScale);
      const start = Number(r.first) * periodMs;
      if (t.first === undefined || start < t.first) t.first = start;
    }
    if (!minute) {
      const sketches = await sql.all<{ id: number; sketch: Uint8Array }>(`SELECT r.check_id AS id, r.sketch FROM checks k CROSS JOIN ${table} r
        WHERE ${where} AND r.sketch IS NOT NULL`, params);
      for (const r of sketches) {
        try {
          of(Number(r.id)).sketch.mergeEncoded(r.sketch);
        } catch { /* a damaged sketch: the row's counts still hold, its percentiles are left out */ }
      }
    }
    // Let the event loop run between groups (scrapes, probes' results) while the database is in-process.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/**
 * Hour and day pieces already read, by range: a rolled-up hour or day never changes, so a report
 * asked again (the same 90 days, another `to`) reads only what it has not read yet. A range that
 * grew at its end (the hours rolled up since) is read from where the cached one stops and added
 * to it. An entry goes when a period inside it is (re)written or removed. Each entry holds one
 * total per check (a sketch of 2 KB each): MAX_ENTRIES bounds the memory.
 */
export class DayPieceCache {
  private entries = new Map<string, { tier: Piece['tier']; from: number; to: number; totals: Map<number, TierTotals> }>();
  /** Counts changes: a piece read while periods changed is not kept. */
  version = 0;
  static readonly MAX_ENTRIES = 6;

  get(p: Piece): Map<number, TierTotals> | undefined {
    return this.entries.get(`${p.tier}:${p.from}:${p.to}`)?.totals;
  }

  /** The longest cached range of `p`'s tier that starts where `p` does and ends within it. */
  prefix(p: Piece): { to: number; totals: Map<number, TierTotals> } | undefined {
    let best: { to: number; totals: Map<number, TierTotals> } | undefined;
    for (const e of this.entries.values()) if (e.tier === p.tier && e.from === p.from && e.to <= p.to && (!best || e.to > best.to)) best = e;
    return best;
  }

  set(p: Piece, totals: Map<number, TierTotals>): void {
    const key = `${p.tier}:${p.from}:${p.to}`;
    this.entries.delete(key);
    this.entries.set(key, { tier: p.tier, from: p.from, to: p.to, totals });
    while (this.entries.size > DayPieceCache.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Rows in [from, to) were written or removed (of `tier` only, when given). */
  changed(from: number, to: number, tier?: Tier): void {
    this.version++;
    for (const [k, e] of this.entries) if ((!tier || e.tier === tier) && e.from < to && from < e.to) this.entries.delete(k);
  }

  clear(): void {
    this.version++;
    this.entries.clear();
  }
}

/** Each check's totals of a rolled-up hour or day piece: from the cache, or read (the part not cached) and kept. */
async function closedPiece(sql: RecordSql, p: Piece, cache?: DayPieceCache): Promise<Map<number, TierTotals>> {
  const hit = cache?.get(p);
  if (hit) return hit;
  const version = cache?.version;
  const head = cache?.prefix(p);
  let part: Map<number, TierTotals>;
  if (head) {
    part = new Map();
    for (const [id, t] of head.totals) part.set(id, copyTotals(t));
    if (head.to < p.to) {
      for (const [id, t] of await readPiece(sql, { tier: p.tier, from: head.to, to: p.to })) {
        const sum = part.get(id);
        if (sum) addTotals(sum, t);
        else part.set(id, t);
      }
    }
  } else {
    part = await readPiece(sql, p);
  }
  if (cache && cache.version === version) cache.set(p, part);
  return part;
}

function copyTotals(t: TierTotals): TierTotals {
  const c = emptyTotals();
  addTotals(c, t);
  return c;
}

/** Response-time sketches of runs not rolled up yet (hours from `from`), by check id (record/live-sketches.ts). */
export type LiveSketches = (fromHour: number, toHour: number) => Map<number, Sketch>;

/**
 * Totals per check id over [from, to), from the tiers, and the pieces they came from. Minute
 * rows carry no sketch: the percentiles of a minute piece come from the sketches of the whole
 * hours holding it (the hour rows where rolled up, `live` where not yet), so the answer's
 * percentiles are those of the window widened to whole hours at its minute edges.
 */
export async function readTotals(sql: RecordSql, roller: TierRoller, from: number, to: number, now: number, retention: TierRetention,
  cache?: DayPieceCache, live?: LiveSketches): Promise<{ totals: Map<number, TierTotals>; pieces: Piece[] }> {
  const hourDone = await roller.done(sql, 'hour', now);
  const dayDone = await roller.done(sql, 'day', now);
  const pieces = planPieces(from, to, { now, hourDone, dayDone, retention });
  const totals = new Map<number, TierTotals>();
  const sum = (id: number) => {
    let t = totals.get(id);
    if (!t) totals.set(id, t = emptyTotals());
    return t;
  };
  for (const p of pieces) {
    const part = p.tier === 'minute' ? await readPiece(sql, p) : await closedPiece(sql, p, cache);
    for (const [id, t] of part) addTotals(sum(id), t); // a copy: what is cached stays as read
    if (p.tier !== 'minute') continue;
    const h0 = Math.floor(p.from / HOUR_MS) * HOUR_MS;
    const h1 = Math.ceil(p.to / HOUR_MS) * HOUR_MS;
    if (Math.min(h1, hourDone) > h0) {
      const hours = await closedPiece(sql, { tier: 'hour', from: h0, to: Math.min(h1, hourDone) }, cache);
      for (const [id, t] of hours) if (part.has(id)) sum(id).sketch.merge(t.sketch);
    }
    if (live && h1 > hourDone) {
      for (const [id, s] of live(Math.max(h0, hourDone) / HOUR_MS, h1 / HOUR_MS)) if (part.has(id)) sum(id).sketch.merge(s);
    }
  }
  return { totals, pieces };
}

/** Rows removed per retention statement of a tier (as the record's own PRUNE_STEP). */
const TIER_PRUNE_STEP = 500;

interface PruneRound { before: number; checkId: number; complete: boolean }

/**
 * Retention of the hour and day rows in bounded statements, a check at a time. A round over all
 * checks runs when the cutoff has moved on by a whole period since the last one (about once an
 * hour for hours, once a day for days), so a quiet second costs no statement at all.
 */
export class TierPruner {
  private rounds = new Map<Tier, PruneRound>();

  /** `dayCache` is told of day rows removed. */
  constructor(private dayCache?: DayPieceCache) {}

  reset(): void {
    this.rounds.clear();
  }

  /** At most `maxSteps` DELETEs; returns [steps, rows deleted]. `keepMs`: each tier's retention. */
  async step(sql: RecordSql, maxSteps: number, now: number, keepMs: Record<Tier, number>): Promise<[number, number]> {
    let steps = 0;
    let deleted = 0;
    for (const tier of ['hour', 'day'] as const) {
      const before = Math.floor((now - keepMs[tier]) / PERIOD_MS[tier]);
      let round = this.rounds.get(tier);
      const t = TABLE[tier];
      if (!round || (round.complete && before > round.before)) {
        // A round visits every check: only when some row is past the cutoff at all.
        steps++;
        const oldest = (await sql.all<{ p: number | null }>(`SELECT min(${tier}) AS p FROM ${t}`))[0]?.p;
        this.rounds.set(tier, round = { before, checkId: 0, complete: oldest == null || Number(oldest) >= before });
      }
      if (round.complete) continue;
      for (;;) {
        if (steps >= maxSteps) return [steps, deleted];
        const next = (await sql.all<{ id: number }>('SELECT id FROM checks WHERE id >= ? ORDER BY id LIMIT 1', [round.checkId]))[0];
        if (!next) { round.complete = true; break; }
        const id = Number(next.id);
        steps++;
        const [{ changes }] = await sql.transaction([{
          sql: `DELETE FROM ${t} WHERE check_id = ? AND ${tier} < ? AND ${tier} <= coalesce(
            (SELECT ${tier} FROM ${t} WHERE check_id = ? AND ${tier} < ? ORDER BY ${tier} LIMIT 1 OFFSET ${TIER_PRUNE_STEP - 1}), ?)`,
          params: [id, round.before, id, round.before, round.before],
        }]);
        deleted += changes;
        if (changes) this.dayCache?.changed(0, round.before * PERIOD_MS[tier], tier);
        round.checkId = changes === TIER_PRUNE_STEP ? id : id + 1; // a full step: more of this check may be left
      }
    }
    return [steps, deleted];
  }
}
