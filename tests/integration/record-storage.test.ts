// The record (vigil.db) on a full and on a read-only disk, against the compiled exporter: it
// says so (a log line, vigil_storage_write_errors_total{store="record"}, the last successful
// write gauge standing still), probing and /metrics go on, and the record resumes by itself
// when the disk does — with what it held before. (Decision: a failing record alone does not turn
// /-/ready to 503: nothing acknowledged is lost by it; the storage directory's own writability
// check and the heartbeat/alert writes report a bad disk there.)
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { inside, mountedLauncher, queryInside, remountWritable, type Mount } from '../support/mounted-storage.js';

const running: RunningExporter[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-record-storage-'));
  dirs.push(d);
  return d;
}

async function target(): Promise<number> {
  const s = net.createServer((c) => c.end());
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

const config = (port: number) => `
defaults: { interval: 200ms, timeout: 1s }
checks:
  - { name: api, type: tcp, host: 127.0.0.1, port: ${port} }
  - { name: cache, type: tcp, host: 127.0.0.1, port: ${port} }
`;

async function start(dir: string, port: number, mount: Mount): Promise<RunningExporter> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const ex = await startExporter({ config: config(port), dir, launcher: mountedLauncher(dir, mount) });
  running.push(ex);
  return ex;
}

async function metric(ex: RunningExporter, name: string, labels: string): Promise<number | undefined> {
  const res = await fetch(`${ex.url}/metrics`);
  expect(res.status).toBe(200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const recordErrors = (ex: RunningExporter) => metric(ex, 'vigil_storage_write_errors_total', 'store="record"');
const lastWrite = (ex: RunningExporter) => metric(ex, 'vigil_storage_last_successful_write_timestamp_seconds', 'store="record"');
const lastRun = async (ex: RunningExporter) => ((await (await fetch(`${ex.url}/api/v1/checks/api`)).json()) as { last_run: string | null }).last_run;

describe('the record on a bad disk', () => {
  it('a full disk: writes fail loudly, probing and scrapes go on, and the record resumes when space is freed', async () => {
    const dir = tempDir();
    const ex = await start(dir, await target(), { size: '2m', mode: 'rw' });
    const firstWrite = await waitFor(() => lastWrite(ex), 15_000);

    // Fill the tmpfs to the last byte.
    const filler = inside(ex, 'filler');
    writeFileSync(filler, '');
    try {
      for (let i = 0; i < 64; i++) writeFileSync(filler, Buffer.alloc(64 * 1024, 1), { flag: 'a' });
      throw new Error('the 2m tmpfs took 4 MiB: not the expected mount');
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    // And it stays full: the database empties its WAL file after each checkpoint, and whatever
    // it frees another writer takes (on a real full disk, the one that filled it).
    const keepFull = setInterval(() => { try { writeFileSync(filler, Buffer.alloc(4096, 1), { flag: 'a' }); } catch { /* full */ } }, 10);
    try {
      await waitFor(async () => ((await recordErrors(ex)) ?? 0) >= 1, 15_000);
      expect(ex.logs()).toMatch(/"level":"warn","msg":"record: cannot write check results; they are dropped until writes succeed again".*SQLITE_FULL/);
      const stuckAt = (await lastWrite(ex))!;
      expect(stuckAt).toBeGreaterThanOrEqual(firstWrite);
      // Probing goes on while the record cannot keep up.
      const runBefore = await lastRun(ex);
      await waitFor(async () => (await lastRun(ex)) !== runBefore, 15_000);
      expect(await lastWrite(ex)).toBe(stuckAt);
    } finally {
      clearInterval(keepFull);
    }

    unlinkSync(filler);
    const freedAt = Date.now() / 1000;
    await waitFor(async () => ((await lastWrite(ex)) ?? 0) > freedAt, 15_000);
    expect(ex.logs()).toMatch(/"level":"info","msg":"record: writes succeed again"/);
    // The database survived the outage whole: the rows from before it and after it are there.
    const [check, t] = queryInside(ex, ['PRAGMA quick_check', 'SELECT min(t) AS first, max(t) AS last FROM results_all']);
    expect(check).toEqual({ quick_check: 'ok' });
    expect(t.first).toBeLessThanOrEqual(firstWrite * 1000);
    expect(t.last).toBeGreaterThan(freedAt * 1000);
  }, 90_000); // its waits alone add up to more than 30 s before one of them fails

  it('read-only storage with a record from before: the exporter starts and monitors; the record resumes, whole, once it is writable', async () => {
    const dir = tempDir();
    const port = await target();
    // A record written by an earlier run.
    const earlier = await startExporter({ config: config(port), dir: tempDir() });
    await waitFor(async () => ((await (await fetch(`${earlier.url}/metrics`)).text()).includes('vigil_storage_last_successful_write_timestamp_seconds{store="record"}')), 15_000);
    await earlier.stop();
    const seed = path.join(dir, 'seed');
    mkdirSync(seed);
    copyFileSync(path.join(earlier.dir, 'data', 'vigil.db'), path.join(seed, 'vigil.db'));
    const seeded = new Database(path.join(seed, 'vigil.db'), { readonly: true });
    const rowsBefore = seeded.prepare('SELECT count(*) FROM results_all').pluck().get() as number;
    seeded.close();
    expect(rowsBefore).toBeGreaterThan(0);

    const ex = await start(dir, port, { size: '8m', seed, mode: 'ro' });
    await waitFor(async () => ((await recordErrors(ex)) ?? 0) >= 1, 15_000);
    expect(ex.logs()).toMatch(/"level":"warn","msg":"record: cannot write check results/);
    expect(await lastWrite(ex)).toBeUndefined();
    const runBefore = await lastRun(ex);
    await waitFor(async () => (await lastRun(ex)) !== runBefore, 15_000);
    // Healthy: polled, as the checks' 200 ms timeout reads a stall of a loaded CI box as a failed run.
    await waitFor(async () => (await fetch(`${ex.url}/health`)).status === 200, 15_000);

    remountWritable(ex);
    const writableAt = Date.now() / 1000;
    await waitFor(async () => ((await lastWrite(ex)) ?? 0) > writableAt, 15_000);
    expect(ex.logs()).toMatch(/"level":"info","msg":"record: writes succeed again"/);
    const [rows] = queryInside(ex, ['SELECT count(*) AS n FROM results_all']);
    expect(rows.n).toBeGreaterThan(rowsBefore);
  }, 90_000); // its waits alone add up to more than 30 s before one of them fails
});
