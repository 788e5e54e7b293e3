// Reads of the record's events and incidents, for the API. Every query is bounded (a LIMIT, an
// indexed range) and written once for both databases; text search is SQLite's FTS5 index
// (events_fts) there and ILIKE on PostgreSQL.
import type { Status } from '../model/status.js';
import type { RecordSql, SqlValue } from '../db/sql.js';
import type { EventKind } from './events.js';
import { incidentOf, type Incident } from './incidents.js';
import type { Transition } from './reliability.js';

export interface EventFilter {
  check?: string;
  component?: string;
  /** The status changed to. */
  status?: Status;
  kinds?: EventKind[];
  from?: number;
  to?: number;
  /** Words that must all occur (in the check/component name, reason, message or actor). */
  text?: string;
  /** Only events with an id below this (the cursor of the previous page). */
  before?: number;
  limit: number;
}

export interface EventRow {
  id: number;
  t: number;
  kind: EventKind;
  check: string | null;
  component: string | null;
  from: Status | null;
  to: Status | null;
  reason: string | null;
  message: string | null;
  values: unknown;
  actor: string | null;
}

const EVENT_COLUMNS = 'e.id, e.t, e.kind, c.name AS check_name, e.component, e.from_status, e.to_status, e.reason, e.message, e.data, e.actor';

function eventOf(r: Record<string, unknown>): EventRow {
  let values: unknown = null;
  if (typeof r.data === 'string') {
    try { values = JSON.parse(r.data); } catch { values = null; }
  }
  return {
    id: Number(r.id), t: Number(r.t), kind: r.kind as EventKind, check: (r.check_name as string | null) ?? null, component: (r.component as string | null) ?? null,
    from: (r.from_status as Status | null) ?? null, to: (r.to_status as Status | null) ?? null, reason: (r.reason as string | null) ?? null,
    message: (r.message as string | null) ?? null, values, actor: (r.actor as string | null) ?? null,
  };
}

/**
 * Free text as an FTS5 query on the trigram index: each word of three or more characters a
 * quoted string (so no operator or column filter of FTS5's syntax can be typed in), all of which
 * must occur; shorter words (a trigram index cannot look them up) are returned to be matched
 * with LIKE.
 */
