// The durable record of check results and status changes (<storage.path>/vigil.db). The engine
// hands every completed result and every status change here (Runtime wires StateStore's
// 'result' event); they are queued in memory and written once a second in one transaction, so
// the event loop pays one short synchronous write per second, and kill -9 loses at most that
// second. After a restart, restore() gives each check back its last status, `since`, last
// error and recent history.
//
// A failing write (disk full, read-only, I/O error) is counted as
// vigil_storage_write_errors_total{store="record"}, logged at the first failure of an outage and
// at the recovery, its batch is dropped, and the next flush tries again on a freshly opened
// database: probing and /metrics never wait for the record. It does not turn /-/ready to 503 by
// itself: nothing acknowledged was lost (the storage directory's writability check reports a
// bad disk there).
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import type { WriteErrorCounter } from '../model/storage.js';
import { STATUSES, statusRank, type Status } from '../model/status.js';
import type { CheckResult } from '../model/result.js';
import type { HistoryPoint } from '../engine/history.js';
import { openRecord, RECORD_FILE, type RecordDb } from './database.js';
import { RollupBuffer, minuteOf } from './rollup.js';

/** Rows removed per retention step: each DELETE stays short whatever the backlog. */
export const PRUNE_STEP = 500;
/** Retention statements per sweep (each a few ms at most), and how often a sweep runs. */
const PRUNE_STEPS_PER_SWEEP = 20;
const PRUNE_EVERY_MS = 1_000;

export interface RecordRetention {
  /** Raw results (history.raw_retention). */
  rawMs: number;
  /** Minute rollups and status changes. */
  rollupMs: number;
}

/** The record's retention from the config's history section: rollups at least as long as raw results. */
export function recordRetentionOf(h: { retention: number; raw_retention: number }): RecordRetention {
  return { rawMs: h.raw_retention, rollupMs: Math.max(h.retention, h.raw_retention) };
}

export interface StatusChange {
  t: number;
  check: string;
  component?: string;
  from: Status;
  to: Status;
  reason?: string;
  message?: string;
}

/** What restore() gives back for one check. */
export interface RestoredCheck {
  status: Status;
  since: number;
  lastError?: string;
  lastSuccess?: number;
  lastFailure?: number;
  /** Raw results in the asked window, oldest first (refills the in-memory history ring). */
  points: HistoryPoint[];
}

/** Where backups go, under the storage directory; never a path the caller names. */
export const BACKUP_DIR = 'backups';

/** A backup was asked for while one runs: the caller answers 409. */
export class BackupBusyError extends Error {}

export interface BackupResult {
  /** Absolute path of the finished backup (<storage.path>/backups/vigil-<UTC time>.db). */
  file: string;
  bytes: number;
  duration_seconds: number;
}

export interface RecordOptions {
  dir: string;
  log: Logger;
  report: WriteErrorCounter;
  flushMs?: number;
  now?: () => number;
}

interface PendingResult {
  check: string;
  t: number;
  status: number;
  duration: number;
  ok: boolean;
  reason?: string;
  message?: string;
}

export class CheckRecord {
  private db?: RecordDb;
  private results: PendingResult[] = [];
  private events: StatusChange[] = [];
  private rollups = new RollupBuffer();
  /** Each check's previous result (time, status rank): the status time between two results. */
  private previous = new Map<string, { t: number; rank: number }>();
  private checkIds = new Map<string, number>();
  /** Where retention resumes: checks in id order, each its raw results then its rollups, then the events. */
  private pruneAt = { id: 0, unit: 0 };
  private retention: RecordRetention = { rawMs: 48 * 3_600_000, rollupMs: 48 * 3_600_000 };
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private readonly now: () => number;
  /** Since when writes fail (epoch ms), while they do: one log line per outage. */
  private failingSince?: number;
  /** Last flush: rows written and how long the transaction took (ms). */
  lastFlush = { rows: 0, ms: 0 };
  /** When a write last succeeded (epoch ms): vigil_storage_last_successful_write_timestamp_seconds. */
  lastWriteAt?: number;
  private backingUp = false;

  constructor(private opts: RecordOptions) {
    this.now = opts.now ?? Date.now;
  }

  configure(retention: RecordRetention): void {
    this.retention = retention;
  }

