// The durable notification log in the database: restart, group commit, bounds (rows deleted from
// the table too), failed writes, and the one-time import of the JSON-lines file of earlier
// versions (torn last line, invalid lines, a crash before or after the import's commit).
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLog, type NotificationRecord } from '../../exporter/alerts/log.js';
import { shared, type RecordSql } from '../../exporter/db/sql.js';
import { openSqliteRecord, type SqliteSql } from '../../exporter/db/sqlite.js';
import { silentLogger } from '../../exporter/log.js';

let dir: string;
let file: string;
let sql: SqliteSql;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-alertlog-'));
  file = path.join(dir, 'alert-notifications.jsonl');
  sql = await openSqliteRecord(dir, silentLogger);
});
afterEach(async () => {
  await sql.close();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (n: number, over: Partial<NotificationRecord> = {}): Omit<NotificationRecord, 'id' | 'batch'> => ({
  received_at: new Date(1_800_000_000_000 + n * 1000).toISOString(),
  receiver: 'vigil',
  status: 'firing',
  fingerprint: `f${n.toString(16).padStart(15, '0')}`,
  labels: { alertname: 'VigilCheckCritical', severity: 'critical', check: `c${n}` },
  annotations: { summary: `check c${n} is critical` },
  starts_at: new Date(1_800_000_000_000 + n * 1000 - 500).toISOString(),
  ends_at: null,
  generator_url: 'http://prometheus/graph',
  group_key: '{}:{}',
  truncated_alerts: 0,
  external_url: 'http://alertmanager',
  ...over,
});

const rows = async () => (await sql.all<{ id: number; check_name: string }>('SELECT id, check_name FROM notifications ORDER BY id'));
const newLog = (opts: Partial<ConstructorParameters<typeof AlertLog>[0]> = {}) => new AlertLog({ sql: shared(sql), log: silentLogger, legacyFile: file, ...opts });

/** A database whose writes fail while `failing` is set (a full disk). */
function failable(inner: RecordSql) {
  const state = { failing: false };
  const db: RecordSql = {
    ...shared(inner),
    transaction: (st) => (state.failing ? Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })) : inner.transaction(st)),
  };
  return { db, state };
}

describe('AlertLog', () => {
  it('appends durably, one row per record, and reloads after a restart', async () => {
    const a = newLog();
    await a.open();
    const stored = await a.append([rec(1), rec(2)]);
    expect(stored.map((r) => r.id)).toEqual([1, 2]);
    await a.append([rec(3)]);
    await a.close();
    expect((await rows()).map((r) => [r.id, r.check_name])).toEqual([[1, 'c1'], [2, 'c2'], [3, 'c3']]);

    const b = newLog();
    expect(await b.open()).toEqual({ records: 3, torn_bytes: 0, skipped_lines: 0 });
    expect(b.records().map((r) => r.labels.check)).toEqual(['c1', 'c2', 'c3']);
    expect(b.records()[0]).toEqual({ id: 1, batch: 1, ...rec(1) }); // every field comes back as it was sent
    const [next] = await b.append([rec(4)]);
    expect(next.id).toBe(4); // ids continue after a restart
    await b.close();
  });

  it('keeps the times Alertmanager sent as text (nanoseconds, offsets) and the column copies for joins', async () => {
    const a = newLog();
    const [r] = await a.append([rec(1, { starts_at: '2026-11-24T23:01:02.123456789Z', ends_at: '2026-11-25T01:00:00+02:00', labels: { alertname: 'A', check: 'db', component: 'data' } })]);
    const b = newLog();
    await b.open();
    expect(b.records()[0]).toEqual(r);
    expect(await sql.all('SELECT alertname, check_name, component, starts_at, ends_at FROM notifications')).toEqual([
      { alertname: 'A', check_name: 'db', component: 'data', starts_at: Date.parse('2026-11-24T23:01:02.123Z'), ends_at: Date.parse('2026-11-24T23:00:00Z') },
    ]);
  });

  it('records appended together share a batch (one notification)', async () => {
    const a = newLog();
    const first = await a.append([rec(1), rec(2)]);
    const second = await a.append([rec(3)]);
    expect(first.map((r) => r.batch)).toEqual([1, 1]);
    expect(second.map((r) => r.batch)).toEqual([3]);
    await a.close();
  });

  it('an empty database and no old file is an empty log', async () => {
    const a = newLog();
    expect(await a.open()).toEqual({ records: 0, torn_bytes: 0, skipped_lines: 0 });
    expect(existsSync(file)).toBe(false);
  });

  // The table is bounded by the retention and its own byte budget, not by what memory holds:
  // incidents further back still join on their notifications (was: the table cut at maxRecords).
  it('keeps the newest maxRecords in memory; the table keeps them all', async () => {
    const a = newLog({ maxRecords: 20 });
    for (let i = 1; i <= 26; i++) await a.append([rec(i)]);
    await a.idle();
    expect(a.records().map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 7));
    expect((await rows()).map((r) => r.id)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    await a.close();
    const b = newLog({ maxRecords: 20 });
    await b.open();
    expect(b.records().map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 7));
    await b.append([rec(27)]);
    expect((await rows()).map((r) => r.id)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });

  it('bounds the bytes kept in memory as well', async () => {
    const big = 'x'.repeat(1000);
    const a = newLog({ maxBytes: 10_000 });
    for (let i = 1; i <= 30; i++) await a.append([rec(i, { annotations: { description: big } })]);
    await a.idle();
    expect(a.records().length).toBeLessThanOrEqual(9);
    expect(a.records().at(-1)!.id).toBe(30);
    expect(await rows()).toHaveLength(30);
    await a.close();
  });

  it('removes rows past the retention from the table (and from memory), at open and with each append', async () => {
    let now = Date.parse(rec(10).received_at) + 1;
    const a = newLog({ now: () => now });
    for (let i = 1; i <= 10; i++) await a.append([rec(i)]);
    a.configure(5_500); // history.retention: rows received more than 5.5 s before now go
    await a.append([rec(11)]);
    expect((await rows()).map((r) => r.id)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(a.records().map((r) => r.id)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    await a.close();
    now += 3_000;
    const b = newLog({ now: () => now, retentionMs: 5_500 });
    await b.open();
    expect((await rows()).map((r) => r.id)).toEqual([8, 9, 10, 11]);
  });

  it('keeps the table within its byte budget, the oldest rows going first', async () => {
    const big = 'x'.repeat(1000);
    const a = newLog({ tableMaxBytes: 20_000 });
    for (let i = 1; i <= 40; i++) await a.append([rec(i, { annotations: { description: big } })]);
    await a.idle();
    const ids = (await rows()).map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(ids.length).toBeLessThan(20);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 41 - ids.length + i)); // the newest, contiguous
    const [{ b }] = await sql.all<{ b: number }>('SELECT sum(length(annotations) + length(labels)) AS b FROM notifications');
    expect(b).toBeLessThan(20_000);
    await a.close();
  });

  it('two logs on one database (instances sharing a record) never hand out the same id', async () => {
    const a = newLog();
    const b = newLog({ legacyFile: undefined });
    await Promise.all([a.open(), b.open()]);
    const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append([rec(i), rec(i + 100)])));
    const ids = stored.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(40);
    expect((await rows()).map((r) => r.id).sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
  });

  it('group-commits concurrent appends in order', async () => {
    const a = newLog();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => a.append([rec(i)])));
    expect(results.map((r) => r[0].id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await rows()).map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await a.close();
  });

  it('a failed write rejects, is reported, shows nothing, and the log recovers', async () => {
    const failed: string[] = [];
    let succeeded = 0;
    const report = { writeFailed: (store: string) => failed.push(store), writeSucceeded: () => { succeeded++; } };
    const { db, state } = failable(sql);
    const a = new AlertLog({ sql: db, log: silentLogger, report });
    await a.append([rec(1)]);
    state.failing = true;
    await expect(a.append([rec(2)])).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(failed).toEqual(['alert_log']);
    expect(a.records().map((r) => r.labels.check)).toEqual(['c1']);
    state.failing = false;
    await a.append([rec(3)]);
    expect(succeeded).toBe(2);
    expect((await rows()).map((r) => r.check_name)).toEqual(['c1', 'c3']);
  });

  it('rejects appends after close', async () => {
    const a = newLog();
    await a.close();
    await expect(a.append([rec(1)])).rejects.toThrow(/closed/);
  });
});

