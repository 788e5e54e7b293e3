// The record's online backup (CheckRecord.backup) and its storage gauges (record/metrics.ts):
// the copy holds what was queued but not yet flushed, one backup runs at a time, and
// vigil_storage_bytes / vigil_storage_last_successful_write_timestamp_seconds follow the disk.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import client from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { RECORD_FILE } from '../../exporter/db/schema.js';
import { LAST_WRITE_METRIC, registerRecordMetrics, STORAGE_BYTES_METRIC } from '../../exporter/record/metrics.js';
import { BackupBusyError, CheckRecord } from '../../exporter/record/record.js';

let dir: string;
let records: CheckRecord[];
const now = Date.UTC(2026, 11, 1, 12, 0, 0);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-record-backup-'));
  records = [];
});
afterEach(async () => {
  for (const r of records.splice(0)) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

let clock = now;
function record(backupKeep?: number): CheckRecord {
  clock = now;
  const r = new CheckRecord({ dir, log: createLogger({ level: 'error', write: () => {} }), report: { countWriteError: () => {} }, now: () => clock, backupKeep });
  records.push(r);
  return r;
}

function result(check: string, t: number): CheckResult {
  return { check, ok: true, status: 'healthy', violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t };
}

async function value(registry: client.Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('record backup', () => {
  it('flushes what is queued first: the copy holds results not yet written by the timer', async () => {
    const r = record();
    for (let i = 0; i < 50; i++) r.addResult(result('db', now - 50_000 + i * 1000), 60_000);
    expect(r.pending).toBe(50);
    const b = await r.backup();
    expect(path.dirname(b.file)).toBe(path.join(dir, 'backups'));
    expect(path.basename(b.file)).toBe('vigil-2026-12-01T12-00-00-000Z.db');
    expect(b.bytes).toBe(statSync(b.file).size);
    expect(b.duration_seconds).toBeGreaterThanOrEqual(0);
    const copy = new Database(b.file, { readonly: true });
    try {
      expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
      expect(copy.prepare('SELECT count(*) FROM results').pluck().get()).toBe(50);
    } finally {
      copy.close();
    }
    expect(readdirSync(path.join(dir, 'backups'))).toEqual([path.basename(b.file)]); // no .partial left
  });

  it('one at a time: a second backup while one runs is refused with BackupBusyError, then allowed again', async () => {
    const r = record();
    r.addResult(result('db', now), 60_000);
    const first = r.backup();
    await expect(r.backup()).rejects.toBeInstanceOf(BackupBusyError);
    await first;
    rmSync(path.join(dir, 'backups'), { recursive: true });
    await expect(r.backup()).resolves.toMatchObject({ bytes: expect.any(Number) });
  });
});

describe('record backup rotation', () => {
  it('keeps the newest --storage.backup.keep whole backups; older ones and nothing else are removed', async () => {
    const r = record(2);
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    writeFileSync(path.join(backups, 'notes.txt'), 'an operator\'s file');
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock = now + i * 3_600_000;
      r.addResult(result('db', clock), 60_000);
      names.push(path.basename((await r.backup()).file));
    }
    expect(readdirSync(backups).sort()).toEqual(['notes.txt', names[2], names[3]]);
  });

  it('0 keeps every backup', async () => {
    const r = record(0);
    for (let i = 0; i < 3; i++) {
      clock = now + i * 1_000;
      await r.backup();
    }
    expect(readdirSync(path.join(dir, 'backups'))).toHaveLength(3);
  });

  it('a .partial left by a crash mid-backup is removed at start and never counted as a backup', async () => {
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    writeFileSync(path.join(backups, 'vigil-2026-11-30T00-00-00-000Z.db.partial'), 'half a copy');
    writeFileSync(path.join(backups, 'vigil-2026-11-29T00-00-00-000Z.db'), 'a whole one');
    const r = record(1);
    r.start();
    expect(readdirSync(backups)).toEqual(['vigil-2026-11-29T00-00-00-000Z.db']);
    const b = await r.backup();
    expect(readdirSync(backups)).toEqual([path.basename(b.file)]);
  });
});

describe('record storage metrics', () => {
  it('vigil_storage_bytes{file="vigil.db"} is the database plus its WAL, 0 before the file exists', async () => {
    const registry = new client.Registry();
    const file = path.join(dir, RECORD_FILE);
    registerRecordMetrics(registry, { file });
    expect(await value(registry, STORAGE_BYTES_METRIC, { file: 'vigil.db' })).toBe(0);
    writeFileSync(file, Buffer.alloc(4096));
    writeFileSync(`${file}-wal`, Buffer.alloc(1000));
    writeFileSync(`${file}-shm`, Buffer.alloc(32768)); // shared memory: not data, not counted
    expect(await value(registry, STORAGE_BYTES_METRIC, { file: 'vigil.db' })).toBe(5096);
  });

  it('last successful write: absent before the first flush, the flush time after it, unchanged by a failed one', async () => {
    const registry = new client.Registry();
    const r = record();
    registerRecordMetrics(registry, r);
    expect(await value(registry, LAST_WRITE_METRIC, { store: 'record' })).toBeUndefined();
    r.addResult(result('db', now), 60_000);
    await r.flush();
    expect(await value(registry, LAST_WRITE_METRIC, { store: 'record' })).toBe(now / 1000);
    const db = path.join(dir, RECORD_FILE);
    expect(await value(registry, STORAGE_BYTES_METRIC, { file: 'vigil.db' })).toBe(statSync(db).size + statSync(`${db}-wal`).size);
  });
});
