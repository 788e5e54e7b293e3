// The scheduler against a real local TCP server: runs on each check's own interval, bounded
// concurrency, reloads that keep unchanged checks, removed checks that stop.
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { firstRunWindow, Scheduler } from '../../exporter/engine/scheduler.js';
import { StateStore } from '../../exporter/engine/state.js';
import { silentLogger } from '../../exporter/log.js';
import { makeCheck } from '../support/checks.js';

let server: net.Server;
let port: number;
let open = 0;
let maxOpen = 0;

beforeAll(async () => {
  // Answers each line after 100 ms, so runs overlap when concurrency allows.
  server = net.createServer((sock) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    sock.on('close', () => { open--; });
    sock.on('data', () => setTimeout(() => sock.end('pong\n'), 100));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(name: string, interval: number, extra: Record<string, unknown> = {}): CheckCommon {
  return { ...makeCheck({ type: 'tcp', host: '127.0.0.1', port, component: 'c', ...extra }), name, interval };
}

function setup(checks: CheckCommon[], concurrency = 100) {
  const state = new StateStore();
  const cfg = { checks, components: [], history: { max_points: 100, retention: 3_600_000 } };
  state.applyConfig(cfg as never, new Set());
  const scheduler = new Scheduler({ state, env: { log: silentLogger, storagePath: '/tmp', stores: {} }, log: silentLogger, concurrency, jitter: 1 });
  scheduler.update(checks);
  return { state, scheduler, cfg };
}

describe('Scheduler', () => {
  it('runs every check on its own interval, first runs spread over the first interval', async () => {
    const { state, scheduler } = setup([check('fast', 100), check('slow', 400)]);
    scheduler.start();
    await sleep(1_250);
    await scheduler.stop();
    const fast = state.get('fast')!.runs;
    const slow = state.get('slow')!.runs;
    expect(fast).toBeGreaterThanOrEqual(6); // ~12 unloaded; timers lag under a busy CI box
    expect(fast).toBeLessThanOrEqual(14);
    expect(slow).toBeGreaterThanOrEqual(2);
    expect(slow).toBeLessThanOrEqual(4);
    expect(state.get('fast')!.last?.ok).toBe(true);
  });

  it('never runs more checks at once than the concurrency limit', async () => {
    maxOpen = 0;
    const checks = Array.from({ length: 6 }, (_, i) => check(`slowreply${i}`, 150, { send: 'ping\n', expect: 'pong' }));
    const { state, scheduler } = setup(checks, 2);
    scheduler.start();
    let maxInFlight = 0;
    for (let i = 0; i < 40; i++) {
      maxInFlight = Math.max(maxInFlight, scheduler.inFlight());
      await sleep(20);
    }
    await scheduler.stop();
    expect(maxInFlight).toBe(2);
    expect(maxOpen).toBeGreaterThanOrEqual(2); // runs did overlap (the server may see a closing one late)
    expect(checks.every((c) => state.get(c.name)!.runs >= 1)).toBe(true);
  });

  it('keeps unchanged checks running through an update, restarts changed ones and stops removed ones', async () => {
    const a = check('a', 100);
    const b = check('b', 100);
    const { state, scheduler } = setup([a, b]);
    scheduler.start();
    await sleep(450);
    const b2 = { ...b, timeout: b.timeout + 1 };
    expect([...scheduler.unchangedIn([a, b2])]).toEqual(['a']);
    scheduler.update([a, b2]);
    await sleep(450);
    const runsA = state.get('a')!.runs;
    scheduler.update([a]);
    const before = state.get('b')!.runs;
    await sleep(400);
    expect(state.get('b')!.runs).toBe(before); // removed: not recorded any more
    expect(state.get('a')!.runs).toBeGreaterThan(runsA);
    expect(scheduler.runNow('b')).toBeUndefined();
    await scheduler.stop();
  });

  it('a manual run while a scheduled run is in flight gets that run\'s result', async () => {
    const c = check('manual', 60_000, { send: 'ping\n', expect: 'pong' });
    const { scheduler } = setup([c]);
    const first = scheduler.runNow('manual')!;
    const second = scheduler.runNow('manual')!;
    expect(second).toBe(first);
    expect((await first).ok).toBe(true);
    await scheduler.stop();
  });
});

describe('first-run spread', () => {
  it('spreads first runs over 2 s, or over one millisecond a check when there are more, never past the interval', () => {
    expect(firstRunWindow(10, 60_000)).toBe(2_000);
    expect(firstRunWindow(1_000, 1_000)).toBe(1_000);
    expect(firstRunWindow(1_000, 60_000)).toBe(2_000);
    // 10 000 checks at 10 s: 1 000 first runs a second, the steady rate, not 5 000 a second.
    expect(firstRunWindow(10_000, 10_000)).toBe(10_000);
    expect(firstRunWindow(10_000, 60_000)).toBe(10_000);
    expect(firstRunWindow(5_000, 5_000)).toBe(5_000);
  });
});
