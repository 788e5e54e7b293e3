// The embedded record: one SQLite file (<storage.path>/vigil.db) through better-sqlite3, in WAL
// mode, its schema brought up to date at open. A file SQLite cannot read (not a database,
// corrupt) is moved aside as vigil.db.corrupt-<time> and a new one started: a monitor that
// crash-loops on its own history is worse than one that lost it.
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import { pendingMigrations, RECORD_FILE } from './schema.js';
import type { RecordSql, SqlValue, Statement, StatementResult } from './sql.js';

/** SQLite's answers for a file that is not (or no longer) a readable database. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

export function isUnreadable(err: unknown): boolean {
  return UNREADABLE.has((err as { code?: string }).code ?? '');
}

export class SqliteSql implements RecordSql {
  readonly dialect = 'sqlite' as const;
  /** Prepared once per SQL text: the same few statements run every flush. */
  private statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  private prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, s = this.db.prepare(sql));
    return s;
  }

  private runOne(st: Statement): StatementResult {
    const s = this.prepared(st.sql);
    const params = (st.params ?? []) as SqlValue[];
    if (s.reader) return { changes: 0, rows: s.all(...params) as Array<Record<string, unknown>> };
    return { changes: s.run(...params).changes };
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.runOne({ sql, params }).rows as T[] ?? [];
  }

  async transaction(statements: Statement[]): Promise<StatementResult[]> {
    return this.db.transaction(() => statements.map((st) => this.runOne(st)))();
  }

  async backup(file: string): Promise<void> {
    await this.db.backup(file);
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.db.close();
  }
}

/**
 * Open (creating if needed) and migrate the record in `dir`. A file SQLite cannot read is moved
 * aside once and a fresh one opened; any other error (read-only, disk full, permissions) is
 * thrown for the caller to count and retry later.
 */
export async function openSqliteRecord(dir: string, log: Logger, now = Date.now()): Promise<SqliteSql> {
  const file = path.join(dir, RECORD_FILE);
  try {
    return new SqliteSql(openAndMigrate(file));
  } catch (err) {
    if (!isUnreadable(err)) throw err;
    const aside = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    // The WAL and shared-memory files belong to the broken file: they go with it.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    log.error('record: the database file is unreadable; moved aside, starting a new one', { file, moved_to: aside, error: (err as Error).message });
    return new SqliteSql(openAndMigrate(file));
  }
}

function openAndMigrate(file: string): Database.Database {
  const db = new Database(file);
  try {
    // WAL: readers never wait for the writer. FULL: a commit is on disk when it returns (the WAL
    // is fsynced), so an acknowledged heartbeat or notification survives even a power cut; with
    // one write transaction a second that costs one fsync a second.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 1000');
    // The WAL is checkpointed every 1 000 pages (SQLite's default); cut it back to 4 MiB after.
    db.pragma('journal_size_limit = 4194304');
    // Reads the header and the schema: a file that is not a database fails here, not later.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database, file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  let applied = db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[];
  // Files from before named steps counted them in user_version (1 = the first step).
  if (!applied.length && (db.pragma('user_version', { simple: true }) as number) >= 1) {
    applied = ['0001-results-rollups-events'];
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(applied[0], Date.now());
  }
  for (const step of pendingMigrations(applied, file)) {
    db.transaction(() => {
      db.exec(step.sqlite);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(step.name, Date.now());
    })();
  }
}
