// The record's one SQLite file (<storage.path>/vigil.db): opened in WAL mode, its schema brought
// up to date by the numbered steps below (PRAGMA user_version says how many have run). A file
// SQLite cannot read (not a database, corrupt) is moved aside as vigil.db.corrupt-<time> and a
// new one started: a monitor that crash-loops on its own history is worse than one that lost it.
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.js';

export const RECORD_FILE = 'vigil.db';
export type RecordDb = Database.Database;

/**
 * Schema steps, oldest first; step i runs when user_version is i. Never edit a released step:
 * add one. Times are epoch milliseconds, minutes are epoch minutes; checks are numbered in
 * `checks` so the big tables hold an integer, not the name, in every row.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE checks (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
   -- One row per completed run, kept history.raw_retention. status is its rank (model/status.ts);
   -- the response time in whole microseconds (an integer takes 3-4 bytes, a REAL 8).
   CREATE TABLE results (
     check_id INTEGER NOT NULL, t INTEGER NOT NULL, status INTEGER NOT NULL, duration_us INTEGER NOT NULL,
     ok INTEGER NOT NULL, reason TEXT, message TEXT,
     PRIMARY KEY (check_id, t)) WITHOUT ROWID;
   -- Per check and minute: runs, failures, seconds spent in each status, response time sum/max.
   CREATE TABLE rollup_minute (
     check_id INTEGER NOT NULL, minute INTEGER NOT NULL, runs INTEGER NOT NULL, failures INTEGER NOT NULL,
     healthy_s REAL NOT NULL, unknown_s REAL NOT NULL, degraded_s REAL NOT NULL, critical_s REAL NOT NULL,
     rt_sum REAL NOT NULL, rt_max REAL NOT NULL,
     PRIMARY KEY (check_id, minute)) WITHOUT ROWID;
   -- Every status change of a check.
   CREATE TABLE events (
     id INTEGER PRIMARY KEY, t INTEGER NOT NULL, check_id INTEGER NOT NULL, component TEXT,
     from_status TEXT NOT NULL, to_status TEXT NOT NULL, reason TEXT, message TEXT);
   CREATE INDEX events_check_t ON events (check_id, t);`,
];

/** SQLite's answers for a file that is not (or no longer) a readable database. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

export function isUnreadable(err: unknown): boolean {
  return UNREADABLE.has((err as { code?: string }).code ?? '');
}

/**
 * Open (creating if needed) and migrate the record in `dir`. A file SQLite cannot read is moved
 * aside once and a fresh one opened; any other error (read-only, disk full, permissions) is
 * thrown for the caller to count and retry later.
 */
export function openRecord(dir: string, log: Logger, now = Date.now()): RecordDb {
  const file = path.join(dir, RECORD_FILE);
  try {
    return openAndMigrate(file);
  } catch (err) {
    if (!isUnreadable(err)) throw err;
    const aside = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    // The WAL and shared-memory files belong to the broken file: they go with it.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    log.error('record: the database file is unreadable; moved aside, starting a new one', { file, moved_to: aside, error: (err as Error).message });
    return openAndMigrate(file);
  }
}

function openAndMigrate(file: string): RecordDb {
  const db = new Database(file);
  try {
    // WAL: readers never wait for the writer; NORMAL: a transaction may be lost on power
    // failure (not on a process crash), never the file. Results are flushed every second, so
    // that is the most a crash can lose anyway.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 1000');
    // The WAL is checkpointed every 1 000 pages (SQLite's default); cut it back to 4 MiB after.
    db.pragma('journal_size_limit = 4194304');
    // Reads the header and the schema: a file that is not a database fails here, not later.
    const version = db.pragma('user_version', { simple: true }) as number;
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (version > MIGRATIONS.length) throw new Error(`${file} was written by a newer Vigil (schema ${version}, this one knows ${MIGRATIONS.length})`);
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
