// The notification log: an append-only JSON-lines file under --storage.path, one record per line.
//
// Durability: an append resolves only after the lines are written and fdatasync'ed, so a 200 to
// Alertmanager means the notification is on disk (Alertmanager retries anything else). Appends
// are serialised and group-committed: concurrent notifications share one write + fsync.
// Torn writes: a crash can leave a partial last line. On load everything after the last newline
// is dropped and the file is truncated back to it, so the next append starts on a clean line;
// a line that is not a valid record (bit rot, a hand edit) is skipped and counted, never fatal.
// A failed write (disk full) is truncated back to the last good size for the same reason. When
// the truncation itself fails (a read-only directory), reads still skip the torn bytes and the
// truncation is retried before the next append.
// Bound: the newest `maxRecords` records within `maxBytes` are kept (in memory and for queries).
// The file may grow to 1.25x those limits; then it is compacted to the kept records by writing a
// temp file, fsync, rename over the log and fsync of the directory — a crash leaves either the
// old or the new file, never a mix; a failed compaction removes its temp file.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
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
  file: string;
  log: Logger;
  /** Newest records kept (default 10 000). */
  maxRecords?: number;
  /** Bytes of kept records, as serialised (default 10 MiB). */
  maxBytes?: number;
  /** fdatasync after every write (default true; tests of the format may turn it off). */
  fsync?: boolean;
  /** Told about every write (vigil_storage_write_errors_total, /-/ready). */
  report?: WriteReporter;
}

interface Held {
  record: NotificationRecord;
  bytes: number;
}

interface Pending {
  records: NotificationRecord[];
  lines: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LoadReport {
  records: number;
  /** Bytes dropped from the end of the file (a torn last line). */
  torn_bytes: number;
  /** Complete lines that were not valid records. */
  skipped_lines: number;
}

export class AlertLog {
  readonly maxRecords: number;
  readonly maxBytes: number;
  private held: Held[] = [];
  private heldBytes = 0;
  private fileLines = 0;
  private fileBytes = 0;
  /** Bytes past fileBytes (a torn tail, half a failed write) that must be cut before the next append. */
  private mustTruncate = false;
  private nextId = 1;
  private loaded?: LoadReport;
  private fh?: FileHandle;
  private queue: Pending[] = [];
  private flushing?: Promise<void>;
  private closed = false;

  constructor(private opts: AlertLogOptions) {
    this.maxRecords = opts.maxRecords ?? 10_000;
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  }

  get file(): string {
    return this.opts.file;
  }

  /** Read the file once (synchronously; later calls are free). Missing file = empty log. */
  load(): LoadReport {
    if (this.loaded) return this.loaded;
    const file = this.opts.file;
    try {
      rmSync(`${file}.compact`, { force: true }); // a compaction interrupted before its rename
    } catch (err) {
      this.opts.log.warn('alert log: cannot remove an unfinished compaction file', { file: `${file}.compact`, error: err });
    }
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      buf = Buffer.alloc(0);
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    const torn = buf.length - end;
    if (torn > 0) {
      try {
        truncateSync(file, end);
        syncPath(file);
        this.opts.log.warn('alert log: dropped a torn last record (crash during a write)', { file, bytes: torn });
      } catch (err) {
        // Read-only directory: serve what is complete; cut the tail before the next append.
        this.mustTruncate = true;
        this.opts.log.warn('alert log: skipped a torn last record (crash during a write); cannot truncate it yet', { file, bytes: torn, error: err });
      }
    }
    let skipped = 0;
    let lines = 0;
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
      if (!line) continue;
      lines++;
      let record: NotificationRecord;
      try {
        const r = recordSchema.parse(JSON.parse(line));
        record = { ...r, batch: r.batch ?? r.id };
      } catch {
        skipped++;
        continue;
      }
      this.hold(record, Buffer.byteLength(line) + 1);
      if (record.id >= this.nextId) this.nextId = record.id + 1;
    }
    if (skipped) this.opts.log.warn('alert log: skipped lines that are not valid records', { file, lines: skipped });
    this.fileLines = lines;
    this.fileBytes = end;
    this.loaded = { records: this.held.length, torn_bytes: torn, skipped_lines: skipped };
    return this.loaded;
  }

  /** Kept records, oldest first. Do not mutate. */
  records(): readonly NotificationRecord[] {
    this.load();
    return this.held.map((h) => h.record);
  }

