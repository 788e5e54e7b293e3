// The storage directory (--storage.path) as a whole: which process owns it, and whether it
// takes writes. The stores in it (the record, heartbeats and the alert log, all in vigil.db) report each
// write here, so a read-only or full disk shows as a not-ready exporter (/-/ready 503 with the
// reason) and as vigil_storage_write_errors_total, not only as log lines. /metrics and /health
// keep working either way: monitoring must not stop because its own disk did.
//
// The lock: Node has no flock(), so the lock is a file created with O_EXCL holding the owner's
// PID, host, boot id and process start time. It is stale (taken over, logged) when that
// process is gone: same host and boot and the PID is not running, or runs a different process
// (PID reuse, e.g. PID 1 in a restarted container); or the host rebooted. A lock from another
// host cannot be checked from here and is never taken over: the message says which file to
// remove once that instance is really gone.
import { closeSync, constants, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import type { Logger } from '../log.js';
import { STORAGE_WRITERS, type StorageWriter, type WriteErrorCounter, type WriteReporter } from '../model/storage.js';

export const LOCK_FILE = 'vigil.lock';
/** Written, fsynced and removed by every writability check. */
export const WRITE_CHECK_FILE = '.vigil-write-check';
export const WRITE_ERRORS_METRIC = 'vigil_storage_write_errors_total';

export class StorageLockedError extends Error {}

interface LockOwner {
  pid: number;
  host: string;
  boot_id?: string;
  /** /proc/<pid>/stat start time (clock ticks since boot): tells a reused PID apart. */
  start_ticks?: string;
  since: string;
}

export interface StorageDirOptions {
  /** Re-check interval while the directory takes writes (default 30 s). */
  healthyRecheckMs?: number;
  /** Re-check interval after a failure, so /-/ready recovers soon after the disk does (default 5 s). */
  failingRecheckMs?: number;
  /** A lock file this much older than its empty or unreadable content was a crash during its creation (default 10 s). */
  partialLockAgeMs?: number;
}

export class StorageDir implements WriteReporter, WriteErrorCounter {
  readonly dir: string;
  readonly lockFile: string;
  private errors: client.Counter<'store'>;
  private owner?: LockOwner;
  private failure?: { store: StorageWriter; message: string; since: string };
  private timer?: NodeJS.Timeout;
  private checking?: Promise<boolean>;
  private stopped = false;

  constructor(dir: string, private log: Logger, registry: client.Registry, private opts: StorageDirOptions = {}) {
    this.dir = path.resolve(dir);
    this.lockFile = path.join(this.dir, LOCK_FILE);
    this.errors = new client.Counter({
      name: WRITE_ERRORS_METRIC,
      help: 'Failed writes to --storage.path by store (write_check: the periodic writability check).',
      labelNames: ['store'],
      registers: [registry],
    });
    for (const store of STORAGE_WRITERS) this.errors.inc({ store }, 0); // series exist from the start, so increase() sees the first error
  }

  /**
   * Take the directory for this process. Throws StorageLockedError (naming the path and the
   * holder) when another live Vigil holds it. A directory that cannot take a lock file at all
   * (read-only) is logged and left unlocked: nothing can write there then, and the
   * writability check reports it.
   */
  lock(): void {
    const me = currentOwner();
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          this.log.warn('storage: cannot create the lock file; running without it', { file: this.lockFile, error: err });
          return;
        }
        const stale = this.staleReason(me);
        this.log.warn('storage: taking over a stale lock', { file: this.lockFile, reason: stale });
        try { unlinkSync(this.lockFile); } catch { /* gone already: retry the create */ }
        continue;
      }
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.owner = me;
      return;
    }
    throw new StorageLockedError(`--storage.path ${this.dir}: cannot take ${this.lockFile}, it keeps reappearing (another Vigil starting on the same directory?)`);
  }

  /** Remove the lock file if it is still ours. Safe to call more than once (exit handlers). */
  unlock(): void {
    const me = this.owner;
    if (!me) return;
    this.owner = undefined;
    const held = readOwner(this.lockFile);
    if (held?.pid === me.pid && held.start_ticks === me.start_ticks && held.host === me.host) {
      try { unlinkSync(this.lockFile); } catch { /* removed by hand */ }
    }
  }

  /** Check writability now and then periodically; the first result is logged if it fails. */
  start(): void {
    this.stopped = false;
    void this.check().then(() => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unlock();
  }

  /** Why the directory is not usable, or undefined when the last write or check succeeded. */
  problem(): string | undefined {
    const f = this.failure;
    if (!f) return undefined;
    const what = f.store === 'write_check' ? 'the writability check' : `a ${f.store} write`;
    return `storage ${this.dir} is not writable since ${f.since}: ${what} failed (${f.message}); heartbeats, alert notifications and check results are not being stored`;
  }

  writeSucceeded(_store: StorageWriter): void {
    if (!this.failure) return;
    this.log.info('storage: writes succeed again', { path: this.dir, failing_since: this.failure.since });
    this.failure = undefined;
  }

  countWriteError(store: StorageWriter): void {
    this.errors.inc({ store });
  }

  writeFailed(store: StorageWriter, err: unknown): void {
    this.errors.inc({ store });
    const message = describe(err);
    if (!this.failure) {
      this.failure = { store, message, since: new Date().toISOString() };
      this.log.warn('storage: directory not writable; /-/ready answers 503 until a write succeeds', { path: this.dir, store, error: message });
    } else {
      this.failure = { ...this.failure, store, message };
    }
    if (!this.stopped) this.schedule();
  }

  /** Write, fsync and remove a small file: does the directory take a durable write now? */
  check(): Promise<boolean> {
    this.checking ??= (async () => {
      const file = path.join(this.dir, WRITE_CHECK_FILE);
      try {
        const fh = await open(file, 'w', 0o600);
        try {
          await fh.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rm(file);
        this.writeSucceeded('write_check');
        return true;
      } catch (err) {
        await rm(file, { force: true }).catch(() => {});
        this.writeFailed('write_check', err);
        return false;
      }
    })().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const ms = this.failure ? this.opts.failingRecheckMs ?? 5_000 : this.opts.healthyRecheckMs ?? 30_000;
    this.timer = setTimeout(() => void this.check().then(() => this.schedule()), ms);
    this.timer.unref();
  }

  /** Why the existing lock may be taken over; throws StorageLockedError when it may not. */
  private staleReason(me: LockOwner): string {
    const held = readOwner(this.lockFile);
    if (!held) {
      let age = Infinity;
      try { age = Date.now() - statSync(this.lockFile).mtimeMs; } catch { return 'removed meanwhile'; }
      if (age > (this.opts.partialLockAgeMs ?? 10_000)) return 'empty or unreadable (a crash while it was created)';
      throw new StorageLockedError(`--storage.path ${this.dir} is being locked by another process right now (${this.lockFile} is new and not yet complete); is a second Vigil starting on this directory?`);
    }
    const inUse = (detail: string) => new StorageLockedError(
      `--storage.path ${this.dir} is in use by another Vigil (PID ${held.pid} on ${held.host}, since ${held.since}${detail}); `
      + `two instances must not share a storage directory. If that process is gone, remove ${this.lockFile}.`,
    );
    if (held.host !== me.host) throw inUse(', another host: its liveness cannot be checked from here');
    if (held.boot_id && me.boot_id && held.boot_id !== me.boot_id) return `PID ${held.pid} ran before the host rebooted`;
    if (held.pid === me.pid) return `PID ${held.pid} is this process now (a previous run, e.g. a restarted container)`;
    try {
      process.kill(held.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return `PID ${held.pid} is not running`;
    }
    const ticks = startTicks(held.pid);
    if (held.start_ticks && ticks && ticks !== held.start_ticks) return `PID ${held.pid} now belongs to another process`;
    throw inUse('');
  }
}

function currentOwner(): LockOwner {
  return { pid: process.pid, host: os.hostname(), boot_id: bootId(), start_ticks: startTicks(process.pid), since: new Date().toISOString() };
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try { return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { return undefined; }
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces and parentheses): state is field 3, starttime field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(e?.message ?? err);
}
