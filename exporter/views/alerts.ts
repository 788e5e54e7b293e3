// The alert history as CSV (GET /api/v1/alerts/history?format=csv): one row per notification,
// or one per alert lifecycle.
import type { AlertLifecycle } from '../alerts/query.js';
import type { NotificationRecord } from '../alerts/log.js';
import { toCsv } from './csv.js';

const labelsText = (l: Record<string, string>) => Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(', ');

export function notificationsCsv(rows: NotificationRecord[]): string {
  return toCsv(
    ['id', 'received_at', 'receiver', 'status', 'alertname', 'severity', 'component', 'check', 'fingerprint', 'starts_at', 'ends_at',
      'summary', 'description', 'runbook_url', 'labels'],
    rows.map((r) => [r.id, r.received_at, r.receiver, r.status, r.labels.alertname, r.labels.severity, r.labels.component, r.labels.check,
      r.fingerprint, r.starts_at, r.ends_at, r.annotations.summary, r.annotations.description, r.annotations.runbook_url, labelsText(r.labels)]),
  );
}

export function lifecyclesCsv(rows: AlertLifecycle[]): string {
  return toCsv(
    ['alertname', 'severity', 'component', 'check', 'fingerprint', 'fired_at', 'resolved_at', 'unnotified_at', 'duration_seconds', 'ongoing',
      'notifications', 'receivers', 'summary', 'labels'],
    rows.map((l) => [l.alertname, l.severity, l.component, l.check, l.fingerprint, l.fired_at, l.resolved_at, l.unnotified_at, l.duration_seconds, l.ongoing,
      l.notifications, l.receivers.join(' '), l.annotations.summary, labelsText(l.labels)]),
  );
}
