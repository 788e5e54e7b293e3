// --storage.path ownership (vigil.lock) and health: who may take a lock over and who may not,
// the writability check, and vigil_storage_write_errors_total.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, StorageDir, StorageLockedError, WRITE_CHECK_FILE } from '../../exporter/engine/storage-dir.js';
import { createLogger, silentLogger } from '../../exporter/log.js';

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'vigil-storage-')); });
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const lockFile = () => path.join(dir, LOCK_FILE);
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const ticksOf = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]; };

/** Another live process (the "other Vigil"). */
async function liveProcess(): Promise<number> {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => c.once('spawn', r));
  return c.pid!;
}

async function deadPid(): Promise<number> {
  const c = spawn('true', [], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

function writeLock(holder: Record<string, unknown>) {
  writeFileSync(lockFile(), JSON.stringify({ host: os.hostname(), boot_id: bootId, since: '2026-12-01T00:00:00.000Z', ...holder }) + '\n');
}

function storage(logs: string[] = []) {
  const registry = new client.Registry();
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  return { s: new StorageDir(dir, log, registry, { failingRecheckMs: 50, healthyRecheckMs: 60_000 }), registry };
}

async function errorsTotal(registry: client.Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('vigil_storage_write_errors_total')!.get();
  return Object.fromEntries(m.values.map((v) => [v.labels.store as string, v.value]));
}

describe('storage lock', () => {
  it('is created with this process as owner and removed on unlock', () => {
    const { s } = storage();
    s.lock();
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname(), boot_id: bootId, start_ticks: ticksOf(process.pid) });
    s.unlock();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a live holder on this host keeps it: the error names the directory, the PID and the file', async () => {
    const pid = await liveProcess();
    writeLock({ pid, start_ticks: ticksOf(pid) });
    const { s } = storage();
    expect(() => s.lock()).toThrow(StorageLockedError);
    expect(() => s.lock()).toThrow(`--storage.path ${dir} is in use by another Vigil (PID ${pid} on ${os.hostname()}`);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(pid); // untouched
  });

  const stale: Array<{ name: string; holder: () => Promise<Record<string, unknown>>; reason: RegExp }> = [
    { name: 'the PID is not running', holder: async () => ({ pid: await deadPid() }), reason: /is not running/ },
    { name: 'the PID runs another process now (reused)', holder: async () => ({ pid: await liveProcess(), start_ticks: '1' }), reason: /now belongs to another process/ },
    { name: 'the host rebooted since', holder: async () => ({ pid: await liveProcess(), boot_id: 'another-boot' }), reason: /before the host rebooted/ },
    { name: 'the PID is this process (a restarted container)', holder: async () => ({ pid: process.pid, start_ticks: '1' }), reason: /is this process now/ },
  ];
  it.each(stale)('a stale lock is taken over and logged: $name', async ({ holder, reason }) => {
    writeLock(await holder());
    const logs: string[] = [];
    const { s } = storage(logs);
    s.lock();
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid, start_ticks: ticksOf(process.pid) });
    const line = JSON.parse(logs.find((l) => l.includes('stale lock'))!);
    expect(line).toMatchObject({ level: 'warn', file: lockFile() });
    expect(line.reason).toMatch(reason);
  });

  it('a lock from another host is never taken over (its process cannot be checked)', () => {
    writeLock({ pid: 1, host: 'elsewhere' });
    expect(() => storage().s.lock()).toThrow(/in use by another Vigil \(PID 1 on elsewhere.*another host.*remove .*vigil\.lock/);
  });

  it('an empty lock file is a lock being created (refused) until it is old (a crash: taken over)', () => {
    writeFileSync(lockFile(), '');
    expect(() => storage().s.lock()).toThrow(/being locked by another process right now/);
    utimesSync(lockFile(), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const { s } = storage();
    s.lock();
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
  });

  it('unlock leaves a lock that is not ours alone', async () => {
    const { s } = storage();
    s.lock();
    const pid = await liveProcess();
    writeLock({ pid, start_ticks: ticksOf(pid) }); // replaced by hand meanwhile
    s.unlock();
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(pid);
  });
});

describe('storage health', () => {
  it('counts failed writes per store, says why in problem(), and clears on the next success', async () => {
    const logs: string[] = [];
    const { s, registry } = storage(logs);
    expect(await errorsTotal(registry)).toEqual({ heartbeats: 0, alert_log: 0, record: 0, write_check: 0 });
    expect(s.problem()).toBeUndefined();
    s.writeFailed('heartbeats', Object.assign(new Error("ENOSPC: no space left on device, write '/x'"), { code: 'ENOSPC' }));
    s.writeFailed('alert_log', Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }));
    expect(await errorsTotal(registry)).toEqual({ heartbeats: 1, alert_log: 1, record: 0, write_check: 0 });
    expect(s.problem()).toMatch(new RegExp(`^storage ${dir} is not writable since \\S+: a alert_log write failed \\(EROFS: read-only file system\\)`));
    expect(logs.filter((l) => l.includes('not writable'))).toHaveLength(1); // one warning per outage, not per write
    s.writeSucceeded('heartbeats');
    expect(s.problem()).toBeUndefined();
    // The record's failed flushes are counted but acknowledge nothing: not a readiness problem.
    s.countWriteError('record');
    expect((await errorsTotal(registry)).record).toBe(1);
    expect(s.problem()).toBeUndefined();
    s.stop();
  });

  it('the writability check writes, fsyncs and removes its file; a failing one counts and marks the directory', async () => {
    const { s, registry } = storage();
    expect(await s.check()).toBe(true);
    expect(existsSync(path.join(dir, WRITE_CHECK_FILE))).toBe(false);

    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, '');
    const other = new client.Registry();
    const bad = new StorageDir(notADir, silentLogger, other);
    expect(await bad.check()).toBe(false);
    expect((await errorsTotal(other)).write_check).toBe(1);
    expect((await errorsTotal(registry)).write_check).toBe(0);
    expect(bad.problem()).toMatch(/the writability check failed \(ENOTDIR/);
  });

  it('re-checks while failing, so it recovers without any write', async () => {
    const { s } = storage();
    rmSync(dir, { recursive: true });
    s.start();
    await waitUntil(() => s.problem() !== undefined);
    expect(s.problem()).toMatch(/ENOENT/);
    mkdirSync(dir); // the directory comes back (an operator fixed the mount)
    await waitUntil(() => s.problem() === undefined);
    s.stop();
  });
});

async function waitUntil(fn: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
