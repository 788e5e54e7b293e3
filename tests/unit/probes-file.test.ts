// file probe: age/size of a file or the newest glob match, thresholds, and `missing`.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce, sample } from '../support/checks.js';
import { globFiles } from '../../exporter/probes/file.js';

let dir: string;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-file-'));
  mkdirSync(path.join(dir, 'backups/2026/03'), { recursive: true });
  const put = (rel: string, bytes: number, ageHours: number) => {
    const f = path.join(dir, rel);
    writeFileSync(f, Buffer.alloc(bytes));
    utimesSync(f, hoursAgo(ageHours), hoursAgo(ageHours));
  };
  put('backups/db-1.sql.gz', 3000, 50);
  put('backups/db-2.sql.gz', 2000, 2); // the newest
  put('backups/db-3.sql', 100, 1); // does not match *.gz
  put('backups/.db-4.sql.gz', 100, 0); // hidden: * does not match a leading dot
  put('backups/2026/03/deep.sql.gz', 10, 30);
  put('app.log', 5 * 1024 * 1024, 0.01);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file probe', () => {
  it('age, size and matches of the newest file matching a glob', async () => {
    const r = await runOnce({ type: 'file', path: `${dir}/backups/db-*.sql.gz`, thresholds: { age: { warning: '26h', critical: '49h' } } });
    expect(r.status).toBe('healthy');
    expect(sample(r, 'matches')).toBe(2);
    expect(sample(r, 'size')).toBe(2000);
    expect(sample(r, 'age')).toBeGreaterThan(2 * 3600 - 60);
    expect(sample(r, 'age')).toBeLessThan(2 * 3600 + 60);
    expect(r.info?.file).toBe(`${dir}/backups/db-2.sql.gz`);
  });

  it('thresholds on age (stale backup) and size (too small, direction below)', async () => {
    const stale = await runOnce({ type: 'file', path: `${dir}/backups/db-1.sql.gz`, thresholds: { age: { warning: '26h', critical: '49h' } } });
    expect(stale.status).toBe('critical');
    expect(stale.violations[0].message).toBe('age 2.1 d > critical 2 d');
    const small = await runOnce({ type: 'file', path: `${dir}/backups/db-*.sql.gz`, thresholds: { size: { critical: '1MiB', direction: 'below' } } });
    expect(small.status).toBe('critical');
    expect(small.violations[0].message).toBe('size 2 KiB < critical 1 MiB');
    const log = await runOnce({ type: 'file', path: `${dir}/app.log`, thresholds: { size: { warning: '1MiB', critical: '1GiB' } } });
    expect(log.status).toBe('degraded');
  });

  it('** matches any depth', async () => {
    const r = await runOnce({ type: 'file', path: `${dir}/**/*.sql.gz` });
    expect(sample(r, 'matches')).toBe(3);
  });

  it('a missing file or no match is reason missing', async () => {
    const one = await runOnce({ type: 'file', path: `${dir}/backups/nope.gz` });
    expect(one).toMatchObject({ ok: false, status: 'critical', reason: 'missing', message: `${dir}/backups/nope.gz: no such file, expected it to exist` });
    const none = await runOnce({ type: 'file', path: `${dir}/nowhere/*.gz` });
    expect(none).toMatchObject({ ok: false, reason: 'missing', message: `no file matches ${dir}/nowhere/*.gz, expected at least one` });
    expect(sample(none, 'matches')).toBe(0);
  });

  it('a glob is bounded by max_entries', async () => {
    await expect(globFiles(`${dir}/**/*.gz`, 3)).rejects.toThrow(/max_entries \(3\)/);
  });
});
