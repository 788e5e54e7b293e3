// The durable record (<storage.path>/vigil.db, or a PostgreSQL with storage.type: postgres)
// against the compiled exporter: a restart keeps each check's status, since, last error and
// history (no false status change, bars not 100 %); kill -9 during a burst of results loses at
// most about the last flush (1 s) and leaves a database that opens every time; an unreadable
// database file is moved aside. The restart and kill -9 cases run against both databases.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { recordBackends, type RecordBackend } from '../support/record-backends.js';

const backends = recordBackends();

const running: RunningExporter[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-record-it-'));
  dirs.push(d);
  return d;
}

/** The storage section for the backend (PostgreSQL: its DSN in a file next to the config). */
function storageFor(b: RecordBackend | undefined, dir: string): string {
  if (b?.kind !== 'postgres') return '';
  writeFileSync(path.join(dir, 'record.dsn'), `${b.dsn}\n`, { mode: 0o600 });
  return 'storage:\n  type: postgres\n  dsn_file: record.dsn\n';
}

async function start(dir: string, config: string, b?: RecordBackend): Promise<RunningExporter> {
  const ex = await startExporter({ config: storageFor(b, dir) + config, dir });
  running.push(ex);
  return ex;
}

async function listen(): Promise<net.Server> {
  const s = net.createServer((c) => c.end());
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

const dbFile = (dir: string) => path.join(dir, 'data', 'vigil.db');

interface CheckJson { status: string; since: string; last_error: string | null; last_run: string | null }
const check = async (ex: RunningExporter, name: string) => (await (await fetch(`${ex.url}/api/v1/checks/${name}`)).json()) as CheckJson;
async function statusOf(ex: RunningExporter, name: string) {
  const doc = (await (await fetch(`${ex.url}/api/v1/status`)).json()) as { checks: Array<{ name: string; availability: number | null; bar_runs: number[] }> };
  return doc.checks.find((c) => c.name === name)!;
}

function events(b: RecordBackend, name: string): Promise<Array<{ from_status: string; to_status: string }>> {
  return b.rows('SELECT from_status, to_status FROM events JOIN checks ON checks.id = events.check_id WHERE checks.name = ? ORDER BY t', [name]);
}

describe.each(backends.list)('the record across restarts (%s)', (kind) => {
  const b = backends.get(kind);
  it('a restart keeps status, since, last error and history; the first run after it is no status change', async () => {
    const dir = tempDir();
    await b.fresh(path.join(dir, 'data'));
    const target = await listen();
    const port = (target.address() as net.AddressInfo).port;
    // Every second with a 1 s timeout: the test counts the status changes, and at 200 ms a stall of
    // a loaded CI box made a run against the live target a timeout, i.e. a change of its own.
    const config = `checks:\n  - { name: db, type: tcp, host: 127.0.0.1, port: ${port}, interval: 1s, timeout: 1s, retries: 0 }\n`;
    const first = await start(dir, config, b);
    await waitFor(async () => (await statusOf(first, 'db')).bar_runs.reduce((a, b) => a + b, 0) >= 5, 20_000);
    await new Promise<void>((r) => target.close(() => r())); // the target goes away: critical
    await waitFor(async () => (await check(first, 'db')).status === 'critical', 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const before = await check(first, 'db');
    const barBefore = await statusOf(first, 'db');
    expect(before.last_error).toMatch(/ECONNREFUSED|refused/i);
    expect(barBefore.availability).toBeGreaterThan(0);
    expect(barBefore.availability).toBeLessThan(1);
    await first.stop();
    running.length = 0;

    const second = await start(dir, config, b);
    // The exporter listens first and restores then (a few round trips to a PostgreSQL server).
    await waitFor(async () => (await check(second, 'db')).status !== 'unknown', 15_000);
    const after = await check(second, 'db');
    expect(after).toMatchObject({ status: 'critical', since: before.since, last_error: before.last_error });
    const bar = await statusOf(second, 'db');
    // The ring was refilled from the record: the healthy and the critical runs are both there.
    expect(bar.bar_runs.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(barBefore.bar_runs.reduce((a, b) => a + b, 0));
    expect(bar.availability).toBeGreaterThan(0);
    expect(bar.availability).toBeLessThan(1);
    // Runs after the restart (written by the next flushes) found the same status: no new change.
    const runAt = Date.parse(await waitFor(async () => (await check(second, 'db')).last_run ?? undefined, 15_000));
    await waitFor(async () => Number((await b.rows<{ t: number }>('SELECT max(t) AS t FROM results_all'))[0].t) >= runAt, 15_000);
    expect(await events(b, 'db')).toEqual([
      { from_status: 'unknown', to_status: 'healthy' },
      { from_status: 'healthy', to_status: 'critical' },
    ]);
    expect((await check(second, 'db')).since).toBe(before.since);
  }, 60_000); // two starts, five runs a second apart and the flushes: over half of 30 s on a loaded box

  it('kill -9 during a burst of results: the database opens every time and at most about one flush (1 s) is lost', async () => {
    const dir = tempDir();
    await b.fresh(path.join(dir, 'data'));
    const checks = Array.from({ length: 20 }, (_, i) => `  - { name: c${i}, type: tcp, host: 127.0.0.1, port: 1, interval: 100ms, timeout: 100ms, retries: 0 }`).join('\n');
    const config = `checks:\n${checks}\n`;
    const lost: number[] = [];
    let rowsBefore = 0;
    // PostgreSQL keeps its own promises on a crash of the client; a few trials show Vigil's part.
    const trials = kind === 'sqlite' ? 20 : 5;
    for (let trial = 0; trial < trials; trial++) {
      const ex = await start(dir, config, b);
      // Start the clock once this run has written (its first flush comes a second after the
      // start; on a loaded box the worker's first commit may come later), then kill at a random
      // moment of the next two seconds.
      await waitFor(async () => Number((await b.rows<{ n: number }>('SELECT count(*) AS n FROM results_all'))[0].n) > rowsBefore, 15_000);
      await new Promise((r) => setTimeout(r, Math.random() * 2_000));
      const killedAt = Date.now();
      const exited = new Promise((r) => ex.proc.once('exit', r));
      ex.proc.kill('SIGKILL');
      await exited;
      running.length = 0;
      if (kind === 'sqlite') {
        const db = new Database(dbFile(dir));
        try {
          expect(db.pragma('quick_check', { simple: true })).toBe('ok');
        } finally {
          db.close();
        }
      }
      const [{ n, t }] = await b.rows<{ n: number; t: number }>('SELECT count(*) AS n, max(t) AS t FROM results_all');
      expect(n).toBeGreaterThan(rowsBefore); // this run wrote something
      rowsBefore = n;
      lost.push(killedAt - t);
      expect(ex.logs()).not.toMatch(/unreadable/);
    }
    // One flush a second: the newest stored result is at most ~1 s (plus one interval and the
    // timer's lateness on a loaded box) older than the kill.
    lost.sort((a, c) => a - c);
    console.log(`record durability (${kind}): ${lost.length} kill -9 trials, ${rowsBefore} results stored, newest stored result before the kill by ms: median ${lost[lost.length >> 1]}, max ${lost.at(-1)}`);
    expect(lost[Math.floor(lost.length / 2)]).toBeLessThan(1_300);
    expect(lost.at(-1)).toBeLessThan(2_500);
  }, 180_000);
});

describe('the record in its SQLite file', () => {
  it('an unreadable database file is moved aside and a new one started; monitoring goes on', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    writeFileSync(dbFile(dir), Buffer.alloc(64 * 1024, 0x5a));
    const ex = await start(dir, 'checks:\n  - { name: c, type: tcp, host: 127.0.0.1, port: 1, interval: 200ms, timeout: 200ms, retries: 0 }\n');
    expect((await fetch(`${ex.url}/metrics`)).status).toBe(200);
    await waitFor(() => readdirSync(path.join(dir, 'data')).some((f) => /^vigil\.db\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(f)));
    expect(ex.logs()).toMatch(/"level":"error","msg":"record: the database file is unreadable; moved aside, starting a new one"/);
    await waitFor(() => { const db = new Database(dbFile(dir), { readonly: true }); try { return (db.prepare('SELECT count(*) FROM results_all').pluck().get() as number) > 0; } finally { db.close(); } });
    const metrics = await (await fetch(`${ex.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_storage_write_errors_total\{store="record"\} 0$/m);
  });
});
