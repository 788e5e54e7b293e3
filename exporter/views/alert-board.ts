// The status page's alerts panel (GET /api/v1/alerts/board): the alerts firing now and those
// that ended within a window, each with where it points (component, the check's detail view, its
// runbook), what its rule measured (value, threshold) and its notification history from the
// notification log, summed up per receiver, and, when Vigil can read Alertmanager, where
// Alertmanager routes it and how each integration of those receivers delivers (Alertmanager's own
// counters, per integration). Pure: records and a snapshot in, document out.
import type { AlertmanagerSnapshot, IntegrationTotals } from '../alerts/alertmanager-state.js';
import type { NotificationRecord } from '../alerts/log.js';
import { alertIdentity, lifecycles, type AlertLifecycle } from '../alerts/query.js';

/** Notifications listed per alert (the newest); the count says how many there were. */
export const MAX_NOTIFICATIONS_PER_ALERT = 20;
/** Alerts in one answer at most: every firing one first, then the newest ended ones. */
export const MAX_BOARD_ALERTS = 200;

export type BoardState = 'firing' | 'resolved' | 'unnotified';

export interface BoardNotification {
  /** When Vigil received it (RFC 3339). */
  at: string;
  status: 'firing' | 'resolved';
  receiver: string;
}

/** What one receiver delivered of this alert, as the notification log saw it. */
export interface BoardDelivery {
  receiver: string;
  notifications: number;
  firing: number;
  resolved: number;
  first_at: string;
  last_at: string;
  last_status: 'firing' | 'resolved';
}

/** Where Alertmanager routes an alert it still holds, with each receiver's integrations. */
export interface BoardRouting {
  /** Alertmanager's state: active (notified), suppressed (silenced or inhibited), unprocessed. */
  state: string;
  silenced_by: string[];
  inhibited_by: string[];
  receivers: Array<{ receiver: string; integrations: IntegrationTotals[] }>;
}

export interface BoardAlertmanager {
  url: string;
  read_at: string;
  error: string | null;
  /** Every integration Alertmanager counts: totals since it started. */
  integrations: IntegrationTotals[];
}

export interface BoardAlert {
  fingerprint: string;
  alertname: string;
  severity: string | null;
  component: string | null;
  check: string | null;
  /** The status page's detail view of the check (`#/check/<name>`), when the check exists here. */
  check_url: string | null;
  /** An http(s) runbook link from the rule's runbook_url annotation; anything else is dropped. */
  runbook_url: string | null;
  summary: string | null;
  description: string | null;
  /** The rule's `value` / `threshold` annotations (rules/*.yml), when it sets them. */
  value: string | null;
  threshold: string | null;
  state: BoardState;
  fired_at: string;
  resolved_at: string | null;
  /** Left its group's notifications without a resolve (muted: silence, inhibition). */
  unnotified_at: string | null;
  duration_seconds: number;
  notifications_total: number;
  /** The newest MAX_NOTIFICATIONS_PER_ALERT, newest first. */
  notifications: BoardNotification[];
  deliveries: BoardDelivery[];
  /** null when Vigil does not read Alertmanager or Alertmanager no longer holds the alert. */
  routing: BoardRouting | null;
  labels: Record<string, string>;
}

export interface AlertBoard {
  window_seconds: number;
  firing: number;
  ended: number;
  /** True when more alerts matched than MAX_BOARD_ALERTS. */
  truncated: boolean;
  /** null when server.alertmanager_url is not set. */
  alertmanager: BoardAlertmanager | null;
  alerts: BoardAlert[];
}

export interface AlertBoardOptions {
  now: number;
  /** How far back ended alerts are listed (ms). */
  windowMs: number;
  /** Names of the configured checks: only those get a check_url. */
  checks: ReadonlySet<string>;
  /** What Alertmanager reported (server.alertmanager_url), if Vigil reads it. */
  alertmanager?: AlertmanagerSnapshot;
}

const ms = (iso: string) => Date.parse(iso);

/** Only http(s) URLs become links: an annotation is text from a rule file, not trusted markup. */
export function safeUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export function checkUrl(check: string | null, checks: ReadonlySet<string>): string | null {
  return check !== null && checks.has(check) ? `#/check/${encodeURIComponent(check)}` : null;
}

