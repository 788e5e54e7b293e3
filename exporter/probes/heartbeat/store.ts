// The heartbeat input store: what jobs told us (success, start, fail, with duration and exit
// code), per heartbeat check, kept durable in the database's `heartbeats` table (vigil.db, or
// PostgreSQL) so an exporter restart neither forgets a missed run nor invents one.
//
// A ping is acknowledged only once it is committed: changes wait in a queue, one transaction at a
// time takes everything queued (group commit; SQLite runs synchronous=FULL, so a commit is on
// disk), pings arriving during a write go into the next one, and each waiter resolves when the
// transaction holding its ping has committed. Readers (the probe, the page) only see committed
// records, kept in memory: a failed write drops its changes and rejects its waiters, so a ping
// answered with an error never shows up anywhere.
//
// Only facts are stored; whether a check is late or missed is computed from them by the
// heartbeat probe, so the same facts give the same status before and after a restart. The file
// of earlier versions (heartbeats.json) is imported once at open (db/legacy-import.ts).
import { renameSync } from 'node:fs';
import type { Logger } from '../../log.js';
import type { WriteReporter } from '../../model/storage.js';
import { importLegacyFile } from '../../db/legacy-import.js';
import type { RecordSql, SqlValue, Statement } from '../../db/sql.js';

export type HeartbeatEvent = 'success' | 'start' | 'fail';

export interface HeartbeatRecord {
  /** When Vigil first knew this heartbeat (epoch ms): the schedule's origin until the first success. */
  first_seen: number;
  last_ping?: number;
  last_event?: HeartbeatEvent;
  last_success?: number;
  last_start?: number;
  last_fail?: number;
  /** Seconds, from the ping or measured from the matching /start. */
  last_duration?: number;
  last_exit_code?: number;
  /** Short text sent with the last finish (failure output); shown as last_error. */
  last_message?: string;
}

export interface PingData {
  duration_seconds?: number;
  exit_code?: number;
  message?: string;
}

type Change = (prev: HeartbeatRecord | undefined) => HeartbeatRecord;

interface Pending {
  name: string;
  change: Change;
  resolve: (r: HeartbeatRecord) => void;
  reject: (err: Error) => void;
}

export interface HeartbeatStoreOptions {
  /** The database (shared with the record and the alert log). */
  sql: RecordSql;
  log: Logger;
  /** Told about every write (vigil_storage_write_errors_total, /-/ready). */
  report?: WriteReporter;
  /** heartbeats.json of an earlier version: imported once, then renamed heartbeats.json.migrated. */
  legacyFile?: string;
}

const COLUMNS = ['first_seen', 'last_ping', 'last_event', 'last_success', 'last_start', 'last_fail', 'last_duration', 'last_exit_code', 'last_message'] as const;
const UPSERT = `INSERT INTO heartbeats (name, ${COLUMNS.join(', ')}) VALUES (?, ${COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (name) DO UPDATE SET ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`;
const IMPORT = `INSERT INTO heartbeats (name, ${COLUMNS.join(', ')}) VALUES (?, ${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (name) DO NOTHING`;

function rowOf(name: string, r: HeartbeatRecord): SqlValue[] {
  return [name, ...COLUMNS.map((c) => (r[c] ?? null) as SqlValue)];
}

function recordOf(row: Record<string, unknown>): HeartbeatRecord {
  const r: HeartbeatRecord = { first_seen: Number(row.first_seen) };
  for (const c of COLUMNS) {
    const v = row[c];
    if (c === 'first_seen' || v === null || v === undefined) continue;
    (r as unknown as Record<string, unknown>)[c] = c === 'last_event' || c === 'last_message' ? String(v) : Number(v);
  }
  return r;
}

export class HeartbeatStore {
  /** What is committed: the only records readers see. Never mutated; a commit replaces it. */
  private committed = new Map<string, HeartbeatRecord>();
  /** first_seen of heartbeats not committed yet, so every ensure() agrees on it until it is. */
  private unsaved = new Map<string, { first_seen: number; queued: boolean }>();
  private queue: Pending[] = [];
  private writing?: Promise<void>;
  private loading?: Promise<void>;
  private loaded = false;

  constructor(private opts: HeartbeatStoreOptions) {}

