// Where the record's second-by-second writes land. `results` and `rollup_minute` are clustered by
// (check, time), so a flush straight into them puts each check's row on that check's own page:
// every second, a page per check (and another for its minute rollup) rewritten into SQLite's WAL
// and checkpointed back, ~200 page writes a second at 50 results a second whatever the row size,
// each a cache miss once the tables outgrow the page cache. So on SQLite a flush appends to
// results_recent and rollup_recent (a second's rows share a page or two), and a merge moves them
// into the clustered tables in key order every few minutes: each check's page is written once
// with all its rows. On a 12 h record of 500 checks this halved the write path's CPU at 500
// results a second (docs/record.md).
//
// The merge runs in a flush's transaction, so a row is in exactly one of the two places at any
// time. kill -9 loses nothing more than before (the staging tables are on disk), and opening the
// record merges what a killed process left. Reads through the record merge first; results_all is
// both tables for whoever reads the file with SQL.
//
// PostgreSQL writes straight through: other instances read its results as they come.
import type { Dialect, Statement } from '../db/sql.js';
import { greatest } from '../db/sql.js';

/** A merge at least this often while rows are staged (ms). */
export const MERGE_EVERY_MS = 5 * 60_000;
/** …and sooner once this many rows are staged, so one merge stays a short transaction. */
export const MERGE_ROWS = 50_000;

const RESULT_COLUMNS = 'check_id, t, status, duration_us, ok, reason, message';
const ROLLUP_COLUMNS = 'check_id, minute, runs, failures, healthy_s, unknown_s, degraded_s, critical_s, rt_sum, rt_max, bar_worst, bar_runs, bar_up';

/** Rollup increments are added to the minute's row: a minute spread over several writes (or a restart) sums. */
function addToMinute(dialect: Dialect): string {
  const g = greatest(dialect);
  return `ON CONFLICT (check_id, minute) DO UPDATE SET runs = rollup_minute.runs + excluded.runs, failures = rollup_minute.failures + excluded.failures,
    healthy_s = rollup_minute.healthy_s + excluded.healthy_s, unknown_s = rollup_minute.unknown_s + excluded.unknown_s,
    degraded_s = rollup_minute.degraded_s + excluded.degraded_s, critical_s = rollup_minute.critical_s + excluded.critical_s,
    rt_sum = rollup_minute.rt_sum + excluded.rt_sum, rt_max = ${g}(rollup_minute.rt_max, excluded.rt_max),
    bar_worst = ${g}(coalesce(rollup_minute.bar_worst, -1), excluded.bar_worst), bar_runs = coalesce(rollup_minute.bar_runs, 0) + excluded.bar_runs,
    bar_up = coalesce(rollup_minute.bar_up, 0) + excluded.bar_up`;
}

/** Whether this database stages its writes (SQLite) or writes straight through (PostgreSQL). */
export function stages(dialect: Dialect): boolean {
  return dialect === 'sqlite';
}

/** The INSERT for one result row (RESULT_COLUMNS' order). */
export function resultInsert(dialect: Dialect): string {
  const placeholders = '?, ?, ?, ?, ?, ?, ?';
  return stages(dialect)
    ? `INSERT INTO results_recent (${RESULT_COLUMNS}) VALUES (${placeholders})`
    : `INSERT INTO results (${RESULT_COLUMNS}) VALUES (${placeholders}) ON CONFLICT DO NOTHING`;
}

/** The INSERT for one minute-rollup increment (ROLLUP_COLUMNS' order). */
export function rollupInsert(dialect: Dialect): string {
  const placeholders = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?';
  return stages(dialect)
    ? `INSERT INTO rollup_recent (${ROLLUP_COLUMNS}) VALUES (${placeholders})`
    : `INSERT INTO rollup_minute (${ROLLUP_COLUMNS}) VALUES (${placeholders}) ${addToMinute(dialect)}`;
}

/**
 * Everything staged into the clustered tables, in key order (each check's rows one after
 * another), and the staging tables emptied: run inside a flush's transaction, or alone. A
 * minute's increments are summed first, so its row is updated once. (WHERE true: SQLite's
 * grammar needs a WHERE before an upsert's ON CONFLICT after a SELECT.)
 */
export function mergeStatements(dialect: Dialect): Statement[] {
  return [
    { sql: `INSERT INTO results (${RESULT_COLUMNS}) SELECT ${RESULT_COLUMNS} FROM results_recent WHERE true ORDER BY check_id, t ON CONFLICT DO NOTHING` },
    {
      sql: `INSERT INTO rollup_minute (${ROLLUP_COLUMNS})
        SELECT check_id, minute, sum(runs), sum(failures), sum(healthy_s), sum(unknown_s), sum(degraded_s), sum(critical_s), sum(rt_sum), max(rt_max),
          max(bar_worst), sum(bar_runs), sum(bar_up)
        FROM rollup_recent WHERE true GROUP BY check_id, minute ORDER BY check_id, minute ${addToMinute(dialect)}`,
    },
    { sql: 'DELETE FROM results_recent' },
    { sql: 'DELETE FROM rollup_recent' },
  ];
}
