// The notification log: one row per alert of each notification Alertmanager delivered, in the
// database's `notifications` table (vigil.db, or PostgreSQL), shared with the incidents that join
// on it.
//
// Durability: an append resolves only after its rows are committed (SQLite runs synchronous=FULL,
// so a commit is on disk), so a 200 to Alertmanager means the notification is stored
// (Alertmanager retries anything else). Appends are serialised and group-committed: concurrent
// notifications share one transaction. A failed write rejects its appends and changes nothing
// that readers see.
// Bounds: in memory (what GET /api/v1/alerts reads), the newest `maxRecords` records within
// `maxBytes` (as JSON). The table keeps more, for the incidents that join on it: every row
// received within history.retention (configure()), within a byte budget (`tableMaxBytes`, the
// rows' text): each append's transaction deletes, at most PRUNE_STEP at a time, the rows past the
// retention and the oldest ones over the budget.
// Ids: handed out by the database in blocks (id_counters, one UPDATE ... RETURNING per write), so
// two instances sharing a PostgreSQL record never give two notifications the same id.
// The JSON-lines file of earlier versions
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
  /** Bytes of the table's rows (their text) kept at most (default NOTIFICATION_TABLE_MAX_BYTES). */
  tableMaxBytes?: number;
  /** Rows received longer ago are removed from the table (history.retention; default 90 days; see configure()). */
  retentionMs?: number;
  now?: () => number;
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
/** The table's byte budget by default: at ~1 KB a row, some 64 000 notifications. */
export const NOTIFICATION_TABLE_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_RETENTION_MS = 90 * 86_400_000;
/** How often the table's size is read again (instances sharing a PostgreSQL table each add only their own rows). */
const RESUM_MS = 10 * 60_000;
/** A row's size as the budget counts it: its text columns and ~100 bytes of numbers and overhead. */
const ROW_BYTES_SQL = `(100 + length(receiver) + length(status) + length(fingerprint) + length(labels) + length(annotations) + coalesce(length(starts_at_text), 0)
  + coalesce(length(ends_at_text), 0) + length(generator_url) + length(group_key) + length(external_url))`;

const COLUMNS = ['id', 'batch', 'received_at', 'receiver', 'status', 'fingerprint', 'alertname', 'check_name', 'component', 'labels', 'annotations',
  'starts_at', 'starts_at_text', 'ends_at', 'ends_at_text', 'generator_url', 'group_key', 'truncated_alerts', 'external_url'] as const;
const INSERT = `INSERT INTO notifications (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`;
const PRUNE_BEFORE = `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE received_at < ? ORDER BY id LIMIT ${PRUNE_STEP})`;
const PRUNE_UP_TO = `DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE id <= ? ORDER BY id LIMIT ${PRUNE_STEP})`;
const ALLOCATE = "UPDATE id_counters SET next = next + ? WHERE name = 'notifications' RETURNING next";
/** After an import with the old file's ids: the counter goes past them. */
const COUNTER_PAST_IMPORT = `UPDATE id_counters SET next = (SELECT coalesce(max(id), 0) + 1 FROM notifications)
  WHERE name = 'notifications' AND next <= (SELECT coalesce(max(id), 0) FROM notifications)`;

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

