// The database's schema (the record, the heartbeat store, the alert log), as named steps run once each in order; `schema_migrations` lists the
// steps a database has had. Named, not numbered, so steps added side by side never collide, and
// each step carries its SQLite and its PostgreSQL spelling (storage.type: postgres keeps the
// same tables). Never edit a released step: add one.
//
// Times are epoch milliseconds, minutes are epoch minutes; checks are numbered in `checks` so
// the big tables hold an integer, not the name, in every row.

export const RECORD_FILE = 'vigil.db';

export interface Migration {
  name: string;
  sqlite: string;
  /** The same step for PostgreSQL; a step without one cannot run there. */
  postgres?: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: '0001-results-rollups-events',
    sqlite: `CREATE TABLE checks (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
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
  },
  {
    // The alert notification log (was alert-notifications.jsonl): one row per alert of each
    // notification Alertmanager delivered to Vigil's webhook receiver. Times are epoch ms;
    // labels and annotations are JSON objects; alertname, check and component are copied out of
    // the labels so incidents can join on them.
    name: '0002-notifications',
    sqlite: `CREATE TABLE notifications (
     id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, received_at INTEGER NOT NULL, receiver TEXT NOT NULL,
     status TEXT NOT NULL, fingerprint TEXT NOT NULL, alertname TEXT, check_name TEXT, component TEXT,
     labels TEXT NOT NULL, annotations TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER,
     generator_url TEXT NOT NULL, group_key TEXT NOT NULL, truncated_alerts INTEGER NOT NULL, external_url TEXT NOT NULL);
   CREATE INDEX notifications_received ON notifications (received_at);
   CREATE INDEX notifications_fingerprint ON notifications (fingerprint, received_at);`,
  },
];

/** The steps a database with `applied` still needs, in order; throws when it knows steps this Vigil does not (written by a newer one). */
export function pendingMigrations(applied: readonly string[], where: string): Migration[] {
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`${where} was written by a newer Vigil (schema steps ${unknown.join(', ')} are unknown to this one)`);
  const done = new Set(applied);
  return MIGRATIONS.filter((m) => !done.has(m.name));
}
