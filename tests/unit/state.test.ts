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
});
