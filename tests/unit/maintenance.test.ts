// Maintenance windows without Alertmanager: their config (errors name file, line and key), their
// schedule, and the time availability leaves out (tests/integration/maintenance-silences.test.ts
// has the silences against a real Alertmanager).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { summarizePeriod, seriesOf } from '../../exporter/health/report-period.js';
import { silentLogger } from '../../exporter/log.js';
import { Maintenance } from '../../exporter/maintenance/manager.js';
import { activeAt, fromConfig, mergeIntervals, nextAfter, occurrencesBetween } from '../../exporter/maintenance/schedule.js';
import { parseConfig } from '../support/config.js';

const BASE = `checks:
  - name: db-ping
    type: tcp
    host: 127.0.0.1
    port: 5432
    component: db
    labels: {team: data}
`;

function problems(yaml: string): string {
  try {
    parseConfig(yaml, 'vigil.yml', { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('maintenance config', () => {
  it('reads one-off and recurring windows', () => {
    const cfg = parseConfig(`${BASE}maintenance:
  - name: upgrade
    title: PostgreSQL 16
    start: 2026-12-05T22:00:00Z
    end: "2026-12-05T23:30:00+00:00"
    scope: {components: [db]}
  - name: nightly
    schedule: "0 3 * * *"
    duration: 30m
    timezone: Europe/Berlin
    scope: {labels: {team: data}}
`, 'vigil.yml', { env: {} });
    expect(cfg.maintenance.map((w) => [w.name, w.start, w.end, w.schedule, w.duration, w.timezone])).toEqual([
      ['upgrade', Date.parse('2026-12-05T22:00:00Z'), Date.parse('2026-12-05T23:30:00Z'), undefined, undefined, 'UTC'],
      ['nightly', undefined, undefined, '0 3 * * *', 1_800_000, 'Europe/Berlin'],
    ]);
  });

  it('names file, line and key of each mistake', () => {
    const text = problems(`${BASE}maintenance:
  - name: a
    start: 2026-12-05T22:00:00Z
    end: 2026-12-05T21:00:00Z
    scope: {components: [nope]}
  - name: b
    schedule: "0 3 * *"
    duration: 30m
    scope: {checks: [db-ping]}
  - name: c
    schedule: "0 3 * * *"
    duration: 30m
    timezone: Mars/Olympus
    scope: {checks: [db-ping]}
  - name: d
    start: 2026-12-05 22:00
    end: 2026-12-06T22:00:00Z
    scope: {}
  - name: e
    start: 2026-12-05T22:00:00Z
    schedule: "0 3 * * *"
    scope: {checks: [ghost]}
`);
    expect(text).toMatch(/vigil\.yml:11:\d+ maintenance\[0\]\.end: end must be after start/);
    expect(text).toMatch(/vigil\.yml:14:\d+ maintenance\[1\]\.schedule: cron expression has 4 fields/);
    expect(text).toMatch(/maintenance\[2\]\.timezone: unknown time zone "Mars\/Olympus"/);
    expect(text).toMatch(/maintenance\[3\]\.start: invalid time "2026-12-05 22:00", expected RFC 3339 with an offset/);
    expect(text).toMatch(/maintenance\[3\]\.scope: name at least one of components, checks or labels/);
    expect(text).toMatch(/maintenance\[4\]\.schedule: set either start and end \(one-off\) or schedule and duration \(recurring\)/);
    expect(text).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a scope naming an unknown component or check', () => {
    const text = problems(`${BASE}maintenance:
  - name: a
    start: 2026-12-05T22:00:00Z
    end: 2026-12-05T23:00:00Z
    scope: {components: [nope], checks: [ghost]}
`);
    expect(text).toMatch(/maintenance\[0\]\.scope\.components\[0\]: unknown component "nope"/);
    expect(text).toMatch(/maintenance\[0\]\.scope\.checks\[0\]: unknown check "ghost"/);
  });
});

describe('maintenance schedule', () => {
  const scope = { components: ['db'], checks: [], labels: {} };
  it('evaluates a cron window in its time zone, across midnight', () => {
    const w = fromConfig({ name: 'late', schedule: '30 23 * * 5', duration: 60 * 60_000, timezone: 'America/New_York', scope });
    // Friday 2026-12-04 23:30 in New York is Saturday 04:30 UTC.
    const start = Date.parse('2026-12-05T04:30:00Z');
    expect(activeAt(w, start - 1)).toBeUndefined();
    expect(activeAt(w, start)).toMatchObject({ start, end: start + 3_600_000, key: `late@${start}` });
    expect(activeAt(w, start + 3_599_999)?.start).toBe(start);
    expect(activeAt(w, start + 3_600_000)).toBeUndefined();
    expect(nextAfter(w, start)?.start).toBe(start + 7 * 86_400_000);
    expect(occurrencesBetween(w, start + 1_800_000, start + 8 * 86_400_000).map((o) => o.start)).toEqual([start, start + 7 * 86_400_000]);
  });

  it('merges overlapping intervals', () => {
    expect(mergeIntervals([[5, 10], [0, 3], [3, 4], [8, 12], [20, 20]])).toEqual([[0, 4], [5, 12]]);
  });
});

describe('maintenance time per check over a range (the status page\'s bars)', () => {
  it('works each window out once and gives each check the windows that cover it, merged', () => {
    const m = new Maintenance({ log: silentLogger, sql: {} as never, addEvent: () => {}, checks: () => [], openIncidentKeys: () => new Set() });
    const day = Date.parse('2026-12-03T00:00:00Z');
    m.configure({
      alertmanagerTimeout: 5000, retention: 86_400_000,
      windows: [
        { name: 'nightly', schedule: '0 2 * * *', duration: 3_600_000, timezone: 'UTC', scope: { components: ['db'], checks: [], labels: {} } },
        { name: 'web-move', start: day + 2.5 * 3_600_000, end: day + 4 * 3_600_000, timezone: 'UTC', scope: { components: [], checks: [], labels: { team: 'data' } } },
      ],
    });
    const db = { name: 'db-ping', component: 'db', labels: { team: 'data' } };
    const web = { name: 'web', component: 'web', labels: { team: 'web' } };
    const of = m.plannedTime(day, day + 86_400_000)!;
    expect(of(db)).toEqual([[day + 2 * 3_600_000, day + 4 * 3_600_000]]);
    expect(of(web)).toEqual([]);
    expect(m.excluded(db, day, day + 86_400_000)).toEqual(of(db));
    // Clipped to the range; none at all when no window touches it.
    expect(m.plannedTime(day + 3 * 3_600_000, day + 5 * 3_600_000)!(db)).toEqual([[day + 3 * 3_600_000, day + 4 * 3_600_000]]);
    expect(m.plannedTime(day + 5 * 3_600_000, day + 6 * 3_600_000)).toBeUndefined();
    expect(m.plannedBars(day, day + 86_400_000)!({ config: db })).toEqual(of(db));
    // Kept for the same range until the windows change.
    expect(m.plannedTime(day, day + 86_400_000)).toBe(m.plannedTime(day, day + 86_400_000));
    m.configure({ alertmanagerTimeout: 5000, retention: 86_400_000, windows: [] });
    expect(m.plannedTime(day, day + 86_400_000)).toBeUndefined();
  });
});

describe('availability leaves maintenance out', () => {
  it('counts the time in a window in no status', () => {
    // Runs every 10 s for 100 s: healthy, then critical from 40 s to 70 s (the planned work), healthy again.
    const points = Array.from({ length: 11 }, (_, i) => ({ t: i * 10_000, duration: 0.1, status: (i >= 4 && i < 7 ? 'critical' : 'healthy') as 'critical' | 'healthy' }));
    const opts = { from: 0, to: 100_000, maxGap: 20_000 };
    const plain = summarizePeriod(seriesOf(points), opts);
    expect(plain.availability).toBeCloseTo(0.7);
    expect(plain.maintenance_seconds).toBe(0);
    const planned = summarizePeriod(seriesOf(points), { ...opts, exclude: [[40_000, 70_000]] });
    expect(planned.availability).toBe(1);
    expect(planned.seconds_by_status).toEqual({ healthy: 70, degraded: 0, critical: 0 });
    expect(planned.maintenance_seconds).toBe(30);
    expect(planned.observed_seconds).toBe(70);
    expect(planned.incidents).toHaveLength(1); // still listed
    // A window covering part of the outage leaves the rest in.
    const part = summarizePeriod(seriesOf(points), { ...opts, exclude: [[0, 10_000], [50_000, 60_000]] });
    expect(part.seconds_by_status).toEqual({ healthy: 60, degraded: 0, critical: 20 });
    expect(part.maintenance_seconds).toBe(20);
  });
});

describe('availability from the record leaves maintenance out too', () => {
  it('subtracts the status time the record holds inside the window', async () => {
    const { StateStore } = await import('../../exporter/engine/state.js');
    const { reportRows } = await import('../../exporter/views/report.js');
    const { TimeSlice } = await import('../../exporter/views/time-slice.js');
    const { emptyTotals } = await import('../../exporter/record/tiers.js');
    const state = new StateStore();
    const check = { name: 'a', type: 'http', component: 'c', interval: 10_000, timeout: 1000, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true };
    state.applyConfig({ checks: [check], components: [], history: { max_points: 100, retention: 7 * 86_400_000 } } as never, new Set());
    const H = 3_600_000;
    const q = { from: 10 * H, to: 12 * H };
    const totals = (healthy: number, critical: number) => {
      const t = emptyTotals();
      t.ms = [healthy, 0, 0, critical];
      t.runs = 10;
      t.first = q.from;
      return t;
    };
    const asked: Array<[number, number]> = [];
    const long = {
      dataSince: async () => 0,
      periodTotals: async (from: number, to: number) => {
        asked.push([from, to]);
        // The whole period: 90 min healthy, 30 min critical; the window (11:00-11:30) holds the critical half hour.
        return { totals: new Map([['a', from === q.from && to === q.to ? totals(90 * 60_000, 30 * 60_000) : totals(0, 30 * 60_000)]]), pieces: [] };
      },
    };
    const window = (): Array<[number, number]> => [[11 * H, 11.5 * H]];
    const [plain] = await reportRows(state.list(), q, new TimeSlice(), long);
    expect(plain.source).toBe('record');
    expect(plain.r.availability).toBe(0.75);
    const [planned] = await reportRows(state.list(), q, new TimeSlice(), long, window);
    expect(asked).toContainEqual([11 * H, 11.5 * H]);
    expect(planned.r.availability).toBe(1);
    expect(planned.r.maintenance_seconds).toBe(1800);
    expect(planned.r.seconds_by_status.critical).toBe(0);
  });
});
