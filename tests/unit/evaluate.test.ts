import { describe, expect, it } from 'vitest';
import { evaluate, summarize } from '../../exporter/health/evaluate.js';
import { formatValue } from '../../exporter/model/units.js';
import { worst } from '../../exporter/model/status.js';
import type { Threshold } from '../../exporter/model/check.js';

const rt = (value: number) => ({ key: 'response_time', metric: 'probe_duration_seconds', value });
const above = (warning?: number, critical?: number): Threshold => ({ warning, critical, direction: 'above' });
const below = (warning?: number, critical?: number): Threshold => ({ warning, critical, direction: 'below' });

describe('evaluate', () => {
  const cases = [
    { name: 'ok without thresholds is healthy', ok: true, samples: [rt(2)], thresholds: {}, expected: 'healthy' },
    { name: 'under warning is healthy', ok: true, samples: [rt(0.2)], thresholds: { response_time: above(0.5, 1) }, expected: 'healthy' },
    { name: 'past warning is degraded', ok: true, samples: [rt(0.7)], thresholds: { response_time: above(0.5, 1) }, expected: 'degraded' },
    { name: 'past critical is critical', ok: true, samples: [rt(1.3)], thresholds: { response_time: above(0.5, 1) }, expected: 'critical' },
    { name: 'exactly at the level is not a breach', ok: true, samples: [rt(0.5)], thresholds: { response_time: above(0.5, 1) }, expected: 'healthy' },
    { name: 'critical only', ok: true, samples: [rt(0.7)], thresholds: { response_time: above(undefined, 0.6) }, expected: 'critical' },
    { name: 'direction below: under warning', ok: true, samples: [{ key: 'remaining', metric: 'vigil_http_header_value', value: 80 }], thresholds: { remaining: below(100, 10) }, expected: 'degraded' },
    { name: 'direction below: under critical', ok: true, samples: [{ key: 'remaining', metric: 'vigil_http_header_value', value: 5 }], thresholds: { remaining: below(100, 10) }, expected: 'critical' },
    { name: 'probe failure is critical', ok: false, samples: [rt(0.1)], thresholds: {}, expected: 'critical' },
    { name: 'worst labelled sample wins', ok: true, samples: [
      { key: 'disk_used', metric: 'vigil_system_disk_used_ratio', value: 0.5, labels: { mount: '/' } },
      { key: 'disk_used', metric: 'vigil_system_disk_used_ratio', value: 0.97, labels: { mount: '/data' } },
    ], thresholds: { disk_used: above(0.85, 0.95) }, expected: 'critical' },
  ] as const;
  for (const c of cases) {
    it(c.name, () => expect(evaluate({ ok: c.ok, samples: [...c.samples] }, c.thresholds as Record<string, Threshold>).status).toBe(c.expected));
  }

  it('a failure with on_failure degraded only degrades', () => {
    expect(evaluate({ ok: false, samples: [] }, {}, 'degraded').status).toBe('degraded');
  });

  it('explains a breach with value, level and unit', () => {
    const v = evaluate({ ok: true, samples: [rt(1.32)] }, { response_time: above(0.5, 1) });
    expect(v.violations).toHaveLength(1);
    expect(v.violations[0].message).toBe('response_time 1.32 s > critical 1 s');
    expect(summarize(undefined, v.violations)).toBe('response_time 1.32 s > critical 1 s');
    const d = evaluate({ ok: true, samples: [{ key: 'disk_used', metric: 'vigil_system_disk_used_ratio', value: 0.9, labels: { mount: '/data' } }] }, { disk_used: above(0.85, 0.95) });
    expect(d.violations[0].message).toBe('disk_used /data 90 % > warning 85 %');
  });

  it('formats base units for people', () => {
    expect(formatValue('probe_duration_seconds', 0.0123)).toBe('12.3 ms');
    expect(formatValue('vigil_system_memory_used_bytes', 3 * 1024 ** 3)).toBe('3 GiB');
    expect(formatValue('vigil_tls_cert_expires_in_seconds', 3 * 86400)).toBe('3 d');
  });
});

describe('worst', () => {
  it('orders healthy < unknown < degraded < critical', () => {
    expect(worst(['healthy', 'unknown'])).toBe('unknown');
    expect(worst(['unknown', 'degraded'])).toBe('degraded');
    expect(worst(['critical', 'degraded', 'healthy'])).toBe('critical');
    expect(worst([])).toBe('unknown');
  });
});