const keyOf = (r: NotificationRecord) => `${r.fingerprint}|${ms(r.starts_at)}`;

function deliveriesOf(records: NotificationRecord[]): BoardDelivery[] {
  const by = new Map<string, BoardDelivery>();
  for (const r of records) {
    let d = by.get(r.receiver);
    if (!d) {
      d = { receiver: r.receiver, notifications: 0, firing: 0, resolved: 0, first_at: r.received_at, last_at: r.received_at, last_status: r.status };
      by.set(r.receiver, d);
    }
    d.notifications++;
    d[r.status]++;
    d.last_at = r.received_at;
    d.last_status = r.status;
  }
  return [...by.values()].sort((a, b) => a.receiver.localeCompare(b.receiver));
}

const noTotals = (integration: string): IntegrationTotals => ({ integration, notifications: 0, notifications_failed: 0, requests: 0, requests_failed: 0 });

function routingOf(fingerprint: string, am: AlertmanagerSnapshot | undefined): BoardRouting | null {
  const r = am?.alerts.get(fingerprint);
  if (!am || !r) return null;
  return {
    state: r.state, silenced_by: r.silenced_by, inhibited_by: r.inhibited_by,
    receivers: r.receivers.map((receiver) => ({
      receiver,
      integrations: (am.receivers.get(receiver) ?? []).map((i) => am.integrations.get(i) ?? noTotals(i)),
    })),
  };
}

function boardAlert(l: AlertLifecycle, records: NotificationRecord[], checks: ReadonlySet<string>, am?: AlertmanagerSnapshot): BoardAlert {
  const id = alertIdentity(records[records.length - 1]!);
  const a = l.annotations;
  return {
    fingerprint: id.fingerprint,
    alertname: id.alertname ?? 'alert',
    severity: id.severity,
    component: id.component,
    check: id.check,
    check_url: checkUrl(id.check, checks),
    runbook_url: safeUrl(a.runbook_url),
    summary: a.summary ?? null,
    description: a.description ?? null,
    value: a.value ?? null,
    threshold: a.threshold ?? null,
    state: l.ongoing ? 'firing' : l.resolved_at ? 'resolved' : 'unnotified',
    fired_at: l.fired_at,
    resolved_at: l.resolved_at,
    unnotified_at: l.unnotified_at,
    duration_seconds: l.duration_seconds,
    notifications_total: records.length,
    notifications: records.slice(-MAX_NOTIFICATIONS_PER_ALERT).reverse().map((r) => ({ at: r.received_at, status: r.status, receiver: r.receiver })),
    deliveries: deliveriesOf(records),
    routing: routingOf(id.fingerprint, am),
    labels: id.labels,
  };
}

/** Firing alerts (most severe, then newest first) and those that ended within the window (newest end first). */
export function alertBoard(records: readonly NotificationRecord[], opts: AlertBoardOptions): AlertBoard {
  const byKey = new Map<string, NotificationRecord[]>();
  for (const r of records) {
    const k = keyOf(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const since = opts.now - opts.windowMs;
  const am = opts.alertmanager;
  const endOf = (l: AlertLifecycle) => ms(l.resolved_at ?? l.unnotified_at ?? l.last_notified_at);
  const all = lifecycles(records, opts.now);
  const firing = all.filter((l) => l.ongoing).sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || ms(b.fired_at) - ms(a.fired_at));
  const ended = all.filter((l) => !l.ongoing && endOf(l) >= since).sort((a, b) => endOf(b) - endOf(a));
  const shown = [...firing, ...ended].slice(0, MAX_BOARD_ALERTS);
  return {
    window_seconds: Math.round(opts.windowMs / 1000),
    firing: firing.length,
    ended: ended.length,
    truncated: firing.length + ended.length > shown.length,
    alertmanager: am ? { url: am.url, read_at: am.read_at, error: am.error, integrations: [...am.integrations.values()].sort((a, b) => a.integration.localeCompare(b.integration)) } : null,
    alerts: shown.map((l) => boardAlert(l, byKey.get(`${l.fingerprint}|${ms(l.fired_at)}`) ?? [], opts.checks, am)),
  };
}

const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2, none: 3 };
const severityRank = (s: string | null) => (s !== null && s in RANK ? RANK[s]! : 4);
