// The record in a shared PostgreSQL (storage.type: postgres): the same tables as the embedded
// SQLite file, so several Vigil instances (an HA pair, shards, locations) keep one record. A
// small pool; every wait on the network has a bound (connect, each statement, a transaction
// left idle, the migration lock), so an unreachable or stuck server turns into a counted write
// error, never a stalled exporter. The connection string carries a password: it is never put
// in a message, the server is named as host:port/database only.
import type pg from 'pg';
import { registerSecret, registerUrlPasswords } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { MIGRATIONS, pendingMigrations } from './schema.js';
import { byRows, type RecordSql, type SqlValue, type Statement, type StatementResult } from './sql.js';

export interface PostgresOptions {
  /** postgres://user:password@host:5432/database (from storage.dsn_file). */
  dsn: string;
  log: Logger;
  /** Connections at most (the record writes one transaction at a time; reads may overlap). */
  poolSize?: number;
  /** Bound on opening a connection (TCP + TLS + authentication). */
  connectTimeoutMs?: number;
  /** Bound on each statement, enforced by the server (statement_timeout) and by the client. */
  statementTimeoutMs?: number;
  /** Bound on waiting for another instance's migration (the advisory lock). */
  migrateTimeoutMs?: number;
}

// pg is loaded when a PostgreSQL record is opened: an exporter on its SQLite file never pays
// its memory (~2 MB of heap and its code).
let pgLoaded: typeof pg | undefined;
async function loadPg(): Promise<typeof pg> {
  return (pgLoaded ??= (await import('pg')).default);
}
/** The loaded module (only called once openPostgresRecord has loaded it). */
const pgLib = (): typeof pg => pgLoaded!;

/** Key of the advisory lock instances take around migrations ("vigil" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x766967696c;

// BIGINT (int8) and NUMERIC (sum() of BIGINTs) come back as strings by default, so a value
// beyond 2^53 is not silently rounded; epoch milliseconds and counts fit a double exactly.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => (v === null ? null : Number(v));
    return pgLib().types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** "127.0.0.1:5432/vigil": what to call the server in messages (never the user or password). */
export function describePostgres(dsn: string): string {
  try {
    const u = new URL(dsn);
    const host = u.host || u.searchParams.get('host') || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return db ? `${host}/${db}` : host;
  } catch {
    return '<invalid dsn>';
  }
}

/**
 * `?` placeholders to PostgreSQL's $1, $2, …, leaving a `?` inside a quoted string, a quoted
 * identifier or a comment alone.
 */
export function toPositional(sql: string): string {
  let n = 0;
  return replacePlaceholders(sql, () => `$${++n}`);
}

/**
 * The statement with its parameters written in as untyped literals (through pg's escapeLiteral;
 * bytes as bytea): several statements then go to the server as one message.
 */
export function withLiterals(sql: string, params: SqlValue[] = []): string {
  let i = 0;
  const out = replacePlaceholders(sql, () => {
    if (i >= params.length) throw new Error(`statement has more placeholders than its ${params.length} parameters`);
    return literal(params[i++]);
  });
  if (i !== params.length) throw new Error(`statement has ${i} placeholders for ${params.length} parameters`);
  return out;
}

function literal(v: SqlValue): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'::bytea`;
  // Numbers quoted too: an untyped literal takes its type from where it stands, as a $n
  // parameter does (a number compared with a TEXT column, a negative after a minus sign).
  return pgLib().escapeLiteral(String(v));
}

function replacePlaceholders(sql: string, next: () => string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += next();
    } else {
      out += c;
    }
  }
  return out;
}

function values(params: SqlValue[] | undefined): unknown[] {
  return (params ?? []).map((v) => (typeof v === 'bigint' ? v.toString() : v));
}

function resultOf(r: pg.QueryResult): StatementResult {
  return r.fields?.length ? { changes: r.rowCount ?? 0, rows: r.rows } : { changes: r.rowCount ?? 0 };
}

/** pg's errors say what failed; the wrapper says where (never with credentials). */
class PostgresError extends Error {
  code?: string;
  constructor(where: string, cause: unknown) {
    const e = cause as { code?: string; message?: string };
    super(`postgres ${where}: ${e?.message ?? String(cause)}`);
    this.code = e?.code;
  }
}

export class PostgresSql implements RecordSql {
  readonly dialect = 'postgres' as const;