describe('AlertLog: import of alert-notifications.jsonl (earlier versions)', () => {
  const line = (id: number, over: Record<string, unknown> = {}) => JSON.stringify({ id, batch: id, ...rec(id), ...over }) + '\n';

  it('imports every record once, drops a torn last line, skips invalid lines, and renames the file', async () => {
    const { batch: _b, truncated_alerts: _t, ...legacy } = { id: 3, batch: 0, ...rec(3) }; // a line from before batches
    const half = line(4);
    writeFileSync(file, line(1) + '{"not":"a record"}\n' + line(2) + 'garbage \u0000\n' + JSON.stringify(legacy) + '\n' + half.slice(0, half.length >> 1));
    const a = newLog();
    expect(await a.open()).toEqual({ records: 3, torn_bytes: half.length >> 1, skipped_lines: 2 });
    expect(a.records().map((r) => [r.id, r.batch, r.truncated_alerts, r.labels.check])).toEqual([[1, 1, 0, 'c1'], [2, 2, 0, 'c2'], [3, 3, 0, 'c3']]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.migrated`)).toBe(true);
    expect((await a.append([rec(5)]))[0].id).toBe(4); // ids go on after the imported ones
    expect(await sql.all('SELECT file, records FROM legacy_imports')).toEqual([{ file: 'alert-notifications.jsonl', records: 3 }]);
  });

  it('a complete record without its newline is torn too (its write was never acknowledged)', async () => {
    writeFileSync(file, line(1) + line(2).trimEnd());
    const a = newLog();
    expect(await a.open()).toMatchObject({ records: 1 });
  });

  it('a crash before the import committed imports it next time; one after it (file not yet renamed) never imports twice', async () => {
    writeFileSync(file, line(1) + line(2));
    const { db, state } = failable(sql);
    state.failing = true;
    await expect(new AlertLog({ sql: db, log: silentLogger, legacyFile: file }).open()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(existsSync(file)).toBe(true); // not imported: kept for the next start
    expect(await rows()).toEqual([]);

    const a = newLog();
    await a.open();
    expect((await rows()).map((r) => r.id)).toEqual([1, 2]);
    // The crash after the commit, before the rename: the file is there again.
    copyFileSync(`${file}.migrated`, file);
    rmSync(`${file}.migrated`);
    const b = newLog();
    await b.open();
    expect(b.records().map((r) => r.id)).toEqual([1, 2]);
    expect((await rows()).map((r) => r.id)).toEqual([1, 2]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.migrated`)).toBe(true);
  });

  it('an imported file larger than the bound keeps only the newest records in memory, all of them in the table, and ids go on after them', async () => {
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => line(i + 1)).join(''));
    const a = newLog({ maxRecords: 20 });
    expect(await a.open()).toMatchObject({ records: 20 });
    expect((await rows()).map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const [next] = await a.append([rec(31)]);
    expect(next.id).toBe(31);
  });
});
