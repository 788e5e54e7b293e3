// What maintenance and acknowledgements keep in the database (migration 0008): API-made windows,
// acknowledgements, and the silence ledger (the silences Vigil holds and the alerts each covered
// when it began). Small tables read whole at start and written one row per change.
import type { MaintenanceScope } from '../config/maintenance.js';
import type { PostableAlert } from '../alerts/test-alert.js';
import type { RecordSql } from '../db/sql.js';
import type { MaintenanceWindow } from './schedule.js';

export interface ApiWindow extends MaintenanceWindow {
  source: 'api';
  start: number;
  end: number;
  createdBy: string;
  createdAt: number;
  /** Set when ended before its end (POST .../end); `end` is then that time too. */
  endedEarlyAt?: number;
  /** Who ended it early (not kept in the database: the event names them). */
  endedBy?: string;
}

export type AckTarget =
  | { kind: 'alert'; fingerprint: string; labels: Record<string, string> }
  | { kind: 'incident'; id: number; key: string; checks: string[]; title: string };

export interface Acknowledgement {
  id: string;
  target: AckTarget;
  by: string;
  comment?: string;
  createdAt: number;
  /** Ends when what it acknowledges resolves (also at expiresAt at the latest). */
  untilResolved: boolean;
  expiresAt: number;
  endedAt?: number;
  /** resolved, expired, ended (by an operator). */
  endReason?: string;
}

/** A silence Vigil holds for an occurrence (`maint:<window>@<start>`) or an acknowledgement (`ack:<id>`). */
export interface LedgerEntry {
  key: string;
  silenceIds: string[];
  /** Alerts the silence covered when it began (they may have notified: their resolves are owed). */
  alerts: PostableAlert[];
  endsAt: number;
}

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
function json<T>(v: unknown, fallback: T): T {
  try { return JSON.parse(String(v)) as T; } catch { return fallback; }
}

export async function loadWindows(sql: RecordSql): Promise<ApiWindow[]> {
  const rows = await sql.all('SELECT * FROM maintenance_windows');
  return rows.map((r) => ({
    id: String(r.id), title: String(r.title), source: 'api' as const, start: Number(r.starts_at), end: Number(r.ends_at),
    scope: json<MaintenanceScope>(r.scope, { components: [], checks: [], labels: {} }), createdBy: String(r.created_by),
    comment: (r.comment as string | null) ?? undefined, createdAt: Number(r.created_at), endedEarlyAt: num(r.ended_early_at),
  }));
}

export async function saveWindow(sql: RecordSql, w: ApiWindow): Promise<void> {
  await sql.transaction([{
    sql: `INSERT INTO maintenance_windows (id, title, starts_at, ends_at, scope, created_by, comment, created_at, ended_early_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET title = excluded.title, starts_at = excluded.starts_at, ends_at = excluded.ends_at, scope = excluded.scope, ended_early_at = excluded.ended_early_at`,
    params: [w.id, w.title, w.start, w.end, JSON.stringify(w.scope), w.createdBy, w.comment ?? null, w.createdAt, w.endedEarlyAt ?? null],
  }]);
}

export async function loadAcks(sql: RecordSql): Promise<Acknowledgement[]> {
  const rows = await sql.all('SELECT * FROM acknowledgements');
  return rows.map((r) => ({
    id: String(r.id), target: json<AckTarget>(r.target, { kind: 'alert', fingerprint: '', labels: {} }), by: String(r.by_name),
    comment: (r.comment as string | null) ?? undefined, createdAt: Number(r.created_at), untilResolved: Number(r.until_resolved) === 1,
    expiresAt: Number(r.expires_at), endedAt: num(r.ended_at), endReason: (r.end_reason as string | null) ?? undefined,
  }));
}

export async function saveAck(sql: RecordSql, a: Acknowledgement): Promise<void> {
  await sql.transaction([{
    sql: `INSERT INTO acknowledgements (id, target, by_name, comment, created_at, until_resolved, expires_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, ended_at = excluded.ended_at, end_reason = excluded.end_reason`,
    params: [a.id, JSON.stringify(a.target), a.by, a.comment ?? null, a.createdAt, a.untilResolved ? 1 : 0, a.expiresAt, a.endedAt ?? null, a.endReason ?? null],
  }]);
}

export async function loadLedger(sql: RecordSql): Promise<LedgerEntry[]> {
  const rows = await sql.all('SELECT * FROM silence_ledger');
  return rows.map((r) => ({ key: String(r.key), silenceIds: json<string[]>(r.silence_ids, []), alerts: json<PostableAlert[]>(r.alerts, []), endsAt: Number(r.ends_at) }));
}

export async function saveLedger(sql: RecordSql, e: LedgerEntry, now: number): Promise<void> {
  await sql.transaction([{
    sql: `INSERT INTO silence_ledger (key, silence_ids, alerts, ends_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET silence_ids = excluded.silence_ids, alerts = excluded.alerts, ends_at = excluded.ends_at, updated_at = excluded.updated_at`,
    params: [e.key, JSON.stringify(e.silenceIds), JSON.stringify(e.alerts), e.endsAt, now],
  }]);
}

export async function dropLedger(sql: RecordSql, key: string): Promise<void> {
  await sql.transaction([{ sql: 'DELETE FROM silence_ledger WHERE key = ?', params: [key] }]);
}

/**
 * Ended windows are kept `keepMs` (history.retention: reports leave their time out of
 * availability that far back), ended acknowledgements 30 days (the events keep their history).
 */
export async function pruneEnded(sql: RecordSql, now: number, keepMs: number): Promise<void> {
  await sql.transaction([
    { sql: 'DELETE FROM maintenance_windows WHERE ends_at < ?', params: [now - keepMs] },
    { sql: 'DELETE FROM acknowledgements WHERE ended_at IS NOT NULL AND ended_at < ?', params: [now - 30 * 86_400_000] },
  ]);
}
