// The record in a shared PostgreSQL (exporter/db/postgres.ts) against a real server: several
// instances migrating at once apply each step once, instances writing the same checks at once
// neither deadlock nor lose rows, a server that goes away is a counted write error and writes
// resume when it is back, every network wait is bounded, and the password never shows.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSecrets } from '../../exporter/config/secrets.js';
import { createLogger } from '../../exporter/log.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { MIGRATIONS } from '../../exporter/db/schema.js';
import { openPostgresRecord, stepsWithoutPostgres, toPositional, withLiterals } from '../../exporter/db/postgres.js';
import { BackupUnsupportedError, CheckRecord } from '../../exporter/record/record.js';
import { LAST_WRITE_METRIC, registerRecordMetrics, STORAGE_BYTES_METRIC } from '../../exporter/record/metrics.js';
import client from 'prom-client';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const PASSWORD = 'record-pg-s3cret-pw';
let server: PostgresServer;
let databases = 0;
let dsn: string;
let dir: string;
let logs: string[];
let errors: string[];
let open: CheckRecord[];
const now = Date.UTC(2026, 11, 1, 12, 0, 0);

beforeAll(async () => {
  server = await startPostgres({ password: PASSWORD });
}, 90_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  const name = `pg_record_${++databases}`;
  const admin = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try { await admin.query(`CREATE DATABASE ${name}`); } finally { await admin.end(); }
  dsn = server.url.replace(/\/postgres$/, `/${name}`);
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-record-pg-'));
  logs = [];
  errors = [];
  open = [];
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.stop();
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});

const log = () => createLogger({ level: 'debug', write: (l) => logs.push(l) });

function record(at = dsn, opts: { connectTimeoutMs?: number } = {}): CheckRecord {
  const r = new CheckRecord({
    dir, log: log(), report: { countWriteError: (store) => errors.push(store) }, now: () => now,
    connect: () => openPostgresRecord({ dsn: at, log: log(), connectTimeoutMs: opts.connectTimeoutMs ?? 3_000, statementTimeoutMs: 5_000 }),
  });
  r.configure({ rawMs: 48 * 3_600_000, rollupMs: 96 * 3_600_000 });
  open.push(r);
  return r;
}

function result(check: string, t: number, ok = true): CheckResult {
  return { check, ok, status: ok ? 'healthy' : 'critical', violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t };
}

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try { return (await c.query(sql, params)).rows as T[]; } finally { await c.end(); }
}

