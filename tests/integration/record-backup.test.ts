// Backup and restore of the record against the compiled exporter (issue 14): POST
// /api/v1/record/backup needs the admin token, writes a consistent copy under
// <storage.path>/backups/ while probing goes on, holding every result acknowledged before it;
// backups never overlap; and the documented restore (stop, copy the backup over vigil.db,
// remove -wal/-shm, start) brings back exactly the state the backup held.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const ADMIN = 'backup-admin-token-0123456789';
const running: RunningExporter[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-backup-it-'));
  dirs.push(d);
  return d;
}

async function start(dir: string, config: string): Promise<RunningExporter> {
  const ex = await startExporter({ config, dir });
  running.push(ex);
  return ex;
}

async function listen(port = 0): Promise<net.Server> {
  const s = net.createServer((c) => c.end());
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}

// Every second with a 1 s timeout: the restore test expects no status change after the restore,
// and at 200 ms a stall of a loaded CI box made a run against the live target a timeout.
const configFor = (port: number) => `server:\n  admin_token: ${ADMIN}\nchecks:\n  - { name: db, type: tcp, host: 127.0.0.1, port: ${port}, interval: 1s, timeout: 1s, retries: 0 }\n`;
const backup = (ex: RunningExporter, token?: string) =>
  fetch(`${ex.url}/api/v1/record/backup`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(15_000) });
const check = async (ex: RunningExporter) => (await (await fetch(`${ex.url}/api/v1/checks/db`)).json()) as { status: string; since: string; last_run: string | null };

function rowsOf(file: string): { count: number; newest: number; quick: unknown } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      quick: db.pragma('quick_check', { simple: true }),
      count: db.prepare("SELECT count(*) FROM results JOIN checks ON checks.id = results.check_id WHERE checks.name = 'db'").pluck().get() as number,
      newest: db.prepare('SELECT max(t) FROM results').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

describe('record backup', () => {
  it('needs the admin token; writes a consistent copy holding every result acknowledged before it; backups never overlap', async () => {
    const dir = tempDir();
    const target = await listen();
    const ex = await start(dir, configFor((target.address() as net.AddressInfo).port));
    await waitFor(async () => (await check(ex)).status === 'healthy');

    expect((await backup(ex)).status).toBe(401);
    expect((await backup(ex, 'not-the-admin-token')).status).toBe(401);

    const lastRun = Date.parse((await check(ex)).last_run!);
    const res = await backup(ex, ADMIN);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { file: string; bytes: number; duration_seconds: number };
    expect(path.dirname(body.file)).toBe(path.join(dir, 'data', 'backups'));
    expect(path.basename(body.file)).toMatch(/^vigil-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.db$/);
    expect(body.bytes).toBeGreaterThan(0);
    expect(body.duration_seconds).toBeGreaterThanOrEqual(0);
    const rows = rowsOf(body.file);
    expect(rows.quick).toBe('ok');
    expect(rows.count).toBeGreaterThan(0);
    expect(rows.newest).toBeGreaterThanOrEqual(lastRun); // flushed first: the last acknowledged run is in it

    // Concurrent requests: each either gets its own complete copy or a 409, never two at once.
    const answers = await Promise.all(Array.from({ length: 4 }, () => backup(ex, ADMIN)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 409), statuses.join()).toBe(true);
    const files = new Set<string>();
    for (const a of answers) {
      const b = (await a.json()) as { file?: string; error?: string };
      if (a.status === 409) expect(b.error).toMatch(/already running/);
      else { expect(rowsOf(b.file!).quick).toBe('ok'); files.add(b.file!); }
    }
    expect(files.size).toBe(statuses.filter((s) => s === 200).length);

    const metrics = await (await fetch(`${ex.url}/metrics`)).text();
    expect(Number(/^vigil_storage_bytes\{file="vigil.db"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const lastWrite = Number(/^vigil_storage_last_successful_write_timestamp_seconds\{store="record"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(Math.abs(lastWrite * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it('restore: stop, copy the backup over vigil.db, start: the check comes back with the status and since the backup held', async () => {
    const dir = tempDir();
    const target = await listen();
    const port = (target.address() as net.AddressInfo).port;
    const first = await start(dir, configFor(port));
    await waitFor(async () => (await check(first)).status === 'healthy');
    const held = await check(first);
    const res = await backup(first, ADMIN);
    expect(res.status).toBe(200);
    const { file } = (await res.json()) as { file: string };
    // After the backup the live record moves on (the target goes: critical), the backup does not.
    await new Promise<void>((r) => target.close(() => r()));
    servers.length = 0;
    await waitFor(async () => (await check(first)).status === 'critical', 15_000);
    await new Promise((r) => setTimeout(r, 1_200)); // flushed
    await first.stop();
    running.length = 0;

    // The documented restore, into a fresh storage directory.
    const fresh = tempDir();
    mkdirSync(path.join(fresh, 'data'));
    const db = path.join(fresh, 'data', 'vigil.db');
    copyFileSync(file, db);
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    await listen(port); // the target is back: a run after the restore finds the restored status
    const restoredAt = Date.now();
    const second = await start(fresh, configFor(port));
    const after = await check(second);
    expect(after.status).toBe('healthy');
    expect(after.since).toBe(held.since);
    // A run after the restore (not the restored last run), however long the start took.
    await waitFor(async () => { const r = (await check(second)).last_run; return r !== null && Date.parse(r) > restoredAt; }, 15_000);
    expect((await check(second)).since).toBe(held.since); // no status change recorded against the restored state
    expect(second.logs()).toMatch(/"msg":"record: restored the last state of checks"/);
  });
});
