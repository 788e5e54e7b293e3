// Issue 12, item 11: a check that cannot run (queued behind others, a wedged probe) shows as
// late, not as the "healthy" of its last run long ago.
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { Scheduler } from '../../exporter/engine/scheduler.js';
import { lateAfterMs, StateStore } from '../../exporter/engine/state.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { checkReport } from '../../exporter/views/health.js';
import { silentLogger } from '../../exporter/log.js';
import { checkDiff } from '../../exporter/views/status.js';
import { makeCheck } from '../support/checks.js';

function result(check: string, status: CheckResult['status'], finishedAt: number): CheckResult {
  return { check, ok: status !== 'critical', status, violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: finishedAt - 10, finishedAt };
}

function store(checks: CheckCommon[]) {
  const state = new StateStore();
  state.applyConfig({ checks, components: [], history: { max_points: 100, retention: 3_600_000 } } as never, new Set());
  return state;
}

describe('late checks', () => {
  const base = makeCheck({ type: 'tcp', host: '127.0.0.1', port: 1, component: 'c' });
  const ok = { ...base, name: 'ok', interval: 1_000, timeout: 500, retries: 1, retry_delay: 200 };
  const bad = { ...ok, name: 'bad' };

  it('is late after two intervals plus the run budget (every attempt timing out, delays between)', () => {
    expect(lateAfterMs(ok)).toBe(2 * 1_000 + 2 * 500 + 200);
  });

  it('a healthy check turns unknown and late; a failing one stays failing (its alert must not resolve)', () => {
    const state = store([ok, bad]);
    const t0 = 1_000_000;
    state.record(result('ok', 'healthy', t0));
    state.record(result('bad', 'critical', t0));
    const events: string[] = [];
    state.on('result', (s, previous) => events.push(`${s.config.name}:${previous}->${s.status}`));

    state.markLate(t0 + lateAfterMs(ok));
    expect(state.get('ok')!.late).toBe(false);
    expect(state.get('ok')!.status).toBe('healthy');

    state.markLate(t0 + lateAfterMs(ok) + 1);
    expect(state.get('ok')).toMatchObject({ late: true, status: 'unknown', since: t0 + lateAfterMs(ok) + 1 });
    expect(state.get('bad')).toMatchObject({ late: true, status: 'critical' });
    expect(events).toEqual(['ok:healthy->unknown', 'bad:critical->critical']);
    expect(checkReport(state.get('ok')!)).toMatchObject({ status: 'unknown', late: true });
    expect(checkDiff(state.get('ok')!)).toMatchObject({ status: 'unknown', late: true });
    expect(state.rollup().status).toBe('critical');

    state.markLate(t0 + 10 * lateAfterMs(ok));
    expect(events).toHaveLength(2); // flagged once, not every sweep

    state.record(result('ok', 'healthy', t0 + 20_000));
    expect(state.get('ok')).toMatchObject({ late: false, status: 'healthy' });
    expect(checkDiff(state.get('ok')!).late).toBe(false);
  });

  it('a check that never ran stays unknown without being flagged', () => {
    const state = store([ok]);
    state.markLate(Date.now() + 3_600_000);
    expect(state.get('ok')).toMatchObject({ late: false, status: 'unknown' });
  });
});

describe('late checks with the real scheduler', () => {
  let blackhole: net.Server;
  let healthy: net.Server;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    blackhole = net.createServer((s) => { held.add(s); s.on('error', () => {}); });
    healthy = net.createServer((s) => { s.on('error', () => {}); s.on('data', () => s.end('pong\n')); });
    await Promise.all([blackhole, healthy].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await Promise.all([blackhole, healthy].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  });

  it('a canary queued behind a hung run shows unknown and late, then healthy again', async () => {
    const port = (srv: net.Server) => (srv.address() as AddressInfo).port;
    const tcp = (name: string, srv: net.Server, over: Partial<CheckCommon>): CheckCommon =>
      ({ ...makeCheck({ type: 'tcp', host: '127.0.0.1', port: port(srv), send: 'ping\n', expect: 'pong', component: 'c' }), name, retries: 0, ...over });
    // One slot: while the dead check holds it for 3 s, the 200 ms canary (late after 500 ms) waits.
    const canary = tcp('canary', healthy, { interval: 200, timeout: 100 });
    const dead = tcp('dead', blackhole, { interval: 10_000, timeout: 3_000 });
    const state = store([canary, dead]);
    const scheduler = new Scheduler({ state, env: { log: silentLogger, storagePath: '/tmp', stores: {} }, log: silentLogger, concurrency: 1, jitter: 1 });
    const seen: string[] = [];
    state.on('result', (s) => { if (s.config.name === 'canary') seen.push(`${s.status}${s.late ? ' late' : ''}`); });
    const until = async (cond: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return cond();
    };
    // The canary runs first; the dead check joins after (its first run is jittered over 2 s, so
    // started together it could take the slot before the canary ever ran, and a check that never
    // ran is not late).
    scheduler.update([canary]);
    scheduler.start();
    try {
      await until(() => seen.length > 0, 2_000);
      scheduler.update([canary, dead]);
      expect(await until(() => seen.includes('unknown late'), 8_000)).toBe(true);
      expect(seen[0]).toBe('healthy'); // it had run before it was held up
      expect(await until(() => seen.at(-1) === 'healthy', 6_000)).toBe(true);
    } finally {
      await scheduler.stop();
    }
  }, 20_000);
});
