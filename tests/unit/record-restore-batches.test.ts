// Restoring after a restart reads each check's history points in batches of a few checks: one
// batch for every check at once held all their points three times over, and 500 checks x 8 640
// points ran the exporter out of heap at start (found by `npm run bench -- storage`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import { openSqliteRecord } from '../../exporter/db/sqlite.js';
import type { RecordSql, Statement } from '../../exporter/db/sql.js';
import { CheckRecord } from '../../exporter/record/record.js';

const log = createLogger({ level: 'error', write: () => {} });
let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'vigil-restore-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The real SQLite record, with the size of every transaction noted. */
function counting(sizes: number[]): () => Promise<RecordSql> {
  return async () => {
    const inner = await openSqliteRecord(dir, log);
    return {
      dialect: inner.dialect,
      all: (sql, params) => inner.all(sql, params),
      transaction: (statements: Statement[]) => { sizes.push(statements.length); return inner.transaction(statements); },
      close: () => inner.close(),
    } as RecordSql;
  };
}

describe('restore', () => {
  it('reads 100 checks in batches of a few checks, and gives every check back its points', async () => {
    const now = Date.UTC(2026, 11, 1);
    const writer = new CheckRecord({ dir, log, report: { countWriteError: () => { throw new Error('write failed'); } }, now: () => now });
    for (let c = 0; c < 100; c++) {
      for (let k = 0; k < 20; k++) {
        const t = now - (20 - k) * 10_000;
        writer.addResult({ check: `c${c}`, ok: true, status: 'healthy', violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t }, 30_000);
      }
    }
    await writer.stop();
    const sizes: number[] = [];
    const reader = new CheckRecord({ dir, log, report: { countWriteError: () => { throw new Error('read failed'); } }, now: () => now, connect: counting(sizes) });
    const restored = await reader.restore(Array.from({ length: 100 }, (_, c) => `c${c}`), 0, 1_000);
    await reader.stop();
    expect(restored.size).toBe(100);
    for (const r of restored.values()) expect(r.points).toHaveLength(20);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(6 * 16); // a batch: a few checks' lookups, never all 100
    expect(sizes.length).toBeGreaterThanOrEqual(100 / 16);
  });

  it('hands each check over as its batch is read, keeping no points itself', async () => {
    const now = Date.UTC(2026, 11, 1);
    const writer = new CheckRecord({ dir, log, report: { countWriteError: () => { throw new Error('write failed'); } }, now: () => now });
    for (let c = 0; c < 40; c++) writer.addResult({ check: `c${c}`, ok: true, status: 'healthy', violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: now - 10, finishedAt: now }, 30_000);
    await writer.stop();
    const sizes: number[] = [];
    const seen: Array<[string, number, number]> = [];
    const reader = new CheckRecord({ dir, log, report: { countWriteError: () => { throw new Error('read failed'); } }, now: () => now, connect: counting(sizes) });
    const restored = await reader.restore(Array.from({ length: 40 }, (_, c) => `c${c}`), 0, 1_000, (name, r) => seen.push([name, r.points.length, sizes.length]));
    await reader.stop();
    expect(seen).toHaveLength(40);
    expect(seen.every(([, points]) => points === 1)).toBe(true);
    expect(seen[0][2]).toBeLessThan(seen[39][2]); // the first checks came before the last batch was read
    expect([...restored.values()].every((r) => r.points.length === 0 && r.status === 'healthy')).toBe(true);
  });
});
