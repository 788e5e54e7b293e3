// The period report (GET /api/v1/report): availability, incidents and response-time percentiles
// per check over [from, to), as JSON or as one of two CSV tables. The numbers come from
// health/report-period.ts; this file only lays them out. Built in slices (see time-slice.ts).
import type { CheckState } from '../engine/state.js';
import { maxGapFor, summarizePeriod, type PeriodSummary } from '../health/report-period.js';
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

/** One check's period, summarised. */
export interface ReportRow {
  s: CheckState;
  r: PeriodSummary;
}

/** Summarise every check the query selects over [from, to). */
export async function reportRows(checks: Iterable<CheckState>, q: ReportQuery, slice: TimeSlice): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  for (const s of checks) {
    if (q.check && s.config.name !== q.check) continue;
    if (q.component && s.config.component !== q.component) continue;
    const maxGap = maxGapFor(s.config);
    rows.push({ s, r: summarizePeriod(s.history.columns(q.from - maxGap, q.to), { from: q.from, to: q.to, maxGap }) });
    await slice.pause(); // 500 checks x 24 h is ~100 ms of work
  }
  return rows;
}

/** The JSON report. `maxPoints` is history.max_points, for the definitions. */
export async function reportDocument(rows: ReportRow[], q: ReportQuery, now: number, maxPoints: number, slice: TimeSlice) {
  const checks = await mapSliced(rows, ({ s, r }) => ({
    name: s.config.name,
    component: s.config.component,
    type: s.config.type,
    interval_seconds: s.config.interval / 1000,
    max_gap_seconds: maxGapFor(s.config) / 1000,
    data_from: iso(s.history.oldest()),
    runs: r.runs,
    observed_seconds: r.observed_seconds,
    availability: r.availability,
    healthy_ratio: r.healthy_ratio,
    seconds_by_status: r.seconds_by_status,
    incidents_total: r.incidents.length,
    incidents: r.incidents.map((i) => ({ start: iso(i.start), end: iso(i.end), duration_seconds: i.duration_seconds, worst: i.worst, runs: i.runs, ongoing: i.ongoing, started_before_period: i.clipped_start })),
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
      incident: 'a contiguous period of non-healthy runs, from the first non-healthy run to the next healthy one',
      percentiles: 'nearest-rank over the response times of the runs in the period',
      data: `the in-memory history ring only: at most history.max_points (${maxPoints}) points per check and history.retention; data_from says where each check's data starts`,
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
  return rows.map(({ s, r }) => {
    const rt = r.response_time;
    return [s.config.name, s.config.component, s.config.type, iso(q.from), iso(q.to), iso(s.history.oldest()), r.runs, r.observed_seconds,
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