  constructor(private readonly pool: pg.Pool, private readonly where: string) {}

  async all<T>(sql: string, params?: SqlValue[]): Promise<T[]> {
    try {
      const r = await this.pool.query(toPositional(sql), values(params));
      return r.rows as T[];
    } catch (err) {
      throw new PostgresError(this.where, err);
    }
  }

  transaction(statements: Statement[]): Promise<StatementResult[]> {
    return byRows(statements, (rows) => this.runTransaction(rows));
  }

  private async runTransaction(statements: Statement[]): Promise<StatementResult[]> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new PostgresError(this.where, err);
    }
    let broken: Error | undefined;
    try {
      if (statements.length > 1) {
        // One message, one round trip: the statements of a simple query run as one transaction
        // (a flush of 500 results would otherwise wait for 500 answers in turn).
        const text = statements.map((st) => withLiterals(st.sql, st.params)).join(';\n');
        const answer = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        return (Array.isArray(answer) ? answer : [answer]).map(resultOf);
      }
      await client.query('BEGIN');
      const out: StatementResult[] = [];
      for (const st of statements) out.push(resultOf(await client.query(toPositional(st.sql), values(st.params))));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is unusable: the pool drops it
      }
      throw new PostgresError(this.where, err);
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Connect to the server, bring the schema up to date (one instance at a time: the others wait
 * on an advisory lock, then find the steps applied) and return the record's connection.
 */
export async function openPostgresRecord(opts: PostgresOptions): Promise<PostgresSql> {
  // The config registers secrets it reads; a DSN handed in some other way is registered here.
  registerUrlPasswords(opts.dsn);
  registerSecret(opts.dsn);
  const where = describePostgres(opts.dsn);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const statementTimeoutMs = opts.statementTimeoutMs ?? 10_000;
  const config: pg.PoolConfig = {
    connectionString: opts.dsn,
    max: opts.poolSize ?? 3,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    // The client's own bound, for a server that stops answering altogether (no RST, no reply).
    query_timeout: statementTimeoutMs + 2_000,
    lock_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 2,
    keepAlive: true,
    application_name: 'vigil',
    types,
  };
  const pool = new (await loadPg()).Pool(config);
  // An idle connection the server drops (restart, failover) is reported here; without a
  // listener it would be an uncaught error. The next query gets a fresh connection.
  pool.on('error', (err) => opts.log.warn('record: a PostgreSQL connection was lost', { server: where, error: err.message }));
  try {
    await migrate(pool, where, opts.migrateTimeoutMs ?? 60_000, statementTimeoutMs);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err instanceof PostgresError ? err : new PostgresError(where, err);
  }
  return new PostgresSql(pool, where);
}

async function migrate(pool: pg.Pool, where: string, lockTimeoutMs: number, statementTimeoutMs: number): Promise<void> {
  const client = await pool.connect();
  // A step may rewrite a big table: the migration's statements get the longer bound.
  const q = (text: string, params: unknown[] = []) => client.query({ text, values: params, query_timeout: lockTimeoutMs + statementTimeoutMs + 2_000 } as pg.QueryConfig);
  try {
    // Instances starting together take turns: the first applies the steps, the others wait
    // here (bounded) and then find nothing left to do. A session lock, released below or when
    // the connection ends.
    await q(`SET lock_timeout = ${Math.round(lockTimeoutMs)}; SET statement_timeout = ${Math.round(lockTimeoutMs + statementTimeoutMs)}`);
    await q('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await q('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const applied = ((await q('SELECT name FROM schema_migrations')).rows as Array<{ name: string }>).map((r) => r.name);
      for (const step of pendingMigrations(applied, `the PostgreSQL record at ${where}`)) {
        if (!step.postgres) throw new Error(`schema step ${step.name} has no PostgreSQL spelling (a Vigil bug: report it)`);
        await q('BEGIN');
        try {
          await q(step.postgres);
          await q('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [step.name, Date.now()]);
          await q('COMMIT');
        } catch (err) {
          await q('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await q('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    // Its session settings are not the pool's: this connection is not reused.
    client.release(true);
  }
}

/** Every step has a PostgreSQL spelling (checked by the tests, so a missing one never ships). */
export function stepsWithoutPostgres(): string[] {
  return MIGRATIONS.filter((m) => !m.postgres).map((m) => m.name);
}
