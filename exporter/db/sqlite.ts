// The embedded database: one SQLite file (<storage.path>/vigil.db) through better-sqlite3, in WAL
// mode, its schema brought up to date at open. better-sqlite3 is synchronous, so the file is
// worked on by a worker thread (./sqlite-worker.ts) and this side only posts statements and
// awaits their answers: a flush, a checkpoint or a long retention DELETE never holds the event
// loop that serves scrapes.
//
// A file SQLite cannot read (not a database, corrupt) is moved aside as vigil.db.corrupt-<time>
// and a new one started: a monitor that crash-loops on its own history is worse than one that
// lost it. After an I/O error the worker drops its connection and the next request opens the
// file again. A worker that dies (or hangs past a request's timeout) fails the requests it held,
// and the next request starts a new one, at most MAX_RESTARTS a minute; errors keep SQLite's
// `code` across the thread boundary.
import { existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { MIGRATIONS, RECORD_FILE } from './schema.js';
import type { RecordSql, SqlValue, Statement, StatementResult } from './sql.js';
import { sqliteWorkerMain, type WorkerData, type WorkerReply, type WorkerRequest } from './sqlite-worker.js';

/** SQLite's answers for a file that is not (or no longer) a readable database. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

export function isUnreadable(err: unknown): boolean {
  return UNREADABLE.has((err as { code?: string }).code ?? '');
}

/** Requests waiting for the worker at most; more are refused (code VIGIL_DB_QUEUE_FULL). */
export const MAX_QUEUE = 1_000;
/** Worker starts allowed per minute after the first: a worker that keeps dying is not restarted in a loop. */
export const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** A request unanswered this long means a hung worker: it is stopped and restarted. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Opening runs the migrations, which may rewrite a large file once. */
const OPEN_TIMEOUT_MS = 300_000;
const CLOSE_TIMEOUT_MS = 5_000;

// The worker runs this source (see sqlite-worker.ts); `__name` is what esbuild's keepNames
// (tsx) wraps named functions in.
const WORKER_SOURCE = `var __name = (f) => f;\n(${sqliteWorkerMain.toString()})();`;
const LIBRARY = createRequire(import.meta.url).resolve('better-sqlite3');

export interface SqliteOptions {
  log: Logger;
  /** Names the moved-aside file of an unreadable database. */
  now?: () => number;
  /** WAL checkpoints run in the worker after writes, at most this often (ms, default 1 s). */
  checkpointMs?: number;
  /** Told when the worker died or hung (count it as a write error). */
  onWorkerFailure?: (err: Error) => void;
  maxQueue?: number;
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

type Request = WorkerRequest extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never;

function errorOf(e: { message: string; code?: string; name?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  if (e.code !== undefined) err.code = e.code;
  return err;
}

function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Blobs come back from the worker as plain Uint8Arrays: give them back as Buffers. */
function withBuffers<T>(rows: T[]): T[] {
  for (const row of rows as Array<Record<string, unknown>>) {
    for (const k in row) {
      const v = row[k];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return rows;
}

export class SqliteSql implements RecordSql {
  readonly dialect = 'sqlite' as const;
  private worker?: Worker;
  private waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** The file opened (and migrated) in the current worker. */
  private opened?: Promise<void>;
  /** A statement found the file corrupt: the next open checks every page (and moves a damaged file aside). */
  private verifyNext = false;
  private starts: number[] = [];
  private closed = false;

  constructor(readonly file: string, private opts: SqliteOptions) {}

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    await this.open();
    return withBuffers(await this.request({ op: 'all', sql, params }) as T[]);
  }

  async transaction(statements: Statement[]): Promise<StatementResult[]> {
    await this.open();
    const groups: Array<{ sql: string; params: unknown[][]; columns?: ReadonlyArray<ArrayLike<unknown>> }> = [];
    for (const st of statements) {
      const last = groups[groups.length - 1];
      if (st.columns) groups.push({ sql: st.sql, params: [], columns: st.columns });
      else if (last && !last.columns && last.sql === st.sql) last.params.push(st.params ?? []);
      else groups.push({ sql: st.sql, params: [st.params ?? []] });
    }
    const answer = await this.request({ op: 'transaction', groups }) as { changes: number[]; rows: Array<[number, Array<Record<string, unknown>>]> };
    const out: StatementResult[] = answer.changes.map((changes) => ({ changes }));
    for (const [i, rows] of answer.rows) out[i].rows = withBuffers(rows);
    return out;
  }

  /** SQLite's online backup, stepped by the worker between its other requests. */
  async backup(file: string): Promise<void> {
    await this.open();
    await this.request({ op: 'backup', file }, 0);
  }

  /** A WAL checkpoint now (the worker runs one on its own after writes). */
  async checkpoint(): Promise<unknown> {
    await this.open();
    return this.request({ op: 'checkpoint' });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    try {
      // A worker stuck in a statement is not waited for long: the process may be stopping.
      await this.request({ op: 'close' }, CLOSE_TIMEOUT_MS);
    } finally {
      this.worker = undefined;
      this.opened = undefined;
      await w.terminate();
    }
  }

  /** The worker thread now (tests stop it to check the restart). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** Open the file in the worker (starting one if needed); an unreadable file is moved aside once. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(coded('the database is closed', 'VIGIL_DB_CLOSED'));
    this.opened ??= (async () => {
      try {
        await this.request({ op: 'open', file: this.file, migrations: MIGRATIONS.map((m) => ({ name: m.name, sqlite: m.sqlite })), verify: this.verifyNext }, OPEN_TIMEOUT_MS);
      } catch (err) {
        if (!isUnreadable(err)) throw err;
        this.moveAside(err as Error);
        await this.request({ op: 'open', file: this.file, migrations: MIGRATIONS.map((m) => ({ name: m.name, sqlite: m.sqlite })) }, OPEN_TIMEOUT_MS);
      }
      this.verifyNext = false;
    })();
    const opening = this.opened;
    opening.catch(() => { if (this.opened === opening) this.opened = undefined; });
    return opening;
  }

  private moveAside(err: Error): void {
    const now = (this.opts.now ?? Date.now)();
    const aside = `${this.file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    // The WAL and shared-memory files belong to the broken file: they go with it.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(this.file + suffix)) renameSync(this.file + suffix, aside + suffix);
    }
    this.opts.log.error('record: the database file is unreadable; moved aside, starting a new one', { file: this.file, moved_to: aside, error: err.message });
  }

  private request(req: Request, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    if (this.waiting.size >= (this.opts.maxQueue ?? MAX_QUEUE)) {
      return Promise.reject(coded(`the database has ${this.waiting.size} requests waiting; this one is refused`, 'VIGIL_DB_QUEUE_FULL'));
    }
    let w: Worker;
    try {
      w = this.thread ?? this.start();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { resolve, reject };
      if (timeoutMs > 0) {
        waiting.timer = setTimeout(() => this.fail(w, coded(`the database worker did not answer within ${timeoutMs / 1000} s; it is restarted`, 'VIGIL_DB_TIMEOUT')), timeoutMs);
        waiting.timer.unref();
      }
      if (!this.waiting.size) w.ref(); // keep the process up while an answer is due
      this.waiting.set(id, waiting);
      w.postMessage({ ...req, id });
    });
  }

  private start(): Worker {
    const now = Date.now();
    this.starts = this.starts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.starts.length > MAX_RESTARTS) throw coded(`the database worker failed ${this.starts.length} times within a minute; not restarted yet`, 'VIGIL_DB_WORKER_FAILING');
    this.starts.push(now);
    const workerData: WorkerData = { library: LIBRARY, checkpointMs: this.opts.checkpointMs ?? 1_000 };
    // A young generation of 3 MB (1 MB semi-spaces) instead of the 12 MB the process' flags give
    // every isolate: the worker's objects are small and short-lived (a flush's rows, a query's
    // answer), and its heap was 12.8 MB with 5 MB used at 10 000 checks.
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData, name: 'vigil-sqlite', resourceLimits: { maxYoungGenerationSizeMb: 3 } });
    w.unref();
    w.on('message', (m: WorkerReply) => {
      const waiting = this.waiting.get(m.id);
      if (!waiting) return;
      this.waiting.delete(m.id);
      clearTimeout(waiting.timer);
      if (!this.waiting.size) w.unref();
      if (m.ok) return waiting.resolve(m.value);
      if (m.reset) this.opened = undefined;
      if (m.reset && isUnreadable(m.error)) this.verifyNext = true;
      waiting.reject(errorOf(m.error));
    });
    w.on('error', (err) => this.fail(w, Object.assign(err, { code: (err as { code?: string }).code ?? 'VIGIL_DB_WORKER_DIED' })));
    w.on('exit', (code) => this.fail(w, coded(`the database worker exited (code ${code})`, 'VIGIL_DB_WORKER_DIED')));
    this.worker = w;
    return w;
  }

  /** The worker died or hung: fail what it held; the next request starts another. */
  private fail(w: Worker, err: Error): void {
    if (this.worker !== w) return; // already handled, or closed on purpose
    this.worker = undefined;
    this.opened = undefined;
    void w.terminate();
    const held = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiting of held) {
      clearTimeout(waiting.timer);
      waiting.reject(err);
    }
    if (this.closed) return;
    this.opts.log.error('record: the database worker failed; it is restarted by the next write', { file: this.file, error: err.message, requests_failed: held.length });
    this.opts.onWorkerFailure?.(err);
  }
}

/**
 * Open (creating if needed) and migrate the database in `dir`. A file SQLite cannot read is
 * moved aside once and a fresh one opened; any other error (read-only, disk full, permissions)
 * is thrown for the caller to count and retry later.
 */
export async function openSqliteRecord(dir: string, log: Logger, now = Date.now(), opts: Partial<SqliteOptions> = {}): Promise<SqliteSql> {
  const sql = new SqliteSql(path.join(dir, RECORD_FILE), { log, now: () => now, ...opts });
  try {
    await sql.open();
  } catch (err) {
    await sql.close().catch(() => {});
    throw err;
  }
  return sql;
}
