// The JSON the status page is built on: one view of a check, of the components and of the whole
// system, shared by GET /api/v1/status (first render) and the SSE diffs, so both always agree.
import type { CheckState, StateStore } from '../engine/state.js';
import { getProbeDefinition } from '../probes/index.js';
import { defaultHeadline } from '../probes/support/headline.js';
import { STATUSES, type Status } from '../model/status.js';
import type { Sample } from '../model/result.js';
import { barEnd, barOf, barSpec, bucketAt, DEFAULT_BAR_BUCKETS, type BarBucket, type BarSpec, type PlannedSpans } from './bar.js';
import { iso, ms } from './format.js';
import { mapSliced, type TimeSlice } from './time-slice.js';

/** What changes with every run: the SSE diff of a check. */
export interface CheckDiff {
  name: string;
  status: Status;
  /** No run has completed for two intervals plus its time budget: the status shown is not current. */
  late: boolean;
  since: string | null;
  last_run: string | null;
  response_time_ms: number | null;
  last_error: string | null;
  last_failure: string | null;
  reason: string | null;
  /** The check's headline figure, formatted ("HTTP 200", "CPU 12 %"). */
  value: string | null;
  /** The latest success, so the page can say how long a failing check has been failing. */
  last_success: string | null;
  /**
   * Thresholds the latest run crossed, as numbers in the metric's base unit (`unit`: s, bytes,
   * ratio or empty), so the page words them for people ("812 ms > warning 500 ms") in one style.
   */
  violations: ViolationView[];
  /** What the check's kind shows in its panel (ProbeDefinition.pageDetails; system: CPU, memory, disks). */
  resources?: unknown;
}

export interface ViolationView {
  key: string;
  severity: 'warning' | 'critical';
  value: number;
  level: number;
  direction: 'above' | 'below';
  unit: 's' | 'bytes' | 'ratio' | '';
  labels?: Record<string, string>;
}

/** What the live feed sends for a check that got a result: the diff and the bar bucket its run landed in. */
export interface CheckUpdate extends CheckDiff {
  /**
   * The bucket of the page's bar (DEFAULT_BAR_BUCKETS over 24 h) holding the latest run, as it
   * is now: the page puts it in place, it never adds runs up itself. Null when the run is
   * outside the bar (or there is none).
   */
  bucket: BarBucket | null;
}

/** A check on first render: the diff plus what only changes with the config or slowly. */
export interface CheckView extends CheckDiff {
  component: string;
  type: string;
  description?: string;
  labels: Record<string, string>;
  interval_seconds: number;
  /** A push check's expected period (heartbeat `period`), seconds; null for checks Vigil runs itself. */
  period_seconds: number | null;
  /** A push check's cron schedule (heartbeat `schedule`, with its time zone). */
  schedule: string | null;
  /** Whether the run's own duration means something (false for push checks: evaluating a heartbeat takes no time worth showing). */
  timed: boolean;
  /** Response times of the latest runs, ms, oldest first. */
  spark: number[];
  /** One letter per bar bucket: h, d, c, or - for no data (see `bar` at the top level). */
  bar: string;
  /** Runs per bucket, outside maintenance windows. */
  bar_runs: number[];
  /** Runs up (not critical) per bucket, outside maintenance windows. */
  bar_up: number[];
  /** Runs per bucket inside maintenance windows (in no availability figure); left out when there are none (most checks, most days: 500 checks' zeros were a sixth of the snapshot). */
  bar_maintenance?: number[];
  /** Up runs / runs over the bar (24 h), maintenance left out; null with no runs. */
  availability: number | null;
}

export interface ComponentView {
  name: string;
  description?: string;
  status: Status;
  depends_on: string[];
  impacted_by: string[];
  checks: string[];
}

export interface OverallView {
  status: Status;
  checks_total: number;
  checks_by_status: Record<Status, number>;
}

export const SPARK_POINTS = 30;

export function checkDiff(s: CheckState): CheckDiff {
  const r = s.last;
  const samples = r?.samples ?? [];
  const d: CheckDiff = {
    name: s.config.name,
    status: s.status,
    late: s.late,
    since: iso(s.since),
    last_run: iso(r?.finishedAt),
    response_time_ms: r ? ms(r.duration) : null,
    last_error: s.lastError ?? null,
    last_failure: iso(s.lastFailure),
    reason: r?.reason ?? null,
    value: r ? headline(s.config.type, samples) : null,
    last_success: iso(s.lastSuccess),
    violations: (r?.violations ?? []).map((v) => ({
      key: v.key, severity: v.severity, value: v.value, level: v.level, direction: v.direction, unit: unitOf(samples, v.key), labels: v.labels,
    })),
  };
  const details = getProbeDefinition(s.config.type)?.pageDetails;
  if (details) d.resources = details({ samples, thresholds: s.config.thresholds });
  return d;
}

/** A check's maintenance time over a range (Maintenance.plannedTime), for the bars. */
export type PlannedOf = (s: CheckState) => PlannedSpans;

/** checkDiff() plus the bar bucket of the latest run, at `now` (the live feed). */
export function checkUpdate(s: CheckState, now: number, planned?: PlannedOf): CheckUpdate {
  return { ...checkDiff(s), bucket: bucketAt(s.history, s.last?.finishedAt, now, planned?.(s)) };
}