describe('PostgreSQL record', () => {
  it('every schema step has a PostgreSQL spelling', () => {
    expect(stepsWithoutPostgres()).toEqual([]);
  });

  it('`?` placeholders become $1.. outside quotes and comments', () => {
    expect(toPositional("SELECT a FROM t WHERE x = ? AND y = '?' AND \"z?\" = ? -- why?\nLIMIT ?")).toBe("SELECT a FROM t WHERE x = $1 AND y = '?' AND \"z?\" = $2 -- why?\nLIMIT $3");
  });

  it('a transaction is one message: any text, bytes and number arrive exactly as given', async () => {
    const sql = await openPostgresRecord({ dsn, log: log() });
    const nasty = "it's a \\ back'slash; DROP TABLE checks; -- ? $1 \u00e9\u{1F600} \"q\"";
    try {
      await sql.transaction([
        { sql: 'CREATE TABLE odd (s TEXT, b BYTEA, n DOUBLE PRECISION, i BIGINT, z TEXT)' },
        { sql: 'INSERT INTO odd VALUES (?, ?, ?, ?, ?)', params: [nasty, Buffer.from([0, 1, 0xfe, 0xff]), 1.5e-7, 9_007_199_254_740_991n, null] },
      ]);
      const [row] = await sql.all<{ s: string; b: Buffer; n: number; i: number; z: null }>('SELECT * FROM odd');
      expect(row).toEqual({ s: nasty, b: Buffer.from([0, 1, 0xfe, 0xff]), n: 1.5e-7, i: 9_007_199_254_740_991, z: null });
      expect(await sql.all('SELECT count(*) AS n FROM checks')).toEqual([{ n: 0 }]);
    } finally {
      await sql.close();
    }
    expect(() => withLiterals('SELECT ?, ?', [1])).toThrow(/more placeholders/);
    expect(withLiterals("SELECT '?', ?", [Number.NaN])).toBe("SELECT '?', 'NaN'");
    expect(withLiterals('SELECT 1 -?, 2 -?', [-5, -7n])).toBe("SELECT 1 -'-5', 2 -'-7'"); // never `1 --5`, a comment
    // Untyped, as a $n parameter: a number against a TEXT column compares as text.
    await (async () => {
      const again = await openPostgresRecord({ dsn, log: log() });
      try {
        const [, found] = await again.transaction([
          { sql: 'INSERT INTO checks (name) VALUES (?)', params: ['42'] },
          { sql: 'SELECT id FROM checks WHERE name = ? AND id > ? LIMIT ?', params: [42, -1, 5] },
        ]);
        expect(found.rows).toHaveLength(1);
      } finally {
        await again.close();
      }
    })();
  });

  it('a statement of columns is a row each, in the same transaction, its changes summed', async () => {
    const sql = await openPostgresRecord({ dsn, log: log() });
    try {
      await sql.transaction([{ sql: 'CREATE TABLE cols (i BIGINT PRIMARY KEY, t DOUBLE PRECISION, s TEXT)' }]);
      const out = await sql.transaction([
        { sql: 'INSERT INTO cols VALUES (?, ?, ?)', params: [0, 0, 'before'] },
        { sql: 'INSERT INTO cols VALUES (?, ?, ?)', columns: [Float64Array.of(1, 2, 3), Float64Array.of(1.5, 2.5e-7, -3), ["it's", null, 'q?']] },
        { sql: 'SELECT count(*)::int AS n FROM cols' },
      ]);
      expect(out.map((r) => r.changes)).toEqual([1, 3, 1]);
      expect(out[2].rows).toEqual([{ n: 4 }]);
      expect(await sql.all('SELECT i, t, s FROM cols ORDER BY i')).toEqual([
        { i: 0, t: 0, s: 'before' }, { i: 1, t: 1.5, s: "it's" }, { i: 2, t: 2.5e-7, s: null }, { i: 3, t: -3, s: 'q?' },
      ]);
      // All or none: a row of the columns that fails takes the whole transaction back.
      await expect(sql.transaction([
        { sql: 'INSERT INTO cols VALUES (?, ?, ?)', params: [10, 0, 'x'] },
        { sql: 'INSERT INTO cols VALUES (?, ?, ?)', columns: [Float64Array.of(11, 1), Float64Array.of(0, 0), ['y', 'z']] },
      ])).rejects.toThrow();
      expect(await sql.all('SELECT count(*)::int AS n FROM cols')).toEqual([{ n: 4 }]);
    } finally {
      await sql.close();
    }
  });

  it('instances starting together migrate once: each step applied once, every instance opens', async () => {
    const sqls = await Promise.all(Array.from({ length: 6 }, () => openPostgresRecord({ dsn, log: log() })));
    try {
      const steps = await query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(steps.map((s) => s.name)).toEqual(MIGRATIONS.map((m) => m.name));
      // times and ids are BIGINT, read back as numbers
      const [a] = await Promise.all(sqls.map((s) => s.all<{ n: number }>('SELECT count(*) AS n FROM schema_migrations')));
      expect(a).toEqual([{ n: MIGRATIONS.length }]);
    } finally {
      await Promise.all(sqls.map((s) => s.close()));
    }
  });

  it('a transaction is all or none', async () => {
    const sql = await openPostgresRecord({ dsn, log: log() });
    try {
      await expect(sql.transaction([
        { sql: 'INSERT INTO checks (name) VALUES (?)', params: ['a'] },
        { sql: 'INSERT INTO checks (name) VALUES (?)', params: ['a'] }, // unique violation
      ])).rejects.toThrow(/duplicate key/);
      expect(await sql.all('SELECT name FROM checks')).toEqual([]);
      const [ins, sel] = await sql.transaction([
        { sql: 'INSERT INTO checks (name) VALUES (?), (?)', params: ['a', 'b'] },
        { sql: 'SELECT name FROM checks ORDER BY name' },
      ]);
      expect(ins.changes).toBe(2);
      expect(sel.rows).toEqual([{ name: 'a' }, { name: 'b' }]);
    } finally {
      await sql.close();
    }
  });

  it('two instances writing the same checks at once: no deadlock, no write error, every result kept', async () => {
    const a = record();
    const b = record();
    const checks = Array.from({ length: 40 }, (_, i) => `c${i}`);
    for (let round = 0; round < 10; round++) {
      for (const c of checks) {
        a.addResult(result(c, now + round * 1_000 + 1), 5_000);
        b.addResult(result([...c].reverse().join('') + c, now + round * 1_000 + 2), 5_000); // other names too
        b.addResult(result(c, now + round * 1_000 + 3), 5_000);
      }
      await Promise.all([a.flush(), b.flush()]);
    }
    expect(errors).toEqual([]);
    const [{ n }] = await query<{ n: string }>('SELECT count(*) AS n FROM results');
    expect(Number(n)).toBe(10 * 40 * 3);
    // one row per check name, whichever instance wrote it first
    const [{ names }] = await query<{ names: string }>('SELECT count(DISTINCT name) AS names FROM checks');
    expect(Number(names)).toBe(80);
    // both instances' runs add up in the shared minute rollups
    const [{ runs }] = await query<{ runs: string }>("SELECT sum(runs) AS runs FROM rollup_minute JOIN checks ON checks.id = check_id WHERE name = 'c0'");
    expect(Number(runs)).toBe(20);
  });

  it('a server that goes away: writes are counted errors, never thrown; they resume when it is back', async () => {
    const r = record();
    r.addResult(result('db', now), 5_000);
    await r.flush();
    expect(errors).toEqual([]);
    await server.halt('immediate');
    try {
      r.addResult(result('db', now + 1_000), 5_000);
      await expect(r.flush()).resolves.toBeUndefined();
      r.addResult(result('db', now + 2_000), 5_000);
      await expect(r.flush()).resolves.toBeUndefined();
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(logs.filter((l) => l.includes('record: cannot write check results'))).toHaveLength(1);
    } finally {
      await server.resume();
    }
    r.addResult(result('db', now + 3_000), 5_000);
    await r.flush();
    expect(logs.filter((l) => l.includes('record: writes succeed again'))).toHaveLength(1);
    const rows = await query<{ t: string }>('SELECT t FROM results ORDER BY t');
    expect(rows.map((x) => Number(x.t))).toContain(now + 3_000);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });

  it('a server that accepts the connection but never answers: opening fails within the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // never says a word
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const r = record(`postgres://vigil:${PASSWORD}@127.0.0.1:${port}/vigil`, { connectTimeoutMs: 500 });
      const started = Date.now();
      expect(await r.open()).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(errors).toEqual(['record']);
      expect(logs.join('\n')).toMatch(/127\.0\.0\.1:\d+\/vigil/); // the server is named …
      expect(logs.join('\n')).not.toContain(PASSWORD); // … its password never
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a wrong password: a clear error that never shows the password given', async () => {
    const wrong = 'not-the-password-at-all';
    const r = record(dsn.replace(encodeURIComponent(PASSWORD), wrong));
    expect(await r.open()).toBe(false);
    const text = logs.join('\n');
    expect(text).toMatch(/password authentication failed/);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(PASSWORD);
  });

  it('online backup is not offered: a clear error pointing to pg_dump', async () => {
    const r = record();
    r.addResult(result('db', now), 5_000);
    await expect(r.backup()).rejects.toBeInstanceOf(BackupUnsupportedError);
    await expect(r.backup()).rejects.toThrow(/pg_dump/);
    expect((await query<{ n: string }>('SELECT count(*) AS n FROM results'))[0].n).toBe('1'); // flushed first all the same
  });

  it('vigil_storage_bytes has no vigil.db series (there is no file); the last write time is there', async () => {
    const r = record();
    const registry = new client.Registry();
    registerRecordMetrics(registry, r);
    r.addResult(result('db', now), 5_000);
    await r.flush();
    const text = await registry.metrics();
    expect(text).not.toMatch(new RegExp(`^${STORAGE_BYTES_METRIC}\\{file="vigil.db"\\}`, 'm'));
    expect(text).toMatch(new RegExp(`^${LAST_WRITE_METRIC}\\{store="record"\\} ${now / 1000}$`, 'm'));
  });
});
