// Heartbeat schedules and states (pure), and the durable store behind them (the database's heartbeats table).
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCheck } from '../support/checks.js';
import Database from 'better-sqlite3';
import { HeartbeatStore, type HeartbeatRecord, type HeartbeatStoreOptions } from '../../exporter/probes/heartbeat/store.js';
import { shared, type RecordSql, type Statement } from '../../exporter/db/sql.js';
import { openSqliteRecord, type SqliteSql } from '../../exporter/db/sqlite.js';
import { evaluate } from '../../exporter/health/evaluate.js';
import { silentLogger } from '../../exporter/log.js';
import { evaluateHeartbeat, nextExpected, type HeartbeatCheck } from '../../exporter/probes/heartbeat/index.js';

const T0 = Date.parse('2026-03-27T12:00:00Z');
const min = 60_000;

function status(check: HeartbeatCheck, rec: HeartbeatRecord, now: number) {
  const r = evaluateHeartbeat(check, rec, now);
  return { ...r, status: evaluate(r, check.thresholds).status };
}

describe('heartbeat evaluation', () => {
  const hourly = makeCheck({ type: 'heartbeat', period: '1h', grace: '10m' }) as HeartbeatCheck;
  const withRunTime = makeCheck({ type: 'heartbeat', period: '1h', grace: '10m', max_run_time: '20m' }) as HeartbeatCheck;

  const cases: Array<{ name: string; check?: HeartbeatCheck; rec: HeartbeatRecord; at: number; expected: { status: string; reason?: string; message?: RegExp } }> = [
    { name: 'never pinged, before the first period ends', rec: { first_seen: T0 }, at: T0 + 30 * min, expected: { status: 'healthy' } },
    { name: 'never pinged, late', rec: { first_seen: T0 }, at: T0 + 65 * min, expected: { status: 'degraded' } },
    {
      name: 'never pinged, past the grace', rec: { first_seen: T0 }, at: T0 + 71 * min,
      expected: { status: 'critical', reason: 'missing', message: /^no success ping yet \(watching since 2026-03-27T12:00:00Z\); expected by 2026-03-27T13:00:00Z, grace 10m ended 2026-03-27T13:10:00Z$/ },
    },
    { name: 'on time', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 59 * min, expected: { status: 'healthy' } },
    { name: 'late after a success', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 61 * min, expected: { status: 'degraded' } },
    { name: 'missed after a success', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 80 * min, expected: { status: 'critical', reason: 'missing', message: /^no success since 2026-03-27T12:00:00Z;/ } },
    {
      name: 'failed: critical at once, with exit code and message', rec: { first_seen: T0, last_success: T0, last_fail: T0 + min, last_exit_code: 3, last_message: 'disk full' }, at: T0 + 2 * min,
      expected: { status: 'critical', reason: 'status', message: /^last run failed with exit code 3 at 2026-03-27T12:01:00Z, expected success: disk full$/ },
    },
    { name: 'a success after a failure clears it', rec: { first_seen: T0, last_fail: T0, last_success: T0 + min }, at: T0 + 2 * min, expected: { status: 'healthy' } },
    { name: 'running past the expected time is not late', rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 65 * min, expected: { status: 'healthy' } },
    { name: 'running without max_run_time: missed after the grace', rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 75 * min, expected: { status: 'critical', reason: 'missing' } },
    { name: 'running within max_run_time is given its time', check: withRunTime, rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 74 * min, expected: { status: 'healthy' } },
    {
      name: 'start without finish past max_run_time', check: withRunTime, rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 76 * min,
      expected: { status: 'critical', reason: 'timeout', message: /^started at 2026-03-27T12:55:00Z and not finished within max_run_time 20m$/ },
    },
  ];
  it.each(cases)('$name', ({ check, rec, at, expected }) => {
    const r = status(check ?? hourly, rec, at);
    expect(r.status).toBe(expected.status);
    if (expected.reason) expect(r.reason).toBe(expected.reason);
    if (expected.message) expect(r.message).toMatch(expected.message);
  });

  it('exports the figures alerts need (time() - x)', () => {
    const r = evaluateHeartbeat(hourly, { first_seen: T0, last_success: T0, last_start: T0 - min, last_duration: 60, last_exit_code: 0 }, T0 + 61 * min);
    const v = Object.fromEntries(r.samples.map((s) => [s.metric, s.value]));
    expect(v).toEqual({
      vigil_heartbeat_last_success_timestamp_seconds: T0 / 1000,
      vigil_heartbeat_next_expected_timestamp_seconds: (T0 + 60 * min) / 1000,
      vigil_heartbeat_grace_seconds: 600,
      vigil_heartbeat_last_duration_seconds: 60,
      vigil_heartbeat_last_exit_code: 0,
      vigil_heartbeat_running: 0,
      vigil_heartbeat_late_seconds: 60,
    });
  });

  it('cron schedules follow the time zone, across a DST change', () => {
    const nightly = makeCheck({ type: 'heartbeat', schedule: '0 3 * * *', timezone: 'Europe/Berlin', grace: '30m' }) as HeartbeatCheck;
    // 03:10 CET on Saturday; the next 03:00 in Berlin is after the switch to CEST (UTC+2).
    const due = nextExpected(nightly, Date.parse('2026-03-28T02:10:00Z'), true);
    expect(new Date(due).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // A ping a few seconds early (clock skew) belongs to that night's slot, not to a slot 10 s later.
    expect(new Date(nextExpected(nightly, Date.parse('2026-03-28T01:59:50Z'), true)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // Before the first ping the origin is when Vigil started watching: no tolerance.
    expect(new Date(nextExpected(nightly, Date.parse('2026-03-28T01:59:50Z'), false)).toISOString()).toBe('2026-03-28T02:00:00.000Z');
    // Every 5 minutes with a long grace: the tolerance is at most half the gap.
    const often = makeCheck({ type: 'heartbeat', schedule: '*/5 * * * *', grace: '1h' }) as HeartbeatCheck;
    expect(new Date(nextExpected(often, Date.parse('2026-01-01T00:00:05Z'), true)).toISOString()).toBe('2026-01-01T00:05:00.000Z');
  });
});

describe('heartbeat store (in the database)', () => {
  const dirs: string[] = [];
  const dbs: SqliteSql[] = [];
  afterEach(async () => {
    for (const d of dbs.splice(0)) await d.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A storage directory with its database open. */
  const storage = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-hb-'));
    dirs.push(dir);
    const sql = await openSqliteRecord(dir, silentLogger);
    dbs.push(sql);
    return { dir, sql, legacyFile: path.join(dir, 'heartbeats.json') };
  };
  const storeOn = (s: { sql: RecordSql; legacyFile?: string }, opts: Partial<HeartbeatStoreOptions> = {}) => new HeartbeatStore({ sql: shared(s.sql), log: silentLogger, legacyFile: s.legacyFile, ...opts });
  /** What another connection reads from the file: committed rows only. */
  const onDisk = (dir: string) => {
    const db = new Database(path.join(dir, 'vigil.db'), { readonly: true });
    return { row: (name: string) => db.prepare('SELECT * FROM heartbeats WHERE name = ?').get(name) as Record<string, number | string | null> | undefined, close: () => db.close() };
  };

  it('persists pings and a new store (a restarted exporter) reads them back', async () => {
    const st = await storage();
    const a = storeOn(st);
    await a.open();
    a.ensure('job', T0);
    await a.ping('job', 'start', {}, T0 + 1000);
    await a.ping('job', 'success', {}, T0 + 31_000);
    await a.ping('other', 'fail', { exit_code: 2, message: 'boom' }, T0 + 40_000);
    const b = storeOn(st);
    await b.open();
    expect(b.get('job')).toEqual({ first_seen: T0, last_ping: T0 + 31_000, last_event: 'success', last_start: T0 + 1000, last_success: T0 + 31_000, last_duration: 30, last_exit_code: 0 });
    expect(b.get('other')).toMatchObject({ last_fail: T0 + 40_000, last_exit_code: 2, last_message: 'boom' });
    await b.ping('other', 'fail', {}, T0 + 50_000);
    expect(b.get('other')).toMatchObject({ last_exit_code: 1, last_message: undefined }); // /fail without a code counts as 1
    // ensure() never resets what is known (a restart must not move the schedule's origin).
    expect(b.ensure('job', T0 + 999_999).first_seen).toBe(T0);
  });

  it('coalesces a burst of pings; every caller resolves after its ping is committed', async () => {
    const st = await storage();
    const s = storeOn(st);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.ping(`job${i}`, 'success', { duration_seconds: i }, T0 + i)));
    const disk = onDisk(st.dir);
    try {
      expect(Array.from({ length: 20 }, (_, i) => disk.row(`job${i}`)?.last_duration)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      disk.close();
    }
  });

  /** Transactions that wait for the test: each call is one group-commit round. */
  function heldWrites(inner: RecordSql) {
    const rounds: Array<{ statements: Statement[]; done: (err?: Error) => void }> = [];
    const sql: RecordSql = {
      ...shared(inner),
      transaction: (statements) => new Promise((resolve, reject) => {
        rounds.push({ statements, done: (err) => (err ? reject(err) : resolve(inner.transaction(statements))) });
      }),
    };
    const settled = (p: Promise<unknown>) => { let s = false; p.then(() => { s = true; }, () => { s = true; }); return () => s; };
    /** Until the store has started round `n` (the database answers from its worker: no fixed wait). */
    const round = async (n: number) => {
      for (let i = 0; i < 1000 && rounds.length < n; i++) await new Promise((r) => setTimeout(r, 5));
      expect(rounds).toHaveLength(n);
    };
    return { rounds, sql, settled, round, heartbeats: (i: number) => rounds[i].statements.map((st) => st.params![0]) };
  }

  it('a ping that arrives during a write waits for the next write, which holds it', async () => {
    const st = await storage();
    const w = heldWrites(st.sql);
    const s = storeOn({ sql: w.sql });
    await s.open();
    const a = s.ping('a', 'success', {}, T0);
    await w.round(1); // round 1 (a) is in flight
    const b = s.ping('b', 'success', {}, T0 + 1);
    const c = s.ping('c', 'success', {}, T0 + 2);
    const [bDone, cDone] = [w.settled(b), w.settled(c)];
    w.rounds[0].done();
    await a;
    await w.round(2);
    expect(bDone() || cDone()).toBe(false); // not resolved by round 1, which did not hold them
    expect(w.heartbeats(1)).toEqual(['b', 'c']); // b and c batched into round 2 (only changed rows are written)
    expect(s.get('b')).toBeUndefined(); // not visible before it is committed
    w.rounds[1].done();
    expect((await b).last_success).toBe(T0 + 1);
    expect((await c).last_success).toBe(T0 + 2);
    expect(s.get('c')?.last_success).toBe(T0 + 2);
  });

  it('a steady stream: when a ping is acknowledged, the file on disk already holds it (2 000 pings)', async () => {
    const st = await storage();
    const s = storeOn(st);
    const disk = onDisk(st.dir);
    let early = 0;
    let t = T0;
    try {
      // 20 jobs, each pinging again as soon as its last ping was acknowledged.
      await Promise.all(Array.from({ length: 20 }, async (_, job) => {
        for (let i = 0; i < 100; i++) {
          const at = ++t;
          await s.ping(`job${job}`, 'success', {}, at);
          if (!(Number(disk.row(`job${job}`)?.last_ping) >= at)) early++;
        }
      }));
    } finally {
      disk.close();
    }
    expect(early).toBe(0);
  });

  it('a failed write rejects its pings and changes nothing; the next write does not hold them', async () => {
    const st = await storage();
    const w = heldWrites(st.sql);
    const s = storeOn({ sql: w.sql });
    const first = s.ping('job', 'success', {}, T0);
    await w.round(1);
    w.rounds[0].done();
    await first;
    const failing = s.ping('job', 'fail', { exit_code: 3 }, T0 + 1000);
    await w.round(2);
    w.rounds[1].done(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    await expect(failing).rejects.toThrow(/disk is full/);
    expect(s.get('job')).toMatchObject({ last_success: T0, last_exit_code: 0 });
    expect(s.get('job')?.last_fail).toBeUndefined(); // the page and the probe never see the lost ping
    const later = s.ping('other', 'success', {}, T0 + 2000);
    await w.round(3);
    expect(w.heartbeats(2)).toEqual(['other']);
    w.rounds[2].done();
    await later;
    const disk = onDisk(st.dir);
    try {
      expect(disk.row('job')).toMatchObject({ last_success: T0, last_fail: null });
    } finally {
      disk.close();
    }
  });

  it('a failed write is reported (store="heartbeats") and the store recovers', async () => {
    const st = await storage();
    const failures: string[] = [];
    let successes = 0;
    const report = { writeFailed: (store: string) => failures.push(store), writeSucceeded: () => { successes++; } };
    let failing = false;
    const sql: RecordSql = { ...shared(st.sql), transaction: (x) => (failing ? Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })) : st.sql.transaction(x)) };
    const s = storeOn({ sql }, { report });
    await s.ping('job', 'success', {}, T0);
    failing = true;
    await expect(s.ping('job', 'fail', {}, T0 + 1)).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
    expect(failures).toEqual(['heartbeats']);
    failing = false;
    await s.ping('job', 'success', {}, T0 + 2);
    expect(successes).toBe(2);
    expect(s.get('job')).toMatchObject({ last_success: T0 + 2 });
  });

  it('a write before the store could be read reads it first (never replaces a record it has not seen)', async () => {
    const st = await storage();
    const a = storeOn(st);
    await a.ping('job', 'start', {}, T0);
    let readable = false;
    const sql: RecordSql = { ...shared(st.sql), all: (text, params) => (readable ? st.sql.all(text, params) : Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }))) };
    const b = storeOn({ sql });
    await expect(b.open()).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
    await expect(b.ping('job', 'success', {}, T0 + 10_000)).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
    readable = true;
    expect(await b.ping('job', 'success', {}, T0 + 20_000)).toMatchObject({ first_seen: T0, last_start: T0, last_duration: 20 });
  });
});

