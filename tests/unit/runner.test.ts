import { describe, expect, it } from 'vitest';
import { declaredFamilies, runCheck, RunStop } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';
import type { Sample } from '../../exporter/model/result.js';
import { PROBE_MARGIN_MS, type Probe } from '../../exporter/probes/types.js';
import { makeCheck } from '../support/checks.js';

const check = makeCheck({ type: 'tcp', host: '127.0.0.1', port: 1, timeout: '200ms', interval: '1s' });
const run = (probe: Probe, overrides: Partial<typeof check> = {}) => runCheck({ ...check, ...overrides }, probe, { log: silentLogger });

describe('runner containment', () => {
  const cases: Array<{ name: string; probe: Probe; reason: string; message: RegExp }> = [
    { name: 'a probe that throws', probe: { run: async () => { throw new Error('kaboom'); } }, reason: 'error', message: /kaboom/ },
    { name: 'a probe that throws synchronously', probe: { run: () => { throw new TypeError('sync kaboom'); } }, reason: 'error', message: /sync kaboom/ },
    { name: 'a probe that hangs and ignores its signal', probe: { run: () => new Promise(() => {}) }, reason: 'timeout', message: /timed out after 0.2s/ },
    { name: 'a probe that returns garbage', probe: { run: async () => 42 as never }, reason: 'invalid_result', message: /invalid result/ },
    { name: 'a probe that returns null', probe: { run: async () => null as never }, reason: 'invalid_result', message: /invalid result/ },
    { name: 'an unknown reason is folded into error', probe: { run: async () => ({ ok: false, reason: 'weird' as never, message: 'x', samples: [] }) }, reason: 'error', message: /x/ },
  ];
  for (const c of cases) {
    it(`contains ${c.name}`, async () => {
      const r = await run(c.probe);
      expect(r.ok).toBe(false);
      expect(r.status).toBe('critical');
      expect(r.reason).toBe(c.reason);
      expect(r.message).toMatch(c.message);
    });
  }

  it('drops malformed samples but keeps good ones', async () => {
    const r = await run({ run: async () => ({ ok: true, samples: [{ key: 'a', metric: 'm', value: 1 }, { key: 'b', metric: 'm', value: NaN }, { nope: 1 } as never] }) });
    expect(r.samples.map((s) => s.key)).toEqual(['a', 'response_time']);
  });

  it('stops retrying at the first success', async () => {
    let calls = 0;
    const r = await run({ run: async () => ({ ok: ++calls >= 2, reason: 'connect', samples: [] }) }, { retries: 3, retry_delay: 10 });
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(2);
  });

  it('tells onAbort hooks at the timeout, once, and not after they unregister; a signal read late is already aborted', async () => {
    const calls: string[] = [];
    let late: AbortSignal | undefined;
    await run({
      run: (ctx) => new Promise((_, reject) => {
        ctx.onAbort(() => calls.push('first'));
        const off = ctx.onAbort(() => calls.push('removed'));
        off();
        ctx.onAbort(() => {
          calls.push(`last, aborted=${ctx.aborted}`);
          late = ctx.signal;
          // Registered after the abort: called at once.
          ctx.onAbort(() => calls.push('after'));
          reject(new Error('aborted'));
        });
      }),
    });
    expect(calls).toEqual(['first', 'last, aborted=true', 'after']);
    expect(late?.aborted).toBe(true);
  });

  it('gives each attempt an abort signal that fires at the timeout', async () => {
    let aborted = false;
    await run({ run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => { aborted = true; reject(new Error('aborted')); })) });
    expect(aborted).toBe(true);
  });
});

