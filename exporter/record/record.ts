// The durable record of check results and status changes (<storage.path>/vigil.db). The engine
// hands every completed result and every status change here (Runtime wires StateStore's
// 'result' event); they are queued in memory and written once a second in one transaction, so
// kill -9 loses at most that second. The database answers asynchronously (RecordSql), so the
// record's code is the same for the embedded SQLite file and a shared PostgreSQL. After a restart, restore() gives each check back its last status, `since`, last
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
import { BAR_MINUTES, type HistoryPoint, type RestoredMinute } from '../engine/history.js';
import { RECORD_FILE } from '../db/schema.js';
import type { RecordSql, Statement } from '../db/sql.js';
import { openSqliteRecord } from '../db/sqlite.js';
import { BACKUP_DIR, DEFAULT_BACKUP_KEEP, removePartialBackups, rotateBackups } from './backups.js';
import { countRun, RollupBuffer, minuteOf, type RollupRow } from './rollup.js';
import { eventInsert, type RecordEvent } from './events.js';
import { MERGE_EVERY_MS, MERGE_ROWS, mergeResults, recount, resultInsert, rollupUpserts, stages } from './staging.js';
import { IncidentBook, type ReportIncident } from './incidents.js';
import { LiveSketches } from './live-sketches.js';
import { PendingResults } from './pending.js';
import type { Sketch } from './sketch.js';
import { DAY_MS, DayPieceCache, HOUR_MS, HOUR_SETTLE_MS, readTotals, TierPruner, TierRoller, type Piece, type TierTotals } from './tiers.js';

/** Incidents one report lists at most (the newest), across its checks. */
export const MAX_REPORT_INCIDENTS = 20_000;
/** Checks restored per database round trip (each brings back up to history.max_points points). */
const RESTORE_CHECKS_PER_BATCH = 12;
/** Rows removed per retention step: each DELETE stays short whatever the backlog. */
export const PRUNE_STEP = 500;
/** Retention statements per sweep (each a few ms at most), and how often a sweep runs. */
export const PRUNE_STEPS_PER_SWEEP = 20;
const PRUNE_EVERY_MS = 1_000;
/**
 * How often a round of retention (every check's tables, then the events) starts: a 48th of the raw
 * retention, between a minute and an hour (an hour for the default 48 h). A round's statements
 * cost by the pages they touch, a leaf or two a check and table whether they delete five minutes'
 * rows or an hour's, so a round every 5 minutes cost 4.8 µs a deleted result (16.6 at the
 * exporter's cadence on the bench's 48 h record) and one an hour 1.1 (docs/development.md); with
 * the cut keys read first (prune), a round an hour with the hour's roll-up costs 2.1–3.4 in that bench.
 * Rows outlive their retention by at most this much, 2 % of it.
 */
export function pruneRoundMs(retention: Pick<RecordRetention, 'rawMs'>): number {
  return Math.min(HOUR_MS, Math.max(60_000, Math.floor(retention.rawMs / 48)));
}
/**
 * How often the hour and day tiers are rolled up and pruned (PRUNE_STEPS_PER_SWEEP statements of
 * each): an hour's work for 500 checks takes two minutes of sweeps, and the flushes queued behind
 * a sweep wait for at most those few statements.
 */
const ROLLUP_EVERY_MS = 5_000;

export interface RecordRetention {
  /** Raw results (history.raw_retention). */
  rawMs: number;
  /** Status changes, day rollups, and the minute and hour rollups unless given below. */
  rollupMs: number;
  /** Minute rollups. */
  minuteMs?: number;
  /** Hour rollups. */
  hourMs?: number;
}

/**
 * How long the minute and hour rollups are kept (history.retention when shorter). The tiers and
 * what they cost are measured in docs/record.md: at 500 checks every 10 s, 48 h of raw results
 * take ~225 MB, so minute rows (45 B) are kept a day and hour rows (~60 B) 30 days; day rows
 * answer the rest of history.retention.
 */
export const MINUTE_ROLLUP_KEEP_MS = DAY_MS;
export const HOUR_ROLLUP_KEEP_MS = 30 * DAY_MS;

/** The record's retention from the config's history section: rollups at least as long as raw results. */
export function recordRetentionOf(h: { retention: number; raw_retention: number }): RecordRetention {
  const rollupMs = Math.max(h.retention, h.raw_retention);
  // A tier is rolled up from the one below it: each is kept long enough for that to happen.
  const minuteMs = Math.min(rollupMs, Math.max(MINUTE_ROLLUP_KEEP_MS, 2 * HOUR_MS + HOUR_SETTLE_MS));
  return { rawMs: h.raw_retention, rollupMs, minuteMs, hourMs: Math.min(rollupMs, Math.max(HOUR_ROLLUP_KEEP_MS, 2 * DAY_MS)) };
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
  /** The status bar's last 24 h from the minute rollups, oldest first (refills the ring's per-minute slots). */
  minutes: RestoredMinute[];
}

