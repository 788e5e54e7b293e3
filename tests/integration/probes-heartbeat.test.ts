// Heartbeats end to end against the compiled exporter: tokens, success/start/fail pings with
// duration and exit code, late -> degraded -> missed, start without finish, and state that
// survives an exporter restart (same storage dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const SERVER_TOKEN = 'server-heartbeat-token-0123';
const OWN_TOKEN = 'own-heartbeat-token-456789';

const CONFIG = `
defaults: { interval: 250ms, timeout: 1s }
server: { heartbeat_token: ${SERVER_TOKEN} }
components:
  - { name: jobs }
checks:
  - { name: backup, type: heartbeat, component: jobs, schedule: "0 3 * * *", timezone: Europe/Berlin, grace: 1h }
  # 5 s of grace: the test must see it late (degraded) between the period and the grace's end, and
  # 1.5 s was a window a loaded CI box's slow run or poll could miss for good.
  - { name: often, type: heartbeat, component: jobs, period: 1s, grace: 5s }
  - { name: report, type: heartbeat, component: jobs, period: 1h }
  - { name: etl, type: heartbeat, component: jobs, period: 1h, max_run_time: 1s }
  - { name: private, type: heartbeat, component: jobs, period: 1h, token: ${OWN_TOKEN} }
  - { name: tcp-thing, type: tcp, host: 127.0.0.1, port: 1, interval: 1h }
`;

let dir: string;
let exporter: RunningExporter;

