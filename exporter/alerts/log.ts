// The notification log: one row per alert of each notification Alertmanager delivered, in the
// database's `notifications` table (vigil.db, or PostgreSQL), shared with the incidents that join
// on it.
//
// Durability: an append resolves only after its rows are committed (SQLite runs synchronous=FULL,
// so a commit is on disk), so a 200 to Alertmanager means the notification is stored
// (Alertmanager retries anything else). Appends are serialised and group-committed: concurrent
// notifications share one transaction. A failed write rejects its appends and changes nothing
// that readers see.
// Bound: the newest `maxRecords` records within `maxBytes` (as JSON) are kept, in memory for the
// queries and in the table: each append's transaction also deletes the rows that fell out of the
// bound (at most PRUNE_STEP a time). The JSON-lines file of earlier versions
// (alert-notifications.jsonl) is imported once at open, its torn last line (a crash during a
// write) and invalid lines skipped as before (db/legacy-import.ts).
import { z } from 'zod';
import { importLegacyFile } from '../db/legacy-import.js';
import type { RecordSql, SqlValue, Statement } from '../db/sql.js';
import type { WriteReporter } from '../model/storage.js';
import type { Logger } from '../log.js';

export type AlertStatus = 'firing' | 'resolved';

/** One alert of one notification, as received. Times are RFC 3339 strings. */
export interface NotificationRecord {
  /** Increasing sequence number, unique within the log. */
  id: number;
  /** Records appended together (one notification) share this: the id of the first of them. */
  batch: number;
  received_at: string;
  receiver: string;
  /** The alert's own status (a notification's alerts can mix firing and resolved). */
  status: AlertStatus;
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: string;
  /** null while Alertmanager reports no end (Go's zero time). */
  ends_at: string | null;
  generator_url: string;
  group_key: string;
  /** Alerts Alertmanager left out of this notification (max_alerts); > 0 means the group's list is incomplete. */
  truncated_alerts: number;
  external_url: string;
}

const recordSchema = z.object({
  id: z.number().int().positive(),
  batch: z.number().int().positive().optional(),
  received_at: z.string(),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  starts_at: z.string(),
  ends_at: z.string().nullable(),
  generator_url: z.string(),
  group_key: z.string(),
  truncated_alerts: z.number().int().min(0).default(0),
  external_url: z.string(),
});

export interface AlertLogOptions {
  /** The database (shared with the record and the heartbeat store). */
  sql: RecordSql;
  log: Logger;
  /** Newest records kept (default 10 000). */
  maxRecords?: number;
  /** Bytes of kept records, as JSON (default 10 MiB). */
  maxBytes?: number;
  /** Told about every write (vigil_storage_write_errors_total, /-/ready). */
  report?: WriteReporter;
  /** The JSON-lines file of an earlier version: imported once, then renamed <file>.migrated. */
  legacyFile?: string;
}

interface Held {
  record: NotificationRecord;
  bytes: number;
}

