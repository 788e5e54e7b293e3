// The durable notification log: restart, torn last line, invalid lines, bounds and compaction.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLog, type NotificationRecord } from '../../exporter/alerts/log.js';
import { silentLogger } from '../../exporter/log.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-alertlog-'));
  file = path.join(dir, 'sub', 'alerts.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

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

const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('AlertLog', () => {
  it('appends durably, one JSON line per record, and reloads after a restart', async () => {
    const a = new AlertLog({ file, log: silentLogger });
    const stored = await a.append([rec(1), rec(2)]);
    expect(stored.map((r) => r.id)).toEqual([1, 2]);
    await a.append([rec(3)]);
    await a.close();
    expect(lines()).toHaveLength(3);
    expect(JSON.parse(lines()[2])).toMatchObject({ id: 3, labels: { check: 'c3' } });

    const b = new AlertLog({ file, log: silentLogger });
    expect(b.load()).toEqual({ records: 3, torn_bytes: 0, skipped_lines: 0 });
    expect(b.records().map((r) => r.labels.check)).toEqual(['c1', 'c2', 'c3']);
    const [next] = await b.append([rec(4)]);
    expect(next.id).toBe(4); // ids continue after a restart
    await b.close();
  });

  it('records appended together share a batch (one notification); old lines without one get their id', async () => {
    const a = new AlertLog({ file, log: silentLogger });
    const first = await a.append([rec(1), rec(2)]);
    const second = await a.append([rec(3)]);
    expect(first.map((r) => r.batch)).toEqual([1, 1]);
    expect(second.map((r) => r.batch)).toEqual([3]);
    await a.close();
    const { batch: _b, truncated_alerts: _t, ...legacy } = { id: 4, batch: 0, ...rec(4) };
    appendFileSync(file, JSON.stringify(legacy) + '\n');
    const b = new AlertLog({ file, log: silentLogger });
    expect(b.records().map((r) => [r.id, r.batch, r.truncated_alerts])).toEqual([[1, 1, 0], [2, 1, 0], [3, 3, 0], [4, 4, 0]]);
  });

  it('a missing file is an empty log', () => {
    const a = new AlertLog({ file, log: silentLogger });
    expect(a.load()).toEqual({ records: 0, torn_bytes: 0, skipped_lines: 0 });
    expect(existsSync(file)).toBe(false);
  });

  it('drops a torn last line (crash mid-write), truncates it, and appends on a clean line', async () => {
    const a = new AlertLog({ file, log: silentLogger });
    await a.append([rec(1), rec(2)]);
    await a.close();
    const good = statSync(file).size;
    const half = JSON.stringify({ id: 3, ...rec(3) });
    appendFileSync(file, half.slice(0, Math.floor(half.length / 2))); // the crash

    const b = new AlertLog({ file, log: silentLogger });
    const report = b.load();
    expect(report.records).toBe(2);
    expect(report.torn_bytes).toBe(Math.floor(half.length / 2));
    expect(statSync(file).size).toBe(good);
    await b.append([rec(4)]);
    await b.close();
    expect(lines().map((l) => JSON.parse(l).labels.check)).toEqual(['c1', 'c2', 'c4']);
  });

  it('a complete record without its newline is also torn (the write was never acknowledged)', async () => {
    mkdirp();
    writeFileSync(file, JSON.stringify({ id: 1, ...rec(1) }) + '\n' + JSON.stringify({ id: 2, ...rec(2) }));
    const a = new AlertLog({ file, log: silentLogger });
    expect(a.load()).toMatchObject({ records: 1 });
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('skips complete lines that are not valid records instead of failing', async () => {
    mkdirp();
    writeFileSync(file, [
      JSON.stringify({ id: 1, ...rec(1) }),
      '{"not":"a record"}',
      'garbage \u0000',
      JSON.stringify({ id: 2, ...rec(2) }),
      '',
    ].join('\n'));
    const a = new AlertLog({ file, log: silentLogger });
    expect(a.load()).toEqual({ records: 2, torn_bytes: 0, skipped_lines: 2 });
  });

  it('keeps the newest maxRecords and compacts the file (temp + rename) once it exceeds 1.25x', async () => {
    const a = new AlertLog({ file, log: silentLogger, maxRecords: 20 });
    for (let i = 1; i <= 25; i++) await a.append([rec(i)]);
    await a.idle();
    expect(a.records().map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    expect(lines()).toHaveLength(25); // 25 = 1.25 x 20: not yet
    await a.append([rec(26)]);
    await a.idle(); // compaction runs after the append is acknowledged
    expect(lines()).toHaveLength(20);
    expect(JSON.parse(lines()[0]).id).toBe(7);
    expect(existsSync(`${file}.compact`)).toBe(false);
    await a.append([rec(27)]); // the reopened handle appends
    await a.close();
    const b = new AlertLog({ file, log: silentLogger, maxRecords: 20 });
    expect(b.records().map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 8));
  });

  it('bounds the bytes kept as well', async () => {
    const big = 'x'.repeat(1000);
    const a = new AlertLog({ file, log: silentLogger, maxBytes: 10_000 });
    for (let i = 1; i <= 30; i++) await a.append([rec(i, { annotations: { description: big } })]);
    await a.idle();
    expect(a.records().length).toBeLessThanOrEqual(9);
    expect(a.records().at(-1)!.id).toBe(30);
    expect(statSync(file).size).toBeLessThanOrEqual(12_500 + 1500);
    await a.close();
  });

  it('group-commits concurrent appends in order', async () => {
    const a = new AlertLog({ file, log: silentLogger });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => a.append([rec(i)])));
    expect(results.map((r) => r[0].id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(lines().map((l) => JSON.parse(l).id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await a.close();
  });

  it('a failed compaction removes its temp file, is reported, and the acknowledged records stay', async () => {
    const failed: string[] = [];
    const report = { writeFailed: (store: string) => failed.push(store), writeSucceeded: () => {} };
    const a = new AlertLog({ file, log: silentLogger, maxRecords: 20, report });
    for (let i = 1; i <= 25; i++) await a.append([rec(i)]);
    // The rename over the log fails once its name is a non-empty directory; appends still go to the open file.
    rmSync(file);
    mkdirSync(path.join(file, 'x'), { recursive: true });
    await a.append([rec(26)]);
    await a.idle();
    expect(failed).toEqual(['alert_log']);
    expect(existsSync(`${file}.compact`)).toBe(false);
    expect(a.records().at(-1)!.id).toBe(26);
    await a.close();
  });

  it('removes a compaction temp file left by a crash', () => {
    mkdirp();
    writeFileSync(`${file}.compact`, 'partial');
    new AlertLog({ file, log: silentLogger }).load();
    expect(existsSync(`${file}.compact`)).toBe(false);
  });

  it('rejects appends after close', async () => {
    const a = new AlertLog({ file, log: silentLogger });
    await a.close();
    await expect(a.append([rec(1)])).rejects.toThrow(/closed/);
  });
});

function mkdirp() {
  mkdirSync(path.dirname(file), { recursive: true }); // the log creates it on first write; pre-seeded files need it now
}
