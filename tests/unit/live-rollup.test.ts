// The rollup kept current check by check (health/live-rollup.ts) must always equal the pure
// rollup of the checks' statuses as they are: random sequences of changes over a dependency map
// with roots, chains, diamonds, components without checks and checks in undeclared components.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveRollup } from '../../exporter/health/live-rollup.js';
import { rollup } from '../../exporter/health/rollup.js';
import { StateStore } from '../../exporter/engine/state.js';
import { STATUSES, type Status } from '../../exporter/model/status.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { makeCheck } from '../support/checks.js';

const components = [
  { name: 'web', depends_on: ['api'] },
  { name: 'api', depends_on: ['db', 'queue'] },
  { name: 'worker', depends_on: ['queue'] },
  { name: 'queue', depends_on: ['redis'] },
  { name: 'db', depends_on: ['disk'] },
  { name: 'redis', depends_on: [] },
  { name: 'disk', depends_on: [] },
  { name: 'empty', depends_on: ['db'] },
  { name: 'alone', depends_on: [] },
];
// Two checks in most components, none in `empty`, one in a component nobody declared.
const checkComponents = ['web', 'web', 'api', 'worker', 'queue', 'queue', 'db', 'redis', 'disk', 'disk', 'alone', 'alone', 'stray'];

const plain = (r: ReturnType<typeof rollup>) => ({ status: r.status, components: Object.fromEntries(r.components) });

describe('LiveRollup', () => {
  it('equals the pure rollup after every change, whatever the order', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(checkComponents.length - 1), fc.constantFrom<Status>(...STATUSES)), { maxLength: 60 }),
      fc.array(fc.nat(60), { maxLength: 5 }),
      (changes, reads) => {
        const checks = checkComponents.map((component, i) => ({ name: `c${i}`, component, status: 'unknown' as Status }));
        const live = new LiveRollup(() => checks.map((c) => ({ ...c })));
        live.configure(components);
        live.get();
        changes.forEach(([i, to], step) => {
          const from = checks[i].status;
          checks[i].status = to;
          live.change(checks[i].component, from, to);
          if (reads.includes(step) || step === changes.length - 1) expect(plain(live.get())).toEqual(plain(rollup(components, checks)));
        });
      },
    ), { numRuns: 300 });
  });

  it('keeps the same rollup object while no component changes status', () => {
    const checks = [{ name: 'a', component: 'x', status: 'unknown' as Status }, { name: 'b', component: 'x', status: 'critical' as Status }];
    const live = new LiveRollup(() => checks);
    live.configure([{ name: 'x', depends_on: [] }]);
    const first = live.get();
    checks[0].status = 'healthy';
    live.change('x', 'unknown', 'healthy');
    expect(live.get()).toBe(first);
    expect(live.get().components.get('x')!.status).toBe('critical');
  });
});

describe('StateStore rollup', () => {
  it('follows results, late marks and restores as the pure rollup of the checks would', () => {
    const checks = [
      makeCheck({ name: 'a', type: 'tcp', host: '127.0.0.1', port: 1, component: 'db' }),
      makeCheck({ name: 'b', type: 'tcp', host: '127.0.0.1', port: 1, component: 'api' }),
      makeCheck({ name: 'c', type: 'tcp', host: '127.0.0.1', port: 1, component: 'api' }),
    ];
    const comps = [{ name: 'db', depends_on: [] }, { name: 'api', depends_on: ['db'] }];
    const s = new StateStore();
    s.applyConfig({ checks, components: comps, history: { max_points: 10, retention: 3_600_000 } } as never, new Set());
    const pure = () => plain(rollup(comps, s.list().map((x) => ({ name: x.config.name, component: x.config.component, status: x.status }))));
    const run = (check: string, status: Status, finishedAt: number): CheckResult => ({ check, ok: status !== 'critical', status, violations: [], duration: 0, attempts: 1, startedAt: finishedAt, finishedAt, samples: [] });
    expect(plain(s.rollup())).toEqual(pure());
    s.restore('b', { status: 'critical', since: 1, points: [] });
    expect(plain(s.rollup())).toEqual(pure());
    s.record(run('a', 'critical', Date.now()));
    expect(plain(s.rollup())).toEqual(pure());
    expect(s.rollup().components.get('api')!.impacted_by).toEqual(['db']);
    s.record(run('a', 'healthy', Date.now()));
    s.record(run('b', 'healthy', Date.now()));
    s.record(run('c', 'healthy', Date.now() - 1e9));
    expect(s.rollup().status).toBe('healthy');
    s.markLate(Date.now());
    expect(plain(s.rollup())).toEqual(pure());
    expect(s.rollup().components.get('api')!.status).toBe('unknown');
  });
});
