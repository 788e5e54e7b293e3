// The period report (GET /api/v1/report): availability, incidents and response-time percentiles
// per check over [from, to), as JSON or as one of two CSV tables. The numbers come from
// health/report-period.ts (the in-memory ring) or, for a window the ring no longer holds, from
// the record's rollup tiers (record/tiers.ts); this file only lays them out. Built in slices
// (see time-slice.ts).
import type { CheckState } from '../engine/state.js';
import { maxGapFor, summarizePeriod, type PeriodSummary } from '../health/report-period.js';
import { STATUSES } from '../model/status.js';
import type { ReportIncident } from '../record/incidents.js';
import type { Piece, TierTotals } from '../record/tiers.js';
import { csvLine } from './csv.js';
import { fileStamp, iso, ms, percent } from './format.js';
import { mapSliced, type TimeSlice } from './time-slice.js';

export interface ReportQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Only this check. */
  check?: string;
  /** Only the checks of this component. */
  component?: string;
}

export type ReportTable = 'checks' | 'incidents';
export const REPORT_TABLES: readonly ReportTable[] = ['checks', 'incidents'];

export interface ReportSummary extends Omit<PeriodSummary, 'incidents'> {
  incidents: ReportIncident[];
}

/** One check's period, summarised. */
export interface ReportRow {
  s: CheckState;
  r: ReportSummary;
  /** Where the figures come from: the in-memory ring, or the record's rollups (a longer window). */
  source: 'memory' | 'record';
  /** Where the check's data in the period starts (epoch ms). */
  dataFrom?: number;
  /** Runs that failed (the record knows; the ring holds statuses only). */
  failures?: number;
}

/** The record's answer for long windows (CheckRecord.periodTotals, checkIncidents). */
export interface LongHistory {
  periodTotals(from: number, to: number): Promise<{ totals: Map<string, TierTotals>; pieces: Piece[] } | undefined>;
  /** Where the record's rollups start, if it holds any. */
  dataSince(): Promise<number | undefined>;
  /** Each check's stored incidents overlapping [from, to), clipped to it. */
  checkIncidents?(from: number, to: number): Promise<Map<string, ReportIncident[]> | undefined>;
}

const MINUTE = 60_000;

/** The maintenance windows over a check within [from, to), sorted and merged (Maintenance.excluded). */
export type MaintenanceTime = (s: CheckState, from: number, to: number) => Array<[number, number]>;

/**
 * Summarise every check the query selects over [from, to). A check whose ring holds the whole
 * window is summarised from the ring (exact); when the record holds more of the window than the
 * ring does (older than the ring's history.max_points, or before a restart), from the record
 * alone: its rollups for the figures, its stored incidents for the incidents. The ring is not
 * read for those checks at all (summarising it for 500 checks took most of a 90-day report).
 */