/** How far back the status bar's minutes are restored: its 24 h and the minutes its start can reach into. */
const BAR_RESTORE_MS = BAR_MINUTES * 60_000;
/** Statements per check in a restore batch. */
const PER_CHECK = 7;

/** A minute rollup row as the bar's minute; rows from before the bar columns are read from their counts and status time. */
function barMinuteOf(r: Record<string, unknown>): RestoredMinute {
  const m = Number(r.minute);
  if (r.bar_runs !== null && r.bar_runs !== undefined) return [m, Number(r.bar_worst), Number(r.bar_runs), Number(r.bar_up)];
  const runs = Number(r.runs);
  const worst = Number(r.critical_s) > 0 ? statusRank('critical') : Number(r.degraded_s) > 0 ? statusRank('degraded') : runs > 0 ? statusRank('healthy') : -1;
  return [m, worst, runs, runs - Number(r.failures)];
}

/** A backup was asked for while one runs: the caller answers 409. */
export class BackupBusyError extends Error {}

/** The record's database has no online backup through Vigil (PostgreSQL: pg_dump does it): the caller answers 501. */
export class BackupUnsupportedError extends Error {}

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
  /** Whole backups kept in <dir>/backups (--storage.backup.keep; 0 keeps all). */
  backupKeep?: number;
  /** The database to write to; the embedded SQLite file in `dir` when not given. */
  connect?: () => Promise<RecordSql>;
}

export class CheckRecord {
  private sql?: RecordSql;
  private opening?: Promise<RecordSql | undefined>;
  private results = new PendingResults();
  /** The columns and the rollups the flush in progress took: cleared, they take the next second's. */
  private spareResults = new PendingResults();
  private events: RecordEvent[] = [];
  /** Incidents derived from the status events as they are queued (record/incidents.ts); written with them. */
  readonly incidents = new IncidentBook();
  private rollups = new RollupBuffer();
  private spareRollups = new RollupBuffer();
  /** Rollups of results written to the staging table and not merged yet (record/staging.ts). */
  private unmerged = new RollupBuffer();
  /** Response-time sketches of the hours not rolled up yet: a report's recent edge. */
  private liveSketches = new LiveSketches();
  /** Each check's previous result (time, status rank): the status time between two results. */
  private previous = new Map<string, { t: number; rank: number }>();
  private checkIds = new Map<string, number>();
  /** The same, by id. */
  private checkNames = new Map<number, string>();
  /** When the connection in use was opened (epoch ms): the hours after it were written by this process alone. */
  private openedAt = Infinity;
  /** Where retention resumes: checks in id order, each its raw results then its rollups, then the events. */
  private pruneAt = { id: 0, unit: 0 };
  /** A round the timer began and no sweep has finished yet. */
  private roundOpen = false;
  /** Retention so far: rounds the timer began, when it began the last (epoch ms), raw results deleted (the storage bench times a round by these). */
  readonly pruneStats = { rounds: 0, lastRoundAt: -Infinity, results: 0 };
  private retention: RecordRetention = { rawMs: 48 * 3_600_000, rollupMs: 48 * 3_600_000 };
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private rollUpTimer?: NodeJS.Timeout;
  /** The flush (or prune) in progress: the next one waits for it, so writes stay in order. */
  private writing: Promise<unknown> = Promise.resolve();
  /** The flush queued behind the current write, not started yet. */
  private queuedFlush?: Promise<void>;
  private readonly now: () => number;
  /** Results in the staging table since the last merge (record/staging.ts), and when that was. */
  private staged = 0;
  private mergedAt = 0;
  /** A flush asked for a merge ('now'); the next flush to run does it. */
  private mergeAsked = false;
  /** Since when writes fail (epoch ms), while they do: one log line per outage. */
  private failingSince?: number;
  /** Merges of staged results so far (the storage bench reports them beside its CPU figures). */
  merges = 0;
  /** Last flush: rows written and how long the transaction took (ms). */
  lastFlush = { rows: 0, ms: 0 };
  /** When a write last succeeded (epoch ms): vigil_storage_last_successful_write_timestamp_seconds. */
  lastWriteAt?: number;
  private backingUp = false;
  /** Whole-day pieces of long reads, kept while their days stay as they are. */
  private dayCache = new DayPieceCache();
  private roller = new TierRoller(this.dayCache, (id, hour) => this.liveHour(id, hour));
  /** dataSince()'s answer for this connection (null: not read yet). */
  private rollupsSince: number | undefined | null = null;
  private tierPruner = new TierPruner(this.dayCache);

