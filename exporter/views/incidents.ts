// The record's events and incidents as documents: JSON objects with RFC 3339 times, and CSV
// (views/csv.ts neutralises spreadsheet formulas: a message is text the checked service wrote).
import type { EventRow, IncidentDetail, NotificationRow, StoredIncident } from '../record/queries.js';
import type { Reliability } from '../record/reliability.js';
import { toCsv } from './csv.js';
import { iso } from './format.js';

export function eventDoc(e: EventRow) {
  return {
    id: e.id, time: iso(e.t), kind: e.kind, check: e.check, component: e.component, from: e.from, to: e.to,
    reason: e.reason, message: e.message, values: e.values, actor: e.actor,
  };
}

export const EVENT_CSV_HEADER = ['id', 'time', 'kind', 'check', 'component', 'from', 'to', 'reason', 'message', 'actor', 'values'] as const;

export function eventsCsv(events: readonly EventRow[]): string {
  return toCsv(EVENT_CSV_HEADER, events.map((e) => [e.id, iso(e.t), e.kind, e.check, e.component, e.from, e.to, e.reason, e.message, e.actor, e.values]));
}

export function incidentDoc(i: StoredIncident, now: number) {
  const end = i.endedAt ?? now;
  return {
    id: i.id, state: i.endedAt === undefined ? 'open' : 'closed', status: i.status, title: i.title,
    started_at: iso(i.startedAt), ended_at: iso(i.endedAt), duration_seconds: Math.max(0, end - i.startedAt) / 1000,
    root_cause: i.rootCause, checks: i.checks, components: i.components, failing: i.failing, events: i.events,
  };
}

function notificationDoc(n: NotificationRow) {
  return { ...n, received_at: iso(n.received_at), starts_at: iso(n.starts_at), ends_at: iso(n.ends_at) };
}

export function incidentDetailDoc(d: IncidentDetail, now: number) {
  return {
    ...incidentDoc(d.incident, now),
    timeline: d.events.map(eventDoc),
    alerts: d.alerts.map((a) => ({ ...a, starts_at: iso(a.starts_at) })),
    notifications: d.notifications.map(notificationDoc),
  };
}

/** Reliability rows flattened for CSV: subject kind, name, window, figures. */
export function reliabilityCsv(rows: ReadonlyArray<{ kind: string; name: string; windows: Record<string, Reliability> }>): string {
  const out: unknown[][] = [];
  for (const r of rows) {
    for (const [w, x] of Object.entries(r.windows)) out.push([r.kind, r.name, w, x.failures, x.repairs, x.downtime_seconds, x.mttr_seconds, x.mtbf_seconds]);
  }
  return toCsv(['kind', 'name', 'window', 'failures', 'repairs', 'downtime_seconds', 'mttr_seconds', 'mtbf_seconds'], out);
}
