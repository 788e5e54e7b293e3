// Events as the runtime builds them (exporter/record/events.ts): a status change carries the
// values behind it, bounded; a component's change is found against a baseline that a restore or
// a reload resets without events.
import { describe, expect, it } from 'vitest';
import { rollup } from '../../exporter/health/rollup.js';
import type { CheckResult } from '../../exporter/model/result.js';
import type { Status } from '../../exporter/model/status.js';
import { ComponentWatch, encodeData, eventInsert, resultValues } from '../../exporter/record/events.js';

const components = [{ name: 'api', depends_on: ['db'] }, { name: 'db', depends_on: [] }];
const statuses = (db: Status, api: Status) => rollup(components, [{ name: 'db-tcp', component: 'db', status: db }, { name: 'api-http', component: 'api', status: api }]);

describe('resultValues', () => {
  it('keeps the samples and the thresholds they crossed', () => {
    const r: CheckResult = {
      check: 'disk', ok: false, reason: 'threshold', message: 'used 97 % above 95 %', status: 'critical', duration: 0.01, attempts: 1, startedAt: 0, finishedAt: 10,
      samples: [{ key: 'used_ratio', metric: 'vigil_disk_used_ratio', value: 0.97, labels: { mount: '/' } }],
      violations: [{ key: 'used_ratio', severity: 'critical', value: 0.97, level: 0.95, direction: 'above', labels: { mount: '/' }, message: 'used 97 % above 95 %' }],
    };
    expect(resultValues(r)).toEqual({
      samples: [{ key: 'used_ratio', value: 0.97, labels: { mount: '/' } }],
      violations: [{ key: 'used_ratio', severity: 'critical', value: 0.97, level: 0.95, direction: 'above', labels: { mount: '/' } }],
      duration_seconds: 0.01, attempts: 1,
    });
  });

  it('is bounded: the first 20 samples, and at most 4 KiB once encoded (the violations kept first)', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, metric: 'm', value: i, labels: { path: 'x'.repeat(300) } }));
    const v = resultValues({ check: 'c', ok: true, status: 'healthy', duration: 0, attempts: 1, startedAt: 0, finishedAt: 0, samples: many, violations: [] }) as { samples: unknown[]; samples_omitted: number };
    expect(v.samples).toHaveLength(20);
    expect(v.samples_omitted).toBe(480);
    const encoded = encodeData(v)!;
    expect(encoded.length).toBeLessThanOrEqual(4096);
    expect(JSON.parse(encoded)).toEqual({ truncated: true, violations: [] });
    expect(encodeData(undefined)).toBeNull();
  });

  it('an event row: actions have no check and no statuses', () => {
    expect(eventInsert({ t: 5, kind: 'reload', reason: 'ok', actor: 'SIGHUP', data: { checks: 2 } }, null).params)
      .toEqual([5, 'reload', null, null, null, null, 'ok', null, '{"checks":2}', 'SIGHUP']);
  });
});

describe('ComponentWatch', () => {
  it('tells a component\'s change once, from its previous status, with the check that caused it', () => {
    const w = new ComponentWatch();
    w.reset(statuses('healthy', 'healthy'));
    const [e, ...rest] = w.changes(statuses('critical', 'healthy'), 100, { check: 'db-tcp', component: 'db', status: 'critical', reason: 'connect' });
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ t: 100, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical', reason: 'connect', message: 'check db-tcp is critical', data: { checks: ['db-tcp'] } });
    expect(w.changes(statuses('critical', 'healthy'), 101, { check: 'db-tcp', component: 'db', status: 'critical' })).toEqual([]);
    // api's own checks are healthy: impacted by db, but its status is its checks'.
    const [api] = w.changes(statuses('critical', 'critical'), 102, { check: 'api-http', component: 'api', status: 'critical' });
    expect(api).toMatchObject({ component: 'api', from: 'healthy', to: 'critical', data: { impacted_by: ['db'] } });
  });

  it('after a reset to restored statuses, the same statuses are no change and a recovery is told from the restored one', () => {
    const w = new ComponentWatch();
    w.reset(statuses('unknown', 'unknown')); // the config applied before the restore
    w.reset(statuses('critical', 'healthy')); // the restore
    expect(w.changes(statuses('critical', 'healthy'), 1, { check: 'db-tcp', component: 'db', status: 'critical' })).toEqual([]);
    expect(w.changes(statuses('healthy', 'healthy'), 2, { check: 'db-tcp', component: 'db', status: 'healthy' }).map((e) => `${e.component} ${e.from}->${e.to}`)).toEqual(['db critical->healthy']);
  });
});
