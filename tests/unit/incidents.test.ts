// Incidents derived from status events (exporter/record/incidents.ts), as pure functions: events
// in, incidents out; grouping by the dependency map, root cause, resumption after a restart.
import { describe, expect, it } from 'vitest';
import { deriveIncidents, DependencyMap, IncidentTracker, rootCauses, type Incident } from '../../exporter/record/incidents.js';
import type { RecordEvent } from '../../exporter/record/events.js';
import type { Status } from '../../exporter/model/status.js';

// web -> api -> db -> disk;  api -> queue;  billing (alone)
const components = [
  { name: 'web', depends_on: ['api'] },
  { name: 'api', depends_on: ['db', 'queue'] },
  { name: 'db', depends_on: ['disk'] },
  { name: 'queue', depends_on: [] },
  { name: 'disk', depends_on: [] },
  { name: 'billing', depends_on: [] },
];

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const M = 60_000;

function change(min: number, check: string, component: string, from: Status, to: Status, message?: string): RecordEvent {
  return { t: T0 + min * M, kind: 'check_status', check, component, from, to, reason: to === 'healthy' ? undefined : 'connect', message };
}

describe('deriveIncidents', () => {
  it('one check down and up again: one incident with start, end and duration', () => {
    const out = deriveIncidents([
      change(0, 'db-tcp', 'db', 'unknown', 'healthy'),
      change(5, 'db-tcp', 'db', 'healthy', 'critical', 'connect ECONNREFUSED'),
      change(12, 'db-tcp', 'db', 'critical', 'healthy'),
    ], components);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      startedAt: T0 + 5 * M, endedAt: T0 + 12 * M, status: 'critical', checks: ['db-tcp'], components: ['db'], rootCause: ['db'], failing: [],
      title: 'db-tcp critical: connect ECONNREFUSED', events: 2,
    });
  });

  it('no failure, no incident: unknown -> healthy, healthy -> unknown (late) open nothing', () => {
    expect(deriveIncidents([
      change(0, 'a', 'web', 'unknown', 'healthy'),
      change(1, 'a', 'web', 'healthy', 'unknown'),
      change(2, 'a', 'web', 'unknown', 'healthy'),
    ], components)).toEqual([]);
  });

  it('a failing dependency is the root cause of the components that depend on it; the incident lasts until the last check is well', () => {
    const out = deriveIncidents([
      change(0, 'web-http', 'web', 'healthy', 'critical'),
      change(1, 'api-http', 'api', 'healthy', 'critical'),
      change(2, 'db-tcp', 'db', 'healthy', 'critical'),
      { t: T0 + 2 * M, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical' },
      change(3, 'db-tcp', 'db', 'critical', 'healthy'),
      change(4, 'web-http', 'web', 'critical', 'healthy'),
      change(6, 'api-http', 'api', 'critical', 'healthy'),
    ], components);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      startedAt: T0, endedAt: T0 + 6 * M, checks: ['web-http', 'api-http', 'db-tcp'], components: ['web', 'api', 'db'],
      // web failed first, but db (which api and so web depend on) failed in the same incident.
      rootCause: ['db'], events: 7,
    });
  });

  it('two failing dependencies with no path between them are both root causes', () => {
    const out = deriveIncidents([
      change(0, 'q', 'queue', 'healthy', 'critical'),
      change(0, 'd', 'disk', 'healthy', 'degraded'),
      change(1, 'a', 'api', 'healthy', 'critical'),
    ], components);
    expect(out).toHaveLength(1);
    expect(out[0].rootCause).toEqual(['disk', 'queue']);
    expect(out[0].endedAt).toBeUndefined();
    expect(out[0].failing.sort()).toEqual(['a', 'd', 'q']);
  });

  it('unrelated parts of the map have incidents of their own', () => {
    const out = deriveIncidents([
      change(0, 'db-tcp', 'db', 'healthy', 'critical'),
      change(1, 'pay', 'billing', 'healthy', 'critical'),
      change(2, 'db-tcp', 'db', 'critical', 'healthy'),
      change(3, 'pay', 'billing', 'critical', 'healthy'),
    ], components);
    expect(out.map((i) => [i.checks, i.rootCause, i.endedAt! - i.startedAt])).toEqual([
      [['db-tcp'], ['db'], 2 * M],
      [['pay'], ['billing'], 2 * M],
    ]);
  });

  it('degraded then critical is one failure; the incident keeps the worst status; a new failure after recovery is a new incident', () => {
    const out = deriveIncidents([
      change(0, 'disk', 'disk', 'healthy', 'degraded'),
      change(1, 'disk', 'disk', 'degraded', 'critical'),
      change(2, 'disk', 'disk', 'critical', 'degraded'),
      change(3, 'disk', 'disk', 'degraded', 'healthy'),
      change(9, 'disk', 'disk', 'healthy', 'degraded'),
    ], components);
    expect(out.map((i) => ({ status: i.status, start: i.startedAt, end: i.endedAt }))).toEqual([
      { status: 'critical', start: T0, end: T0 + 3 * M },
      { status: 'degraded', start: T0 + 9 * M, end: undefined },
    ]);
    expect(out[0].key).not.toBe(out[1].key);
  });

  it('an incident open before a restart is resumed: the recovery after it ends the same incident', () => {
    const [open] = deriveIncidents([change(0, 'db-tcp', 'db', 'healthy', 'critical')], components);
    const after = deriveIncidents([change(30, 'db-tcp', 'db', 'critical', 'healthy')], components, [open]);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ key: open.key, startedAt: T0, endedAt: T0 + 30 * M, failing: [] });
  });

  it('a recovery with no incident open (none was recorded) is no incident and no false recovery', () => {
    expect(deriveIncidents([change(1, 'db-tcp', 'db', 'critical', 'healthy')], components)).toEqual([]);
  });

  it('checks a reload removed stop holding their incident open', () => {
    const t = new IncidentTracker(new DependencyMap(components));
    t.apply(change(0, 'db-tcp', 'db', 'healthy', 'critical'));
    const [closed] = t.forget(new Set(['db-tcp']), T0 + M);
    expect(closed).toMatchObject({ endedAt: T0 + M, failing: [] });
    expect(t.open).toEqual([]);
  });

  it('operator actions and component events alone open no incident', () => {
    expect(deriveIncidents([
      { t: T0, kind: 'reload', reason: 'ok', actor: 'SIGHUP' },
      { t: T0, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical' },
      { t: T0, kind: 'manual_run', check: 'db-tcp', to: 'critical' },
    ], components)).toEqual([]);
  });
});

