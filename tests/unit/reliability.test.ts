// MTTR and MTBF arithmetic (exporter/record/reliability.ts).
import { describe, expect, it } from 'vitest';
import { reliabilityOf, reliabilityWindows } from '../../exporter/record/reliability.js';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 1, 0, 0, 0);

describe('reliabilityOf', () => {
  it('two failures of 1 h and 3 h in a day: MTTR 2 h, MTBF (24 h - 4 h) / 2 = 10 h', () => {
    const r = reliabilityOf([
      { t: NOW - 20 * H, from: 'healthy', to: 'critical' },
      { t: NOW - 19 * H, from: 'critical', to: 'healthy' },
      { t: NOW - 10 * H, from: 'healthy', to: 'degraded' },
      { t: NOW - 9 * H, from: 'degraded', to: 'critical' }, // still the same failure
      { t: NOW - 7 * H, from: 'critical', to: 'healthy' },
    ], 'healthy', NOW - D, NOW);
    expect(r).toEqual({ failures: 2, repairs: 2, downtime_seconds: 4 * 3600, mttr_seconds: 2 * 3600, mtbf_seconds: 10 * 3600 });
  });

  it('no failure: MTTR and MTBF null, no downtime', () => {
    expect(reliabilityOf([], 'healthy', NOW - D, NOW)).toEqual({ failures: 0, repairs: 0, downtime_seconds: 0, mttr_seconds: null, mtbf_seconds: null });
  });

  it('failing the whole window with no change in it: all downtime, nothing repaired', () => {
    expect(reliabilityOf([], 'critical', NOW - D, NOW)).toEqual({ failures: 0, repairs: 0, downtime_seconds: 24 * 3600, mttr_seconds: null, mtbf_seconds: null });
  });

  it('a failure that began before the window: repair time counted from its real start, downtime only inside the window', () => {
    const transitions = [
      { t: NOW - 30 * H, from: 'healthy' as const, to: 'critical' as const },
      { t: NOW - 20 * H, from: 'critical' as const, to: 'healthy' as const },
    ];
    const r = reliabilityOf(transitions, 'healthy', NOW - D, NOW);
    expect(r).toMatchObject({ failures: 0, repairs: 1, downtime_seconds: 4 * 3600, mttr_seconds: 10 * 3600, mtbf_seconds: null });
  });

  it('unknown is not a failure; a failure still open at the end counts as downtime', () => {
    const r = reliabilityOf([
      { t: NOW - 12 * H, from: 'healthy', to: 'unknown' },
      { t: NOW - 11 * H, from: 'unknown', to: 'healthy' },
      { t: NOW - 2 * H, from: 'healthy', to: 'critical' },
    ], 'critical', NOW - D, NOW);
    expect(r).toEqual({ failures: 1, repairs: 0, downtime_seconds: 2 * 3600, mttr_seconds: null, mtbf_seconds: 22 * 3600 });
  });

  it('the windows share one list: the status at a window\'s start comes from the last change before it', () => {
    const w = reliabilityWindows([
      { t: NOW - 5 * D, from: 'healthy', to: 'critical' },
      { t: NOW - 5 * D + H, from: 'critical', to: 'healthy' },
      { t: NOW - 2 * D, from: 'healthy', to: 'critical' },
    ], 'critical', NOW);
    expect(w['24h']).toMatchObject({ failures: 0, repairs: 0, downtime_seconds: 24 * 3600 });
    expect(w['7d']).toMatchObject({ failures: 2, repairs: 1, downtime_seconds: (H + 2 * D) / 1000, mttr_seconds: 3600 });
    expect(w['7d'].mtbf_seconds).toBe((7 * D - H - 2 * D) / 2 / 1000);
    expect(Object.keys(w)).toEqual(['24h', '7d', '30d', '90d']);
  });
});
