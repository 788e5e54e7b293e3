// The latest result of checks another shard runs, read from the shared record (storage.type:
// postgres), so every shard's /health and status page can list the whole config. Bounded:
// names go in batches, each check's newest row is found through the results primary key
// (check_id, t), and a reader that is slow or down only leaves the list without statuses.
import { STATUSES, type Status } from '../model/status.js';
import type { RecordSql } from '../db/sql.js';

export interface LatestResult {
  status: Status;
  /** When that run finished (epoch ms). */
  t: number;
  ok: boolean;
  message: string | null;
}

/** Names per query: well under SQLite's and PostgreSQL's parameter limits. */
const BATCH = 500;

export async function latestResults(sql: RecordSql, names: readonly string[]): Promise<Map<string, LatestResult>> {
  const out = new Map<string, LatestResult>();
  for (let i = 0; i < names.length; i += BATCH) {
    const batch = names.slice(i, i + BATCH);
    const rows = await sql.all<{ name: string; t: number | string; status: number | string; ok: number | string | boolean; message: string | null }>(
      `SELECT c.name AS name, r.t AS t, r.status AS status, r.ok AS ok, r.message AS message
       FROM checks c JOIN results r ON r.check_id = c.id
       WHERE c.name IN (${batch.map(() => '?').join(', ')})
         AND r.t = (SELECT max(t) FROM results WHERE check_id = c.id)`, batch);
    for (const row of rows) {
      out.set(row.name, { status: STATUSES[Number(row.status)] ?? 'unknown', t: Number(row.t), ok: row.ok === true || Number(row.ok) === 1, message: row.message });
    }
  }
  return out;
}
