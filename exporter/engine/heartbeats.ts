// The heartbeat input store: what jobs told us (success, start, fail, with duration and exit
// code), per heartbeat check, kept durable in <storage.path>/heartbeats.json so an exporter
// restart neither forgets a missed run nor invents one. Writes are atomic (temp file, fsync,
// rename, fsync of the directory) and serialised; a burst of pings coalesces into one write.
//
// Only facts are stored; whether a check is late or missed is computed from them by the
// heartbeat probe, so the same facts give the same status before and after a restart.
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

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

export class HeartbeatStore {
  private records = new Map<string, HeartbeatRecord>();
  private loaded = false;
  private writing?: Promise<void>;
  private dirty = false;

  constructor(readonly file: string, private log: Logger) {}

  get(name: string): HeartbeatRecord | undefined {
    this.load();
    return this.records.get(name);
  }

  /** The record for a configured heartbeat, created (first_seen = now) if new. */
  ensure(name: string, now = Date.now()): HeartbeatRecord {
    this.load();
    let r = this.records.get(name);
    if (!r) {
      r = { first_seen: now };
      this.records.set(name, r);
      void this.save().catch(() => {});
    }
    return r;
  }

  /** Record a ping and persist it; resolves once it is on disk. */
  async ping(name: string, event: HeartbeatEvent, data: PingData = {}, now = Date.now()): Promise<HeartbeatRecord> {
    const r = this.ensure(name, now);
    r.last_ping = now;
    r.last_event = event;
    if (event === 'start') {
      r.last_start = now;
    } else {
      const duration = data.duration_seconds
        ?? (r.last_start !== undefined && r.last_start > Math.max(r.last_success ?? -Infinity, r.last_fail ?? -Infinity) ? (now - r.last_start) / 1000 : undefined);
      r.last_duration = duration;
      // A /fail without an exit code counts as 1 (generic failure), so `last_exit_code != 0` alerts see it.
      r.last_exit_code = data.exit_code ?? (event === 'fail' ? 1 : 0);
      r.last_message = data.message;
      if (event === 'success') r.last_success = now;
      else r.last_fail = now;
    }
    await this.save();
    return r;
  }

  names(): string[] {
    this.load();
    return [...this.records.keys()];
  }

  /** Wait for pending writes (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
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
        if (r && typeof r.first_seen === 'number') this.records.set(name, r);
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

  /** Coalescing, serialised atomic write. Resolves when a write that includes the current state is done. */
  private save(): Promise<void> {
    this.dirty = true;
    if (this.writing) {
      const after = this.writing.then(() => (this.dirty ? this.save() : undefined));
      return after;
    }
    this.dirty = false;
    const snapshot: FileShape = { version: 1, heartbeats: Object.fromEntries(this.records) };
    const run = writeAtomic(this.file, JSON.stringify(snapshot, null, 1) + '\n')
      .catch((err) => {
        this.log.error('cannot write heartbeat state', { file: this.file, error: err });
        throw err;
      })
      .finally(() => { if (this.writing === run) this.writing = undefined; });
    this.writing = run;
    return run;
  }
}

export async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  // The rename itself is only durable once the directory entry is.
  try {
    const dh = await open(dir, 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  } catch { /* some filesystems refuse fsync on directories */ }
}
