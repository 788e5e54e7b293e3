// pm2 probe against a real PM2 daemon (PM2_HOME in a temp dir): status, restarts, crash loops
// that PM2 still calls "online", stopped and missing processes, and a missing daemon — which must
// be a critical result and must not start a daemon.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheck, makeProbe, sample } from '../support/checks.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startPm2, type Pm2Daemon } from '../support/pm2.js';
import { runCheck } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';
import type { Probe } from '../../exporter/probes/types.js';
import type { CheckCommon } from '../../exporter/model/check.js';

let daemon: Pm2Daemon;

const STABLE = 'setInterval(() => {}, 1000);';
// Up 3 s between crashes: healthy, degraded (1-2 restarts) and critical each last seconds, not
// the one second that a loaded CI box's slow runs and polls could step over.
const CRASHY = 'setTimeout(() => process.exit(1), 3000);';

beforeAll(async () => {
  daemon = await startPm2();
  await daemon.startApp('web', STABLE);
  await daemon.startApp('worker-a', STABLE);
  await daemon.startApp('worker-b', STABLE);
  await daemon.startApp('stopper', STABLE);
  await daemon.pm2('stop', 'stopper');
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
});

function probeFor(fields: Record<string, unknown>): { check: CheckCommon; probe: Probe; run(): ReturnType<typeof runCheck> } {
  const check = makeCheck({ type: 'pm2', pm2_home: daemon.home, retries: 0, ...fields });
  const probe = makeProbe(check);
  return { check, probe, run: () => runCheck(check, probe, { log: silentLogger }) };
}

describe('pm2 probe', () => {
  it('reports status, restarts, CPU, memory and uptime of processes by name and glob', async () => {
    const r = await probeFor({ processes: ['web', 'worker-*'] }).run();
    expect(r.status).toBe('healthy');
    for (const p of ['web', 'worker-a', 'worker-b']) {
      expect(sample(r, 'up', { process: p })).toBe(1);
      expect(sample(r, 'status', { process: p, state: 'online' })).toBe(1);
      expect(sample(r, 'status', { process: p, state: 'errored' })).toBe(0);
      expect(sample(r, 'restarts', { process: p })).toBe(0);
      expect(sample(r, 'memory', { process: p })).toBeGreaterThan(1e6);
      expect(sample(r, 'uptime', { process: p })).toBeGreaterThan(0);
      expect(sample(r, 'cpu', { process: p })).toBeGreaterThanOrEqual(0);
    }
  });

  it('a stopped process and a missing one are critical and named', async () => {
    const r = await probeFor({ processes: ['web', 'stopper', 'ghost', 'nothing-*'] }).run();
    expect(r).toMatchObject({ ok: false, status: 'critical', reason: 'missing' });
    expect(r.message).toContain('process "ghost" has 0 processes, expected at least 1');
    expect(r.message).toContain('pattern "nothing-*" matches 0 processes, expected at least 1');
    expect(r.message).toContain('stopper: status stopped, expected online or launching');
    expect(sample(r, 'up', { process: 'stopper' })).toBe(0);
    expect(sample(r, 'uptime', { process: 'stopper' })).toBe(0);
  });

  it('allowed_status lets a stopped (cron-style) process pass', async () => {
    const r = await probeFor({ processes: ['stopper'], allowed_status: ['online', 'stopped'] }).run();
    expect(r.status).toBe('healthy');
  });

  it('a missing daemon is a clear critical result, and no daemon gets started', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'vigil-pm2-none-'));
    try {
      const r = await probeFor({ processes: ['web'], pm2_home: empty }).run();
      expect(r).toMatchObject({ ok: false, status: 'critical', reason: 'connect' });
      expect(r.message).toBe(`PM2 daemon is not running: ${path.join(empty, 'rpc.sock')} does not exist (pm2_home ${empty})`);
      expect(readdirSync(empty)).toEqual([]); // nothing created: no rpc.sock, no pm2.pid

      writeFileSync(path.join(empty, 'rpc.sock'), ''); // a stale leftover, nobody listening
      const stale = await probeFor({ processes: ['web'], pm2_home: empty }).run();
      expect(stale).toMatchObject({ ok: false, reason: 'connect' });
      expect(stale.message).toMatch(/PM2 daemon is not running: nothing listens on .*rpc\.sock/);
      expect(existsSync(path.join(empty, 'pm2.pid'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('a running exporter watching PM2', () => {
  let exporter: RunningExporter;
  afterAll(async () => { await exporter?.stop(); });

  it('catches a crash loop while PM2 still says online: degraded at the first restart, critical after more than 2', async () => {
    exporter = await startExporter({
      config: `
defaults: { interval: 1s, timeout: 1s, retries: 0 }
checks:
  - name: workers
    type: pm2
    pm2_home: ${daemon.home}
    processes: [crashy]
`,
    });
    await daemon.startApp('crashy', CRASHY);
    type Check = { status: string; values: Record<string, number>; violations: string[]; reason: string | null };
    const check = async () => (await (await fetch(`${exporter.url}/api/v1/checks/workers`)).json()) as Check;
    await waitFor(async () => (await check()).status === 'healthy', 15_000, 100);
    const degraded = await waitFor(async () => { const c = await check(); return c.status === 'degraded' && c; }, 20_000, 100);
    expect(degraded.violations[0]).toMatch(/^restarts_in_window crashy [12] > warning 0$/);
    // Critical from the restart count alone: the probe itself succeeded, PM2 reports the process
    // as running (online, or launching at that instant); only the restarts betray it.
    const critical = await waitFor(async () => {
      const c = await check();
      // PM2 may report the process errored between restarts (reason 'status'): wait for a run
      // that saw it running.
      return c.status === 'critical' && c.reason === null && c.violations.some((v) => / > critical 2$/.test(v)) && c;
    }, 30_000, 100);
    expect(critical.reason).toBeNull();
    expect(critical.values['status{process="crashy",state="online"}'] + critical.values['status{process="crashy",state="launching"}']).toBe(1);
    expect(critical.violations[0]).toMatch(/^restarts_in_window crashy \d+ > critical 2$/);

    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toContain('# TYPE vigil_pm2_process_restarts_total counter');
    expect(metrics).toMatch(/vigil_pm2_process_restarts_total\{check="workers",component="workers",process="crashy"\} [3-9]/);
    expect(metrics).toMatch(/vigil_pm2_process_recent_restarts\{check="workers",component="workers",process="crashy"\} [3-9]/);
    expect(metrics).toMatch(/vigil_check_threshold\{check="workers",component="workers",key="restarts_in_window",metric="vigil_pm2_process_recent_restarts",severity="critical",direction="above"\} 2/);
  }, 90_000);
});
