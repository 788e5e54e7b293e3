// The JSON the status page is built on: one view of a check, of the components and of the whole
// system, shared by GET /api/v1/status (first render) and the SSE diffs, so both always agree.
import type { CheckState, StateStore } from '../engine/state.js';
import { formatValue } from '../health/evaluate.js';
import { STATUSES, type Status } from '../health/status.js';
import type { Sample } from '../probes/types.js';
import { barOf, barSpec, bucketAt, DEFAULT_BAR_BUCKETS, type BarBucket, type BarSpec } from './bar.js';
import { iso, ms } from './format.js';
import { mapSliced, type TimeSlice } from './time-slice.js';

export interface ResourcesView {
  cpu?: number;
  memory?: number;
  memory_used_bytes?: number;
  memory_total_bytes?: number;
  load1?: number;
  disks: Array<{ mount: string; used: number; used_bytes?: number; size_bytes?: number }>;
  /** Warning/critical levels of cpu_utilization, memory_used, disk_used (ratios). */
  thresholds: Record<string, { warning?: number; critical?: number }>;
}

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
  /** system checks only: CPU, memory, disks. */
  resources?: ResourcesView;
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
  /** Response times of the latest runs, ms, oldest first. */
  spark: number[];
  /** One letter per bar bucket: h, d, c, or - for no data (see `bar` at the top level). */
  bar: string;
  /** Runs per bucket. */
  bar_runs: number[];
  /** Runs up (not critical) per bucket. */
  bar_up: number[];
  /** Up runs / runs over the bar (24 h), null with no runs. */
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
    value: r ? headline(s.config.type, r.samples) : null,
  };
  if (s.config.type === 'system') d.resources = resources(s);
  return d;
}

/** checkDiff() plus the bar bucket of the latest run, at `now` (the live feed). */
export function checkUpdate(s: CheckState, now: number): CheckUpdate {
  return { ...checkDiff(s), bucket: bucketAt(s.history, s.last?.finishedAt, now) };
}

export function checkView(s: CheckState, spec: BarSpec): CheckView {
  const acc = barOf(s.history, spec);
  return {
    ...checkDiff(s),
    component: s.config.component,
    type: s.config.type,
    description: s.config.description,
    labels: s.config.labels,
    interval_seconds: s.config.interval / 1000,
    spark: s.history.lastDurations(SPARK_POINTS).map(ms),
    bar: acc.letters(),
    bar_runs: Array.from(acc.runs),
    bar_up: Array.from(acc.up),
    availability: acc.availability(),
  };
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

type SnapshotOptions = { now: number; version: string; eventId: string; buckets?: number; history: { max_points: number; retention: number } };

export function statusSnapshot(state: StateStore, opts: SnapshotOptions): StatusSnapshot {
  const spec = barSpec(opts.now, opts.buckets ?? DEFAULT_BAR_BUCKETS);
  return { ...snapshotHead(state, opts, spec), checks: state.list().map((s) => checkView(s, spec)) };
}

/** statusSnapshot() in slices: one check view at a time, yielding as `slice` says (GET /api/v1/status). */
export async function statusSnapshotSliced(state: StateStore, opts: SnapshotOptions, slice: TimeSlice): Promise<StatusSnapshot> {
  const spec = barSpec(opts.now, opts.buckets ?? DEFAULT_BAR_BUCKETS);
  const head = snapshotHead(state, opts, spec);
  return { ...head, checks: await mapSliced(state.list(), (s) => checkView(s, spec), slice) };
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

// Headline figures by key, in order of preference; the first present is shown.
const HEADLINES: Array<{ key: string; label: string }> = [
  { key: 'status_code', label: 'HTTP' },
  { key: 'resident_memory', label: 'RSS' },
  { key: 'cert_expires_in', label: 'cert' },
];
const NOT_HEADLINES = /^(response_time|duration_.*|redirects|content_length|cert_expiry_timestamp)$/;

/** A short human figure for the check row: "HTTP 200", "CPU 12 % · mem 40 %", "RSS 80 MiB". */
export function headline(type: string, samples: Sample[]): string | null {
  if (type === 'system') {
    const parts: string[] = [];
    const get = (k: string) => samples.find((s) => s.key === k);
    const cpu = get('cpu_utilization');
    const mem = get('memory_used');
    const disks = samples.filter((s) => s.key === 'disk_used');
    if (cpu) parts.push(`CPU ${formatValue(cpu.metric, cpu.value)}`);
    if (mem) parts.push(`mem ${formatValue(mem.metric, mem.value)}`);
    if (disks.length) {
      const fullest = disks.reduce((a, b) => (b.value > a.value ? b : a));
      parts.push(`${fullest.labels?.mount ?? 'disk'} ${formatValue(fullest.metric, fullest.value)}`);
    }
    const load = get('load1');
    if (!parts.length && load) parts.push(`load ${formatValue(load.metric, load.value)}`);
    return parts.length ? parts.join(' · ') : null;
  }
  for (const h of HEADLINES) {
    const s = samples.find((x) => x.key === h.key);
    if (s) return `${h.label} ${h.key === 'status_code' ? s.value : formatValue(s.metric, s.value)}`;
  }
  const other = samples.find((s) => !NOT_HEADLINES.test(s.key));
  if (!other) return null;
  const where = other.labels ? ` ${Object.values(other.labels).join(',')}` : '';
  return `${other.key.replace(/_/g, ' ')}${where} ${formatValue(other.metric, other.value)}`;
}

function resources(s: CheckState): ResourcesView {
  const out: ResourcesView = { disks: [], thresholds: {} };
  const byMount = new Map<string, ResourcesView['disks'][number]>();
  for (const x of s.last?.samples ?? []) {
    switch (x.key) {
      case 'cpu_utilization': out.cpu = x.value; break;
      case 'memory_used': out.memory = x.value; break;
      case 'memory_used_bytes': out.memory_used_bytes = x.value; break;
      case 'memory_total_bytes': out.memory_total_bytes = x.value; break;
      case 'load1': out.load1 = x.value; break;
      case 'disk_used': case 'disk_used_bytes': case 'disk_size_bytes': {
        const mount = x.labels?.mount ?? '?';
        const d = byMount.get(mount) ?? { mount, used: 0 };
        if (x.key === 'disk_used') d.used = x.value;
        else if (x.key === 'disk_used_bytes') d.used_bytes = x.value;
        else d.size_bytes = x.value;
        byMount.set(mount, d);
        break;
      }
    }
  }
  out.disks = [...byMount.values()].sort((a, b) => a.mount.localeCompare(b.mount));
  for (const k of ['cpu_utilization', 'memory_used', 'disk_used']) {
    const t = s.config.thresholds[k];
    if (t) out.thresholds[k] = { warning: t.warning, critical: t.critical };
  }
  return out;
}