  get size(): number {
    this.load();
    return this.held.length;
  }

  /** Append records (ids are assigned here); resolves once they are on disk. */
  append(records: Array<Omit<NotificationRecord, 'id' | 'batch'>>): Promise<NotificationRecord[]> {
    this.load();
    if (this.closed) return Promise.reject(new Error('alert log is closed'));
    const batch = this.nextId;
    const withIds = records.map((r) => ({ id: this.nextId++, batch, ...r }));
    const lines = withIds.map((r) => JSON.stringify(r) + '\n');
    return new Promise<NotificationRecord[]>((resolve, reject) => {
      this.queue.push({ records: withIds, lines, resolve: () => resolve(withIds), reject });
      this.kick();
    });
  }

  /** Resolves when every queued write (and a compaction it triggered) is done. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Wait for pending writes, then release the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.fh?.close();
    this.fh = undefined;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        try {
          await this.write(batch.flatMap((p) => p.lines).join(''));
        } catch (err) {
          this.opts.log.error('alert log: write failed', { file: this.opts.file, error: err });
          this.opts.report?.writeFailed('alert_log', err);
          for (const p of batch) p.reject(err as Error);
          continue;
        }
        this.opts.report?.writeSucceeded('alert_log');
        for (const p of batch) {
          p.records.forEach((r, i) => this.hold(r, Buffer.byteLength(p.lines[i])));
          this.fileLines += p.lines.length;
        }
        for (const p of batch) p.resolve();
        if (this.fileLines > this.maxRecords * 1.25 || this.fileBytes > this.maxBytes * 1.25) {
          try {
            await this.compact();
          } catch (err) {
            this.opts.log.error('alert log: compaction failed (the log keeps growing until it succeeds)', { file: this.opts.file, error: err });
            this.opts.report?.writeFailed('alert_log', err);
          }
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.queue.length && !this.closed) this.kick();
    });
  }

  private async handle(): Promise<FileHandle> {
    if (!this.fh) {
      mkdirSync(path.dirname(this.opts.file), { recursive: true });
      this.fh = await open(this.opts.file, 'a');
      // A file created just now is only durable once its directory entry is.
      if (this.opts.fsync !== false) {
        try { syncPath(path.dirname(this.opts.file)); } catch { /* some filesystems refuse fsync on directories */ }
      }
    }
    return this.fh;
  }

  private async write(data: string): Promise<void> {
    const fh = await this.handle();
    const bytes = Buffer.from(data, 'utf8');
    if (this.mustTruncate) {
      await fh.truncate(this.fileBytes);
      this.mustTruncate = false;
    }
    try {
      await fh.appendFile(bytes);
      if (this.opts.fsync !== false) await fh.datasync();
    } catch (err) {
      // Never leave half a line behind for the next append to continue.
      await fh.truncate(this.fileBytes).catch(() => { this.mustTruncate = true; });
      throw err;
    }
    this.fileBytes += bytes.length;
  }

  private async compact(): Promise<void> {
    const tmp = `${this.opts.file}.compact`;
    const text = this.held.map((h) => JSON.stringify(h.record) + '\n').join('');
    try {
      const out = await open(tmp, 'w');
      try {
        await out.writeFile(text);
        if (this.opts.fsync !== false) await out.sync();
      } finally {
        await out.close();
      }
      await this.fh?.close();
      this.fh = undefined;
      await rename(tmp, this.opts.file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
    this.mustTruncate = false; // the new file holds only complete records
    if (this.opts.fsync !== false) syncPath(path.dirname(this.opts.file));
    const before = this.fileLines;
    this.fileLines = this.held.length;
    this.fileBytes = Buffer.byteLength(text);
    this.opts.log.info('alert log compacted', { file: this.opts.file, lines_before: before, lines_after: this.fileLines, bytes: this.fileBytes });
  }

  private hold(record: NotificationRecord, bytes: number): void {
    this.held.push({ record, bytes });
    this.heldBytes += bytes;
    let drop = 0;
    while (this.held.length - drop > this.maxRecords || (this.heldBytes > this.maxBytes && this.held.length - drop > 1)) {
      this.heldBytes -= this.held[drop].bytes;
      drop++;
    }
    if (drop) this.held.splice(0, drop);
  }
}

function syncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
