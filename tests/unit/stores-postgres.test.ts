// The heartbeat store and the alert log on a real PostgreSQL (storage.type: postgres): they only
// depend on RecordSql, so the same code keeps them there — pings and notifications committed
// before they are acknowledged, read back by a restarted instance, the old files imported once.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertLog, type NotificationRecord } from '../../exporter/alerts/log.js';
import { clearSecrets } from '../../exporter/config/secrets.js';
import { openPostgresRecord } from '../../exporter/db/postgres.js';
import type { RecordSql } from '../../exporter/db/sql.js';
import { silentLogger } from '../../exporter/log.js';
import { HeartbeatStore } from '../../exporter/probes/heartbeat/store.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
let server: PostgresServer;
let databases = 0;
let dir: string;
let sql: RecordSql;

beforeAll(async () => {
  server = await startPostgres({ password: 'stores-pg-s3cret' });
}, 90_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  const name = `pg_stores_${++databases}`;
  const admin = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try { await admin.query(`CREATE DATABASE ${name}`); } finally { await admin.end(); }
  sql = await openPostgresRecord({ dsn: server.url.replace(/\/postgres$/, `/${name}`), log: silentLogger, connectTimeoutMs: 3_000, statementTimeoutMs: 5_000 });
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-stores-pg-'));
});
afterEach(async () => {
  await sql.close();
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});

const rec = (n: number): Omit<NotificationRecord, 'id' | 'batch'> => ({
  received_at: new Date(T0 + n * 1000).toISOString(), receiver: 'vigil', status: 'firing', fingerprint: `f${n}`,
  labels: { alertname: 'VigilCheckCritical', check: `c${n}` }, annotations: {}, starts_at: '2026-11-24T23:01:02.123456789Z', ends_at: null,
  generator_url: '', group_key: '{}:{}', truncated_alerts: 0, external_url: '',
});

describe('stores on PostgreSQL', () => {
  it('heartbeats: an old heartbeats.json is imported once; pings are committed and read back after a restart', async () => {
    const legacyFile = path.join(dir, 'heartbeats.json');
    writeFileSync(legacyFile, JSON.stringify({ version: 1, heartbeats: { job: { first_seen: T0, last_success: T0 + 5, last_duration: 1.5 } } }));
    const a = new HeartbeatStore({ sql, log: silentLogger, legacyFile });
    await a.open();
    expect(a.get('job')).toEqual({ first_seen: T0, last_success: T0 + 5, last_duration: 1.5 });
    expect(existsSync(`${legacyFile}.migrated`)).toBe(true);
    await Promise.all([a.ping('job', 'start', {}, T0 + 10_000), a.ping('other', 'fail', { exit_code: 3, message: 'boom' }, T0 + 11_000)]);
    await a.ping('job', 'success', {}, T0 + 40_000);
    const b = new HeartbeatStore({ sql, log: silentLogger, legacyFile });
    await b.open();
    expect(b.get('job')).toEqual({ first_seen: T0, last_ping: T0 + 40_000, last_event: 'success', last_start: T0 + 10_000, last_success: T0 + 40_000, last_duration: 30, last_exit_code: 0 });
    expect(b.get('other')).toMatchObject({ last_fail: T0 + 11_000, last_exit_code: 3, last_message: 'boom' });
  });

  it('alert log: the old log imported (torn line dropped), appends group-committed, memory bound kept (the table keeps every record), read back after a restart', async () => {
    const legacyFile = path.join(dir, 'alert-notifications.jsonl');
    const line = (id: number) => JSON.stringify({ id, batch: id, ...rec(id) }) + '\n';
    writeFileSync(legacyFile, line(1) + line(2) + line(3).slice(0, 30));
    const a = new AlertLog({ sql, log: silentLogger, legacyFile, maxRecords: 5 });
    expect(await a.open()).toMatchObject({ records: 2, skipped_lines: 0 });
    const appended = await Promise.all([3, 4, 5, 6].map((n) => a.append([rec(n)])));
    expect(appended.map((r) => r[0].id)).toEqual([3, 4, 5, 6]);
    const b = new AlertLog({ sql, log: silentLogger, legacyFile, maxRecords: 5 });
    await b.open();
    expect(b.records().map((r) => [r.id, r.labels.check])).toEqual([[2, 'c2'], [3, 'c3'], [4, 'c4'], [5, 'c5'], [6, 'c6']]);
    expect(b.records()[0].starts_at).toBe('2026-11-24T23:01:02.123456789Z');
    // The table is bounded by history.retention and a byte budget, not by maxRecords (alerts-log.test.ts).
    expect((await sql.all<{ id: number }>('SELECT id FROM notifications ORDER BY id')).map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
