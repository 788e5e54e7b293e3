// The record's two databases for tests that run the same cases against both: the embedded
// SQLite file and a real PostgreSQL (one server per test file, a fresh database per test).
//
//   const backends = recordBackends();          // call at the top level of the test file
//   describe.each(backends.list)('… (%s)', (kind) => {
//     const b = backends.get(kind);
//     beforeEach(() => b.fresh(dir));            // a new database for this test
//     new CheckRecord({ dir, connect: b.connect, … });
//     await b.rows('SELECT count(*) AS n FROM results');
//   });
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import { openPostgresRecord, toPositional } from '../../exporter/db/postgres.js';
import { RECORD_FILE } from '../../exporter/db/schema.js';
import type { RecordSql, SqlValue } from '../../exporter/db/sql.js';
import { startPostgres, type PostgresServer } from './postgres.js';

export type BackendKind = 'sqlite' | 'postgres';

export interface RecordBackend {
  kind: BackendKind;
  /** Start this test on an empty database (for SQLite: the file in `dir`). */
  fresh(dir: string): Promise<void>;
  /** For CheckRecord's `connect`; undefined for SQLite (the record's default, the file in its dir). */
  connect?: () => Promise<RecordSql>;
  /** The current test's connection URL (PostgreSQL only). */
  dsn?: string;
  /** Rows of a query on what the record stored (`?` placeholders); numbers come back as numbers. */
  rows<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Run statements directly (set up a database as an older or newer Vigil left it). */
  exec(sql: string): Promise<void>;
  /** The server, for fault injection (PostgreSQL only). */
  server?: PostgresServer;
}

const quiet = createLogger({ level: 'error', write: () => {} });

export function recordBackends(): { list: BackendKind[]; get(kind: BackendKind): RecordBackend } {
  let server: PostgresServer | undefined;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  let sqliteDir = '';
  const sqlite: RecordBackend = {
    kind: 'sqlite',
    async fresh(dir) {
      sqliteDir = dir;
    },
    async rows<T>(sql: string, params: SqlValue[] = []) {
      const db = new Database(path.join(sqliteDir, RECORD_FILE), { readonly: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    async exec(sql) {
      const db = new Database(path.join(sqliteDir, RECORD_FILE));
      try { db.exec(sql); } finally { db.close(); }
    },
  };

  const postgres: RecordBackend = {
    kind: 'postgres',
    async fresh() {
      const name = `record_${++databases}`;
      const admin = new pg.Client({ connectionString: server!.url, connectionTimeoutMillis: 5_000 });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      postgres.dsn = server!.url.replace(/\/postgres$/, `/${name}`);
      postgres.server = server;
    },
    connect: () => openPostgresRecord({ dsn: postgres.dsn!, log: quiet, connectTimeoutMs: 3_000, statementTimeoutMs: 5_000 }),
    async rows<T>(sql: string, params: SqlValue[] = []) {
      const c = await client();
      try {
        return (await c.query(toPositional(sql), params)).rows as T[];
      } finally {
        await c.end();
      }
    },
    async exec(sql) {
      const c = await client();
      try { await c.query(sql); } finally { await c.end(); }
    },
  };

  async function client(): Promise<pg.Client> {
    const c = new pg.Client({
      connectionString: postgres.dsn, connectionTimeoutMillis: 5_000, query_timeout: 10_000,
      // counts and BIGINT columns as numbers, as the record reads them
      types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig,
    });
    await c.connect();
    return c;
  }

  return { list: ['sqlite', 'postgres'], get: (kind) => (kind === 'sqlite' ? sqlite : postgres) };
}