/** A row's size as ROW_BYTES_SQL counts it (characters of its text). */
function rowBytes(r: NotificationRecord): number {
  return 100 + r.receiver.length + r.status.length + r.fingerprint.length + JSON.stringify(r.labels).length + JSON.stringify(r.annotations).length
    + r.starts_at.length + (r.ends_at?.length ?? 0) + r.generator_url.length + r.group_key.length + r.external_url.length;
}

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
  /** The table's rows as the byte budget counts them (read at open, kept up to date by this instance's writes). */
  private tableBytes = 0;
  private tableBytesAt = 0;
  private readonly tableMaxBytes: number;
  private retentionMs: number;
  private readonly now: () => number;
  private loaded?: LoadReport;
  private loading?: Promise<LoadReport>;
  private queue: Pending[] = [];
  private flushing?: Promise<void>;
  private closed = false;

  constructor(private opts: AlertLogOptions) {
    this.maxRecords = opts.maxRecords ?? 10_000;
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.tableMaxBytes = opts.tableMaxBytes ?? NOTIFICATION_TABLE_MAX_BYTES;
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = opts.now ?? Date.now;
  }

  /** The table's retention (history.retention), from the config. */
  configure(retentionMs: number): void {
    this.retentionMs = retentionMs;
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
    await sql.transaction([{ sql: COUNTER_PAST_IMPORT }]);
    const rows = await sql.all(`SELECT * FROM notifications ORDER BY id DESC LIMIT ?`, [this.maxRecords]);
    const held = rows.reverse().map((row) => recordOf(row)).map((record) => ({ record, bytes: bytesOf(record) }));
    const kept = bound(held, this.maxRecords, this.maxBytes);
    this.held = kept.held;
    this.heldBytes = kept.bytes;
    await this.sumTable();
    // Rows past the bounds (a large imported file, a shorter retention configured): a few steps now, the rest with the next appends.
    for (let i = 0; i < 100; i++) {
      const statements = await this.pruneStatements();
      if (!statements.length) break;
      const changes = (await sql.transaction(statements)).reduce((n, r) => n + r.changes, 0);
      if (changes < PRUNE_STEP) break;
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

  /**
   * One transaction for every queued notification (each its own batch id) and the rows that fall
   * out of the table's bounds. Its ids are a block the database handed out first (committed on
   * its own: a write that fails after it leaves a gap, never a duplicate).
   */
  private async write(batch: Pending[]): Promise<void> {
    const count = batch.reduce((n, p) => n + p.input.length, 0);
    let id = count ? await this.allocate(count) : 0;
    const withIds = batch.map((p) => {
      const first = id;
      return p.input.map((r): NotificationRecord => ({ id: id++, batch: first, ...r }));
    });
    const added = withIds.flat().map((record) => ({ record, bytes: bytesOf(record) }));
    // What the table no longer keeps (past the retention) is not served from memory either.
    const cutoff = this.now() - this.retentionMs;
    let old = 0;
    while (old < this.held.length && Date.parse(this.held[old].record.received_at) < cutoff) old++;
    const kept = old ? this.held.slice(old) : this.held;
    const next = bound([...kept, ...added], this.maxRecords, this.maxBytes, kept.reduce((n, h) => n + h.bytes, 0) + added.reduce((n, h) => n + h.bytes, 0));
    if (this.now() - this.tableBytesAt > RESUM_MS) await this.sumTable();
    const addedBytes = added.reduce((n, h) => n + rowBytes(h.record), 0);
    this.tableBytes += addedBytes;
    let statements: Statement[];
    try {
      statements = [...added.map((h) => ({ sql: INSERT, params: rowOf(h.record) })), ...await this.pruneStatements()];
      await this.opts.sql.transaction(statements);
    } catch (err) {
      this.tableBytes -= addedBytes;
      throw err;
    }
    this.held = next.held;
    this.heldBytes = next.bytes;
    batch.forEach((p, i) => { p.records = withIds[i]; });
  }

  /** Read the table's size as the budget counts it (other instances sharing it write too). */
  private async sumTable(): Promise<void> {
    this.tableBytes = Number((await this.opts.sql.all<{ b: number | null }>(`SELECT sum(${ROW_BYTES_SQL}) AS b FROM notifications`))[0]?.b ?? 0);
    this.tableBytesAt = this.now();
  }

  /** `count` ids from the database's counter: the first of them. */
  private async allocate(count: number): Promise<number> {
    const [r] = await this.opts.sql.transaction([{ sql: ALLOCATE, params: [count] }]);
    const next = Number(r.rows?.[0]?.next);
    if (!Number.isFinite(next)) throw new Error('the notification id counter is missing from the database');
    return next - count;
  }

  /**
   * The DELETEs that bring the table within its bounds: rows past the retention, and while the
   * table is over its byte budget, the oldest rows that cover the excess (read a step at a time).
   */
  private async pruneStatements(): Promise<Statement[]> {
    const out: Statement[] = [{ sql: PRUNE_BEFORE, params: [this.now() - this.retentionMs] }];
    let excess = this.tableBytes - this.tableMaxBytes;
    if (excess <= 0) return out;
    const oldest = await this.opts.sql.all<{ id: number; b: number }>(`SELECT id, ${ROW_BYTES_SQL} AS b FROM notifications ORDER BY id LIMIT ${PRUNE_STEP}`);
    let upTo: number | undefined;
    for (const r of oldest) {
      if (excess <= 0) break;
      upTo = Number(r.id);
      excess -= Number(r.b);
      this.tableBytes -= Number(r.b);
    }
    if (upTo !== undefined) out.push({ sql: PRUNE_UP_TO, params: [upTo] });
    return out;
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
