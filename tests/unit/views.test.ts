// The views between the state store and the routes (exporter/views/): the bar and the bucket a
// live diff carries, CSV, formatting, reports, history and /health documents.
import { describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { statusRank, STATUSES, worst, type Status } from '../../exporter/model/status.js';
import { barSpec, bucketAt, BucketAccumulator, DEFAULT_BAR_BUCKETS } from '../../exporter/views/bar.js';
import { csvField, toCsv } from '../../exporter/views/csv.js';
import { fileStamp, iso, ms, percent } from '../../exporter/views/format.js';
import { healthDocument } from '../../exporter/views/health.js';
import { historyBuckets, historyPoints } from '../../exporter/views/history.js';
import { reportCsv, reportDocument, reportRecords, reportRows } from '../../exporter/views/report.js';
import { checkUpdate, statusSnapshot } from '../../exporter/views/status.js';
import { TimeSlice } from '../../exporter/views/time-slice.js';

const S = 1000;
const HALF_HOUR = 1800 * S;
/** A time well inside a half-hour bucket: 2026-11-20 10:10:00 UTC. */
const T = Date.UTC(2026, 10, 20, 10, 10);

const check = (name: string, component = 'c'): CheckCommon => ({
  name, type: 'http', component, interval: 10 * S, timeout: S, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true,
});
const result = (name: string, status: Status, t: number, duration = 0.01): CheckResult => ({
  check: name, ok: status !== 'critical', status, violations: [], duration, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t,
  reason: status === 'critical' ? 'status' : undefined,
});
function store(checks: CheckCommon[], components: Array<{ name: string; depends_on: string[] }> = []) {
  const s = new StateStore();
  s.applyConfig({ checks, components, history: { max_points: 10_000, retention: 7 * 86_400_000 } } as never, new Set());
  return s;
}

describe('status rank: one order for every view', () => {
  it('is the order of STATUSES, so the largest rank is the worst', () => {
    expect(STATUSES.map(statusRank)).toEqual([0, 1, 2, 3]);
    for (const a of STATUSES) for (const b of STATUSES) expect(worst([a, b])).toBe(statusRank(a) >= statusRank(b) ? a : b);
  });
});

describe('the bucket a live diff carries', () => {
  it('is the whole bucket of the latest run: every run in it counted, not only the one the diff reports', () => {
    const state = store([check('a')]);
    // Ten runs within one coalescing window: the page gets one diff, the bucket holds all ten.
    for (let i = 0; i < 10; i++) state.record(result('a', i % 2 === 0 ? 'healthy' : 'critical', T + i * S));
    const u = checkUpdate(state.get('a')!, T + 10 * S);
    expect(u).toMatchObject({ name: 'a', status: 'critical' });
    expect(u.bucket).toEqual({ start: '2026-11-20T10:00:00.000Z', step_seconds: 1800, letter: 'c', runs: 10, up: 5, maintenance: 0 });
  });

  it('equals that bucket of a snapshot taken at the same time', () => {
    const state = store([check('a'), check('b')]);
    const seq: Array<[string, Status, number]> = [['a', 'healthy', -HALF_HOUR], ['a', 'degraded', 0], ['a', 'healthy', 5 * S], ['b', 'critical', 0], ['b', 'unknown', S]];
    for (const [name, status, dt] of seq) state.record(result(name, status, T + dt));
    const now = T + 60 * S;
    const snap = statusSnapshot(state, { now, version: 't', eventId: 'x.0', history: { max_points: 10_000, retention: 86_400_000 } });
    const start = Date.parse(snap.bar.start);
    for (const view of snap.checks) {
      const b = checkUpdate(state.get(view.name)!, now).bucket!;
      const i = (Date.parse(b.start) - start) / (snap.bar.step_seconds * S);
      expect(i, view.name).toBe(DEFAULT_BAR_BUCKETS - 1);
      expect({ letter: b.letter, runs: b.runs, up: b.up }, view.name).toEqual({ letter: view.bar[i], runs: view.bar_runs[i], up: view.bar_up[i] });
    }
  });

  it('starts a new bucket when the run lands past the last one the page has (the page slides its bar)', () => {
    const state = store([check('a')]);
    state.record(result('a', 'critical', T));
    state.record(result('a', 'healthy', T + HALF_HOUR));
    expect(checkUpdate(state.get('a')!, T + HALF_HOUR).bucket).toEqual({ start: '2026-11-20T10:30:00.000Z', step_seconds: 1800, letter: 'h', runs: 1, up: 1, maintenance: 0 });
  });

  it('is null without a run, and for a run older than the bar', () => {
    const state = store([check('a'), check('b')]);
    state.record(result('b', 'healthy', T - 2 * 86_400_000));
    expect(checkUpdate(state.get('a')!, T).bucket).toBeNull();
    expect(checkUpdate(state.get('b')!, T).bucket).toBeNull();
    expect(bucketAt(state.get('b')!.history, undefined, T)).toBeNull();
  });

  it('unknown runs leave a bucket as it was ("-" when it had none)', () => {
    const acc = new BucketAccumulator(barSpec(T, 4));
    acc.add(T, statusRank('unknown'));
    const i = acc.index(T);
    expect(acc.bucket(i)).toMatchObject({ letter: '-', runs: 0, up: 0 });
    expect(acc.index(T - 86_400_000)).toBe(-1);
  });
});

describe('csv', () => {
  const cases: Array<{ name: string; input: unknown; expected: string }> = [
    { name: 'plain text', input: 'web', expected: 'web' },
    { name: 'null is empty', input: null, expected: '' },
    { name: 'negative number', input: -5, expected: '-5' },
    { name: 'negative decimal as text', input: '-3.5', expected: '-3.5' },
    { name: 'number in exponent form', input: -1e-7, expected: '-1e-7' },
    // The report's old writer let anything starting with a digit through: "-2+3" is a formula.
    { name: 'formula behind a leading number', input: '-2+3+cmd|/C calc!A0', expected: "'-2+3+cmd|/C calc!A0" },
    { name: 'formula', input: '=1+1', expected: "'=1+1" },
    { name: 'quotes and commas', input: 'a,"b"', expected: '"a,""b"""' },
  ];
  for (const c of cases) it(c.name, () => expect(csvField(c.input)).toBe(c.expected));

  it('one record per line, CRLF, header first', () => {
    expect(toCsv(['a', 'b'], [[1, 'x'], [null, 'y\nz']])).toBe('a,b\r\n1,x\r\n,"y\nz"\r\n');
  });
});

describe('format', () => {
  it('spells times, durations and ratios one way', () => {
    expect(iso(undefined)).toBeNull();
    expect(iso(null)).toBeNull();
    expect(iso(T)).toBe('2026-11-20T10:10:00.000Z');
    expect(ms(0.01234)).toBe(12.3);
    expect(percent(null)).toBeNull();
    expect(percent(0.999994)).toBe(99.999);
    expect(fileStamp(T + 45 * S)).toBe('20261120T101045');
  });
});

describe('report', () => {
  // a: healthy, critical for 30 s, healthy again; b (another component): healthy throughout.
  const state = store([check('a', 'web'), check('b', 'db')]);
  for (let i = 0; i <= 12; i++) state.record(result('a', i >= 3 && i < 6 ? 'critical' : 'healthy', T + i * 10 * S, 0.01 * (i + 1)));
  for (let i = 0; i <= 12; i++) state.record(result('b', 'healthy', T + i * 10 * S));
  const q = { from: T, to: T + 120 * S };

  it('selects by check and component', async () => {
    expect((await reportRows(state.list(), q, new TimeSlice())).map((r) => r.s.config.name)).toEqual(['a', 'b']);
    expect((await reportRows(state.list(), { ...q, component: 'db' }, new TimeSlice())).map((r) => r.s.config.name)).toEqual(['b']);
    expect((await reportRows(state.list(), { ...q, check: 'a' }, new TimeSlice())).map((r) => r.s.config.name)).toEqual(['a']);
  });

  it('lays out the checks and incidents tables', async () => {
    const rows = await reportRows(state.list(), q, new TimeSlice());
    const checks = reportRecords(rows, 'checks', q);
    expect(checks[0].slice(0, 13)).toEqual(['a', 'web', 'http', '2026-11-20T10:10:00.000Z', '2026-11-20T10:12:00.000Z', '2026-11-20T10:10:00.000Z', 12, 120, 75, 75, 0, 30, 1]);
    expect(reportRecords(rows, 'incidents', q)).toEqual([['a', 'web', '2026-11-20T10:10:30.000Z', '2026-11-20T10:11:00.000Z', 30, 'critical', 3, false, false]]);
    const csv = await reportCsv(rows, 'incidents', q, new TimeSlice());
    expect(csv.filename).toBe('vigil-incidents-20261120T101000-20261120T101200.csv');
    expect(csv.text.split('\r\n')).toHaveLength(3); // header, one incident, the final line end
  });

  it('the JSON names its period and its data limits', async () => {
    const rows = await reportRows(state.list(), q, new TimeSlice());
    const doc = await reportDocument(rows, q, T + 200 * S, 1234, new TimeSlice());
    expect(doc).toMatchObject({ from: '2026-11-20T10:10:00.000Z', to: '2026-11-20T10:12:00.000Z', generated_at: '2026-11-20T10:13:20.000Z' });
    expect(doc.definitions.data).toContain('(1234)');
    expect(doc.checks[0]).toMatchObject({ name: 'a', availability: 0.75, incidents_total: 1, max_gap_seconds: 21 });
  });
});

describe('history', () => {
  const state = store([check('a')]);
  for (let i = 0; i < 6; i++) state.record(result('a', i === 4 ? 'degraded' : 'healthy', T + i * 10 * S, 0.001 * (i + 1)));
  const s = state.get('a')!;

  it('points in [since, until], both inclusive', async () => {
    const doc = await historyPoints(s, { since: T + 10 * S, until: T + 30 * S }, true, new TimeSlice());
    expect(doc.points.map((p) => p.response_time_ms)).toEqual([2, 3, 4]);
    expect(doc).toMatchObject({ name: 'a', since: '2026-11-20T10:10:10.000Z', until: '2026-11-20T10:10:30.000Z', points_held: 6 });
  });

  it('buckets: worst status, runs, share up and slowest run per bucket', async () => {
    const doc = await historyBuckets(s, { since: 0, until: Infinity }, 2, T + 60 * S, new TimeSlice());
    expect(doc.step_seconds).toBe(30);
    expect(doc.buckets).toEqual([
      { start: '2026-11-20T10:10:00.000Z', worst: 'healthy', runs: 3, up_percent: 100, max_response_time_ms: 3 },
      { start: '2026-11-20T10:10:30.000Z', worst: 'degraded', runs: 3, up_percent: 100, max_response_time_ms: 6 },
    ]);
  });
});

describe('health document', () => {
  it('503 only when critical; a component document holds only its own checks', async () => {
    const state = store([check('a', 'web'), check('b', 'db')], [{ name: 'web', depends_on: [] }, { name: 'db', depends_on: [] }]);
    state.record(result('a', 'healthy', T));
    state.record(result('b', 'degraded', T));
    const q = { ietf: false, now: T, version: 't' };
    expect((await healthDocument(state, q, new TimeSlice())).status).toBe(200);
    state.record(result('b', 'critical', T + S));
    const all = await healthDocument(state, q, new TimeSlice());
    expect(all.status).toBe(503);
    const web = await healthDocument(state, { ...q, component: 'web' }, new TimeSlice());
    expect(web.status).toBe(200);
    expect(Object.keys((web.body as { checks: object }).checks)).toEqual(['a']);
    const ietf = await healthDocument(state, { ...q, ietf: true }, new TimeSlice());
    expect(ietf.body).toMatchObject({ status: 'fail', checks: { 'db:responseTime': [{ componentId: 'b', status: 'fail' }] } });
  });
});