describe('rootCauses', () => {
  const map = new DependencyMap(components);
  it('follows dependencies transitively', () => {
    expect(rootCauses(['web', 'disk'], map)).toEqual(['disk']);
    expect(rootCauses(['web', 'api', 'queue', 'db'], map)).toEqual(['db', 'queue']);
    expect(rootCauses(['billing', 'web'], map)).toEqual(['billing', 'web']);
  });
  it('a component unknown to the map is its own group and cause', () => {
    expect(map.groupOf('nowhere')).toBe('nowhere');
    expect(map.groupOf('web')).toBe(map.groupOf('disk'));
    expect(map.groupOf('web')).not.toBe(map.groupOf('billing'));
    expect(rootCauses(['nowhere'], map)).toEqual(['nowhere']);
  });
});

describe('resume', () => {
  it('keeps the stored root cause when a dependent fails after the restart', () => {
    const stored: Incident = { key: 'k', startedAt: T0, status: 'critical', checks: ['d'], components: ['db'], rootCause: ['db'], failing: ['d'], title: 'd critical', events: 1 };
    const out = deriveIncidents([change(1, 'w', 'web', 'healthy', 'critical')], components, [stored]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ key: 'k', rootCause: ['db'], checks: ['d', 'w'], failing: ['d', 'w'] });
  });
});