describe('stopping a run (check removed, exporter stopping)', () => {
  const failing = (attempts: number[]): Probe => ({ run: async () => { attempts.push(Date.now()); return { ok: false, reason: 'error', message: 'down', samples: [] }; } });

  it('aborts the attempt in flight and starts no retry', async () => {
    const stop = new RunStop();
    let attempts = 0;
    const probe: Probe = { run: (ctx) => new Promise((_, reject) => { attempts++; ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))); setTimeout(() => stop.stop(), 20); }) };
    const t0 = Date.now();
    const r = await runCheck({ ...check, timeout: 5_000, retries: 3 }, probe, { log: silentLogger, stop });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(attempts).toBe(1);
    expect(r).toMatchObject({ ok: false, reason: 'timeout', attempts: 1 });
  });

  it('ends the wait before a retry at once, with no further attempt', async () => {
    const stop = new RunStop();
    const attempts: number[] = [];
    const t0 = Date.now();
    setTimeout(() => stop.stop(), 50);
    const r = await runCheck({ ...check, retries: 2, retry_delay: 10_000 }, failing(attempts), { log: silentLogger, stop });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(attempts).toHaveLength(1);
    expect(r).toMatchObject({ ok: false, reason: 'error', attempts: 1 });
    expect(stop.current).toBeUndefined();
  });

  it('starts nothing once stopped, and an AbortSignal still does the same', async () => {
    const stop = new RunStop();
    stop.stop();
    const attempts: number[] = [];
    expect(await runCheck(check, failing(attempts), { log: silentLogger, stop })).toMatchObject({ ok: false, reason: 'timeout', message: 'check stopped before it ran' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const t0 = Date.now();
    await runCheck({ ...check, retries: 2, retry_delay: 10_000 }, failing(attempts), { log: silentLogger, signal: controller.signal });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(attempts).toHaveLength(1);
  });
});

describe('samples a kind did not declare', () => {
  const families = declaredFamilies({ metrics: [{ name: 'vigil_x', help: 'x', labels: ['phase'] }, { name: 'vigil_y', help: 'y' }] });
  const runWith = (samples: Sample[]) => runCheck(check, { run: async () => ({ ok: true, samples }) }, { log: silentLogger, families });
  const cases: Array<{ name: string; samples: Sample[]; message?: RegExp }> = [
    { name: 'declared families and labels pass', samples: [{ key: 'a', metric: 'vigil_x', value: 1, labels: { phase: 'p' } }, { key: 'b', metric: 'vigil_y', value: 2 }] },
    { name: 'an undeclared family fails the run', samples: [{ key: 'a', metric: 'vigil_nope', value: 1 }], message: /undeclared family vigil_nope \(key a\)/ },
    { name: 'an undeclared label fails the run', samples: [{ key: 'a', metric: 'vigil_y', value: 1, labels: { mount: '/' } }], message: /undeclared label mount of vigil_y/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runWith(c.samples);
      if (!c.message) {
        expect(r.ok).toBe(true);
        expect(r.samples.map((s) => s.key)).toEqual(['a', 'b', 'response_time']);
        return;
      }
      // Loud: the run fails (status, last_error), where the metrics layer once dropped the sample quietly.
      expect(r).toMatchObject({ ok: false, reason: 'invalid_result', status: 'critical' });
      expect(r.message).toMatch(c.message);
    });
  }
});

describe('the run context', () => {
  it('remaining(margin) counts down to the deadline less the margin (default PROBE_MARGIN_MS)', async () => {
    let seen: { deadline: number; now: number; plain: number; zero: number; big: number } | undefined;
    await runCheck({ ...check, timeout: 5_000 }, {
      run: async (ctx) => {
        seen = { deadline: ctx.deadline, now: Date.now(), plain: ctx.remaining(), zero: ctx.remaining(0), big: ctx.remaining(60_000) };
        return { ok: true, samples: [] };
      },
    }, { log: silentLogger });
    const left = seen!.deadline - seen!.now;
    expect(seen!.plain).toBeLessThanOrEqual(left - PROBE_MARGIN_MS);
    expect(seen!.plain).toBeGreaterThan(left - PROBE_MARGIN_MS - 50);
    expect(seen!.zero).toBeGreaterThan(seen!.plain);
    expect(seen!.big).toBe(1); // never zero or negative: callers pass it to timers and drivers
  });
});