/** The base unit of a sample's metric, as views/format's formatValue reads it. */
function unitOf(samples: Sample[], key: string): ViolationView['unit'] {
  const metric = samples.find((x) => x.key === key)?.metric ?? '';
  if (metric.endsWith('_seconds') && !metric.includes('timestamp')) return 's';
  if (metric.endsWith('_bytes')) return 'bytes';
  if (metric.endsWith('_ratio')) return 'ratio';
  return '';
}

/** A push check (heartbeat) says when it expects a ping; the evaluation interval says nothing to people. */
function pushSchedule(s: CheckState): { period_seconds: number | null; schedule: string | null; timed: boolean } {
  const c = s.config as { period?: number; schedule?: string; timezone?: string };
  const pushed = s.config.type === 'heartbeat';
  return {
    period_seconds: typeof c.period === 'number' ? c.period / 1000 : null,
    schedule: typeof c.schedule === 'string' ? `${c.schedule} (${c.timezone ?? 'UTC'})` : null,
    timed: !pushed,
  };
}

/** A typed array as a plain one (JSON writes typed arrays as objects); a loop: Array.from iterates, several times slower. */
function plain(a: Uint32Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

export function checkView(s: CheckState, spec: BarSpec, planned?: PlannedOf): CheckView {
  const acc = barOf(s.history, spec, planned?.(s));
  // Added to the diff in place (no copy of it): a status snapshot builds 500 of these per page load.
  return Object.assign(checkDiff(s), {
    component: s.config.component,
    type: s.config.type,
    description: s.config.description,
    labels: s.config.labels,
    interval_seconds: s.config.interval / 1000,
    ...pushSchedule(s),
    spark: s.history.lastDurations(SPARK_POINTS).map(ms),
    bar: acc.letters(),
    bar_runs: plain(acc.runs),
    bar_up: plain(acc.up),
    ...(acc.planned.some((n) => n > 0) ? { bar_maintenance: plain(acc.planned) } : {}),
    availability: acc.availability(),
  });
}

export function componentViews(state: StateStore): ComponentView[] {
  const r = state.rollup();
  const declared = new Map(state.components().map((c) => [c.name, c]));
  const names = [...declared.keys(), ...[...r.components.keys()].filter((n) => !declared.has(n)).sort()];
  const out: ComponentView[] = [];
  for (const name of names) {
    const c = r.components.get(name);
    if (!c) continue;
    const decl = declared.get(name);
    out.push({ name, description: decl?.description, status: c.status, depends_on: decl?.depends_on ?? [], impacted_by: c.impacted_by, checks: c.checks });
  }
  return out;
}

export function overallView(state: StateStore): OverallView {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const checks = state.list();
  for (const s of checks) counts[s.status]++;
  return { status: state.rollup().status, checks_total: checks.length, checks_by_status: counts };
}

export interface StatusSnapshot {
  generated_at: string;
  started_at: string;
  version: string;
  /** Pass as `since` to GET /api/v1/events to receive every change after this snapshot. */
  event_id: string;
  bar: { start: string; step_seconds: number; count: number };
  history: { max_points: number; retention_seconds: number };
  overall: OverallView;
  components: ComponentView[];
  checks: CheckView[];
}

type SnapshotOptions = {
  now: number; version: string; eventId: string; buckets?: number; history: { max_points: number; retention: number };
  /** Maintenance time over [from, to) per check (Maintenance.plannedTime); undefined when there is none. */
  planned?: (from: number, to: number) => PlannedOf | undefined;
};

export function statusSnapshot(state: StateStore, opts: SnapshotOptions): StatusSnapshot {
  const spec = barSpec(opts.now, opts.buckets ?? DEFAULT_BAR_BUCKETS);
  const planned = opts.planned?.(spec.start, barEnd(spec));
  return { ...snapshotHead(state, opts, spec), checks: state.list().map((s) => checkView(s, spec, planned)) };
}

/** statusSnapshot() in slices: one check view at a time, yielding as `slice` says (GET /api/v1/status). */
export async function statusSnapshotSliced(state: StateStore, opts: SnapshotOptions, slice: TimeSlice): Promise<StatusSnapshot> {
  const spec = barSpec(opts.now, opts.buckets ?? DEFAULT_BAR_BUCKETS);
  const head = snapshotHead(state, opts, spec);
  const planned = opts.planned?.(spec.start, barEnd(spec));
  return { ...head, checks: await mapSliced(state.list(), (s) => checkView(s, spec, planned), slice) };
}

function snapshotHead(state: StateStore, opts: SnapshotOptions, spec: BarSpec): Omit<StatusSnapshot, 'checks'> {
  return {
    generated_at: new Date(opts.now).toISOString(),
    started_at: new Date(state.startedAt).toISOString(),
    version: opts.version,
    event_id: opts.eventId,
    bar: { start: new Date(spec.start).toISOString(), step_seconds: spec.step / 1000, count: spec.count },
    history: { max_points: opts.history.max_points, retention_seconds: opts.history.retention / 1000 },
    overall: overallView(state),
    components: componentViews(state),
  };
}

/** A short human figure for the check row, as the check's kind words it: "HTTP 200", "CPU 12 % · mem 40 %". */
export function headline(type: string, samples: Sample[]): string | null {
  const kind = getProbeDefinition(type);
  return kind?.headline ? kind.headline(samples) : defaultHeadline(samples);
}
