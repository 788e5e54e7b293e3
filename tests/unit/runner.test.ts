import { describe, expect, it } from 'vitest';
import { runCheck } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';
import type { Probe } from '../../exporter/probes/types.js';
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

  it('gives each attempt an abort signal that fires at the timeout', async () => {
    let aborted = false;
    await run({ run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => { aborted = true; reject(new Error('aborted')); })) });
    expect(aborted).toBe(true);
  });
});
