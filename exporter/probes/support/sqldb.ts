// PostgreSQL and MySQL/MariaDB behind one small interface, for the postgres, mysql and sql
// probes: a pool kept between runs (rebuilt after failures by Reconnecting), a ping, the server
// version, pool figures, and a query run inside a read-only transaction on a read-only session.
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { lazy, warm } from './lazy.js';
import { abortable, classifyError } from './errors.js';
import { withPassword } from './dsn.js';
import type { FailureReason } from '../../model/result.js';

export type SqlDriverKind = 'postgres' | 'mysql';

export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
}

/** One pool, opened and verified. Every call gives up when `signal` aborts. */
export interface SqlHandle {
  readonly kind: SqlDriverKind;
  readonly version: string;
  /** Set when the pool reported an error while idle (server restarted, connection killed). */
  broken: boolean;
  ping(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Run `sql` in a read-only transaction; returns the first row as an array (undefined: no rows). */
  readOnlyQuery(sql: string, timeoutMs: number, signal: AbortSignal): Promise<unknown[] | undefined>;
  figures(): PoolFigures;
  destroy(): Promise<void>;
}

export interface SqlOpenOptions {
  dsn: string;
  password?: string;
  username?: string;
  poolSize: number;
  /** Every session of the pool is read-only (sql probe). */
  readOnlySession: boolean;
  onIdleError?: (err: Error) => void;
}

/** Load the driver of `kind` ahead of the first run. */
export function warmSqlDriver(kind: SqlDriverKind): void {
  warm(kind === 'postgres' ? loadPg : loadMysql);
}

export function openSql(kind: SqlDriverKind, opts: SqlOpenOptions, timeoutMs: number, signal: AbortSignal): Promise<SqlHandle> {
  return kind === 'postgres' ? openPostgres(opts, timeoutMs, signal) : openMysql(opts, timeoutMs, signal);
}

/**
 * Does this error mean the connection itself is gone (rebuild it), rather than the statement
 * failing on a healthy connection (syntax, permission, read-only violation)?
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; name?: string; sqlState?: string } | undefined;
  if (!e) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (e.fatal === true) return true; // mysql2: connection unusable
  if (e.name === 'ReplyError') return false; // redis: the server answered with an error
  const code = e.code ?? '';
  if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code.startsWith('57P') || code === '53300'; // SQLSTATE
  if (code.startsWith('ER_') && code !== 'ER_SERVER_SHUTDOWN') return false; // mysql server-side statement error
  return true;
}

/** classifyError plus the driver-specific codes. */
export function classifyDbError(err: unknown): FailureReason {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const msg = e?.message ?? '';
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || (/timeout|timed out/i.test(msg) && !/password/i.test(msg))) return 'timeout';
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') return 'auth';
  if (code === 'PROTOCOL_CONNECTION_LOST' || code === '57P01' || code === 'ER_SERVER_SHUTDOWN' || /Connection terminated|connection is in closed state|server closed the connection/i.test(msg)) return 'connect';
  return classifyError(err);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (pg): queries use the extended protocol, so a query string holds one statement.

const loadPg = lazy(async () => (await import('pg')).default);

async function openPostgres(opts: SqlOpenOptions, timeoutMs: number, signal: AbortSignal): Promise<SqlHandle> {
  const { Pool } = await loadPg();
  const pool = new Pool({
    connectionString: withPassword(opts.dsn, opts.password, opts.username),
    max: opts.poolSize,
    connectionTimeoutMillis: Math.max(1, Math.floor(timeoutMs)),
    idleTimeoutMillis: 0, // keep the connection between runs
    allowExitOnIdle: true,
    application_name: 'vigil',
    ...(opts.readOnlySession ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  let broken = false;
  pool.on('error', (err) => { broken = true; opts.onIdleError?.(err); });
  const destroy = async () => {
    // end() waits for checked-out clients; a hung one must not hold the probe: cap the wait.
    await Promise.race([pool.end().catch(() => {}), new Promise((r) => setTimeout(r, 1_000).unref())]);
  };
  let version: string;
  try {
    const client = await abortable(pool.connect(), signal);
    try {
      const r = await abortable(client.query<{ server_version: string }>('SHOW server_version'), signal);
      version = String(r.rows[0]?.server_version ?? 'unknown').split(' ')[0];
      client.release();
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  } catch (err) {
    await destroy();
    throw err;
  }

  /** Check out a client for the duration of fn; a failed or aborted one is destroyed, not reused. */
  const withClient = async <T>(signal: AbortSignal, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await abortable(pool.connect(), signal);
    const kill = () => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    };
    signal.addEventListener('abort', kill, { once: true });
    try {
      const out = await abortable(fn(client), signal);
      client.release();
      return out;
    } catch (err) {
      if (isConnectionError(err)) { kill(); client.release(true); } else client.release();
      throw err;
    } finally {
      signal.removeEventListener('abort', kill);
    }
  };

  return {
    kind: 'postgres',
    version,
    get broken() { return broken; },
    set broken(v) { broken = v; },
    ping: (timeout, signal) => withClient(signal, async (c) => {
      await c.query({ text: 'SELECT 1', query_timeout: Math.max(1, Math.floor(timeout)) } as pg.QueryConfig);
    }),
    readOnlyQuery: (sql, timeout, signal) => withClient(signal, async (c) => {
      await c.query('BEGIN TRANSACTION READ ONLY');
      let ok = false;
      try {
        // A SELECT (not SET LOCAL) so the transaction has taken its snapshot: from here on
        // PostgreSQL refuses SET TRANSACTION READ WRITE, whatever the query tries.
        await c.query("SELECT set_config('statement_timeout', $1, true)", [String(Math.max(1, Math.floor(timeout)))]);
        const r = await c.query({ text: sql, rowMode: 'array', queryMode: 'extended', query_timeout: Math.max(1, Math.floor(timeout) + 500) } as pg.QueryArrayConfig);
        ok = true;
        return (r.rows[0] as unknown[] | undefined);
      } finally {
        try {
          await c.query('ROLLBACK');
        } catch (err) {
          if (ok) throw err;
        }
      }
    }),
    figures: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    destroy,
  };
}

// ---------------------------------------------------------------------------------------------
// MySQL and MariaDB (mysql2): multipleStatements stays off, so a query string holds one statement.

interface CorePool {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  on(event: 'connection', fn: (c: { on(e: 'error', fn: (err: Error) => void): void; query(sql: string): void }) => void): void;
}

const loadMysql = lazy(async () => (await import('mysql2/promise')).default);

async function openMysql(opts: SqlOpenOptions, timeoutMs: number, signal: AbortSignal): Promise<SqlHandle> {
  const { createPool } = await loadMysql();
  const uri = withPassword(opts.dsn, opts.password, opts.username).replace(/^mariadb:/, 'mysql:');
  const pool = createPool({
    uri,
    connectionLimit: opts.poolSize,
    maxIdle: opts.poolSize,
    idleTimeout: 2 ** 31 - 1,
    connectTimeout: Math.max(1, Math.floor(timeoutMs)),
    waitForConnections: true,
    multipleStatements: false,
    enableKeepAlive: true,
  });
  const core = (pool as unknown as { pool: CorePool }).pool;
  let broken = false;
  core.on('connection', (conn) => {
    conn.on('error', (err) => { broken = true; opts.onIdleError?.(err); });
  });
  const destroy = async () => {
    await Promise.race([pool.end().catch(() => {}), new Promise((r) => setTimeout(r, 1_000).unref())]);
  };
  let version: string;
  try {
    const conn = await abortable(pool.getConnection(), signal);
    try {
      const [rows] = await abortable(conn.query({ sql: 'SELECT VERSION() AS v', timeout: Math.max(1, Math.floor(timeoutMs)) }), signal);
      version = String((rows as Array<{ v: string }>)[0]?.v ?? 'unknown');
      conn.release();
    } catch (err) {
      conn.destroy();
      throw err;
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  const mariadb = /mariadb/i.test(version);

  const withConn = async <T>(signal: AbortSignal, fn: (c: mysql.PoolConnection) => Promise<T>): Promise<T> => {
    const conn = await abortable(pool.getConnection(), signal);
    const kill = () => conn.destroy();
    signal.addEventListener('abort', kill, { once: true });
    try {
      const out = await abortable(fn(conn), signal);
      conn.release();
      return out;
    } catch (err) {
      if (isConnectionError(err)) conn.destroy(); else conn.release();
      throw err;
    } finally {
      signal.removeEventListener('abort', kill);
    }
  };

  return {
    kind: 'mysql',
    version,
    get broken() { return broken; },
    set broken(v) { broken = v; },
    ping: (timeout, signal) => withConn(signal, async (c) => {
      await c.query({ sql: 'SELECT 1', timeout: Math.max(1, Math.floor(timeout)) });
    }),
    readOnlyQuery: (sql, timeout, signal) => withConn(signal, async (c) => {
      const t = Math.max(1, Math.floor(timeout));
      // Server-side statement limit as well as the client-side one (best effort: names differ).
      await c.query(mariadb ? `SET SESSION max_statement_time = ${t / 1000}` : `SET SESSION max_execution_time = ${t}`).catch(() => {});
      await c.query('SET SESSION TRANSACTION READ ONLY');
      await c.query('START TRANSACTION READ ONLY');
      let ok = false;
      try {
        const [rows] = await c.query({ sql, rowsAsArray: true, timeout: t });
        ok = true;
        if (!Array.isArray(rows)) return undefined; // not a SELECT (an OkPacket): no rows
        return rows[0] as unknown[] | undefined;
      } finally {
        try {
          await c.query('ROLLBACK');
        } catch (err) {
          if (ok) throw err;
        }
      }
    }),
    figures: () => ({
      total: core._allConnections.length,
      idle: core._freeConnections.length,
      waiting: core._connectionQueue.length,
    }),
    destroy,
  };
}