  constructor(private opts: RecordOptions) {
    this.now = opts.now ?? Date.now;
  }

  configure(retention: RecordRetention): void {
    this.retention = retention;
  }

  /** Open the database now (done again by each flush while it fails). False when it cannot be opened. */
  async open(): Promise<boolean> {
    return (await this.connection()) !== undefined;
  }

  private connection(): Promise<RecordSql | undefined> {
    if (this.sql) return Promise.resolve(this.sql);
    this.opening ??= (async () => {
      const sql = await (this.opts.connect ?? (() => openSqliteRecord(this.opts.dir, this.opts.log, this.now())))();
      // What a killed process left staged goes where it belongs before anything reads.
      if (stages(sql.dialect)) {
        try {
          const recounted = await recount(sql);
          if (recounted.length) await sql.transaction(recounted);
        } catch (err) {
          await sql.close().catch(() => { /* unusable anyway */ });
          throw err;
        }
      }
      return sql;
    })()
      .then((sql) => {
        this.staged = 0;
        this.unmerged = new RollupBuffer();
        this.mergedAt = this.now();
        this.sql = sql;
        this.openedAt = this.now();
        this.checkIds.clear();
        this.checkNames.clear();
        this.roller.reset();
        this.tierPruner.reset();
        this.rollupsSince = null;
        return sql;
      }, (err) => {
        this.failed(err);
        return undefined;
      })
      .finally(() => { this.opening = undefined; });
    return this.opening;
  }