  /**
   * Read the committed records (importing heartbeats.json first, once). Called at start before
   * any probe runs; a write waits for it, and retries it when it failed, so a write never
   * replaces a record it has not read.
   */
  open(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.loading ??= this.load().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  get(name: string): HeartbeatRecord | undefined {
    return this.committed.get(name);
  }

  /** The record for a configured heartbeat; a new one (first_seen = now) is queued for writing. */
  ensure(name: string, now = Date.now()): HeartbeatRecord {
    const r = this.committed.get(name);
    if (r) return r;
    let u = this.unsaved.get(name);
    if (!u) {
      u = { first_seen: now, queued: false };
      this.unsaved.set(name, u);
    }
    if (!u.queued) {
      const first = u.first_seen;
      u.queued = true;
      // A failed write leaves it unqueued: the next ensure() (the next probe run) tries again.
      this.enqueue(name, (prev) => prev ?? { first_seen: first }).catch(() => { u.queued = false; });
    }
    return { first_seen: u.first_seen };
  }

  /** Record a ping; resolves with the record once the transaction holding it committed, rejects if it failed. */
  ping(name: string, event: HeartbeatEvent, data: PingData = {}, now = Date.now()): Promise<HeartbeatRecord> {
    const first = this.unsaved.get(name)?.first_seen ?? now;
    return this.enqueue(name, (prev) => applyPing(prev ?? { first_seen: first }, event, data, now));
  }

  names(): string[] {
    return [...this.committed.keys()];
  }

  /** Wait for pending writes (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async load(): Promise<void> {
    const { sql, log, legacyFile } = this.opts;
    if (legacyFile) {
      try {
        await importLegacyFile(sql, legacyFile, log, (buf) => {
          const data = JSON.parse(buf.toString('utf8')) as { heartbeats?: Record<string, HeartbeatRecord> };
          const rows = Object.entries(data.heartbeats ?? {}).filter(([, r]) => r && typeof r.first_seen === 'number');
          return { statements: rows.map(([name, r]) => ({ sql: IMPORT, params: rowOf(name, r) })), records: rows.length };
        });
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        // Keep the unreadable file for inspection instead of importing or overwriting the evidence.
        const aside = `${legacyFile}.corrupt-${Date.now()}`;
        log.error('heartbeat state file is not valid JSON; not imported, kept aside', { file: legacyFile, aside, error: err });
        try { renameSync(legacyFile, aside); } catch { /* nothing more to do */ }
      }
    }
    const rows = await sql.all('SELECT * FROM heartbeats');
    this.committed = new Map(rows.map((row) => [String(row.name), recordOf(row)]));
    this.loaded = true;
  }

  private enqueue(name: string, change: Change): Promise<HeartbeatRecord> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, change, resolve, reject });
      this.kick();
    });
  }

  /** The single writer: each round commits everything queued before it started. */
  private kick(): void {
    if (this.writing) return;
    this.writing = (async () => {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        try {
          await this.open();
        } catch (err) {
          this.failed(batch, err);
          continue;
        }
        const next = new Map(this.committed);
        const records = batch.map((p) => {
          const r = p.change(next.get(p.name));
          next.set(p.name, r);
          return r;
        });
        const changed = new Set(batch.map((p) => p.name));
        const statements: Statement[] = [...changed].map((name) => ({ sql: UPSERT, params: rowOf(name, next.get(name)!) }));
        try {
          await this.opts.sql.transaction(statements);
        } catch (err) {
          this.failed(batch, err);
          continue;
        }
        this.committed = next;
        for (const p of batch) this.unsaved.delete(p.name);
        this.opts.report?.writeSucceeded('heartbeats');
        batch.forEach((p, i) => p.resolve(records[i]));
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.queue.length) this.kick(); // queued between the last round and now
    });
  }

  private failed(batch: Pending[], err: unknown): void {
    this.opts.log.error('cannot write heartbeat state; the pings of this write are not recorded', { pings: batch.length, error: err });
    this.opts.report?.writeFailed('heartbeats', err);
    for (const p of batch) p.reject(err as Error);
  }
}

/** The record after a ping: a new object (committed records are shared with readers). */
function applyPing(prev: HeartbeatRecord, event: HeartbeatEvent, data: PingData, now: number): HeartbeatRecord {
  const r: HeartbeatRecord = { ...prev, last_ping: now, last_event: event };
  if (event === 'start') {
    r.last_start = now;
    return r;
  }
  r.last_duration = data.duration_seconds
    ?? (prev.last_start !== undefined && prev.last_start > Math.max(prev.last_success ?? -Infinity, prev.last_fail ?? -Infinity) ? (now - prev.last_start) / 1000 : undefined);
  // A /fail without an exit code counts as 1 (generic failure), so `last_exit_code != 0` alerts see it.
  r.last_exit_code = data.exit_code ?? (event === 'fail' ? 1 : 0);
  r.last_message = data.message;
  if (event === 'success') r.last_success = now;
  else r.last_fail = now;
  return r;
}
