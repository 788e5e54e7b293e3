// --storage.path failures against the compiled exporter (issue 12, item 9): a second instance
// on the same directory, a read-only directory with an old torn alert log, a full disk.
//
// Read-only and full disks are real: the exporter runs in its own mount namespace (unshare -m)
// on a tmpfs mounted over its storage directory, read-only or tiny. Root ignores file modes, so
// chmod would prove nothing; the namespace disappears with the process, so no mount can leak.
// The test reaches into that namespace through /proc/<pid>/root and nsenter.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { inside, mountedLauncher, remountWritable, type Mount } from '../support/mounted-storage.js';

const HB_TOKEN = 'storage-heartbeat-token-0123';
const WEBHOOK_TOKEN = 'storage-webhook-token-01234';
const CONFIG = `
defaults: { interval: 500ms, timeout: 1s }
server: { heartbeat_token: ${HB_TOKEN}, webhook_token: ${WEBHOOK_TOKEN} }
components:
  - { name: jobs }
checks:
  - { name: nightly, type: heartbeat, component: jobs, period: 1h }
`;

const running: RunningExporter[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-storage-it-'));
  dirs.push(d);
  return d;
}

async function start(dir: string, mount?: Mount): Promise<RunningExporter> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const launcher = mount && mountedLauncher(dir, mount);
  const ex = await startExporter({ config: CONFIG, dir, launcher });
  running.push(ex);
  return ex;
}


const ping = (ex: RunningExporter, body?: string) => fetch(`${ex.url}/api/v1/heartbeats/nightly`, {
  method: 'POST', headers: { authorization: `Bearer ${HB_TOKEN}`, 'content-type': 'application/json' }, body,
});

const webhook = (ex: RunningExporter, fingerprint: string) => fetch(`${ex.url}/api/v1/alerts/webhook`, {
  method: 'POST',
  headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    version: '4', groupKey: '{}:{}', truncatedAlerts: 0, status: 'firing', receiver: 'vigil', groupLabels: {}, commonLabels: {}, commonAnnotations: {},
    externalURL: 'http://alertmanager.example', alerts: [notification(fingerprint)],
  }),
});

function notification(fingerprint: string) {
  return {
    status: 'firing', labels: { alertname: 'VigilCheckCritical', severity: 'critical', check: fingerprint }, annotations: {},
    startsAt: '2026-12-01T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.example/graph', fingerprint,
  };
}