  /** Open the database now (done again by each flush while it fails). False when it cannot be opened. */
  open(): boolean {
    if (this.db) return true;
    try {
      this.db = openRecord(this.opts.dir, this.opts.log, this.now());
      this.checkIds.clear();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  start(): void {
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushMs ?? 1_000);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => this.prune(PRUNE_STEPS_PER_SWEEP), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** The database file (vigil.db); its WAL is this plus -wal. */
  get file(): string {
    return path.join(this.opts.dir, RECORD_FILE);
  }

  /** Write what is queued and close the database. */
  stop(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    this.flush();
    try { this.db?.close(); } catch { /* a backup still stepping: the process is ending anyway */ }
    this.db = undefined;
  }

  /**
   * A consistent copy of the record while it is in use, by SQLite's online backup (better-sqlite3
   * steps it a few pages at a time between turns of the event loop, so probing and scrapes go
   * on). What is queued is flushed first: the copy holds every result acknowledged so far. It is
   * written as a .partial file and renamed when complete, so a file named vigil-*.db is always a
   * whole backup. One at a time: a second call while one runs throws BackupBusyError.
   */
  async backup(): Promise<BackupResult> {
    if (this.backingUp) throw new BackupBusyError('a backup of the record is already running');
    this.backingUp = true;
    const started = performance.now();
    const dir = path.join(this.opts.dir, BACKUP_DIR);
    const file = path.join(dir, `vigil-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}.db`);
    const partial = `${file}.partial`;
    try {
      this.flush();
      if (!this.open()) throw new Error(`cannot open ${this.file}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await this.db!.backup(partial);
      // The copy carries vigil.db's WAL mode; a rollback journal makes it one self-contained
      // file that can be copied, checked or opened read-only without -wal/-shm appearing.
      const copy = new Database(partial);
      try { copy.pragma('journal_mode = DELETE'); } finally { copy.close(); }
      renameSync(partial, file);
      const bytes = statSync(file).size;
      this.opts.log.info('record: backup written', { file, bytes });
      return { file, bytes, duration_seconds: (performance.now() - started) / 1000 };
    } catch (err) {
      rmSync(partial, { force: true });
      this.opts.log.error('record: backup failed', { file, error: describe(err) });
      throw err;
    } finally {
      this.backingUp = false;
    }
  }

  /**
   * A completed run of a check. `maxGapMs`: a longer silence since its previous result (a
   * restart, a pause) is not counted as time in that result's status.
   */
  addResult(r: CheckResult, maxGapMs: number): void {
    const rank = statusRank(r.status);
    this.results.push({ check: r.check, t: r.finishedAt, status: rank, duration: r.duration, ok: r.ok, reason: r.reason, message: r.message });
    this.rollups.addRun(r.check, r.finishedAt, r.duration, r.ok);
    const prev = this.previous.get(r.check);
    if (prev && r.finishedAt > prev.t && r.finishedAt - prev.t <= maxGapMs) this.rollups.addStatusTime(r.check, prev.t, r.finishedAt, prev.rank);
    this.previous.set(r.check, { t: r.finishedAt, rank });
  }

  addStatusChange(e: StatusChange): void {
    this.events.push(e);
  }

  /** Results and changes waiting for the next flush. */
  get pending(): number {
    return this.results.length + this.events.length;
  }

  /** Write everything queued in one transaction. On failure the batch is dropped and counted. */
  flush(): void {
    if (!this.results.length && !this.events.length && !this.rollups.size) return;
    const results = this.results;
    const events = this.events;
    const rollups = this.rollups.drain();
    this.results = [];
    this.events = [];
    if (!this.open()) return;
    const db = this.db!;
    const started = performance.now();
    try {
      db.transaction(() => {
        const insertResult = db.prepare('INSERT OR IGNORE INTO results (check_id, t, status, duration_us, ok, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
        for (const r of results) insertResult.run(this.idOf(r.check), r.t, r.status, Math.round(r.duration * 1e6), r.ok ? 1 : 0, r.reason ?? null, r.message ?? null);
        const upsert = db.prepare(`INSERT INTO rollup_minute (check_id, minute, runs, failures, healthy_s, unknown_s, degraded_s, critical_s, rt_sum, rt_max)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (check_id, minute) DO UPDATE SET runs = runs + excluded.runs, failures = failures + excluded.failures,
            healthy_s = healthy_s + excluded.healthy_s, unknown_s = unknown_s + excluded.unknown_s,
            degraded_s = degraded_s + excluded.degraded_s, critical_s = critical_s + excluded.critical_s,
            rt_sum = rt_sum + excluded.rt_sum, rt_max = max(rt_max, excluded.rt_max)`);
        for (const r of rollups) upsert.run(this.idOf(r.check), r.minute, r.runs, r.failures, ...r.seconds, r.rtSum, r.rtMax);
        const insertEvent = db.prepare('INSERT INTO events (t, check_id, component, from_status, to_status, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
        for (const e of events) insertEvent.run(e.t, this.idOf(e.check), e.component ?? null, e.from, e.to, e.reason ?? null, e.message ?? null);
      })();
      this.lastFlush = { rows: results.length + rollups.length + events.length, ms: performance.now() - started };
      this.lastWriteAt = this.now();
      this.succeeded();
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Delete rows past their retention: at most PRUNE_STEP rows per statement and `maxSteps`
   * statements per call. The checks are visited in turn and the next call carries on where
   * this one stopped (a table moves on once a step finds less than a full one), so every check
   * is reached however many there are. Returns the rows deleted.
   */
  prune(maxSteps: number): number {
    if (!this.db) return 0;
    const db = this.db;
    const now = this.now();
    const rawBefore = now - this.retention.rawMs;
    const rollupBefore = minuteOf(now - this.retention.rollupMs);
    let steps = 0;
    let deleted = 0;
    /** One bounded DELETE; true when it was full (more may be left). */
    const step = (sql: string, args: { id?: number; before: number }): boolean => {
      steps++;
      const n = db.prepare(sql).run(args).changes;
      deleted += n;
      return n === PRUNE_STEP;
    };
    // The key's order finds the PRUNE_STEP-th oldest row of the check; everything up to it goes.
    const byKey = (table: string, column: string) => `DELETE FROM ${table} WHERE check_id = @id AND ${column} < @before AND ${column} <= coalesce(
      (SELECT ${column} FROM ${table} WHERE check_id = @id AND ${column} < @before ORDER BY ${column} LIMIT 1 OFFSET ${PRUNE_STEP - 1}), @before)`;
    const units: Array<[table: string, column: string, before: number]> = [['results', 't', rawBefore], ['rollup_minute', 'minute', rollupBefore]];
    try {
      const ids = db.prepare('SELECT id FROM checks WHERE id >= ? ORDER BY id').pluck().all(this.pruneAt.id) as number[];
      for (const id of ids) {
        for (let k = id === this.pruneAt.id ? this.pruneAt.unit : 0; k < units.length; k++) {
          this.pruneAt = { id, unit: k };
          const [table, column, before] = units[k];
          do if (steps >= maxSteps) return deleted; while (step(byKey(table, column), { id, before }));
        }
      }
      this.pruneAt = { id: Number.MAX_SAFE_INTEGER, unit: 0 }; // the events, then a new round
      do if (steps >= maxSteps) return deleted; while (step(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t < @before ORDER BY id LIMIT ${PRUNE_STEP})`, { before: now - this.retention.rollupMs }));
      this.pruneAt = { id: 0, unit: 0 };
    } catch (err) {
      this.failed(err);
    }
    return deleted;
  }

  /**
   * The last known state of each named check, from the record: its last result's status, when
   * that status began (the last change to it), its last error, and its raw results since
   * `historySince` (at most `maxPoints`, the newest).
   */
  restore(names: string[], historySince: number, maxPoints: number): Map<string, RestoredCheck> {
    const out = new Map<string, RestoredCheck>();
    if (!this.open()) return out;
    const db = this.db!;
    try {
      const idOf = db.prepare('SELECT id FROM checks WHERE name = ?').pluck();
      const last = db.prepare('SELECT t, status FROM results WHERE check_id = ? ORDER BY t DESC LIMIT 1');
      const lastOk = db.prepare('SELECT t FROM results WHERE check_id = ? AND ok = ? ORDER BY t DESC LIMIT 1').pluck();
      const lastMessage = db.prepare('SELECT message FROM results WHERE check_id = ? AND message IS NOT NULL ORDER BY t DESC LIMIT 1').pluck();
      const changedTo = db.prepare('SELECT t FROM events WHERE check_id = ? AND to_status = ? ORDER BY t DESC LIMIT 1').pluck();
      const points = db.prepare('SELECT t, duration_us / 1e6 AS duration, status FROM (SELECT t, duration_us, status FROM results WHERE check_id = ? AND t >= ? ORDER BY t DESC LIMIT ?) ORDER BY t');
      for (const name of names) {
        const id = idOf.get(name) as number | undefined;
        if (id === undefined) continue;
        const row = last.get(id) as { t: number; status: number } | undefined;
        if (!row) continue;
        const status = STATUSES[row.status] ?? 'unknown';
        this.previous.set(name, { t: row.t, rank: row.status });
        out.set(name, {
          status,
          since: (changedTo.get(id, status) as number | undefined) ?? row.t,
          lastError: (lastMessage.get(id) as string | undefined) ?? undefined,
          lastSuccess: lastOk.get(id, 1) as number | undefined,
          lastFailure: lastOk.get(id, 0) as number | undefined,
          points: (points.all(id, historySince, maxPoints) as Array<{ t: number; duration: number; status: number }>)
            .map((p) => ({ t: p.t, duration: p.duration, status: STATUSES[p.status] ?? 'unknown' })),
        });
      }
    } catch (err) {
      this.failed(err);
    }
    return out;
  }

  private idOf(check: string): number {
    let id = this.checkIds.get(check);
    if (id === undefined) {
      const db = this.db!;
      db.prepare('INSERT OR IGNORE INTO checks (name) VALUES (?)').run(check);
      id = db.prepare('SELECT id FROM checks WHERE name = ?').pluck().get(check) as number;
      this.checkIds.set(check, id);
    }
    return id;
  }

  private succeeded(): void {
    if (this.failingSince === undefined) return;
    this.opts.log.info('record: writes succeed again', { failing_since: new Date(this.failingSince).toISOString() });
    this.failingSince = undefined;
  }

  private failed(err: unknown): void {
    this.opts.report.countWriteError('record');
    if (this.failingSince === undefined) {
      this.failingSince = this.now();
      this.opts.log.warn('record: cannot write check results; they are dropped until writes succeed again', { dir: this.opts.dir, error: describe(err) });
    }
    // Start over on a fresh connection next time: after an I/O error SQLite may keep the old
    // one in a state that fails every later statement.
    try { this.db?.close(); } catch { /* already unusable */ }
    this.db = undefined;
    this.checkIds.clear();
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