export function ftsQuery(text: string): { match?: string; short: string[] } {
  const words = searchWords(text).map((w) => w.replace(/"/g, '')).filter(Boolean);
  const long = words.filter((w) => [...w].length >= 3);
  return { match: long.length ? long.map((w) => `"${w}"`).join(' ') : undefined, short: words.filter((w) => [...w].length < 3) };
}

/**
 * The words of a search, at most 16. Control characters go: a NUL ends SQLite's reading of an
 * FTS5 string ("unterminated string") and PostgreSQL refuses it in text.
 */
function searchWords(text: string): string[] {
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').split(/\s+/).filter(Boolean).slice(0, 16);
}

/** LIKE pattern for `word` anywhere, its wildcards escaped (ESCAPE '\'). */
function likeAnywhere(word: string): string {
  return `%${word.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/** Events matching `f`, newest first, at most f.limit; `next` is the cursor of the page after, when there may be one. */
export async function queryEvents(sql: RecordSql, f: EventFilter): Promise<{ events: EventRow[]; next?: number }> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.check !== undefined) { where.push('e.check_id = (SELECT id FROM checks WHERE name = ?)'); params.push(f.check); }
  if (f.component !== undefined) { where.push('e.component = ?'); params.push(f.component); }
  if (f.status !== undefined) { where.push('e.to_status = ?'); params.push(f.status); }
  if (f.kinds?.length) { where.push(`e.kind IN (${f.kinds.map(() => '?').join(', ')})`); params.push(...f.kinds); }
  if (f.from !== undefined) { where.push('e.t >= ?'); params.push(f.from); }
  if (f.to !== undefined) { where.push('e.t <= ?'); params.push(f.to); }
  if (f.before !== undefined) { where.push('e.id < ?'); params.push(f.before); }
  if (f.text !== undefined) {
    const like = (w: string) => {
      where.push(`(coalesce(c.name, '') || ' ' || coalesce(e.component, '') || ' ' || coalesce(e.reason, '') || ' ' || coalesce(e.message, '') || ' ' || coalesce(e.actor, '')) ${sql.dialect === 'postgres' ? 'ILIKE' : 'LIKE'} ? ESCAPE '\\'`);
      params.push(likeAnywhere(w));
    };
    if (sql.dialect === 'sqlite') {
      const q = ftsQuery(f.text);
      if (q.match) { where.push('e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)'); params.push(q.match); }
      q.short.forEach(like); // SQLite's LIKE ignores ASCII case
    } else {
      // Portable: every word somewhere in the row's text.
      searchWords(f.text).forEach(like);
    }
  }
  const rows = await sql.all(`SELECT ${EVENT_COLUMNS} FROM events e LEFT JOIN checks c ON c.id = e.check_id
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.id DESC LIMIT ?`, [...params, f.limit + 1]);
  const events = rows.slice(0, f.limit).map(eventOf);
  return { events, next: rows.length > f.limit ? events[events.length - 1].id : undefined };
}

export interface IncidentFilter {
  from?: number;
  to?: number;
  check?: string;
  component?: string;
  state?: 'open' | 'closed';
  offset: number;
  limit: number;
}

export type StoredIncident = Incident & { id: number };

/** Incidents overlapping [from, to] that match `f`, newest first; and how many match in all. */
export async function listIncidents(sql: RecordSql, f: IncidentFilter): Promise<{ total: number; incidents: StoredIncident[] }> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.to !== undefined) { where.push('started_at <= ?'); params.push(f.to); }
  if (f.from !== undefined) { where.push('(ended_at IS NULL OR ended_at >= ?)'); params.push(f.from); }
  if (f.state === 'open') where.push('ended_at IS NULL');
  if (f.state === 'closed') where.push('ended_at IS NOT NULL');
  for (const kind of ['check', 'component'] as const) {
    if (f[kind] === undefined) continue;
    where.push('id IN (SELECT incident_id FROM incident_members WHERE kind = ? AND name = ?)');
    params.push(kind, f[kind]!);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [{ n }] = await sql.all<{ n: number }>(`SELECT count(*) AS n FROM incidents ${clause}`, params);
  const rows = await sql.all(`SELECT * FROM incidents ${clause} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`, [...params, f.limit, f.offset]);
  return { total: Number(n), incidents: rows.map(incidentOf) };
}

/** Most events, alerts and notifications one incident's detail lists. */
export const DETAIL_LIMIT = 1000;
/** Alerts whose start lies this long before the incident's still belong to it (a dependency's alert may fire first). */
const ALERT_LEAD_MS = 5 * 60_000;

export interface NotificationRow {
  id: number;
  received_at: number;
  receiver: string;
  status: string;
  fingerprint: string;
  alertname: string | null;
  check: string | null;
  component: string | null;
  starts_at: number;
  ends_at: number | null;
  labels: Record<string, string>;
}

export interface AlertSummary {
  fingerprint: string;
  alertname: string | null;
  check: string | null;
  component: string | null;
  starts_at: number;
  /** Resolved once a resolved notification came. */
  status: 'firing' | 'resolved';
  notifications: number;
}

export interface IncidentDetail {
  incident: StoredIncident;
  events: EventRow[];
  alerts: AlertSummary[];
  notifications: NotificationRow[];
}

/**
 * One incident with its events (every status change of its checks and components, and the
 * operator actions, while it lasted), and the alerts about its checks or components that began
 * while it lasted (from a few minutes before), each with the notifications delivered for it.
 */
export async function incidentDetail(sql: RecordSql, id: number, now: number): Promise<IncidentDetail | undefined> {
  const row = (await sql.all('SELECT * FROM incidents WHERE id = ?', [id]))[0];
  if (!row) return undefined;
  const incident = incidentOf(row);
  const end = incident.endedAt ?? now;
  const inList = (n: number) => (n ? Array.from({ length: n }, () => '?').join(', ') : 'NULL');
  const { checks, components } = incident;
  const events = (await sql.all(`SELECT ${EVENT_COLUMNS} FROM events e LEFT JOIN checks c ON c.id = e.check_id
    WHERE e.t >= ? AND e.t <= ? AND (c.name IN (${inList(checks.length)}) OR (e.kind = 'component_status' AND e.component IN (${inList(components.length)}))
      OR e.kind NOT IN ('check_status', 'component_status'))
    ORDER BY e.t, e.id LIMIT ${DETAIL_LIMIT}`, [incident.startedAt, end, ...checks, ...components])).map(eventOf);
  const notes = await sql.all(`SELECT id, received_at, receiver, status, fingerprint, alertname, check_name, component, starts_at, ends_at, labels FROM notifications
    WHERE starts_at >= ? AND starts_at <= ? AND (check_name IN (${inList(checks.length)}) OR component IN (${inList(components.length)}))
    ORDER BY received_at, id LIMIT ${DETAIL_LIMIT}`, [incident.startedAt - ALERT_LEAD_MS, end, ...checks, ...components]);
  const notifications: NotificationRow[] = notes.map((r) => ({
    id: Number(r.id), received_at: Number(r.received_at), receiver: String(r.receiver), status: String(r.status), fingerprint: String(r.fingerprint),
    alertname: (r.alertname as string | null) ?? null, check: (r.check_name as string | null) ?? null, component: (r.component as string | null) ?? null,
    starts_at: Number(r.starts_at), ends_at: r.ends_at === null || r.ends_at === undefined ? null : Number(r.ends_at), labels: parseObject(r.labels),
  }));
  const alerts = new Map<string, AlertSummary>();
  for (const n of notifications) {
    const key = `${n.fingerprint} ${n.starts_at}`;
    const a = alerts.get(key) ?? { fingerprint: n.fingerprint, alertname: n.alertname, check: n.check, component: n.component, starts_at: n.starts_at, status: 'firing', notifications: 0 };
    a.notifications++;
    if (n.status === 'resolved') a.status = 'resolved';
    alerts.set(key, a);
  }
  return { incident, events, alerts: [...alerts.values()], notifications };
}

function parseObject(v: unknown): Record<string, string> {
  try { return JSON.parse(String(v)) as Record<string, string>; } catch { return {}; }
}

/** Status changes read for the reliability figures at most (the oldest beyond are left out, and said so). */
export const MAX_TRANSITIONS = 200_000;

/** Every status change since `since`, by subject (`check:<name>`, `component:<name>`), in time order. */
export async function statusTransitions(sql: RecordSql, since: number): Promise<{ bySubject: Map<string, Transition[]>; truncated: boolean }> {
  const rows = await sql.all(`SELECT e.t, e.kind, c.name AS check_name, e.component, e.from_status, e.to_status FROM events e LEFT JOIN checks c ON c.id = e.check_id
    WHERE e.t >= ? AND e.kind IN ('check_status', 'component_status') ORDER BY e.t DESC, e.id DESC LIMIT ${MAX_TRANSITIONS + 1}`, [since]);
  const truncated = rows.length > MAX_TRANSITIONS;
  const bySubject = new Map<string, Transition[]>();
  for (let i = Math.min(rows.length, MAX_TRANSITIONS) - 1; i >= 0; i--) {
    const r = rows[i];
    const subject = r.kind === 'check_status' ? `check:${r.check_name}` : `component:${r.component}`;
    let list = bySubject.get(subject);
    if (!list) bySubject.set(subject, (list = []));
    list.push({ t: Number(r.t), from: r.from_status as Status | null, to: r.to_status as Status | null });
  }
  return { bySubject, truncated };
}