interface Pending {
  input: Array<Omit<NotificationRecord, 'id' | 'batch'>>;
  /** With their ids, once committed. */
  records: NotificationRecord[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LoadReport {
  /** Records kept (served) after the load. */
  records: number;
  /** Bytes dropped from the end of the imported file (a torn last line). */
  torn_bytes: number;
  /** Complete lines of the imported file that were not valid records. */
  skipped_lines: number;
}

/** Rows that fell out of the bound, deleted per statement at most. */
export const PRUNE_STEP = 1000;

const COLUMNS = ['id', 'batch', 'received_at', 'receiver', 'status', 'fingerprint', 'alertname', 'check_name', 'component', 'labels', 'annotations',
  'starts_at', 'starts_at_text', 'ends_at', 'ends_at_text', 'generator_url', 'group_key', 'truncated_alerts', 'external_url'] as const;
const INSERT = `INSERT INTO notifications (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`;
const PRUNE = `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE id < ? ORDER BY id LIMIT ${PRUNE_STEP})`;

/** Epoch ms of an RFC 3339 time (0 when it is none: the text column keeps what was sent). */
const msOf = (t: string) => {
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : 0;
};

function rowOf(r: NotificationRecord): SqlValue[] {
  return [r.id, r.batch, msOf(r.received_at), r.receiver, r.status, r.fingerprint, r.labels.alertname ?? null, r.labels.check ?? null, r.labels.component ?? null,
    JSON.stringify(r.labels), JSON.stringify(r.annotations), msOf(r.starts_at), r.starts_at, r.ends_at === null ? null : msOf(r.ends_at), r.ends_at,
    r.generator_url, r.group_key, r.truncated_alerts, r.external_url];
}

function recordOf(row: Record<string, unknown>): NotificationRecord {
  const iso = (v: unknown) => new Date(Number(v)).toISOString();
  return {
    id: Number(row.id),
    batch: Number(row.batch),
    received_at: iso(row.received_at),
    receiver: String(row.receiver),
    status: row.status as AlertStatus,
    fingerprint: String(row.fingerprint),
    labels: JSON.parse(String(row.labels)) as Record<string, string>,
    annotations: JSON.parse(String(row.annotations)) as Record<string, string>,
    starts_at: row.starts_at_text === null || row.starts_at_text === undefined ? iso(row.starts_at) : String(row.starts_at_text),
    ends_at: row.ends_at === null || row.ends_at === undefined ? null : row.ends_at_text === null || row.ends_at_text === undefined ? iso(row.ends_at) : String(row.ends_at_text),
    generator_url: String(row.generator_url),
    group_key: String(row.group_key),
    truncated_alerts: Number(row.truncated_alerts),
    external_url: String(row.external_url),
  };
}

const bytesOf = (r: NotificationRecord) => Buffer.byteLength(JSON.stringify(r)) + 1;

/** The records of a JSON-lines file of an earlier version: everything after the last newline is a torn write, invalid lines are skipped. */
export function parseLegacyLog(buf: Buffer): { records: NotificationRecord[]; torn_bytes: number; skipped_lines: number } {
  const end = buf.lastIndexOf(0x0a) + 1;
  const records: NotificationRecord[] = [];
  let skipped = 0;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (!line) continue;
    try {
      const r = recordSchema.parse(JSON.parse(line));
      if (!Number.isFinite(Date.parse(r.received_at))) throw new Error('received_at is not a time');
      records.push({ ...r, batch: r.batch ?? r.id });
    } catch {
      skipped++;
    }
  }
  return { records, torn_bytes: buf.length - end, skipped_lines: skipped };
}

export class AlertLog {
  readonly maxRecords: number;
  readonly maxBytes: number;
  private held: Held[] = [];
  private heldBytes = 0;
  private nextId = 1;
  private loaded?: LoadReport;
  private loading?: Promise<LoadReport>;
  private queue: Pending[] = [];
  private flushing?: Promise<void>;
  private closed = false;

  constructor(private opts: AlertLogOptions) {
    this.maxRecords = opts.maxRecords ?? 10_000;
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  }

