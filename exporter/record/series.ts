// One check's history over a window in equal buckets, from the record's tiers: the status page's
// check detail (response-time chart and status timeline, GET /api/v1/checks/<name>/series), so
// it shows the real history after a restart and over 7, 30 or 90 days, which the in-memory ring
// never holds. Each bucket is read from the tier whose period fits its width (raw results under
// a minute, minute rows under an hour, hour rows under a day, day rows above), and the rest of
// the window from the tiers next to it: finer ones where the chosen one is not rolled up yet (the
// recent edge), coarser ones where it is already pruned (the old edge). A few indexed range
// reads of one check: at most a few thousand rows whatever the window.
import type { RecordSql } from '../db/sql.js';
import { STATUSES } from '../model/status.js';
import { MINUTE_MS } from './rollup.js';
import { DAY_MS, HOUR_MS } from './tiers.js';

export type SeriesTier = 'raw' | 'minute' | 'hour' | 'day';
const TIERS: readonly SeriesTier[] = ['raw', 'minute', 'hour', 'day'];
/** Length of one row's period, ms (a raw result is a point: 0). */
const PERIOD: Record<SeriesTier, number> = { raw: 0, minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
const UNKNOWN = STATUSES.indexOf('unknown');
const CRITICAL = STATUSES.indexOf('critical');

/** One bucket's figures, summed over the rows in it. */
export interface SeriesBucket {
  runs: number;
  failures: number;
  /** Milliseconds in each status, indexed like STATUSES. */
  ms: number[];
  /** Worst status seen (index into STATUSES), -1 when no data. */
  worst: number;
  /** Slowest run, µs; -1 when none. */
  rtMaxUs: number;
  rtSumUs: number;
}

/** A time range of the window and the tier that answered it. */
export interface SeriesPiece { tier: SeriesTier; from: number; to: number }

export interface CheckSeries {
  from: number;
  step: number;
  buckets: SeriesBucket[];
  /** The whole window [windowFrom, end of the last bucket) as one bucket (the grid may start a little earlier). */
  total: SeriesBucket;
  pieces: SeriesPiece[];
}

/** One row of any tier, in one shape: [start, start + length) with its figures. */
export interface SeriesRow extends SeriesBucket {
  start: number;
  /** 0 for a raw result (a point in time). */
  length: number;
}

/** Where a tier's rows for one check begin and end (epoch ms; `end` is the last row's end). */
export interface TierSpan { start: number; end: number }

/** The tier whose rows fit buckets of `stepMs`: the coarsest whose period is not wider than a bucket. */
export function tierFor(stepMs: number): SeriesTier {
  if (stepMs >= DAY_MS) return 'day';
  if (stepMs >= HOUR_MS) return 'hour';
  if (stepMs >= MINUTE_MS) return 'minute';
  return 'raw';
}

/** Raw results and minute rows are written as results come: their part runs up to now. */
const live = (t: SeriesTier) => t === 'raw' || t === 'minute';

/**
 * Which tier answers which part of [from, to): the chosen tier wherever it has rows; after its
 * last row (not rolled up yet) the finer tiers, each from where the one before ends; before its
 * first row (pruned already) the coarser tiers, in whole periods that end before what the finer
 * ones answer, so no time is counted twice. `spans`: each tier's rows for the check (absent:
 * none). Pure, so the choice is tested apart from any database.
 */
export function planSeries(from: number, to: number, target: SeriesTier, spans: Partial<Record<SeriesTier, TierSpan>>): SeriesPiece[] {
  const k = TIERS.indexOf(target);
  const pieces: SeriesPiece[] = [];
  let lo = Infinity; // everything from `lo` to `hi` is answered
  let hi = -Infinity;
  const claim = (tier: SeriesTier, a: number, b: number) => {
    if (!(a < b)) return;
    pieces.push({ tier, from: a, to: b });
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  };
  const own = spans[target];
  if (own) claim(target, own.start, live(target) ? Infinity : own.end);
  for (let j = k - 1; j >= 1; j--) {
    const tier = TIERS[j];
    const s = spans[tier];
    if (s) claim(tier, Math.max(s.start, hi), live(tier) ? Infinity : s.end);
  }
  for (let j = k + 1; j < TIERS.length; j++) {
    const tier = TIERS[j];
    const s = spans[tier];
    if (!s) continue;
    const p = PERIOD[tier];
    claim(tier, s.start, lo === Infinity ? s.end : Math.min(s.end, Math.floor(lo / p) * p));
  }
  return pieces
    .map((p) => ({ tier: p.tier, from: Math.max(p.from, from), to: Math.min(p.to, to) }))
    .filter((p) => p.from < p.to)
    .sort((a, b) => a.from - b.from);
}

/** An empty bucket. */
function bucket(): SeriesBucket {
  return { runs: 0, failures: 0, ms: STATUSES.map(() => 0), worst: -1, rtMaxUs: -1, rtSumUs: 0 };
}

/**
 * Put rows into `count` buckets of `step` from `from`: a row wider than a bucket (a day row in
 * 6-hour buckets) is spread over the buckets it covers, its counts in proportion and its worst
 * status and slowest run in each.
 */
export function bucketRows(rows: Iterable<SeriesRow>, from: number, step: number, count: number): SeriesBucket[] {
  const out = Array.from({ length: count }, bucket);
  const end = from + step * count;
  for (const r of rows) {
    const rEnd = r.start + r.length;
    if (r.length ? rEnd <= from || r.start >= end : r.start < from || r.start >= end) continue;
    const first = Math.max(0, Math.floor((r.start - from) / step));
    const last = r.length ? Math.min(count - 1, Math.ceil((rEnd - from) / step) - 1) : first;
    for (let i = first; i <= last; i++) {
      const b = out[i];
      const share = r.length && last > first ? (Math.min(rEnd, from + (i + 1) * step) - Math.max(r.start, from + i * step)) / r.length : 1;
      b.runs += r.runs * share;
      b.failures += r.failures * share;
      for (let s = 0; s < b.ms.length; s++) b.ms[s] += r.ms[s] * share;
      b.rtSumUs += r.rtSumUs * share;
      if (r.worst > b.worst) b.worst = r.worst;
      if (r.rtMaxUs > b.rtMaxUs) b.rtMaxUs = r.rtMaxUs;
    }
  }
  for (const b of out) { b.runs = Math.round(b.runs); b.failures = Math.round(b.failures); }
  return out;
}

/** The worst status a rollup row saw: the worst with time in it, else failed or not. */
function worstOf(ms: number[], runs: number, failures: number): number {
  for (let s = ms.length - 1; s >= 0; s--) if (ms[s] > 0) return s;
  return runs ? (failures ? CRITICAL : 0) : -1;
}

const n = (v: unknown) => Number(v ?? 0);

/** The rows of one piece, from its tier's table. */
async function readPiece(sql: RecordSql, id: number, p: SeriesPiece): Promise<SeriesRow[]> {
  if (p.tier === 'raw') {
    const rows = await sql.all('SELECT t, status, duration_us, ok FROM results WHERE check_id = ? AND t >= ? AND t < ? ORDER BY t', [id, p.from, p.to]);
    return rows.map((r) => {
      const status = n(r.status);
      const unknown = status === UNKNOWN;
      // A run weighs one in its status (rollup rows weigh the time spent in each).
      const ms = STATUSES.map((_s, i) => (i === status ? 1 : 0));
      return {
        start: n(r.t), length: 0, runs: unknown ? 0 : 1, failures: n(r.ok) ? 0 : 1, ms,
        worst: status, rtMaxUs: n(r.duration_us), rtSumUs: n(r.duration_us),
      };
    });
  }
  const period = PERIOD[p.tier];
  const col = p.tier;
  // Minute rows hold seconds (REAL); hour and day rows milliseconds and microseconds.
  const cols = p.tier === 'minute' ? 'healthy_s AS h, unknown_s AS u, degraded_s AS d, critical_s AS c, rt_sum AS rs, rt_max AS rm'
    : 'healthy_ms AS h, unknown_ms AS u, degraded_ms AS d, critical_ms AS c, rt_sum_us AS rs, rt_max_us AS rm';
  const [msScale, usScale] = p.tier === 'minute' ? [1000, 1e6] : [1, 1];
  const rows = await sql.all(`SELECT ${col} AS p, runs, failures, ${cols} FROM rollup_${col} WHERE check_id = ? AND ${col} >= ? AND ${col} < ? ORDER BY ${col}`,
    [id, Math.floor(p.from / period), Math.ceil(p.to / period)]);
  return rows.map((r) => {
    const ms = [n(r.h) * msScale, n(r.u) * msScale, n(r.d) * msScale, n(r.c) * msScale];
    const runs = n(r.runs);
    const failures = n(r.failures);
    return { start: n(r.p) * period, length: period, runs, failures, ms, worst: worstOf(ms, runs, failures), rtMaxUs: runs ? n(r.rm) * usScale : -1, rtSumUs: n(r.rs) * usScale };
  });
}

/** Where each tier's rows of check `id` begin and end: one statement of index lookups. */
async function spansOf(sql: RecordSql, id: number, raw: boolean): Promise<Partial<Record<SeriesTier, TierSpan>>> {
  const parts = [
    'SELECT min(minute) FROM rollup_minute WHERE check_id = ?', 'SELECT max(minute) FROM rollup_minute WHERE check_id = ?',
    'SELECT min(hour) FROM rollup_hour WHERE check_id = ?', 'SELECT max(hour) FROM rollup_hour WHERE check_id = ?',
    'SELECT min(day) FROM rollup_day WHERE check_id = ?', 'SELECT max(day) FROM rollup_day WHERE check_id = ?',
    ...(raw ? ['SELECT min(t) FROM results WHERE check_id = ?', 'SELECT max(t) FROM results WHERE check_id = ?'] : []),
  ];
  const [row] = await sql.all(`SELECT ${parts.map((q, i) => `(${q}) AS v${i}`).join(', ')}`, parts.map(() => id));
  const v = (i: number) => (row?.[`v${i}`] === null || row?.[`v${i}`] === undefined ? undefined : Number(row[`v${i}`]));
  const out: Partial<Record<SeriesTier, TierSpan>> = {};
  (['minute', 'hour', 'day'] as const).forEach((tier, i) => {
    const a = v(2 * i);
    const b = v(2 * i + 1);
    if (a !== undefined && b !== undefined) out[tier] = { start: a * PERIOD[tier], end: (b + 1) * PERIOD[tier] };
  });
  if (raw && v(6) !== undefined) out.raw = { start: v(6)!, end: v(7)! + 1 };
  return out;
}

/**
 * Check `name`'s history over `count` buckets of `step` ms from `from`, and its total from
 * `windowFrom` (default `from`), from the record; undefined when the record has never heard of
 * the check.
 */
export async function checkSeries(sql: RecordSql, name: string, from: number, step: number, count: number, windowFrom = from): Promise<CheckSeries | undefined> {
  const [idRow] = await sql.all<{ id: number }>('SELECT id FROM checks WHERE name = ?', [name]);
  if (!idRow) return undefined;
  const id = Number(idRow.id);
  const target = tierFor(step);
  const spans = await spansOf(sql, id, target === 'raw');
  const end = from + step * count;
  const pieces = planSeries(Math.min(from, windowFrom), end, target, spans);
  const rows: SeriesRow[] = [];
  for (const p of pieces) rows.push(...await readPiece(sql, id, p));
  return { from, step, buckets: bucketRows(rows, from, step, count), total: bucketRows(rows, windowFrom, end - windowFrom, 1)[0], pieces };
}