async function writeErrors(ex: RunningExporter): Promise<Record<string, number>> {
  const text = await (await fetch(`${ex.url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^vigil_storage_write_errors_total\{store="(\w+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

async function ready(ex: RunningExporter): Promise<{ status: number; body: string }> {
  const res = await fetch(`${ex.url}/-/ready`);
  return { status: res.status, body: await res.text() };
}

const lastSuccess = async (ex: RunningExporter) =>
  ((await (await fetch(`${ex.url}/api/v1/checks/nightly`)).json()) as { values: Record<string, number> }).values.last_success;

describe('storage directory', () => {
  it('a second instance on the same directory is refused, naming the directory and the PID holding it', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const lock = JSON.parse(readFileSync(path.join(dir, 'data', 'vigil.lock'), 'utf8'));
    expect(lock.pid).toBe(first.proc.pid);

    const second = startExporter({ config: CONFIG, dir });
    await expect(second).rejects.toThrow(new RegExp(`exited with 1:[\\s\\S]*vigil: --storage.path ${path.join(dir, 'data')} is in use by another Vigil \\(PID ${first.proc.pid} on `));
    expect((await fetch(`${first.url}/metrics`)).status).toBe(200); // the first one is untouched

    await first.stop(); // a clean stop releases the lock
    running.length = 0;
    expect(readdirSync(path.join(dir, 'data'))).not.toContain('vigil.lock');
    const third = await start(dir);
    expect((await fetch(`${third.url}/metrics`)).status).toBe(200);
  });

  it('read-only with an old torn alert log: monitoring keeps working, /-/ready says why, writes fail loudly; all recover (and the old log is imported) when it is writable', async () => {
    const dir = tempDir();
    const seed = path.join(dir, 'seed');
    mkdirSync(seed);
    const complete = { id: 1, batch: 1, received_at: '2026-12-01T10:00:01.000Z', receiver: 'vigil', status: 'firing', fingerprint: 'aaaa', labels: { alertname: 'VigilCheckCritical', check: 'db' }, annotations: {}, starts_at: '2026-12-01T10:00:00Z', ends_at: null, generator_url: '', group_key: '{}:{}', truncated_alerts: 0, external_url: '' };
    writeFileSync(path.join(seed, 'alert-notifications.jsonl'), JSON.stringify(complete) + '\n' + JSON.stringify({ ...complete, id: 2 }).slice(0, 40));
    const ex = await start(dir, { size: '1m', seed, mode: 'ro' });

    expect((await fetch(`${ex.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${ex.url}/health`)).status).toBe(200);
    const notReady = await waitFor(async () => { const r = await ready(ex); return r.body.includes('storage') && r; });
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatch(new RegExp(`^Vigil is not ready: storage ${path.join(dir, 'data')} is not writable since \\S+: (the writability check failed \\(EROFS: read-only file system|a heartbeats write failed \\(SQLITE_CANTOPEN: unable to open database file)`));
    expect(ex.logs()).toMatch(/"level":"warn","msg":"storage: directory not writable; \/-\/ready answers 503 until a write succeeds"/);
    // The old log cannot be imported into a database that cannot be created: the alert API
    // answers (empty) and the import waits for the disk.
    expect(ex.logs()).toMatch(/"level":"error","msg":"alert log: cannot read the stored notifications \(retried with the next notification\)"/);
    const alerts = await fetch(`${ex.url}/api/v1/alerts`);
    expect(alerts.status).toBe(200);

    const errorsBefore = await writeErrors(ex);
    const refused = await ping(ex, '{"exit_code": 0}');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^the ping was not recorded: the storage write failed \(SQLITE_CANTOPEN\)/);
    expect(await lastSuccess(ex)).toBeUndefined(); // not shown anywhere
    expect((await webhook(ex, 'bbbb')).status).toBe(503); // Alertmanager retries
    const errors = await writeErrors(ex);
    expect(errors.heartbeats).toBeGreaterThanOrEqual(errorsBefore.heartbeats + 1);
    expect(errors.alert_log).toBe(errorsBefore.alert_log + 1);
    expect(errors.write_check).toBeGreaterThanOrEqual(1);

    remountWritable(ex);
    await waitFor(async () => (await ready(ex)).status === 200, 15_000);
    expect((await ping(ex)).status).toBe(200);
    expect(await lastSuccess(ex)).toBeGreaterThan(0);
    expect((await webhook(ex, 'cccc')).status).toBe(200);
    // The first write imported the old log (its torn tail dropped) before the new notification.
    const history = (await (await fetch(`${ex.url}/api/v1/alerts/history?view=notifications`)).json()) as { notifications: Array<{ fingerprint: string }> };
    expect(history.notifications.map((n) => n.fingerprint)).toEqual(['cccc', 'aaaa']);
    expect(ex.logs()).toMatch(/dropped a torn last record \(crash during a write\) of the old file/);
    expect(readdirSync(inside(ex)).filter((n) => n.startsWith('alert-notifications'))).toEqual(['alert-notifications.jsonl.migrated']);
  });

  it('a full disk: the ping is refused, counted, no temp file is left, and it recovers when space is freed', async () => {
    const dir = tempDir();
    // 1 MiB: the database with its schema (heartbeats live there too) takes about 200 KiB.
    const ex = await start(dir, { size: '1m', mode: 'rw' });
    await waitFor(async () => (await ready(ex)).status === 200);
    expect((await ping(ex)).status).toBe(200);
    const before = await lastSuccess(ex);

    const filler = inside(ex, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024, 1));
      throw new Error('the 1m tmpfs took 4 MiB: not the expected mount');
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const refused = await ping(ex, JSON.stringify({ message: 'x'.repeat(400) }));
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/\(SQLITE_FULL\)/);
    expect(readdirSync(inside(ex)).filter((n) => n.includes('.tmp-') || n.includes('write-check'))).toEqual([]);
    expect((await writeErrors(ex)).heartbeats).toBe(1);
    expect(await lastSuccess(ex)).toBe(before);
    expect(await ready(ex)).toMatchObject({ status: 503, body: expect.stringMatching(/a heartbeats write failed \(SQLITE_FULL/) });

    unlinkSync(filler);
    await waitFor(async () => (await ready(ex)).status === 200, 15_000);
    expect((await ping(ex)).status).toBe(200);
    expect(await lastSuccess(ex)).toBeGreaterThan(before);
  });
});