export async function reportRows(checks: Iterable<CheckState>, q: ReportQuery, slice: TimeSlice, long?: LongHistory, maintenance?: MaintenanceTime): Promise<ReportRow[]> {
  const selected = [...checks].filter((s) => (!q.check || s.config.name === q.check) && (!q.component || s.config.component === q.component));
  const ringMisses = (s: CheckState) => { const o = s.history.oldest(); return o === undefined || o > q.from; };
  // The record is read only when it may know more: it holds rollups from before a ring's start.
  const since = long && selected.some(ringMisses) ? await long.dataSince().catch(() => undefined) : undefined;
  const knowsMore = (s: CheckState) => since !== undefined && ringMisses(s) && since < Math.floor((s.history.oldest() ?? Infinity) / MINUTE) * MINUTE - MINUTE;
  const record = long && selected.some(knowsMore) ? await long.periodTotals(q.from, q.to).catch(() => undefined) : undefined;
  const fromRecordToo = (s: CheckState) => {
    const t = record?.totals.get(s.config.name);
    const oldest = s.history.oldest();
    // The record counts whole minutes: it knows more only when it starts a minute before the ring.
    return t && t.first !== undefined && (oldest === undefined || t.first < Math.floor(oldest / MINUTE) * MINUTE - MINUTE) && ringMisses(s) ? t : undefined;
  };
  const fromRecordAt = selected.filter((s) => fromRecordToo(s));
  const incidents = fromRecordAt.length && long?.checkIncidents ? await long.checkIncidents(q.from, q.to).catch(() => undefined) : undefined;
  const planned = fromRecordAt.length && maintenance ? await plannedTotals(fromRecordAt, q, long!, maintenance) : undefined;
  const rows: ReportRow[] = [];
  for (const s of selected) {
    const t = fromRecordToo(s);
    if (t) {
      rows.push({ s, r: fromRecord(t, incidents?.get(s.config.name) ?? [], q, planned?.get(s.config.name)), source: 'record', dataFrom: Math.max(t.first!, q.from), failures: t.failures });
    } else {
      const maxGap = maxGapFor(s.config);
      const exclude = maintenance?.(s, q.from, q.to);
      rows.push({ s, r: summarizePeriod(s.history.columns(q.from - maxGap, q.to), { from: q.from, to: q.to, maxGap, ...(exclude?.length ? { exclude } : {}) }), source: 'memory', dataFrom: s.history.oldest() });
      await slice.pause(); // summarising a ring is the work here
    }
  }
  return rows;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Windows read from the record at most per report (each is one read of its totals). */
export const MAX_PLANNED_READS = 50;

/**
 * The record's status time (ms per status) inside each check's maintenance windows: one read of
 * the record's totals per distinct window, subtracted from the checks it covers. Windows are cut
 * at the record's minute resolution, like the totals themselves. More than MAX_PLANNED_READS
 * distinct windows: the first ones only.
 */
async function plannedTotals(checks: CheckState[], q: ReportQuery, long: LongHistory, maintenance: MaintenanceTime): Promise<Map<string, number[]>> {
  const byWindow = new Map<string, { from: number; to: number; checks: string[] }>();
  for (const s of checks) {
    for (const [from, to] of maintenance(s, q.from, q.to)) {
      const key = `${from}-${to}`;
      const w = byWindow.get(key) ?? byWindow.set(key, { from, to, checks: [] }).get(key)!;
      w.checks.push(s.config.name);
    }
  }
  const out = new Map<string, number[]>();
  for (const w of [...byWindow.values()].slice(0, MAX_PLANNED_READS)) {
    const got = await long.periodTotals(w.from, w.to).catch(() => undefined);
    if (!got) continue;
    for (const name of w.checks) {
      const t = got.totals.get(name);
      if (!t) continue;
      const acc = out.get(name) ?? out.set(name, STATUSES.map(() => 0)).get(name)!;
      t.ms.forEach((ms, i) => { acc[i] += ms; });
    }
  }
  return out;
}

/**
 * A period from the record's totals: time-weighted availability from the milliseconds per
 * status, percentiles from the hour and day sketches (minute edges: their whole hours'),
 * incidents from the record's stored incidents the check is part of.
 */
function fromRecord(t: TierTotals, incidents: ReportIncident[], q: ReportQuery, planned?: number[]): ReportSummary {
  // Status time inside maintenance windows (plannedTotals) counts in no status.
  const sec = (status: (typeof STATUSES)[number]) => Math.max(0, t.ms[STATUSES.indexOf(status)] - (planned?.[STATUSES.indexOf(status)] ?? 0)) / 1000;
  const plannedSeconds = planned ? (['healthy', 'degraded', 'critical'] as const).reduce((a, st) => a + Math.min(planned[STATUSES.indexOf(st)], t.ms[STATUSES.indexOf(st)]), 0) / 1000 : 0;
  const [healthy, degraded, critical] = [sec('healthy'), sec('degraded'), sec('critical')];
  const observed = healthy + degraded + critical;
  const sketch = t.sketch;
  const q50 = sketch.quantile(0.5);
  return {
    from: q.from,
    to: q.to,
    runs: t.runs,
    observed_seconds: round3(observed),
    seconds_by_status: { healthy: round3(healthy), degraded: round3(degraded), critical: round3(critical) },
    availability: observed > 0 ? (healthy + degraded) / observed : null,
    healthy_ratio: observed > 0 ? healthy / observed : null,
    maintenance_seconds: round3(plannedSeconds),
    incidents,
    response_time: q50 === null || !t.runs ? null : {
      p50: q50, p95: sketch.quantile(0.95)!, p99: sketch.quantile(0.99)!, mean: t.rtSumUs / 1e6 / t.runs, max: t.rtMaxUs / 1e6,
    },
  };
}

/** The JSON report. `maxPoints` is history.max_points, for the definitions. */
export async function reportDocument(rows: ReportRow[], q: ReportQuery, now: number, maxPoints: number, slice: TimeSlice) {
  const checks = await mapSliced(rows, ({ s, r, source, dataFrom, failures }) => ({
    name: s.config.name,
    component: s.config.component,
    type: s.config.type,
    interval_seconds: s.config.interval / 1000,
    max_gap_seconds: maxGapFor(s.config) / 1000,
    data_from: iso(dataFrom),
    source,
    runs: r.runs,
    failures: failures ?? null,
    observed_seconds: r.observed_seconds,
    availability: r.availability,
    healthy_ratio: r.healthy_ratio,
    seconds_by_status: r.seconds_by_status,
    maintenance_seconds: r.maintenance_seconds,
    incidents_total: r.incidents.length,
    incidents: r.incidents.map((i) => ({ start: iso(i.start), end: iso(i.end), duration_seconds: i.duration_seconds, worst: i.worst, runs: i.runs, ongoing: i.ongoing, started_before_period: i.clipped_start, incident_id: i.id ?? null })),
    response_time_ms: r.response_time && {
      p50: ms(r.response_time.p50), p95: ms(r.response_time.p95), p99: ms(r.response_time.p99), mean: ms(r.response_time.mean), max: ms(r.response_time.max),
    },
  }), slice);
  return {
    from: iso(q.from),
    to: iso(q.to),
    generated_at: iso(now),
    definitions: {
      availability: 'time up (healthy or degraded) / time covered by data; each run\'s status holds until the next run, for at most max_gap_seconds',
      healthy_ratio: 'time healthy / time covered by data',
      incident: 'source "memory": a contiguous period of non-healthy runs, from the first non-healthy run to the next healthy one; source "record": '
        + 'an incident of the record the check took part in (GET /api/v1/incidents/<incident_id>: its start and end, clipped to the period, and its worst status; runs not counted)',
      percentiles: 'nearest-rank over the response times of the runs in the period; from the record (source "record"), read from log-bucket sketches within ±5 %, '
        + 'an edge inside an hour taking that whole hour\'s',
      data: `source "memory": the in-memory history ring (at most history.max_points (${maxPoints}) points per check); source "record": the record's rollups `
        + '(day and hour rows, minute rows at the edges; an edge older than the minute or hour rows counts from its whole hour or day), used when the ring does not hold the whole window; '
        + 'the ring is not read then; data_from says where each check\'s data starts',
    },
    checks,
  };
}

const CHECK_COLUMNS = ['check', 'component', 'type', 'from', 'to', 'data_from', 'runs', 'observed_seconds', 'availability_percent', 'healthy_percent',
  'degraded_seconds', 'critical_seconds', 'incidents', 'p50_ms', 'p95_ms', 'p99_ms', 'mean_ms', 'max_ms'];
const INCIDENT_COLUMNS = ['check', 'component', 'start', 'end', 'duration_seconds', 'worst_status', 'runs', 'ongoing', 'started_before_period'];

/** The records of one CSV table: a row per check, or a row per incident. */
export function reportRecords(rows: ReportRow[], table: ReportTable, q: ReportQuery): unknown[][] {
  if (table === 'incidents') {
    return rows.flatMap(({ s, r }) => r.incidents.map((i) => [s.config.name, s.config.component, iso(i.start), iso(i.end), i.duration_seconds, i.worst, i.runs, i.ongoing, i.clipped_start]));
  }
  return rows.map(({ s, r, dataFrom }) => {
    const rt = r.response_time;
    return [s.config.name, s.config.component, s.config.type, iso(q.from), iso(q.to), iso(dataFrom), r.runs, r.observed_seconds,
      percent(r.availability), percent(r.healthy_ratio), r.seconds_by_status.degraded, r.seconds_by_status.critical, r.incidents.length,
      ...(rt ? [rt.p50, rt.p95, rt.p99, rt.mean, rt.max].map(ms) : [null, null, null, null, null])];
  });
}

/** One CSV table of the report, with the name it is downloaded as. */
export async function reportCsv(rows: ReportRow[], table: ReportTable, q: ReportQuery, slice: TimeSlice): Promise<{ text: string; filename: string }> {
  let text = csvLine(table === 'checks' ? CHECK_COLUMNS : INCIDENT_COLUMNS);
  for (const l of reportRecords(rows, table, q)) {
    text += csvLine(l);
    await slice.pause();
  }
  return { text, filename: `vigil-${table}-${fileStamp(q.from)}-${fileStamp(q.to)}.csv` };
}
