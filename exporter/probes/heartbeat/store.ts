// The heartbeat input store: what jobs told us (success, start, fail, with duration and exit
// code), per heartbeat check, kept durable in <storage.path>/heartbeats.json so an exporter
// restart neither forgets a missed run nor invents one.
//
// A ping is acknowledged only once it is on disk: changes wait in a queue, one write at a time
// takes everything queued (group commit) and writes the whole file atomically (temp file,
// fsync, rename, fsync of the directory); pings arriving during a write go into the next one,
// and each waiter resolves when the write holding its ping is done. Readers (the probe, the
// page) only see committed records: a failed write drops its changes and rejects its waiters,
// so a ping answered with an error never shows up anywhere.
//
// Only facts are stored; whether a check is late or missed is computed from them by the
// heartbeat probe, so the same facts give the same status before and after a restart.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import type { WriteReporter } from '../../model/storage.js';

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

interface FileShape {
  version: 1;
  heartbeats: Record<string, HeartbeatRecord>;
}

type Change = (prev: HeartbeatRecord | undefined) => HeartbeatRecord;

interface Pending {
  name: string;
  change: Change;
  resolve: (r: HeartbeatRecord) => void;
  reject: (err: Error) => void;
}

export interface HeartbeatStoreOptions {
  /** Told about every write (vigil_storage_write_errors_total, /-/ready). */
  report?: WriteReporter;
  /** The durable write of the whole file (default writeAtomic); tests hold or fail it. */
  write?: (file: string, text: string) => Promise<void>;
}

export class HeartbeatStore {
  /** What is on disk: the only records readers see. Never mutated; a commit replaces it. */
  private committed = new Map<string, HeartbeatRecord>();
  /** first_seen of heartbeats not on disk yet, so every ensure() agrees on it until it is. */
  private unsaved = new Map<string, { first_seen: number; queued: boolean }>();
  private queue: Pending[] = [];
  private writing?: Promise<void>;
  private loaded = false;

  constructor(readonly file: string, private log: Logger, private opts: HeartbeatStoreOptions = {}) {}

  get(name: string): HeartbeatRecord | undefined {
    this.load();
    return this.committed.get(name);
  }

  /** The record for a configured heartbeat; a new one (first_seen = now) is queued for writing. */
  ensure(name: string, now = Date.now()): HeartbeatRecord {
    this.load();
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

  /** Record a ping; resolves with the record once a write holding it is on disk, rejects if that write failed. */
  ping(name: string, event: HeartbeatEvent, data: PingData = {}, now = Date.now()): Promise<HeartbeatRecord> {
    this.load();
    const first = this.unsaved.get(name)?.first_seen ?? now;
    return this.enqueue(name, (prev) => applyPing(prev ?? { first_seen: first }, event, data, now));
  }

  names(): string[] {
    this.load();
    return [...this.committed.keys()];
  }

  /** Wait for pending writes (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
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
        const next = new Map(this.committed);
        const records = batch.map((p) => {
          const r = p.change(next.get(p.name));
          next.set(p.name, r);
          return r;
        });
        const snapshot: FileShape = { version: 1, heartbeats: Object.fromEntries(next) };
        try {
          await (this.opts.write ?? writeAtomic)(this.file, JSON.stringify(snapshot, null, 1) + '\n');
        } catch (err) {
          this.log.error('cannot write heartbeat state; the pings of this write are not recorded', { file: this.file, pings: batch.length, error: err });
          this.opts.report?.writeFailed('heartbeats', err);
          for (const p of batch) p.reject(err as Error);
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

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    removeTempFiles(this.file, this.log);
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error('cannot read heartbeat state', { file: this.file, error: err });
      return;
    }
    try {
      const data = JSON.parse(text) as FileShape;
      for (const [name, r] of Object.entries(data.heartbeats ?? {})) {
        if (r && typeof r.first_seen === 'number') this.committed.set(name, r);
      }
    } catch (err) {
      // Keep the unreadable file for inspection instead of overwriting the evidence.
      const aside = `${this.file}.corrupt-${Date.now()}`;
      this.log.error('heartbeat state is not valid JSON; starting empty and keeping the file aside', { file: this.file, aside, error: err });
      try {
        mkdirSync(path.dirname(this.file), { recursive: true });
        renameSync(this.file, aside);
      } catch { /* nothing more to do */ }
    }
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

const tempName = (file: string) => `${file}.tmp-${process.pid}`;

/** Temp files of writes that never reached their rename (a crash, or a full disk before the fix). */
function removeTempFiles(file: string, log: Logger): void {
  const prefix = `${path.basename(file)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(path.dirname(file)).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const n of names) {
    try {
      rmSync(path.join(path.dirname(file), n), { force: true });
      log.info('removed the temp file of an unfinished write', { file: n });
    } catch (err) {
      log.warn('cannot remove the temp file of an unfinished write', { file: n, error: err });
    }
  }
}

/** Replace `file` with `text` durably: a crash leaves the old or the new file, a failure leaves no temp file. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = tempName(file);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'w', 0o600);
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, file);
  } catch (err) {
    await fh?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  // The rename itself is only durable once the directory entry is.
  try {
    const dh = await open(dir, 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  } catch { /* some filesystems refuse fsync on directories */ }
}
