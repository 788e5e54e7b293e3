// Heartbeat schedules and states (pure), and the durable store behind them.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCheck } from '../support/checks.js';
import { HeartbeatStore, type HeartbeatRecord } from '../../exporter/probes/heartbeat/store.js';
import { evaluate } from '../../exporter/health/evaluate.js';
import { silentLogger } from '../../exporter/log.js';
import { evaluateHeartbeat, nextExpected, type HeartbeatCheck } from '../../exporter/probes/heartbeat/index.js';

const T0 = Date.parse('2026-03-27T12:00:00Z');
const min = 60_000;

function status(check: HeartbeatCheck, rec: HeartbeatRecord, now: number) {
  const r = evaluateHeartbeat(check, rec, now);
  return { ...r, status: evaluate(r, check.thresholds).status };
}

describe('heartbeat evaluation', () => {
  const hourly = makeCheck({ type: 'heartbeat', period: '1h', grace: '10m' }) as HeartbeatCheck;
  const withRunTime = makeCheck({ type: 'heartbeat', period: '1h', grace: '10m', max_run_time: '20m' }) as HeartbeatCheck;

  const cases: Array<{ name: string; check?: HeartbeatCheck; rec: HeartbeatRecord; at: number; expected: { status: string; reason?: string; message?: RegExp } }> = [
    { name: 'never pinged, before the first period ends', rec: { first_seen: T0 }, at: T0 + 30 * min, expected: { status: 'healthy' } },
    { name: 'never pinged, late', rec: { first_seen: T0 }, at: T0 + 65 * min, expected: { status: 'degraded' } },
    {
      name: 'never pinged, past the grace', rec: { first_seen: T0 }, at: T0 + 71 * min,
      expected: { status: 'critical', reason: 'missing', message: /^no success ping yet \(watching since 2026-03-27T12:00:00Z\); expected by 2026-03-27T13:00:00Z, grace 10m ended 2026-03-27T13:10:00Z$/ },
    },
    { name: 'on time', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 59 * min, expected: { status: 'healthy' } },
    { name: 'late after a success', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 61 * min, expected: { status: 'degraded' } },
    { name: 'missed after a success', rec: { first_seen: T0 - 5 * min, last_success: T0 }, at: T0 + 80 * min, expected: { status: 'critical', reason: 'missing', message: /^no success since 2026-03-27T12:00:00Z;/ } },
    {
      name: 'failed: critical at once, with exit code and message', rec: { first_seen: T0, last_success: T0, last_fail: T0 + min, last_exit_code: 3, last_message: 'disk full' }, at: T0 + 2 * min,
      expected: { status: 'critical', reason: 'status', message: /^last run failed with exit code 3 at 2026-03-27T12:01:00Z, expected success: disk full$/ },
    },
    { name: 'a success after a failure clears it', rec: { first_seen: T0, last_fail: T0, last_success: T0 + min }, at: T0 + 2 * min, expected: { status: 'healthy' } },
    { name: 'running past the expected time is not late', rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 65 * min, expected: { status: 'healthy' } },
    { name: 'running without max_run_time: missed after the grace', rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 75 * min, expected: { status: 'critical', reason: 'missing' } },
    { name: 'running within max_run_time is given its time', check: withRunTime, rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 74 * min, expected: { status: 'healthy' } },
    {
      name: 'start without finish past max_run_time', check: withRunTime, rec: { first_seen: T0, last_success: T0, last_start: T0 + 55 * min }, at: T0 + 76 * min,
      expected: { status: 'critical', reason: 'timeout', message: /^started at 2026-03-27T12:55:00Z and not finished within max_run_time 20m$/ },
    },
  ];
  it.each(cases)('$name', ({ check, rec, at, expected }) => {
    const r = status(check ?? hourly, rec, at);
    expect(r.status).toBe(expected.status);
    if (expected.reason) expect(r.reason).toBe(expected.reason);
    if (expected.message) expect(r.message).toMatch(expected.message);
  });

  it('exports the figures alerts need (time() - x)', () => {
    const r = evaluateHeartbeat(hourly, { first_seen: T0, last_success: T0, last_start: T0 - min, last_duration: 60, last_exit_code: 0 }, T0 + 61 * min);
    const v = Object.fromEntries(r.samples.map((s) => [s.metric, s.value]));
    expect(v).toEqual({
      vigil_heartbeat_last_success_timestamp_seconds: T0 / 1000,
      vigil_heartbeat_next_expected_timestamp_seconds: (T0 + 60 * min) / 1000,
      vigil_heartbeat_grace_seconds: 600,
      vigil_heartbeat_last_duration_seconds: 60,
      vigil_heartbeat_last_exit_code: 0,
      vigil_heartbeat_running: 0,
      vigil_heartbeat_late_seconds: 60,
    });
  });

  it('cron schedules follow the time zone, across a DST change', () => {
    const nightly = makeCheck({ type: 'heartbeat', schedule: '0 3 * * *', timezone: 'Europe/Berlin', grace: '30m' }) as HeartbeatCheck;
    // 03:10 CET on Saturday; the next 03:00 in Berlin is after the switch to CEST (UTC+2).
    const due = nextExpected(nightly, Date.parse('2026-03-28T02:10:00Z'), true);
    expect(new Date(due).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // A ping a few seconds early (clock skew) belongs to that night's slot, not to a slot 10 s later.
    expect(new Date(nextExpected(nightly, Date.parse('2026-03-28T01:59:50Z'), true)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // Before the first ping the origin is when Vigil started watching: no tolerance.
    expect(new Date(nextExpected(nightly, Date.parse('2026-03-28T01:59:50Z'), false)).toISOString()).toBe('2026-03-28T02:00:00.000Z');
    // Every 5 minutes with a long grace: the tolerance is at most half the gap.
    const often = makeCheck({ type: 'heartbeat', schedule: '*/5 * * * *', grace: '1h' }) as HeartbeatCheck;
    expect(new Date(nextExpected(often, Date.parse('2026-01-01T00:00:05Z'), true)).toISOString()).toBe('2026-01-01T00:05:00.000Z');
  });
});

describe('heartbeat store', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
  const tempFile = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'vigil-hb-'));
    dirs.push(d);
    return path.join(d, 'state', 'heartbeats.json');
  };

  it('persists pings atomically and a new store (a restarted exporter) reads them back', async () => {
    const file = tempFile();
    const a = new HeartbeatStore(file, silentLogger);
    a.ensure('job', T0);
    await a.ping('job', 'start', {}, T0 + 1000);
    await a.ping('job', 'success', {}, T0 + 31_000);
    await a.ping('other', 'fail', { exit_code: 2, message: 'boom' }, T0 + 40_000);
    expect(readdirSync(path.dirname(file))).toEqual(['heartbeats.json']); // no temp file left behind
    const b = new HeartbeatStore(file, silentLogger);
    expect(b.get('job')).toEqual({ first_seen: T0, last_ping: T0 + 31_000, last_event: 'success', last_start: T0 + 1000, last_success: T0 + 31_000, last_duration: 30, last_exit_code: 0 });
    expect(b.get('other')).toMatchObject({ last_fail: T0 + 40_000, last_exit_code: 2, last_message: 'boom' });
    await b.ping('other', 'fail', {}, T0 + 50_000);
    expect(b.get('other')).toMatchObject({ last_exit_code: 1, last_message: undefined }); // /fail without a code counts as 1
    // ensure() never resets what is known (a restart must not move the schedule's origin).
    expect(b.ensure('job', T0 + 999_999).first_seen).toBe(T0);
  });

  it('coalesces a burst of pings; every caller resolves after its ping is on disk', async () => {
    const file = tempFile();
    const s = new HeartbeatStore(file, silentLogger);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.ping(`job${i}`, 'success', { duration_seconds: i }, T0 + i)));
    const onDisk = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(onDisk.heartbeats)).toHaveLength(20);
    expect(onDisk.heartbeats.job19.last_duration).toBe(19);
  });

  /** Writes that wait for the test: each call is one group-commit round. */
  function heldWrites() {
    const rounds: Array<{ text: string; done: (err?: Error) => void }> = [];
    const write = (_file: string, text: string) => new Promise<void>((resolve, reject) => {
      rounds.push({ text, done: (err) => (err ? reject(err) : resolve()) });
    });
    const settled = (p: Promise<unknown>) => { let s = false; p.then(() => { s = true; }, () => { s = true; }); return () => s; };
    const tick = () => new Promise((r) => setTimeout(r, 5));
    return { rounds, write, settled, tick, heartbeats: (i: number) => Object.keys(JSON.parse(rounds[i].text).heartbeats) };
  }

  it('a ping that arrives during a write waits for the next write, which holds it', async () => {
    const w = heldWrites();
    const s = new HeartbeatStore(tempFile(), silentLogger, { write: w.write });
    const a = s.ping('a', 'success', {}, T0);
    await w.tick();
    expect(w.rounds).toHaveLength(1); // round 1 (a) is in flight
    const b = s.ping('b', 'success', {}, T0 + 1);
    const c = s.ping('c', 'success', {}, T0 + 2);
    const [aDone, bDone, cDone] = [w.settled(a), w.settled(b), w.settled(c)];
    w.rounds[0].done();
    await w.tick();
    expect(aDone()).toBe(true);
    expect(bDone() || cDone()).toBe(false); // not resolved by round 1, which did not hold them
    expect(w.rounds).toHaveLength(2);
    expect(w.heartbeats(1)).toEqual(['a', 'b', 'c']); // b and c batched into round 2
    expect(s.get('b')).toBeUndefined(); // not visible before it is on disk
    w.rounds[1].done();
    expect((await b).last_success).toBe(T0 + 1);
    expect((await c).last_success).toBe(T0 + 2);
    expect(s.get('c')?.last_success).toBe(T0 + 2);
  });

  it('a steady stream: when a ping is acknowledged, the file on disk already holds it (2 000 pings)', async () => {
    const file = tempFile();
    const s = new HeartbeatStore(file, silentLogger);
    let early = 0;
    let t = T0;
    // 20 jobs, each pinging again as soon as its last ping was acknowledged.
    await Promise.all(Array.from({ length: 20 }, async (_, job) => {
      for (let i = 0; i < 100; i++) {
        const at = ++t;
        await s.ping(`job${job}`, 'success', {}, at);
        const onDisk = JSON.parse(readFileSync(file, 'utf8')).heartbeats[`job${job}`];
        if (!(onDisk?.last_ping >= at)) early++;
      }
    }));
    expect(early).toBe(0);
  });

  it('a failed write rejects its pings and changes nothing; the next write does not hold them', async () => {
    const w = heldWrites();
    const s = new HeartbeatStore(tempFile(), silentLogger, { write: w.write });
    const first = s.ping('job', 'success', {}, T0);
    await w.tick();
    w.rounds[0].done();
    await first;
    const failing = s.ping('job', 'fail', { exit_code: 3 }, T0 + 1000);
    await w.tick();
    w.rounds[1].done(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    await expect(failing).rejects.toThrow(/ENOSPC/);
    expect(s.get('job')).toMatchObject({ last_success: T0, last_exit_code: 0 });
    expect(s.get('job')?.last_fail).toBeUndefined(); // the page and the probe never see the lost ping
    const later = s.ping('other', 'success', {}, T0 + 2000);
    await w.tick();
    expect(JSON.parse(w.rounds[2].text).heartbeats.job.last_fail).toBeUndefined();
    w.rounds[2].done();
    await later;
  });

  it('a failed write is reported, leaves no temp file, and the store recovers', async () => {
    const file = tempFile();
    const failures: string[] = [];
    let successes = 0;
    const report = { writeFailed: (store: string) => failures.push(store), writeSucceeded: () => { successes++; } };
    const s = new HeartbeatStore(file, silentLogger, { report });
    await s.ping('job', 'success', {}, T0);
    // The rename over heartbeats.json fails once it is a non-empty directory: the temp file is written first.
    rmSync(file);
    mkdirSync(path.join(file, 'x'), { recursive: true });
    await expect(s.ping('job', 'fail', {}, T0 + 1)).rejects.toThrow();
    expect(failures).toEqual(['heartbeats']);
    expect(readdirSync(path.dirname(file)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    rmSync(file, { recursive: true });
    await s.ping('job', 'success', {}, T0 + 2);
    expect(successes).toBe(2);
    expect(JSON.parse(readFileSync(file, 'utf8')).heartbeats.job).toMatchObject({ last_success: T0 + 2 });
  });

  it('removes temp files of unfinished writes when it loads', async () => {
    const file = tempFile();
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp-12345`, '{"partial');
    const s = new HeartbeatStore(file, silentLogger);
    expect(s.get('x')).toBeUndefined();
    expect(readdirSync(path.dirname(file))).toEqual([]);
  });

  it('keeps an unreadable file aside instead of overwriting it', async () => {
    const file = tempFile();
    const s0 = new HeartbeatStore(file, silentLogger);
    await s0.ping('x', 'success', {}, T0);
    writeFileSync(file, '{ not json');
    const s = new HeartbeatStore(file, silentLogger);
    expect(s.get('x')).toBeUndefined();
    await s.ping('y', 'success', {}, T0);
    expect(readdirSync(path.dirname(file)).some((f) => f.startsWith('heartbeats.json.corrupt-'))).toBe(true);
  });
});
