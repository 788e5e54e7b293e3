// Issue 12, item 11: one dead dependency must not starve the scheduler. Real timers and real
// loopback sockets: a "blackholed" server accepts connections and never answers, so every check
// against it holds its slot for its whole timeout, as a firewalled database would.
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { Scheduler, slowLaneCap } from '../../exporter/engine/scheduler.js';
import { StateStore } from '../../exporter/engine/state.js';
import { silentLogger } from '../../exporter/log.js';
import { makeCheck } from '../support/checks.js';

let blackhole: net.Server;
let blackholePort: number;
let healthy: net.Server;
let healthyPort: number;
const held = new Set<net.Socket>();
let accepted = 0;

beforeAll(async () => {
  blackhole = net.createServer((sock) => {
    accepted++;
    held.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => held.delete(sock));
  });
  healthy = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', () => sock.end('pong\n'));
  });
  await new Promise<void>((r) => blackhole.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, r));
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', r));
  blackholePort = (blackhole.address() as AddressInfo).port;
  healthyPort = (healthy.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await Promise.all([blackhole, healthy].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tcp(name: string, port: number, over: Partial<CheckCommon>): CheckCommon {
  return { ...makeCheck({ type: 'tcp', host: '127.0.0.1', port, send: 'ping\n', expect: 'pong', component: 'c' }), name, retries: 0, ...over };
}

function setup(checks: CheckCommon[], concurrency: number) {
  const state = new StateStore();
  state.applyConfig({ checks, components: [], history: { max_points: 100, retention: 3_600_000 } } as never, new Set());
  const scheduler = new Scheduler({ state, env: { log: silentLogger, storagePath: '/tmp', stores: {} }, log: silentLogger, concurrency, jitter: 1 });
  scheduler.update(checks);
  return { state, scheduler };
}

describe('scheduler fairness', () => {
  it('slow checks together hold at most three quarters of the slots (at least one left for the others)', () => {
    expect([1, 2, 3, 4, 8, 256].map(slowLaneCap)).toEqual([1, 1, 2, 3, 6, 192]);
  });

  it('300 checks against a blackholed port do not starve a 1 s canary', async () => {
    const template = tcp('dead', blackholePort, { interval: 5_000, timeout: 5_000 });
    const dead = Array.from({ length: 300 }, (_, i) => ({ ...template, name: `dead${i}` }));
    const canary = tcp('canary', healthyPort, { interval: 1_000, timeout: 500 });
    const { state, scheduler } = setup([...dead, canary], 256);
    scheduler.start();
    try {
      // Warm-up: the first round of dead checks fills all 256 slots before any is known slow
      // (one timeout), then they move to the slow lane as they time out.
      await sleep(8_000);
      const before = state.get('canary')!.runs;
      let maxSlow = 0;
      let maxInFlight = 0;
      const windowMs = 15_000;
      for (let t = 0; t < windowMs; t += 250) {
        maxSlow = Math.max(maxSlow, scheduler.slowInFlight());
        maxInFlight = Math.max(maxInFlight, scheduler.inFlight());
        await sleep(250);
      }
      const runs = state.get('canary')!.runs - before;
      // The old FIFO semaphore gave the canary ~50 % of its runs with these numbers (it waited
      // behind the 44 queued dead checks at every run); now it never waits for a slot.
      expect(runs).toBeGreaterThanOrEqual(Math.floor((windowMs / 1_000) * 0.8));
      expect(state.get('canary')!.status).toBe('healthy');
      expect(maxSlow).toBeLessThanOrEqual(192);
      expect(maxInFlight).toBeGreaterThan(150); // the dead checks really did crowd the slots
      // ...and the slow lane is not starved in turn: every dead check keeps being run.
      const deadRuns = dead.map((c) => state.get(c.name)!.runs);
      expect(Math.min(...deadRuns)).toBeGreaterThanOrEqual(2);
      expect(state.get('dead0')!.last?.reason).toBe('timeout');
    } finally {
      await scheduler.stop();
    }
  }, 60_000);

  it('gives the slot back while waiting between retries', async () => {
    // One slot. The dead check times out after 300 ms and waits 1.5 s before its retry; the
    // canary must get the slot during that wait instead of queueing behind the whole run.
    const dead = tcp('dead', blackholePort, { interval: 10_000, timeout: 300, retries: 1, retry_delay: 1_500 });
    const canary = tcp('canary', healthyPort, { interval: 200, timeout: 150 });
    const { state, scheduler } = setup([dead, canary], 1);
    scheduler.start();
    try {
      // Wait for the dead check's first attempt to start and time out.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && !(await Promise.resolve(held.size > 0))) await sleep(20);
      await sleep(400);
      const before = state.get('canary')!.runs;
      await sleep(1_000);
      expect(state.get('canary')!.runs - before).toBeGreaterThanOrEqual(3);
      expect(state.get('dead')!.runs).toBe(0); // still inside its first run (the retry)
    } finally {
      await scheduler.stop();
    }
  }, 20_000);

  it('a run still waiting for a slot when the scheduler stops never starts its probe', async () => {
    // It used to start once the running one was aborted, with an already aborted signal that the
    // probe never saw, and hold stop() (and SIGTERM) for its whole timeout.
    const checks = ['one', 'two'].map((name) => tcp(name, blackholePort, { interval: 10_000, timeout: 5_000 }));
    const { scheduler } = setup(checks, 1);
    const before = accepted;
    scheduler.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(accepted > before && scheduler.queued() === 1)) await sleep(20);
    expect(scheduler.queued()).toBe(1);
    await scheduler.stop();
    await sleep(300);
    expect(accepted - before).toBe(1);
    expect(scheduler.inFlight()).toBe(0);
  }, 20_000);
});
