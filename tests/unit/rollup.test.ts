// The dependency map: component status, impacted_by with root causes first, and config errors
// for cycles and unknown dependencies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { findCycle } from '../../exporter/config/graph.js';
import { parseConfig } from '../support/config.js';
import { rollup } from '../../exporter/health/rollup.js';
import type { Status } from '../../exporter/model/status.js';

// api -> queue -> redis;  api -> db -> disk;  worker -> queue;  web -> api
const components = [
  { name: 'web', depends_on: ['api'] },
  { name: 'api', depends_on: ['db', 'queue'] },
  { name: 'worker', depends_on: ['queue'] },
  { name: 'queue', depends_on: ['redis'] },
  { name: 'db', depends_on: ['disk'] },
  { name: 'redis', depends_on: [] },
  { name: 'disk', depends_on: [] },
];

function run(statuses: Record<string, Status>) {
  const checks = Object.entries(statuses).map(([component, status]) => ({ name: `${component}-check`, component, status }));
  return rollup(components, checks);
}

describe('rollup', () => {
  const cases: Array<{ name: string; statuses: Record<string, Status>; impacted: Record<string, string[]>; overall: Status }> = [
    {
      name: 'all healthy: nobody impacted',
      statuses: { web: 'healthy', api: 'healthy', worker: 'healthy', queue: 'healthy', db: 'healthy', redis: 'healthy', disk: 'healthy' },
      impacted: { web: [], api: [], worker: [], queue: [], db: [], redis: [], disk: [] },
      overall: 'healthy',
    },
    {
      name: 'a leaf outage impacts everything above it, transitively',
      statuses: { web: 'healthy', api: 'healthy', worker: 'healthy', queue: 'healthy', db: 'healthy', redis: 'critical', disk: 'healthy' },
      impacted: { web: ['redis'], api: ['redis'], worker: ['redis'], queue: ['redis'], db: [], redis: [], disk: [] },
      overall: 'critical',
    },
    {
      name: 'root causes come first, then the critical components between',
      statuses: { web: 'healthy', api: 'healthy', worker: 'healthy', queue: 'critical', db: 'critical', redis: 'healthy', disk: 'critical' },
      impacted: { web: ['disk', 'queue', 'db'], api: ['disk', 'queue', 'db'], worker: ['queue'], queue: [], db: ['disk'], redis: [], disk: [] },
      overall: 'critical',
    },
    {
      name: 'degraded and unknown dependencies impact nobody',
      statuses: { web: 'healthy', api: 'healthy', worker: 'healthy', queue: 'degraded', db: 'unknown', redis: 'healthy', disk: 'healthy' },
      impacted: { web: [], api: [], worker: [], queue: [], db: [], redis: [], disk: [] },
      overall: 'degraded',
    },
  ];
  it.each(cases)('$name', ({ statuses, impacted, overall }) => {
    const r = run(statuses);
    expect(Object.fromEntries([...r.components].map(([n, c]) => [n, c.impacted_by]))).toEqual(impacted);
    expect(r.status).toBe(overall);
  });

  it('a component keeps its own status: being impacted does not make it critical', () => {
    const r = run({ web: 'healthy', api: 'healthy', worker: 'healthy', queue: 'healthy', db: 'critical', redis: 'healthy', disk: 'healthy' });
    expect(r.components.get('api')).toEqual({ status: 'healthy', checks: ['api-check'], impacted_by: ['db'] });
  });

  it('a component is the worst of its checks; checks may name undeclared components', () => {
    const r = rollup([{ name: 'db', depends_on: [] }, { name: 'api', depends_on: ['db'] }], [
      { name: 'a', component: 'db', status: 'healthy' },
      { name: 'b', component: 'db', status: 'critical' },
      { name: 'c', component: 'api', status: 'degraded' },
      { name: 'd', component: 'misc', status: 'healthy' },
    ]);
    expect(r.components.get('db')).toMatchObject({ status: 'critical', checks: ['a', 'b'] });
    expect(r.components.get('api')).toMatchObject({ status: 'degraded', impacted_by: ['db'] });
    expect(r.components.get('misc')).toMatchObject({ status: 'healthy', impacted_by: [] });
  });
});

