// vigil/api on a real MeterProvider + PrometheusExporter (no server): names and labels exactly as
// they appear on /metrics, the low-cardinality folding, and that nothing throws into the app.
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordDelivery, trackJob, type Delivery } from '../../packages/instrument/api.js';
import { warnOnce } from '../../packages/instrument/labels.js';

let exporter: PrometheusExporter;
let provider: MeterProvider;
const serializer = new PrometheusSerializer('', false, undefined, true, true);
const warnings: string[] = [];

async function scrape(): Promise<string[]> {
  const { resourceMetrics } = await exporter.collect();
  return serializer
    .serialize(resourceMetrics)
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
}

beforeAll(() => {
  exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  warnOnce.setSink((m) => warnings.push(m));
});
afterAll(async () => {
  await provider.shutdown();
  metrics.disable();
});
beforeEach(() => {
  warnings.length = 0;
});

describe('recordDelivery', () => {
  it('counts attempts by channel and outcome, with zero series for the other outcomes', async () => {
    recordDelivery({ channel: 'email', outcome: 'retried', reason: 'timeout', attempt: 1, durationMs: 1500 });
    recordDelivery({ channel: 'email', outcome: 'delivered', attempt: 2, durationMs: 200 });
    const lines = await scrape();
    expect(lines).toContain('vigil_message_deliveries_total{channel="email",outcome="delivered"} 1');
    expect(lines).toContain('vigil_message_deliveries_total{channel="email",outcome="retried"} 1');
    expect(lines).toContain('vigil_message_deliveries_total{channel="email",outcome="failed"} 0');
    expect(lines).toContain('vigil_message_deliveries_total{channel="email",outcome="dropped"} 0');
    expect(lines).toContain('vigil_message_delivery_duration_seconds_count{channel="email",outcome="retried"} 1');
    expect(lines).toContain('vigil_message_delivery_duration_seconds_sum{channel="email",outcome="retried"} 1.5');
    expect(lines).toContain('vigil_message_delivery_duration_seconds_bucket{channel="email",outcome="delivered",le="0.25"} 1');
    // attempts: only final outcomes, labelled by channel only
    expect(lines).toContain('vigil_message_delivery_attempts_count{channel="email"} 1');
    expect(lines).toContain('vigil_message_delivery_attempts_sum{channel="email"} 2');
    expect(lines).toContain('vigil_message_delivery_failures_total{channel="email",outcome="retried",reason="timeout"} 1');
    expect(warnings).toEqual([]);
  });

  it('folds unbounded channels and reasons into "other" and never prints the value', async () => {
    recordDelivery({ channel: 'alice@example.com', outcome: 'failed', reason: 'SMTP 550 mailbox unavailable', attempt: 3, durationMs: 10 });
    const lines = await scrape();
    expect(lines).toContain('vigil_message_deliveries_total{channel="other",outcome="failed"} 1');
    expect(lines).toContain('vigil_message_delivery_failures_total{channel="other",outcome="failed",reason="other"} 1');
    expect(lines.join('\n')).not.toContain('alice');
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).not.toMatch(/alice|SMTP/);
  });

  it('caps distinct channels at 32', async () => {
    for (let i = 0; i < 40; i++) recordDelivery({ channel: `ch${i}`, outcome: 'delivered', attempt: 1, durationMs: 1 });
    const channels = new Set((await scrape()).map((l) => /vigil_message_deliveries_total\{channel="([^"]+)"/.exec(l)?.[1]).filter(Boolean));
    expect(channels.size).toBe(32 + 1); // 32 named (email counted) + other
    expect(channels.has('other')).toBe(true);
    expect(warnings.some((w) => /more than 32 distinct values/.test(w))).toBe(true);
  });

  it('ignores bad input without throwing', async () => {
    const bad: unknown[] = [undefined, null, 'email', { channel: 'email', outcome: 'lost', attempt: 1, durationMs: 1 }];
    for (const b of bad) expect(() => recordDelivery(b as Delivery)).not.toThrow();
    // (email is a known channel here: the 32-channel cap was reached above)
    expect(() => recordDelivery({ channel: 'email', outcome: 'delivered', attempt: Number.NaN, durationMs: -5 })).not.toThrow();
    const lines = await scrape();
    expect(lines).toContain('vigil_message_deliveries_total{channel="email",outcome="delivered"} 2');
    expect(lines).toContain('vigil_message_delivery_duration_seconds_count{channel="email",outcome="delivered"} 1'); // negative duration dropped
    expect(lines).toContain('vigil_message_delivery_attempts_sum{channel="email"} 3'); // 2 before, NaN attempt -> 1
    expect(warnings.some((w) => /outcome must be one of delivered, failed, retried, dropped/.test(w))).toBe(true);
  });
});

describe('trackJob', () => {
  it('records runs by outcome, duration, last success and in-progress, and passes results through', async () => {
    let inProgressDuring = '';
    await expect(
      trackJob('report', async () => {
        inProgressDuring = (await scrape()).find((l) => l.startsWith('vigil_job_in_progress{job="report"}')) ?? '';
        return 42;
      }),
    ).resolves.toBe(42);
    await expect(trackJob('report', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(
      trackJob('report', () => {
        throw new TypeError('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    expect(await trackJob('report', () => 'sync value')).toBe('sync value');

    expect(inProgressDuring).toBe('vigil_job_in_progress{job="report"} 1');
    const lines = await scrape();
    expect(lines).toContain('vigil_job_runs_total{job="report",outcome="success"} 2');
    expect(lines).toContain('vigil_job_runs_total{job="report",outcome="failure"} 2');
    expect(lines).toContain('vigil_job_duration_seconds_count{job="report"} 4');
    expect(lines).toContain('vigil_job_in_progress{job="report"} 0');
    const last = lines.find((l) => l.startsWith('vigil_job_last_success_timestamp_seconds{job="report"}'));
    expect(Math.abs(Number(last!.split(' ')[1]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('a job that has only failed has zero successes and no last-success series yet', async () => {
    await trackJob('never-ok', () => Promise.reject(new Error('x'))).catch(() => {});
    const lines = await scrape();
    expect(lines).toContain('vigil_job_runs_total{job="never-ok",outcome="success"} 0');
    expect(lines.some((l) => l.startsWith('vigil_job_last_success_timestamp_seconds{job="never-ok"}'))).toBe(false);
  });

  it('folds an unbounded job name', async () => {
    await trackJob('import 2026-11-24T10:00:00Z', async () => undefined);
    expect(await scrape()).toContain('vigil_job_runs_total{job="other",outcome="success"} 1');
  });
});
