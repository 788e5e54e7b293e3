// Where the record's second-by-second writes land. `results` and `rollup_minute` are clustered by
// (check, time), so a flush straight into them puts each check's row on that check's own page:
// every second, a page per check (and another for its minute rollup) rewritten into SQLite's WAL
// and checkpointed back, ~200 page writes a second at 50 results a second whatever the row size,
// each a cache miss once the tables outgrow the page cache. So on SQLite a flush appends the
// results to results_recent (a second's rows share a page or two), and a merge moves them into
// `results` in key order every few minutes, with the minute rollups they add up to (kept in
// memory meanwhile): each check's pages are written once with all its rows. On a 12 h record of
// 500 checks this halved the write path's CPU at 500 results a second (docs/development.md).
//
// The merge runs in a flush's transaction, so a result is in exactly one of the two tables at
// any time. kill -9 loses nothing more than before: the staged results are on disk, and opening
// the record counts their rollups again (recount) and merges them. Reads through the record
// merge first; results_all is both tables for whoever reads the file with SQL.
//
// PostgreSQL writes straight through: other instances read its results as they come.
import type { Dialect, RecordSql, Statement } from '../db/sql.js';
import { greatest } from '../db/sql.js';
import { STATUSES } from '../model/status.js';
import { countRun, RollupBuffer, type RollupRow } from './rollup.js';

/** A merge at least this often while results are staged (ms). */
export const MERGE_EVERY_MS = 5 * 60_000;
/** …and sooner once this many are staged, so one merge stays a short transaction. */
export const MERGE_ROWS = 50_000;

const RESULT_COLUMNS = 'check_id, t, status, duration_us, ok, reason, message';

/** Whether this database stages its writes (SQLite) or writes straight through (PostgreSQL). */
export function stages(dialect: Dialect): boolean {
  return dialect === 'sqlite';
}

/** The INSERT for one result: RESULT_COLUMNS' values, and when staged, its max gap (ms). */
export function resultInsert(dialect: Dialect): string {
  return stages(dialect)
    ? `INSERT INTO results_recent (${RESULT_COLUMNS}, max_gap_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
    : `INSERT INTO results (${RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
}

/**
 * The upserts adding minute rollups (by check id) to their rows, in key order: a minute spread
 * over several writes (or a restart) sums, and two instances sharing a PostgreSQL record lock
 * the rows they update in the same order, so their flushes never deadlock.
 */
export function rollupUpserts(dialect: Dialect, rows: RollupRow<number>[]): Statement[] {
  const g = greatest(dialect);
  const sql = `INSERT INTO rollup_minute (check_id, minute, runs, failures, healthy_s, unknown_s, degraded_s, critical_s, rt_sum, rt_max, bar_worst, bar_runs, bar_up)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (check_id, minute) DO UPDATE SET runs = rollup_minute.runs + excluded.runs, failures = rollup_minute.failures + excluded.failures,
      healthy_s = rollup_minute.healthy_s + excluded.healthy_s, unknown_s = rollup_minute.unknown_s + excluded.unknown_s,
      degraded_s = rollup_minute.degraded_s + excluded.degraded_s, critical_s = rollup_minute.critical_s + excluded.critical_s,
      rt_sum = rollup_minute.rt_sum + excluded.rt_sum, rt_max = ${g}(rollup_minute.rt_max, excluded.rt_max),
      bar_worst = ${g}(coalesce(rollup_minute.bar_worst, -1), excluded.bar_worst), bar_runs = coalesce(rollup_minute.bar_runs, 0) + excluded.bar_runs,
      bar_up = coalesce(rollup_minute.bar_up, 0) + excluded.bar_up`;
  if (!rows.length) return [];
  const sorted = [...rows].sort((a, b) => a.check - b.check || a.minute - b.minute);
  // One statement of columns (a merge adds a few thousand rows; SQLite's worker binds them 64 a call).
  const column = (value: (r: RollupRow<number>) => number) => Float64Array.from(sorted, value);
  return [{
    sql,
    columns: [
      column((r) => r.check), column((r) => r.minute), column((r) => r.runs), column((r) => r.failures),
      ...STATUSES.map((_, k) => column((r) => r.seconds[k])),
      column((r) => r.rtSum), column((r) => r.rtMax), column((r) => r.barWorst), column((r) => r.barRuns), column((r) => r.barUp),
    ],
  }];
}

/**
 * Every staged result into `results`, in key order (each check's rows one after another), and the
 * staging table emptied. (WHERE true: SQLite's grammar wants a WHERE before an upsert after a SELECT.)
 */
export function mergeResults(): Statement[] {
  return [
    { sql: `INSERT INTO results (${RESULT_COLUMNS}) SELECT ${RESULT_COLUMNS} FROM results_recent WHERE true ORDER BY check_id, t ON CONFLICT DO NOTHING` },
    { sql: 'DELETE FROM results_recent' },
  ];
}

/**
 * After a restart: the minute rollups of the results a killed process left staged, counted
 * again as it counted them (each check from its newest merged result on), and the statements
 * that add them and merge the results, for one transaction.
 */
export async function recount(sql: RecordSql): Promise<Statement[]> {
  const staged = await sql.all<{ check_id: number; t: number; status: number; duration_us: number; ok: number; max_gap_ms: number }>(
    'SELECT check_id, t, status, duration_us, ok, max_gap_ms FROM results_recent ORDER BY id');
  if (!staged.length) return [];
  const previous = new Map<number, { t: number; rank: number }>();
  for (const id of new Set(staged.map((r) => Number(r.check_id)))) {
    const [last] = await sql.all<{ t: number; status: number }>('SELECT t, status FROM results WHERE check_id = ? ORDER BY t DESC LIMIT 1', [id]);
    if (last) previous.set(id, { t: Number(last.t), rank: Number(last.status) });
  }
  const buffer = new RollupBuffer<number>();
  for (const r of staged) countRun(buffer, previous, Number(r.check_id), Number(r.t), Number(r.duration_us) / 1e6, Number(r.ok) === 1, Number(r.status), Number(r.max_gap_ms));
  return [...rollupUpserts('sqlite', buffer.drain()), ...mergeResults()];
}