  /**
   * Import the file of an earlier version (once) and read the kept records. Called at start;
   * an append waits for it (and retries it when it failed).
   */
  open(): Promise<LoadReport> {
    if (this.loaded) return Promise.resolve(this.loaded);
    this.loading ??= this.load().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  /** Kept records, oldest first (none before open()). Do not mutate. */
  records(): readonly NotificationRecord[] {
    return this.held.map((h) => h.record);
  }

  get size(): number {
    return this.held.length;
  }

  /** Append records (ids are assigned here); resolves once they are committed. */
  append(records: Array<Omit<NotificationRecord, 'id' | 'batch'>>): Promise<NotificationRecord[]> {
    if (this.closed) return Promise.reject(new Error('alert log is closed'));
    return new Promise<NotificationRecord[]>((resolve, reject) => {
      // Ids are given when the write starts (after the load knows the last one).
      const pending: Pending = { input: records, records: [], resolve: () => resolve(pending.records), reject };
      this.queue.push(pending);
      this.kick();
    });
  }

  /** Resolves when every queued write is done. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Refuse new appends and wait for the queued ones (the database belongs to the runtime). */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async load(): Promise<LoadReport> {
    const { sql, log, legacyFile } = this.opts;
    let torn = 0;
    let skipped = 0;
    if (legacyFile) {
      await importLegacyFile(sql, legacyFile, log, (buf) => {
        const parsed = parseLegacyLog(buf);
        torn = parsed.torn_bytes;
        skipped = parsed.skipped_lines;
        if (torn) log.warn('alert log: dropped a torn last record (crash during a write) of the old file', { file: legacyFile, bytes: torn });
        if (skipped) log.warn('alert log: skipped lines of the old file that are not valid records', { file: legacyFile, lines: skipped });
        return { statements: parsed.records.map((r) => ({ sql: INSERT, params: rowOf(r) })), records: parsed.records.length };
      });
    }
    const rows = await sql.all(`SELECT * FROM notifications ORDER BY id DESC LIMIT ?`, [this.maxRecords]);
    const held = rows.reverse().map((row) => recordOf(row)).map((record) => ({ record, bytes: bytesOf(record) }));
    const kept = bound(held, this.maxRecords, this.maxBytes);
    this.held = kept.held;
    this.heldBytes = kept.bytes;
    const last = await sql.all<{ id: number | null }>('SELECT max(id) AS id FROM notifications');
    this.nextId = Number(last[0]?.id ?? 0) + 1;
    // Rows past the bound (a large imported file, a smaller bound configured): a few steps now, the rest with the next appends.
    if (this.held.length) {
      for (let i = 0; i < 100; i++) {
        const [{ changes }] = await sql.transaction([{ sql: PRUNE, params: [this.held[0].record.id] }]);
        if (changes < PRUNE_STEP) break;
      }
    }
    this.loaded = { records: this.held.length, torn_bytes: torn, skipped_lines: skipped };
    return this.loaded;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        try {
          await this.open();
          await this.write(batch);
        } catch (err) {
          this.opts.log.error('alert log: write failed', { error: err });
          this.opts.report?.writeFailed('alert_log', err);
          for (const p of batch) p.reject(err as Error);
          continue;
        }
        this.opts.report?.writeSucceeded('alert_log');
        for (const p of batch) p.resolve();
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.queue.length) this.kick();
    });
  }

  /** One transaction for every queued notification (each its own batch id) and the rows that fall out of the bound. */
  private async write(batch: Pending[]): Promise<void> {
    let id = this.nextId;
    const withIds = batch.map((p) => {
      const first = id;
      return p.input.map((r): NotificationRecord => ({ id: id++, batch: first, ...r }));
    });
    const added = withIds.flat().map((record) => ({ record, bytes: bytesOf(record) }));
    const next = bound([...this.held, ...added], this.maxRecords, this.maxBytes, this.heldBytes + added.reduce((n, h) => n + h.bytes, 0));
    const statements: Statement[] = added.map((h) => ({ sql: INSERT, params: rowOf(h.record) }));
    if (next.held.length) statements.push({ sql: PRUNE, params: [next.held[0].record.id] });
    await this.opts.sql.transaction(statements);
    this.nextId = id;
    this.held = next.held;
    this.heldBytes = next.bytes;
    batch.forEach((p, i) => { p.records = withIds[i]; });
  }
}

/** The newest records within both bounds (always at least the newest one). */
function bound(held: Held[], maxRecords: number, maxBytes: number, total = held.reduce((n, h) => n + h.bytes, 0)): { held: Held[]; bytes: number } {
  let drop = 0;
  let bytes = total;
  while (held.length - drop > maxRecords || (bytes > maxBytes && held.length - drop > 1)) {
    bytes -= held[drop].bytes;
    drop++;
  }
  return { held: drop ? held.slice(drop) : held, bytes };
}