// The rollup before issue 12: every component asked what it reaches, and every critical
// component found whether it was a root (cubic in the graph's depth). Kept as the specification.
function referenceImpactedBy(components: Array<{ name: string; depends_on: string[] }>, status: Map<string, Status>): Map<string, string[]> {
  const deps = new Map(components.map((c) => [c.name, c.depends_on]));
  const reach = (start: string): string[] => {
    const seen = new Set<string>();
    const stack = [...(deps.get(start) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n) || n === start) continue;
      seen.add(n);
      stack.push(...(deps.get(n) ?? []));
    }
    return [...seen];
  };
  const out = new Map<string, string[]>();
  for (const name of status.keys()) {
    const critical = reach(name).filter((d) => status.get(d) === 'critical');
    const isRoot = (d: string) => !reach(d).some((x) => status.get(x) === 'critical');
    out.set(name, [...critical.filter(isRoot).sort(), ...critical.filter((d) => !isRoot(d)).sort()]);
  }
  return out;
}

describe('rollup at scale', () => {
  it('impacted_by matches the reference on random dependency graphs (DAGs)', () => {
    const graph = fc.integer({ min: 1, max: 25 }).chain((n) => fc.record({
      // Component i may depend only on components before it: acyclic, as the config loader requires.
      deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: i ? 3 : 0 }))),
      statuses: fc.array(fc.constantFrom<Status>('healthy', 'degraded', 'critical', 'unknown'), { minLength: n, maxLength: n }),
    }));
    fc.assert(fc.property(graph, ({ deps, statuses }) => {
      const components = deps.map((d, i) => ({ name: `c${i}`, depends_on: d.map((j) => `c${j}`) }));
      const r = rollup(components, statuses.map((status, i) => ({ name: `k${i}`, component: `c${i}`, status })));
      const expected = referenceImpactedBy(components, new Map([...r.components].map(([n, c]) => [n, c.status])));
      expect(Object.fromEntries([...r.components].map(([n, c]) => [n, c.impacted_by]))).toEqual(Object.fromEntries(expected));
    }), { numRuns: 300 });
  });

  it('a 2 000-deep dependency chain rolls up (was cubic: minutes, on the scrape path)', () => {
    const n = 2000;
    const components = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, depends_on: i ? [`c${i - 1}`] : [] }));
    const r = rollup(components, components.map((c, i) => ({ name: `k${i}`, component: c.name, status: i % 50 === 0 ? 'critical' : 'healthy' })));
    expect(r.components.get('c1999')!.impacted_by).toEqual(['c0', ...Array.from({ length: 39 }, (_, j) => `c${(j + 1) * 50}`).sort()]);
    expect(r.components.get('c0')!.impacted_by).toEqual([]);
  });
});

describe('dependency config', () => {
  const problems = (yaml: string) => {
    try {
      parseConfig(yaml, 'vigil.yml', { env: {} });
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.message.split('\n');
      throw err;
    }
  };

  it('finds cycles as paths', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []], ['c', ['a', 'b']]]))).toBeUndefined();
  });

  it('a cycle is a config error naming the path and its position', () => {
    const out = problems(`components:
  - { name: api, depends_on: [db] }
  - { name: db, depends_on: [storage] }
  - { name: storage, depends_on: [api] }
`);
    expect(out).toEqual(['vigil.yml:2:30 components[0].depends_on: dependency cycle: api -> db -> storage -> api']);
  });

  it('unknown and self dependencies are config errors', () => {
    const out = problems(`components:
  - { name: api, depends_on: [dbb] }
  - { name: db, depends_on: [db] }
`);
    expect(out).toEqual([
      'vigil.yml:2:31 components[0].depends_on[0]: unknown component "dbb"',
      'vigil.yml:3:30 components[1].depends_on[0]: a component cannot depend on itself', // once, not also as a cycle
    ]);
  });

  it('a check may put itself into a component that others depend on', () => {
    const cfg = parseConfig(`components:
  - { name: api, depends_on: [db] }
  - { name: db }
checks:
  - { name: pg, type: tcp, host: 127.0.0.1, port: 5432, component: db }
`, 'vigil.yml', { env: {} });
    expect(cfg.components.map((c) => [c.name, c.depends_on])).toEqual([['api', ['db']], ['db', []]]);
  });
});