  start(): void {
    const removed = removePartialBackups(path.join(this.opts.dir, BACKUP_DIR));
    if (removed.length) this.opts.log.warn('record: removed unfinished backups (a backup was interrupted)', { files: removed });
    this.flushTimer = setInterval(() => void this.flush('when-due'), this.opts.flushMs ?? 1_000);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => void this.pruneWhenDue(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    this.rollUpTimer = setInterval(() => void this.rollUp(PRUNE_STEPS_PER_SWEEP), ROLLUP_EVERY_MS);
    this.rollUpTimer.unref();
  }

  /** Whether the record is on a database server (PostgreSQL) rather than in vigil.db. */
  get onServer(): boolean {
    return this.sql?.dialect === 'postgres';
  }

  /** The database file (vigil.db); its WAL is this plus -wal. */
  get file(): string {
    return path.join(this.opts.dir, RECORD_FILE);
  }

  /** Write what is queued and close the database. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    clearInterval(this.rollUpTimer);
    await this.flush();
    const sql = this.sql;
    this.sql = undefined;
    try { await sql?.close(); } catch { /* a backup still stepping: the process is ending anyway */ }
  }

  /**
   * A consistent copy of the record while it is in use, by SQLite's online backup (better-sqlite3
   * steps it a few pages at a time between turns of the event loop, so probing and scrapes go
   * on). What is queued is flushed first: the copy holds every result acknowledged so far. It is
   * written as a .partial file and renamed when complete, so a file named vigil-*.db is always a
   * whole backup. One at a time: a second call while one runs throws BackupBusyError. Then
   * only the newest `backupKeep` backups are kept.
   */
  async backup(): Promise<BackupResult> {
    if (this.backingUp) throw new BackupBusyError('a backup of the record is already running');
    this.backingUp = true;
    const started = performance.now();
    const dir = path.join(this.opts.dir, BACKUP_DIR);
    const file = path.join(dir, `vigil-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}.db`);
    const partial = `${file}.partial`;
    try {
      await this.flush();
      const sql = await this.connection();
      if (!sql) throw new Error(`cannot open ${this.file}`);
      if (!sql.backup) throw new BackupUnsupportedError('the record is in PostgreSQL (storage.type: postgres): back it up with the server\'s own tools, e.g. pg_dump --format=custom');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await sql.backup(partial);
      // The copy carries vigil.db's WAL mode; a rollback journal makes it one self-contained
      // file that can be copied, checked or opened read-only without -wal/-shm appearing.
      const copy = new Database(partial);
      try { copy.pragma('journal_mode = DELETE'); } finally { copy.close(); }
      renameSync(partial, file);
      const bytes = statSync(file).size;
      const removed = rotateBackups(dir, this.opts.backupKeep ?? DEFAULT_BACKUP_KEEP);
      this.opts.log.info('record: backup written', { file, bytes, ...(removed.length ? { removed_old: removed } : {}) });
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
    this.results.push(r.check, r.finishedAt, rank, r.duration, r.ok, r.reason, r.message, maxGapMs);
    countRun(this.rollups, this.previous, r.check, r.finishedAt, r.duration, r.ok, rank, maxGapMs);
    // In whole microseconds, as the database stores it: the roller may take this sketch for the raw results'.
    this.liveSketches.add(r.check, r.finishedAt, Math.round(r.duration * 1e6) / 1e6);
  }

  addStatusChange(e: StatusChange): void {
    this.addEvent({ ...e, kind: 'check_status' });
  }

  /** A status change or an operator action (record/events.ts); status changes also move incidents. */
  addEvent(e: RecordEvent): void {
    this.events.push(e);
    this.incidents.observe(e);
  }

  /**
   * Reads of the record (record/queries.ts) on its connection, once the staged results are
   * merged (a short write), so they see every result written; undefined when the database cannot
   * be opened.
   */
  async read<T>(query: (sql: RecordSql) => Promise<T>): Promise<T | undefined> {
    const sql = await this.readable();
    return sql ? query(sql) : undefined;
  }

  /**
   * Reads of the events, incidents and notifications only, which are written straight through:
   * no merge first (the page asks for its incidents on every change of one).
   */
  async readEvents<T>(query: (sql: RecordSql) => Promise<T>): Promise<T | undefined> {
    const sql = await this.connection();
    return sql ? query(sql) : undefined;
  }

  /** The connection, once every staged row is merged: a read sees every result written so far. */
  private async readable(): Promise<RecordSql | undefined> {
    const sql = await this.connection();
    if (sql && this.staged > 0) await this.flush('now');
    return this.sql;
  }

  /** Results and changes waiting for the next flush. */
  get pending(): number {
    return this.results.length + this.events.length;
  }

  /** Results staged and not yet merged (the storage bench times a merge per result it moved). */
  get stagedResults(): number {
    return this.staged;
  }

  /** One write at a time, in the order asked: a flush never overtakes the one before it. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writing.then(work, work);
    this.writing = next.catch(() => {});
    return next;
  }

  /**
   * Write everything queued in one transaction. On failure the batch is dropped and counted.
   * `merge`: 'now' also moves every staged row into the clustered tables (record/staging.ts), so
   * they hold everything written (stop, backup, reads, tests); 'when-due', the timer's, does that
   * once MERGE_EVERY_MS or MERGE_ROWS is reached.
   */
  flush(merge: 'now' | 'when-due' = 'now'): Promise<void> {
    if (merge === 'now') this.mergeAsked = true;
    const mergePending = this.mergeAsked && this.staged > 0;
    if (!this.results.length && !this.events.length && this.rollups.empty && !this.incidents.size && !mergePending) return this.writing.then(() => {});
    // A flush still waiting its turn takes these rows too: while the database is slow or out of
    // reach (a PostgreSQL connect waits up to its timeout), calls do not pile up each holding a batch.
    if (this.queuedFlush) return this.queuedFlush;
    const flushing = this.serial(async () => {
      this.queuedFlush = undefined;
      // This flush takes the second's columns and rollups; the spare ones, cleared by the flush
      // before, take the next second's (rows and columns made anew each second lived the second
      // and reached old space).
      const results = this.results;
      const rollups = this.rollups;
      const events = this.events;
      const mergeAsked = this.mergeAsked;
      this.results = this.spareResults;
      this.rollups = this.spareRollups;
      this.events = [];
      this.mergeAsked = false;
      try {
        const sql = await this.connection();
        if (!sql) return;
        const started = performance.now();
        const n = results.length;
        const counted = rollups.counted();
        try {
          await this.ensureIds(sql, (function* () {
            yield* results.checks;
            yield* counted.checks;
            for (const e of events) if (e.check) yield e.check;
          })());
          const staging = stages(sql.dialect);
          const id = (check: string) => this.checkIds.get(check)!;
          // Straight into `results` in key order: each row lands next to the one before it in the
          // clustered table. (Staged rows are appended; the merge orders them.)
          const statements: Statement[] = n ? [results.insert(resultInsert(sql.dialect), id, { withMaxGap: staging, sorted: !staging })] : [];
          const staged = staging ? this.staged + n : 0;
          const merging = staged > 0 && (mergeAsked || staged >= MERGE_ROWS || this.now() - this.mergedAt >= MERGE_EVERY_MS);
          // The minute rollups go with the results they count: straight through, or kept in memory
          // with the staged results until they are merged.
          const byId = (list: RollupRow[]) => list.map((r) => ({ ...r, check: id(r.check) }));
          if (!staging) statements.push(...rollupUpserts(sql.dialect, byId(rollups.peek())));
          else if (merging) statements.push(...rollupUpserts(sql.dialect, byId([...this.unmerged.peek(), ...rollups.peek()])), ...mergeResults());
          for (const e of events) statements.push(eventInsert(e, e.check ? id(e.check) : null));
          const incidents = this.incidents.pending();
          statements.push(...incidents.statements);
          await sql.transaction(statements);
          incidents.committed();
          this.staged = merging ? 0 : staged;
          if (merging) {
            this.merges++;
            this.mergedAt = this.now();
            this.unmerged = new RollupBuffer();
          } else if (staging) {
            this.unmerged.addFrom(rollups);
          }
          this.lastFlush = { rows: n + counted.rows + events.length, ms: performance.now() - started };
          this.lastWriteAt = this.now();
          this.succeeded();
        } catch (err) {
          this.failed(err);
        }
      } finally {
        results.clear();
        rollups.clear();
        this.spareResults = results;
        this.spareRollups = rollups;
      }
    });
    this.queuedFlush = flushing;
    return flushing;
  }

  /** The timer's retention: a sweep a second while a round runs, a new round pruneRoundMs() after the last one began. */
  pruneWhenDue(): Promise<number> {
    const roundStarts = this.pruneAt.id === 0 && this.pruneAt.unit === 0;
    if (roundStarts && this.now() - this.pruneStats.lastRoundAt < this.pruneRoundMs) return Promise.resolve(0);
    if (roundStarts) {
      this.pruneStats.lastRoundAt = this.now();
      this.pruneStats.rounds++;
      // Under way from now: its first sweep has not moved pruneAt yet.
      this.roundOpen = true;
    }
    return this.prune(PRUNE_STEPS_PER_SWEEP);
  }

  /** How often a round of retention starts, for this retention. */
  get pruneRoundMs(): number {
    return pruneRoundMs(this.retention);
  }

  /** Whether a round of retention is under way: begun by the timer and not finished, or stopped part of the way through the checks. */
  get pruning(): boolean {
    return this.roundOpen || this.pruneAt.id !== 0 || this.pruneAt.unit !== 0;
  }

  /**
   * Delete rows past their retention: at most PRUNE_STEP rows per statement and `maxSteps`
   * statements per call. The checks are visited in turn and the next call carries on where
   * this one stopped (a table moves on once a step finds less than a full one), so every check
   * is reached however many there are. A sweep's statements run in one transaction, at most
   * PRUNE_STEPS_PER_SWEEP each: one commit (and its fsync) a sweep rather than one a statement,
   * which had made retention cost more than writing the results. Returns the rows deleted.
   */
  prune(maxSteps: number): Promise<number> {
    return this.serial(async () => {
      const sql = this.sql;
      if (!sql) return 0;
      const now = this.now();
      const rawBefore = now - this.retention.rawMs;
      const minuteBefore = Math.max(minuteOf(now - this.retention.rollupMs), minuteOf(now - (this.retention.minuteMs ?? this.retention.rollupMs)));
      const rollupCut = now - this.retention.rollupMs;
      // Per check: its raw results, then its minute rollups.
      const perCheck = [
        { table: 'results', column: 't', before: rawBefore },
        { table: 'rollup_minute', column: 'minute', before: minuteBefore },
      ];
      // Each unit's PRUNE_STEP-th oldest expired key, per check: everything up to it goes, all of it
      // when there is none. Read before the DELETEs rather than as their subquery: a DELETE that
      // reads its own table collects the keys first and then seeks each, twice the cost a row.
      const cutsOf = (ids: number[]) => sql.all<Record<string, number | null> & { id: number }>(
        `SELECT id, ${perCheck.map((u, k) => `(SELECT ${u.column} FROM ${u.table} WHERE check_id = checks.id AND ${u.column} < ?
          ORDER BY ${u.column} LIMIT 1 OFFSET ${PRUNE_STEP - 1}) AS cut${k}`).join(', ')}
        FROM checks WHERE id IN (${ids.map(() => '?').join(', ')})`,
        [...perCheck.map((u) => u.before), ...ids]);
      const deleteUpTo = (id: number, k: number, cut: number | null): Statement => {
        const { table, column, before } = perCheck[k];
        return cut == null
          ? { sql: `DELETE FROM ${table} WHERE check_id = ? AND ${column} < ?`, params: [id, before] }
          : { sql: `DELETE FROM ${table} WHERE check_id = ? AND ${column} <= ?`, params: [id, cut] };
      };
      // After the checks: the events, and incidents ended before the retention (their member rows first).
      const tail: Statement[] = [
        { sql: `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t < ? ORDER BY id LIMIT ${PRUNE_STEP})`, params: [rollupCut] },
        { sql: `DELETE FROM incident_members WHERE incident_id IN (SELECT id FROM incidents WHERE ended_at < ? ORDER BY id LIMIT ${PRUNE_STEP})`, params: [rollupCut] },
        { sql: `DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE ended_at < ? ORDER BY id LIMIT ${PRUNE_STEP})`, params: [rollupCut] },
      ];
      const TAIL = Number.MAX_SAFE_INTEGER;
      let steps = 0;
      let deleted = 0;
      try {
        // The rest of the round from where the last call stopped, in order.
        // Only the checks this call can reach: reading every id left in the round at each sweep
        // was, at 10 000 checks, 0.8 MB a second of reply that outlived the young generation.
        const places: Array<{ id: number; unit: number }> = [];
        const limit = maxSteps + 1;
        const ids = (await sql.all<{ id: number }>(`SELECT id FROM checks WHERE id >= ? ORDER BY id LIMIT ${limit}`, [this.pruneAt.id])).map((r) => Number(r.id));
        for (const id of ids) {
          for (let k = id === this.pruneAt.id ? this.pruneAt.unit : 0; k < perCheck.length; k++) places.push({ id, unit: k });
        }
        // Fewer than asked for: the checks end within reach, the tail comes after them.
        if (ids.length < limit) {
          for (let k = this.pruneAt.id === TAIL ? this.pruneAt.unit : 0; k < tail.length; k++) places.push({ id: TAIL, unit: k });
        }
        let at = 0;
        while (at < places.length && steps < maxSteps) {
          const sweep = places.slice(at, at + Math.min(PRUNE_STEPS_PER_SWEEP, maxSteps - steps));
          const checkIds = [...new Set(sweep.filter((p) => p.id !== TAIL).map((p) => p.id))];
          const cuts = new Map((checkIds.length ? await cutsOf(checkIds) : []).map((r) => [Number(r.id), r]));
          const statements = sweep.map(({ id, unit }) => {
            if (id === TAIL) return tail[unit];
            const cut = cuts.get(id)?.[`cut${unit}`];
            return deleteUpTo(id, unit, cut == null ? null : Number(cut));
          });
          const done = await sql.transaction(statements);
          steps += sweep.length;
          done.forEach(({ changes }, k) => {
            deleted += changes;
            if (sweep[k].id !== TAIL && sweep[k].unit === 0) this.pruneStats.results += changes;
          });
          // A full statement may have left more behind it: the next sweep starts there.
          const full = done.findIndex((d) => d.changes === PRUNE_STEP);
          at += full >= 0 ? full : sweep.length;
          this.pruneAt = at < places.length ? { id: places[at].id, unit: places[at].unit } : { id: 0, unit: 0 };
          if (at >= places.length) this.roundOpen = false;
        }
      } catch (err) {
        this.failed(err);
      }
      return deleted;
    });
  }

  /**
   * Roll finished hours and days up (hour rows from minutes and raw results, days from hours)
   * and remove hour and day rows past their retention: at most `maxSteps` statements of each.
   * Returns the steps taken.
   */
  rollUp(maxSteps: number): Promise<number> {
    return this.serial(async () => {
      const sql = this.sql;
      if (!sql) return 0;
      const now = this.now();
      try {
        const rolled = await this.roller.step(sql, maxSteps, now);
        this.liveSketches.dropBefore((await this.roller.done(sql, 'hour', now)) / HOUR_MS);
        const [pruned] = await this.tierPruner.step(sql, maxSteps, now, {
          hour: this.retention.hourMs ?? this.retention.rollupMs, day: this.retention.rollupMs,
        });
        return rolled + pruned;
      } catch (err) {
        this.failed(err);
        return 0;
      }
    });
  }

  /**
   * Where the record's rollups start (epoch ms), undefined when it holds none: a report asks the
   * record only for windows the in-memory ring does not reach back to and the record does. Read
   * once per connection (retention only ever moves it later, so an old answer costs at most a
   * read that finds nothing more).
   */
  async dataSince(): Promise<number | undefined> {
    const sql = await this.connection();
    if (!sql) return undefined;
    if (this.rollupsSince === null) {
      const first = async (table: string, col: string, ms: number) => {
        const v = (await sql.all<{ p: number | null }>(`SELECT min(${col}) AS p FROM ${table}`))[0]?.p;
        return v == null ? Infinity : Number(v) * ms;
      };
      const t = Math.min(await first('rollup_day', 'day', DAY_MS), await first('rollup_hour', 'hour', HOUR_MS), await first('rollup_minute', 'minute', 60_000));
      this.rollupsSince = Number.isFinite(t) ? t : undefined;
    }
    return this.rollupsSince;
  }

  /**
   * Each check's totals over [from, to) from the rollup tiers (days, hours, minutes at the
   * edges), by name, and the pieces they came from (see planPieces). Staged rows are merged
   * first (a short write); otherwise reads wait for no write.
   */
  async periodTotals(from: number, to: number): Promise<{ totals: Map<string, TierTotals>; pieces: Piece[] } | undefined> {
    const sql = await this.readable();
    if (!sql) return undefined;
    const now = this.now();
    const live = (fromHour: number, toHour: number) => {
      const byId = new Map<number, Sketch>();
      for (const [name, sketch] of this.liveSketches.sketches(fromHour, toHour)) {
        const id = this.checkIds.get(name);
        if (id !== undefined) byId.set(id, sketch);
      }
      return byId;
    };
    const { totals, pieces } = await readTotals(sql, this.roller, from, to, now, {
      minuteMs: this.retention.minuteMs ?? this.retention.rollupMs, hourMs: this.retention.hourMs ?? this.retention.rollupMs,
    }, this.dayCache, live);
    const names = new Map((await sql.all<{ id: number; name: string }>('SELECT id, name FROM checks')).map((r) => [Number(r.id), r.name]));
    const out = new Map<string, TierTotals>();
    for (const [id, t] of totals) {
      const name = names.get(id);
      if (name !== undefined) out.set(name, t);
    }
    return { totals: out, pieces };
  }

  /**
   * Each check's stored incidents overlapping [from, to), clipped to it, oldest first: the
   * report's incidents when the record answers it. At most MAX_REPORT_INCIDENTS (the newest).
   */
  async checkIncidents(from: number, to: number): Promise<Map<string, ReportIncident[]> | undefined> {
    const sql = await this.connection();
    if (!sql) return undefined;
    const rows = await sql.all<Record<string, unknown>>(`SELECT m.name AS check_name, i.id, i.started_at, i.ended_at, i.status
      FROM incidents i JOIN incident_members m ON m.incident_id = i.id
      WHERE m.kind = 'check' AND i.started_at < ? AND (i.ended_at IS NULL OR i.ended_at > ?)
      ORDER BY i.started_at DESC, i.id DESC LIMIT ${MAX_REPORT_INCIDENTS}`, [to, from]);
    const out = new Map<string, ReportIncident[]>();
    for (const r of rows.reverse()) {
      const started = Number(r.started_at);
      const ended = r.ended_at === null || r.ended_at === undefined ? undefined : Number(r.ended_at);
      const start = Math.max(started, from);
      const end = Math.min(ended ?? to, to);
      const name = String(r.check_name);
      let list = out.get(name);
      if (!list) out.set(name, list = []);
      list.push({
        start, end, duration_seconds: Math.max(0, end - start) / 1000, worst: r.status as Status, runs: null,
        clipped_start: started < from, ongoing: ended === undefined, id: Number(r.id),
      });
    }
    return out;
  }

  /**
   * The last known state of each named check, from the record: its last result's status, when
   * that status began (the last change to it), its last error, and its raw results since
   * `historySince` (at most `maxPoints`, the newest).
   */
  async restore(names: string[], historySince: number, maxPoints: number, each?: (name: string, r: RestoredCheck) => void): Promise<Map<string, RestoredCheck>> {
    const out = new Map<string, RestoredCheck>();
    const sql = await this.connection();
    if (!sql) return out;
    try {
      await this.incidents.load(sql); // an outage that spans the restart stays one incident
      const ids = new Map((await sql.all<{ id: number; name: string }>('SELECT id, name FROM checks')).map((r) => [r.name, Number(r.id)]));
      const known = names.filter((n) => ids.has(n));
      // Every check's few index lookups in one batch: one round trip to the database (a worker
      // thread or a server), not seven per check, so a restart with 1 000 checks stays short.
      const perCheck = (id: number): Statement[] => [
        { sql: 'SELECT t, status FROM results WHERE check_id = ? ORDER BY t DESC LIMIT 1', params: [id] },
        { sql: 'SELECT t FROM results WHERE check_id = ? AND ok = ? ORDER BY t DESC LIMIT 1', params: [id, 1] },
        { sql: 'SELECT t FROM results WHERE check_id = ? AND ok = ? ORDER BY t DESC LIMIT 1', params: [id, 0] },
        { sql: 'SELECT message FROM results WHERE check_id = ? AND message IS NOT NULL ORDER BY t DESC LIMIT 1', params: [id] },
        { sql: 'SELECT t, to_status FROM events WHERE check_id = ? ORDER BY t DESC LIMIT 16', params: [id] },
        { sql: 'SELECT t, duration_us, status FROM (SELECT t, duration_us, status FROM results WHERE check_id = ? AND t >= ? ORDER BY t DESC LIMIT ?) newest ORDER BY t', params: [id, historySince, maxPoints] },
        // The status bar's 24 h, a row a minute (not the raw results of a day: those stay on disk).
        { sql: `SELECT minute, bar_worst, bar_runs, bar_up, runs, failures, degraded_s, critical_s FROM rollup_minute
            WHERE check_id = ? AND minute >= ? ORDER BY minute`, params: [id, minuteOf(this.now() - BAR_RESTORE_MS)] },
      ];
      // A few checks per batch: one batch for all of them held every check's history points at
      // once, three times over (the database's rows, their copy, the points), and 500 checks x
      // 8 640 points ran the exporter out of heap at start.
      for (let from = 0; from < known.length; from += RESTORE_CHECKS_PER_BATCH) {
        const batch = known.slice(from, from + RESTORE_CHECKS_PER_BATCH);
        const answers = await sql.transaction(batch.flatMap((name) => perCheck(ids.get(name)!)));
        batch.forEach((name, i) => {
          const [last, lastOk, lastFail, message, changes, points, minutes] = answers.slice(i * PER_CHECK, (i + 1) * PER_CHECK).map((a) => a.rows ?? []);
          if (!last.length) return;
          const t = Number(last[0].t);
          const rank = Number(last[0].status);
          const status = STATUSES[rank] ?? 'unknown';
          this.previous.set(name, { t, rank });
          const r: RestoredCheck = {
            status,
            // When the current status began: the newest change into it (older than 16 changes back: the last result).
            since: num(changes.find((c) => c.to_status === status)?.t) ?? t,
            lastError: (message[0]?.message as string | undefined) ?? undefined,
            lastSuccess: num(lastOk[0]?.t),
            lastFailure: num(lastFail[0]?.t),
            points: points.map((p) => ({ t: Number(p.t), duration: Number(p.duration_us) / 1e6, status: STATUSES[Number(p.status)] ?? 'unknown' })),
            minutes: minutes.map(barMinuteOf),
          };
          // Handed over batch by batch, the points are not all alive at once (1 000 checks x 8 640
          // points as objects took the exporter to ~700 MB at start).
          each?.(name, r);
          out.set(name, each ? { ...r, points: [], minutes: [] } : r);
        });
      }
    } catch (err) {
      this.failed(err);
    }
    return out;
  }

  /** Number every new check name (once per name and connection). */
  private async ensureIds(sql: RecordSql, names: Iterable<string>): Promise<void> {
    const unknown = new Set<string>();
    for (const n of names) if (!this.checkIds.has(n)) unknown.add(n);
    if (!unknown.size) return;
    const missing = [...unknown].sort();
    await sql.transaction(missing.map((name) => ({ sql: 'INSERT INTO checks (name) VALUES (?) ON CONFLICT DO NOTHING', params: [name] })));
    for (const row of await sql.all<{ id: number; name: string }>('SELECT id, name FROM checks')) {
      this.checkIds.set(row.name, Number(row.id));
      this.checkNames.set(Number(row.id), row.name);
    }
  }

  /**
   * A check's live response-time sketch of an hour, for the roller, when this process wrote that
   * hour alone: the connection was opened before it began, and the record is vigil.db (a
   * PostgreSQL record may have other instances writing). The roller also compares its count.
   */
  private liveHour(id: number, hour: number): Sketch | undefined {
    if (!this.sql || this.onServer || this.openedAt > hour * HOUR_MS) return undefined;
    const name = this.checkNames.get(id);
    return name === undefined ? undefined : this.liveSketches.sketch(name, hour);
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
    const sql = this.sql;
    this.sql = undefined;
    this.checkIds.clear();
    this.checkNames.clear();
    sql?.close().catch(() => { /* already unusable */ });
  }
}

/** A number from a row (PostgreSQL returns BIGINT as a string). */
function num(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : Number(v);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
