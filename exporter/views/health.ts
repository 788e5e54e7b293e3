// /health documents built from the state store: Vigil's own JSON and the IETF
// "Health Check Response Format for HTTP APIs" draft (application/health+json), and the check
// documents of /api/v1/checks. Pure, apart from healthDocument(), which builds in slices.
import type { Component } from '../config/schema.js';
import type { CheckState, StateStore } from '../engine/state.js';
import type { Rollup } from '../health/rollup.js';
import { STATUSES, type Status } from '../model/status.js';
import { iso, ms } from './format.js';
import { mapSliced, type TimeSlice } from './time-slice.js';

export interface ReportInput {
  checks: CheckState[];
  components: Component[];
  rollup: Rollup;
  now: number;
  startedAt: number;
  version: string;
  /** checkReport() of every check, when the caller built them already (in slices). */
  checkReports?: Map<string, CheckReport>;
  /** Maintenance windows on now (exporter/maintenance/): the checks and components they cover. */
  maintenance?: MaintenanceNow[];
}

/** A maintenance window on now, as /health shows it. */
export interface MaintenanceNow {
  id: string;
  title: string;
  start: number;
  end: number;
  checks: string[];
  components: string[];
}

export type CheckReport = ReturnType<typeof checkReport>;

export function checkReport(s: CheckState) {
  const r = s.last;
  const values: Record<string, number> = {};
  for (const sample of r?.samples ?? []) {
    const labels = sample.labels ? `{${Object.entries(sample.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
    values[sample.key + labels] = sample.value;
  }
  return {
    status: s.status,
    /** No run has completed for two intervals plus the run's own time budget (queued or wedged). */
    late: s.late,
    type: s.config.type,
    description: s.config.description,
    since: iso(s.since),
    response_time_ms: r ? ms(r.duration) : null,
    last_run: iso(r?.finishedAt),
    last_success: iso(s.lastSuccess),
    last_failure: iso(s.lastFailure),
    last_error: s.lastError ?? null,
    reason: r?.reason ?? null,
    attempts: r?.attempts ?? null,
    values,
    violations: r?.violations.map((v) => v.message) ?? [],
    info: r?.info,
  };
}

/** Lookups built once per document: per component they made /health O(components x checks). */
interface Index {
  report(check: string): CheckReport;
  component(name: string): Component | undefined;
}

function indexOf(input: ReportInput): Index {
  const byName = new Map(input.checks.map((s) => [s.config.name, s]));
  const declared = new Map(input.components.map((c) => [c.name, c]));
  return {
    report: (n) => input.checkReports?.get(n) ?? checkReport(byName.get(n)!),
    component: (n) => declared.get(n),
  };
}

export function componentReport(name: string, input: ReportInput, index: Index = indexOf(input)) {
  const c = input.rollup.components.get(name);
  if (!c) return undefined;
  const decl = index.component(name);
  const windows = (input.maintenance ?? []).filter((w) => w.components.includes(name));
  return {
    status: c.status,
    // "maintenance" while a window covers the component; its status stays what the checks say.
    state: windows.length ? 'maintenance' : c.status,
    maintenance: windows.map((w) => ({ id: w.id, title: w.title, end: iso(w.end), checks: w.checks.filter((n) => c.checks.includes(n)) })),
    description: decl?.description,
    depends_on: decl?.depends_on ?? [],
    impacted_by: c.impacted_by,
    checks: Object.fromEntries(c.checks.map((n) => [n, index.report(n)])),
  };
}

export function healthReport(input: ReportInput) {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const s of input.checks) counts[s.status]++;
  const index = indexOf(input);
  return {
    status: input.rollup.status,
    timestamp: iso(input.now),
    uptime_seconds: Math.round((input.now - input.startedAt) / 1000),
    version: input.version,
    checks_total: input.checks.length,
    checks_by_status: counts,
    maintenance: (input.maintenance ?? []).map((w) => ({ id: w.id, title: w.title, start: iso(w.start), end: iso(w.end), checks: w.checks, components: w.components })),
    components: Object.fromEntries([...input.rollup.components.keys()].sort().map((n) => [n, componentReport(n, input, index)])),
  };
}

const IETF: Record<Status, 'pass' | 'warn' | 'fail'> = { healthy: 'pass', unknown: 'warn', degraded: 'warn', critical: 'fail' };

/**
 * draft-inadarei-api-health-check: checks keyed "component:measurement", each an array. Planned
 * work goes in the draft's `notes` (one line per window on now) and, on each check entry it
 * covers, a `maintenance` object; the statuses stay what the checks say, as in Vigil's own shape.
 */
export function ietfHealthReport(input: ReportInput, only?: string) {
  const checks: Record<string, unknown[]> = {};
  const windows = (input.maintenance ?? []).filter((w) => !only || w.components.includes(only));
  const windowOf = new Map<string, MaintenanceNow>();
  for (const w of windows) for (const name of w.checks) if (!windowOf.has(name)) windowOf.set(name, w);
  for (const s of input.checks) {
    if (only && s.config.component !== only) continue;
    const key = `${s.config.component}:responseTime`;
    const w = windowOf.get(s.config.name);
    (checks[key] ??= []).push({
      componentId: s.config.name,
      componentType: s.config.type,
      observedValue: s.last ? ms(s.last.duration) : undefined,
      observedUnit: 'ms',
      status: IETF[s.status],
      affectedEndpoints: undefined,
      time: iso(s.last?.finishedAt ?? s.since),
      output: s.status === 'healthy' ? undefined : s.lastError ?? undefined,
      maintenance: w ? { id: w.id, title: w.title, end: iso(w.end) } : undefined,
    });
  }
  const status = only ? input.rollup.components.get(only)?.status ?? 'unknown' : input.rollup.status;
  return {
    status: IETF[status],
    version: '1',
    releaseId: input.version,
    serviceId: 'vigil',
    description: only ? `Vigil component ${only}` : 'Vigil health of the monitored system',
    notes: windows.length
      ? windows.map((w) => `Planned maintenance "${w.title}" (${w.id}) until ${iso(w.end)}: ${w.components.join(', ') || w.checks.join(', ')}`)
      : undefined,
    checks,
  };
}

/** HTTP status for a health document: only critical is a failure. */
export const httpStatusFor = (s: Status) => (s === 'critical' ? 503 : 200);

/** A check as GET /api/v1/checks lists it. */
export function checkDetail(s: CheckState) {
  return { name: s.config.name, component: s.config.component, interval_seconds: s.config.interval / 1000, labels: s.config.labels, ...checkReport(s) };
}

/** A check as POST /api/v1/checks/<name>/run answers: the fresh result. */
export function checkRunReport(s: CheckState) {
  return { name: s.config.name, component: s.config.component, ...checkReport(s) };
}

export interface HealthQuery {
  /** One component's document; the whole system's when undefined. The caller checked that it exists. */
  component?: string;
  /** The IETF draft shape instead of Vigil's own. */
  ietf: boolean;
  now: number;
  version: string;
}

/** A /health document and the HTTP status it is served with (503 only when critical). */
export async function healthDocument(state: StateStore, q: HealthQuery, slice: TimeSlice, maintenance?: MaintenanceNow[]): Promise<{ status: number; body: unknown }> {
  const name = q.component;
  // Only the checks the document shows get a checkReport(), built in slices.
  const shown = q.ietf ? [] : state.list().filter((s) => name === undefined || s.config.component === name);
  const input: ReportInput = {
    checks: state.list(),
    components: state.components(),
    rollup: state.rollup(),
    now: q.now,
    startedAt: state.startedAt,
    version: q.version,
    checkReports: new Map(await mapSliced(shown, (s) => [s.config.name, checkReport(s)] as const, slice)),
    maintenance,
  };
  if (name === undefined) return { status: httpStatusFor(input.rollup.status), body: q.ietf ? ietfHealthReport(input) : healthReport(input) };
  const report = componentReport(name, input)!;
  return { status: httpStatusFor(report.status), body: q.ietf ? ietfHealthReport(input, name) : { component: name, timestamp: iso(input.now), ...report } };
}