type CheckJson = { status: string; reason: string | null; last_error: string | null; last_run: string | null; values: Record<string, number> };
const check = async (name: string) => (await (await fetch(`${exporter.url}/api/v1/checks/${name}`)).json()) as CheckJson;
const ping = (name: string, opts: { suffix?: string; token?: string | null; query?: string; body?: string; type?: string; method?: string } = {}) =>
  fetch(`${exporter.url}/api/v1/heartbeats/${name}${opts.suffix ?? ''}${opts.query ?? ''}`, {
    method: opts.method ?? 'POST',
    headers: {
      ...(opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? SERVER_TOKEN}` }),
      ...(opts.type ? { 'content-type': opts.type } : {}),
    },
    body: opts.body,
  });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-hb-e2e-'));
  exporter = await startExporter({ config: CONFIG, dir });
  await waitFor(async () => (await fetch(`${exporter.url}/-/ready`)).status === 200, 10_000);
});

afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('heartbeat API', () => {
  it('refuses missing and wrong tokens, unknown names, GET, and non-heartbeat checks', async () => {
    expect((await ping('report', { token: null })).status).toBe(401);
    const wrong = await ping('report', { token: 'not-the-token-at-all-000' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await ping('private', { token: SERVER_TOKEN })).status).toBe(401); // the check's own token wins
    expect((await ping('nope')).status).toBe(404);
    expect((await ping('tcp-thing')).status).toBe(404);
    const get = await ping('report', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(((await get.json()) as { error: string }).error).toMatch(/curl -fsS -X POST/);
    expect((await ping('report', { query: '?exit_code=abc' })).status).toBe(400);
    expect((await ping('report', { body: '[1]', type: 'application/json' })).status).toBe(400);
    expect((await check('report')).values['last_success']).toBeUndefined(); // nothing recorded by any of these
  });

  it('accepts the token as ?token= and the check\'s own token', async () => {
    expect((await ping('report', { token: null, query: `?token=${SERVER_TOKEN}` })).status).toBe(200);
    expect((await ping('private', { token: OWN_TOKEN })).status).toBe(200);
  });

  it('a failure is critical at once, a later success clears it', async () => {
    const fail = await ping('report', { suffix: '/fail', body: JSON.stringify({ exit_code: 4, message: 'dump failed: disk full' }), type: 'application/json' });
    expect(fail.status).toBe(200);
    expect(await fail.json()).toMatchObject({ check: 'report', event: 'fail', status: 'critical', exit_code: 4 });
    const c = await check('report');
    expect(c).toMatchObject({ status: 'critical', reason: 'status' });
    expect(c.last_error).toMatch(/^last run failed with exit code 4 at .*, expected success: dump failed: disk full$/);

    const ok = await ping('report', { query: '?duration_seconds=12.5' });
    expect(await ok.json()).toMatchObject({ event: 'success', status: 'healthy', duration_seconds: 12.5, exit_code: 0 });
    expect((await check('report')).values).toMatchObject({ last_duration: 12.5, last_exit_code: 0, running: 0 });
  });

  it('a success ping with a non-zero exit code counts as a failure', async () => {
    const r = await ping('report', { body: 'exit_code=2', type: 'application/x-www-form-urlencoded' });
    expect(await r.json()).toMatchObject({ event: 'fail', status: 'critical', exit_code: 2 });
    expect(await (await ping('report', { query: '?duration_seconds=3' })).json()).toMatchObject({ status: 'healthy' });
  });

  it('a start without a finish within max_run_time is critical; the finish measures the duration', async () => {
    const start = await ping('etl', { suffix: '/start' });
    expect(await start.json()).toMatchObject({ event: 'start', status: 'healthy' });
    expect((await check('etl')).values.running).toBe(1);
    const stuck = await waitFor(async () => { const c = await check('etl'); return c.status === 'critical' && c; }, 15_000, 50);
    expect(stuck.reason).toBe('timeout');
    expect(stuck.last_error).toMatch(/^started at .* and not finished within max_run_time 1s$/);
    const done = (await (await ping('etl')).json()) as { status: string; duration_seconds: number };
    expect(done.status).toBe('healthy');
    expect(done.duration_seconds).toBeGreaterThan(1);
  });

  it('no ping: late (degraded) after the period, missed (critical) after the grace', async () => {
    await ping('often');
    const pinged = Date.now();
    expect((await check('often')).status).toBe('healthy');
    const late = await waitFor(async () => { const c = await check('often'); return c.status === 'degraded' && c; }, 15_000, 50);
    expect(Date.now() - pinged).toBeGreaterThanOrEqual(1000);
    expect(late.values.late).toBeGreaterThan(0);
    const missed = await waitFor(async () => { const c = await check('often'); return c.status === 'critical' && c; }, 20_000, 50);
    expect(Date.now() - pinged).toBeGreaterThanOrEqual(6000);
    expect(missed.reason).toBe('missing');
    expect(missed.last_error).toMatch(/^no success since .*; expected by .*, grace 5s ended /);
  });

  it('exports the heartbeat families', async () => {
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    for (const family of ['last_success_timestamp_seconds', 'next_expected_timestamp_seconds', 'grace_seconds', 'last_duration_seconds', 'last_exit_code', 'running', 'late_seconds']) {
      expect(metrics).toMatch(new RegExp(`^vigil_heartbeat_${family}\\{check="report",component="jobs"\\} `, 'm'));
    }
    expect(metrics).toMatch(/^vigil_heartbeat_grace_seconds\{check="backup",component="jobs"\} 3600$/m);
    expect(metrics).not.toContain(SERVER_TOKEN);
    expect(metrics).not.toContain(OWN_TOKEN);
  });

  it('state survives a restart: nothing forgotten, nothing invented', async () => {
    const before = await Promise.all(['report', 'often', 'backup', 'private'].map(check));
    const db = new Database(path.join(dir, 'data', 'vigil.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT last_success FROM heartbeats WHERE name = 'report'").pluck().get()).toBeGreaterThan(0);
    } finally {
      db.close();
    }

    await exporter.stop();
    exporter = await startExporter({ config: CONFIG, dir });
    const after = await waitFor(async () => {
      const all = await Promise.all(['report', 'often', 'backup', 'private'].map(check));
      // Run since the restart (the status alone comes back from the record before any run).
      return all.every((c) => c.last_run !== null) && all;
    }, 20_000, 50);
    expect(after.map((c) => c.status)).toEqual(['healthy', 'critical', 'healthy', 'healthy']);
    expect(after[1].reason).toBe('missing'); // the missed run is still missed
    expect(after[0].values.last_success).toBe(before[0].values.last_success);
    expect(after[0].values.next_expected).toBe(before[0].values.next_expected);
    expect(after[2].values.next_expected).toBe(before[2].values.next_expected); // cron origin kept, not reset to the restart
  });
});
