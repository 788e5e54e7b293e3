// The Alertmanager webhook receiver: turns a validated notification into log records (one per
// alert), waits until they are durable, then counts them in
// vigil_alert_notifications_received_total{receiver,severity,status}.
import path from 'node:path';
import client from 'prom-client';
import type { RecordSql } from '../db/sql.js';
import type { WriteReporter } from '../model/storage.js';
import type { Logger } from '../log.js';
import { AlertLog, type NotificationRecord } from './log.js';
import type { WebhookPayload } from './payload.js';

export const NOTIFICATIONS_METRIC = 'vigil_alert_notifications_received_total';
/** Where earlier versions kept the log (imported into the database once). */
export const LEGACY_LOG_FILE = 'alert-notifications.jsonl';
/** Bounded label values: anything else is counted as "other". */
const SEVERITIES = new Set(['critical', 'warning', 'info', 'none']);
const MAX_RECEIVERS = 50;
const GO_ZERO_TIME = /^0001-01-01T/;

export interface AlertReceiverOptions {
  storagePath: string;
  /** The database (shared with the record and the heartbeat store). */
  sql: RecordSql;
  registry: client.Registry;
  log: Logger;
  maxRecords?: number;
  maxBytes?: number;
  report?: WriteReporter;
}

export function toRecords(p: WebhookPayload, receivedAt = Date.now()): Array<Omit<NotificationRecord, 'id' | 'batch'>> {
  const received = new Date(receivedAt).toISOString();
  return p.alerts.map((a) => ({
    received_at: received,
    receiver: p.receiver,
    status: a.status,
    fingerprint: a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    starts_at: a.startsAt,
    ends_at: GO_ZERO_TIME.test(a.endsAt) ? null : a.endsAt,
    generator_url: a.generatorURL,
    group_key: p.groupKey,
    truncated_alerts: p.truncatedAlerts,
    external_url: p.externalURL,
  }));
}

export class AlertReceiver {
  readonly log: AlertLog;
  private counter: client.Counter<'receiver' | 'severity' | 'status'>;
  private receivers = new Set<string>();

  constructor(private opts: AlertReceiverOptions) {
    this.log = new AlertLog({
      sql: opts.sql,
      legacyFile: path.join(path.resolve(opts.storagePath), LEGACY_LOG_FILE),
      log: opts.log,
      maxRecords: opts.maxRecords,
      maxBytes: opts.maxBytes,
      report: opts.report,
    });
    this.counter = new client.Counter({
      name: NOTIFICATIONS_METRIC,
      help: 'Alerts received from Alertmanager through the webhook receiver, one per alert in each notification.',
      labelNames: ['receiver', 'severity', 'status'],
      registers: [opts.registry],
    });
  }

  /** Read the log (importing the file of an earlier version once) before notifications are served; a failure is retried by the next append. */
  async open(): Promise<void> {
    try {
      await this.log.open();
    } catch (err) {
      this.opts.log.error('alert log: cannot read the stored notifications (retried with the next notification)', { error: err });
    }
  }

  /** Store every alert of the notification durably, then count it. */
  async receive(p: WebhookPayload, receivedAt = Date.now()): Promise<NotificationRecord[]> {
    const stored = await this.log.append(toRecords(p, receivedAt));
    const receiver = this.receiverLabel(p.receiver);
    for (const r of stored) {
      const sev = r.labels.severity;
      this.counter.inc({ receiver, severity: sev !== undefined && SEVERITIES.has(sev) ? sev : 'other', status: r.status });
    }
    const firing = stored.filter((r) => r.status === 'firing').length;
    this.opts.log.info('alert notification received', {
      receiver: p.receiver, status: p.status, firing, resolved: stored.length - firing,
      alertnames: [...new Set(stored.map((r) => r.labels.alertname))].slice(0, 10),
    });
    return stored;
  }

  async close(): Promise<void> {
    await this.log.close();
  }

  /** Receiver names come from Alertmanager's config, but a bound keeps a misconfigured sender from exploding the series. */
  private receiverLabel(name: string): string {
    if (this.receivers.has(name)) return name;
    if (this.receivers.size >= MAX_RECEIVERS) return 'other';
    this.receivers.add(name);
    return name;
  }
}
