import { describe, expect, it } from 'vitest';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { makeCheck } from '../support/checks.js';

const check = makeCheck({ type: 'tcp', host: '127.0.0.1', port: 1, component: 'db' });

function result(value: number, over: Partial<CheckResult> = {}): CheckResult {
  return {
    check: 'c', ok: true, status: 'healthy', violations: [], duration: value, attempts: 1, startedAt: 1, finishedAt: 2,
    samples: [{ key: 'response_time', metric: 'probe_duration_seconds', value }, { key: 'free', metric: 'm', value: value * 2, labels: { mount: '/' } }],
    ...over,
  };
}

function store() {
  const s = new StateStore();
  s.applyConfig({ checks: [check], components: [], history: { max_points: 10, retention: 3_600_000 } } as never, new Set());
  return s;
}

describe('StateStore latest result', () => {
  it('never stores the object it was given, so a caller\'s result does not change under it', () => {
    const s = store();
    const first = result(1);
    s.record(first);
    s.record(result(2));
    expect(first.samples[0].value).toBe(1);
    expect(s.get('c')!.last!.samples.map((x) => x.value)).toEqual([2, 4]);
  });

  it('writes a same-shaped result into the stored one and replaces it when the series differ', () => {
    const s = store();
    s.record(result(1));
    const kept = s.get('c')!.last!;
    s.record(result(3, { ok: false, reason: 'timeout', message: 'timed out', status: 'critical', finishedAt: 9 }));
    expect(s.get('c')!.last).toBe(kept);
    expect(kept).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out', status: 'critical', finishedAt: 9, duration: 3 });
    expect(kept.samples[1]).toEqual({ key: 'free', metric: 'm', value: 6, labels: { mount: '/' } });
    s.record(result(4, { samples: [{ key: 'free', metric: 'm', value: 1, labels: { mount: '/data' } }] }));
    expect(s.get('c')!.last).not.toBe(kept);
    expect(s.get('c')!.last!.samples).toEqual([{ key: 'free', metric: 'm', value: 1, labels: { mount: '/data' } }]);
    expect(s.get('c')!.runs).toBe(3);
    expect(s.get('c')!.failures).toEqual({ timeout: 1 });
  });

  it('keeps the samples as values beside one series list shared by checks of the same shape', () => {
    const s = new StateStore();
    const checks = ['a', 'b'].map((name) => ({ ...check, name }));
    s.applyConfig({ checks, components: [], history: { max_points: 10, retention: 3_600_000 } } as never, new Set());
    s.record(result(1, { check: 'a' }));
    s.record(result(5, { check: 'b' }));
    const [a, b] = [s.get('a')!.last!, s.get('b')!.last!];
    expect(a.series).toBe(b.series);
    expect([...a.values, ...b.values]).toEqual([1, 2, 5, 10]);
    // Labels rendered once per object in /metrics: the shared ones are frozen so they can be.
    expect(Object.isFrozen(a.series[1].labels)).toBe(true);
    // `samples` is a copy: changing it changes nothing kept, and the next run does not change it.
    const read = a.samples;
    read[0].value = 99;
    s.record(result(3, { check: 'a' }));
    expect(read[1].value).toBe(2);
    expect(a.samples.map((x) => x.value)).toEqual([3, 6]);
    // Another shape gets a list of its own; the first check keeps the shared one.
    s.record(result(4, { check: 'b', samples: [{ key: 'free', metric: 'm', value: 1, labels: { mount: '/data' } }] }));
    expect(s.get('b')!.last!.series).not.toBe(a.series);
    expect(s.get('a')!.last!.series).toBe(a.series);
  });
});