describe('heartbeat store: import of heartbeats.json (earlier versions)', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  const OLD = { version: 1, heartbeats: { job: { first_seen: T0, last_ping: T0 + 5, last_event: 'success', last_success: T0 + 5, last_duration: 1.5, last_exit_code: 0 }, other: { first_seen: T0 + 1, last_fail: T0 + 7, last_message: 'boom', last_exit_code: 2 } } };

  it('imports every heartbeat once, renames the file, and a crash before the rename imports nothing twice', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-hb-import-'));
    dirs.push(dir);
    const legacyFile = path.join(dir, 'heartbeats.json');
    writeFileSync(legacyFile, JSON.stringify(OLD, null, 1) + '\n');
    writeFileSync(`${legacyFile}.tmp-12345`, '{"partial'); // an old version's unfinished write: never read
    const sql = await openSqliteRecord(dir, silentLogger);
    try {
      const s = new HeartbeatStore({ sql, log: silentLogger, legacyFile });
      await s.open();
      expect(s.get('job')).toEqual(OLD.heartbeats.job);
      expect(s.get('other')).toEqual(OLD.heartbeats.other);
      expect(readdirSync(dir).filter((f) => f.startsWith('heartbeats.json')).sort()).toEqual(['heartbeats.json.migrated', 'heartbeats.json.tmp-12345']);
      await s.ping('job', 'success', {}, T0 + 100);
      // The crash after the commit, before the rename: the old file is back; the import is not run again.
      renameSync(`${legacyFile}.migrated`, legacyFile);
      const again = new HeartbeatStore({ sql, log: silentLogger, legacyFile });
      await again.open();
      expect(again.get('job')?.last_success).toBe(T0 + 100);
      expect(existsSync(legacyFile)).toBe(false);
    } finally {
      await sql.close();
    }
  });

  it('keeps an unreadable file aside instead of importing it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-hb-import-'));
    dirs.push(dir);
    const legacyFile = path.join(dir, 'heartbeats.json');
    writeFileSync(legacyFile, '{ not json');
    const sql = await openSqliteRecord(dir, silentLogger);
    try {
      const s = new HeartbeatStore({ sql, log: silentLogger, legacyFile });
      await s.open();
      expect(s.names()).toEqual([]);
      await s.ping('y', 'success', {}, T0);
      expect(readdirSync(dir).some((f) => f.startsWith('heartbeats.json.corrupt-'))).toBe(true);
    } finally {
      await sql.close();
    }
  });
});
