// Notifications: do alerts reach people, and do the apps' own messages reach their users?
// Alertmanager delivery per integration (email, pagerduty, webhook), the alert history
// (Prometheus' ALERTS and what the Vigil receiver logged), and app message deliveries by channel
// and outcome with retries (vigil/api recordDelivery).

import {
  AVAILABILITY_STEPS, COLOR, UNIT, instant, queryVariable, range, sel,
  statPanel, stateTimelinePanel, steps, tableQuery, tablePanel, timeseriesPanel, valueMap,
} from './common.js';

export const NOTIFICATIONS_UID = 'vigil-notifications';

export const integrationVariable = () =>
  queryVariable('integration', 'label_values(alertmanager_notifications_total, integration)', {
    label: 'Integration',
    description: 'Alertmanager integrations (email, pagerduty, webhook, ...).',
  });

export const channelVariable = () =>
  queryVariable('channel', 'label_values(vigil_message_deliveries_total, channel)', {
    label: 'Channel',
    description: 'Message channels the apps report deliveries for (vigil/api recordDelivery).',
  });

const I = 'integration=~"$integration"';
const C = 'channel=~"$channel"';

// ---- Alertmanager ----------------------------------------------------------------------------

const amSuccess = (window: string) =>
  `1 - (\n  sum by (integration) (increase(alertmanager_notifications_failed_total${sel(I)}[${window}]))\n  / sum by (integration) (increase(alertmanager_notifications_total${sel(I)}[${window}]))\n)`;

export const amSuccessRange = () =>
  statPanel({
    title: 'Alert notifications delivered',
    description: 'Share of Alertmanager notification attempts that succeeded over the time range, per integration (1 − alertmanager_notifications_failed_total / alertmanager_notifications_total). Empty while nothing was sent.',
    w: 8, h: 6,
    queries: [instant(amSuccess('$__range'), '{{integration}}')],
    unit: UNIT.ratio, decimals: 1, thresholds: AVAILABILITY_STEPS,
    noValue: 'Nothing sent',
  });

export const amSuccessRate = () =>
  timeseriesPanel({
    title: 'Notification success rate',
    description: 'Share of notification attempts that succeeded, per integration, over time. VigilAlertmanagerNotificationsFailing fires above 1 % failures (critical for PagerDuty).',
    w: 16, h: 6,
    queries: [range(amSuccess('$__rate_interval'), '{{integration}}')],
    unit: UNIT.ratio, min: 0, max: 1, thresholds: AVAILABILITY_STEPS,
  });

export const amSent = () =>
  timeseriesPanel({
    title: 'Notifications sent and failed',
    description: 'Notification attempts per interval by integration, and the failed ones (alertmanager_notifications_total, alertmanager_notifications_failed_total).',
    w: 8, h: 8,
    queries: [
      range(`sum by (integration) (increase(alertmanager_notifications_total${sel(I)}[$__rate_interval]))`, '{{integration}} sent'),
      range(`sum by (integration) (increase(alertmanager_notifications_failed_total${sel(I)}[$__rate_interval]))`, '{{integration}} failed'),
    ],
    unit: UNIT.short, min: 0, bars: true, legendCalcs: ['sum'],
  }).overrideByRegexp('.* failed$', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.critical } }]);

export const amLatency = () =>
  timeseriesPanel({
    title: 'Notification latency p95',
    description: '95th percentile time Alertmanager took to deliver a notification, per integration (alertmanager_notification_latency_seconds).',
    w: 8, h: 8,
    queries: [range(`histogram_quantile(0.95, sum by (integration, le) (rate(alertmanager_notification_latency_seconds_bucket${sel(I)}[$__rate_interval])))`, '{{integration}}')],
    unit: UNIT.seconds, min: 0,
  });

export const amAlerts = () =>
  timeseriesPanel({
    title: 'Alerts in Alertmanager',
    description: 'Alerts Alertmanager holds, active or suppressed (by inhibition or a silence) (alertmanager_alerts).',
    w: 8, h: 8,
    queries: [range('sum by (state) (alertmanager_alerts)', '{{state}}')],
    unit: UNIT.short, min: 0,
  });

// ---- alert history ---------------------------------------------------------------------------

export const firingBySeverity = () =>
  timeseriesPanel({
    title: 'Firing alerts by severity',
    description: 'How many alerts were firing over time (Prometheus ALERTS), by severity; the Watchdog is left out.',
    w: 12, h: 8,
    queries: [range('count by (severity) (ALERTS{alertstate="firing", severity!="none"})', '{{severity}}')],
    unit: UNIT.short, min: 0, stack: true,
  })
    .overrideByName('critical', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.critical } }])
    .overrideByName('warning', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.warning } }])
    .overrideByName('info', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.info } }]);

export const alertTimeline = () =>
  stateTimelinePanel({
    title: 'Alert timeline',
    description: 'When each alert was pending and firing (Prometheus ALERTS): 1 pending, 2 firing.',
    w: 12, h: 8,
    queries: [range(
      'max by (alertname, severity) (\n  ALERTS{alertstate="pending", severity!="none"}\n  or 2 * ALERTS{alertstate="firing", severity!="none"}\n)',
      '{{alertname}} ({{severity}})')],
    mappings: [valueMap({ '1': { text: 'Pending', color: COLOR.warning }, '2': { text: 'Firing', color: COLOR.critical } })],
    thresholds: steps(COLOR.warning, [2, COLOR.critical]),
  });

export const receivedByVigil = () =>
  timeseriesPanel({
    title: 'Notifications received by Vigil',
    description: 'Alert notifications the Vigil exporter\'s Alertmanager receiver logged (vigil_alert_notifications_received_total), by receiver, severity and status (firing/resolved).',
    w: 12, h: 8,
    queries: [range('sum by (receiver, severity, status) (increase(vigil_alert_notifications_received_total[$__rate_interval]))', '{{receiver}} {{severity}} {{status}}')],
    unit: UNIT.short, min: 0, bars: true, stack: true, legendCalcs: ['sum'],
  });

export const receivedTotals = () =>
  tablePanel({
    title: 'Alert log over the time range',
    description: 'Notifications the Vigil receiver logged over the time range, per receiver, severity and status. The full history is on the status page (/api/v1/alerts).',
    w: 12, h: 8,
    queries: [tableQuery('sum by (receiver, severity, status) (increase(vigil_alert_notifications_received_total[$__range]))')],
    columns: [
      { field: 'receiver', title: 'Receiver' },
      { field: 'severity', title: 'Severity' },
      { field: 'status', title: 'Status' },
      { field: 'Value', title: 'Notifications', decimals: 0 },
    ],
    noValue: 'Nothing received',
  });

// ---- app message deliveries ------------------------------------------------------------------

const deliveries = (matchers: string, by: string) =>
  `sum by (${by}) (rate(vigil_message_deliveries_total${sel(C, matchers)}[$__rate_interval]))`;

export const deliveredRatio = () =>
  statPanel({
    title: 'Messages delivered',
    description: 'Share of messages that reached a final outcome and were delivered, per channel, over the time range (delivered / (delivered + failed + dropped); retries are attempts, not messages).',
    w: 8, h: 6,
    queries: [instant(
      `sum by (channel) (increase(vigil_message_deliveries_total${sel(C, 'outcome="delivered"')}[$__range]))\n/ sum by (channel) (increase(vigil_message_deliveries_total${sel(C, 'outcome=~"delivered|failed|dropped"')}[$__range]))`,
      '{{channel}}')],
    unit: UNIT.ratio, decimals: 1, thresholds: AVAILABILITY_STEPS,
    noValue: 'No deliveries',
  });

export const deliveriesByOutcome = () =>
  timeseriesPanel({
    title: 'Deliveries by channel and outcome',
    description: 'Delivery attempts per second by channel and outcome: delivered, retried (another attempt follows), failed (gave up), dropped (not sent on purpose).',
    w: 16, h: 6,
    queries: [range(deliveries('', 'channel, outcome'), '{{channel}} {{outcome}}')],
    unit: UNIT.ops, min: 0, stack: true, legendRight: true,
  });

export const retries = () =>
  timeseriesPanel({
    title: 'Retries',
    description: 'Retried attempts per second by channel, and the share of attempts that were retries.',
    w: 8, h: 8,
    queries: [
      range(deliveries('outcome="retried"', 'channel'), '{{channel}} retries/s'),
      range(`${deliveries('outcome="retried"', 'channel')}\n/ ${deliveries('', 'channel')}`, '{{channel}} retry share'),
    ],
    unit: UNIT.ops, min: 0,
  }).overrideByRegexp('.* retry share$', [{ id: 'unit', value: UNIT.ratio }, { id: 'custom.axisPlacement', value: 'right' }]);

export const attempts = () =>
  timeseriesPanel({
    title: 'Attempts per message p95',
    description: '95th percentile of the attempts a message took to reach its final outcome (vigil_message_delivery_attempts).',
    w: 8, h: 8,
    queries: [range(`histogram_quantile(0.95, sum by (channel, le) (rate(vigil_message_delivery_attempts_bucket${sel(C)}[$__rate_interval])))`, '{{channel}}')],
    unit: UNIT.short, min: 0,
  });

export const deliveryLatency = () =>
  timeseriesPanel({
    title: 'Delivery attempt duration p95',
    description: '95th percentile duration of one delivery attempt by channel and outcome (vigil_message_delivery_duration_seconds).',
    w: 8, h: 8,
    queries: [range(`histogram_quantile(0.95, sum by (channel, outcome, le) (rate(vigil_message_delivery_duration_seconds_bucket${sel(C)}[$__rate_interval])))`, '{{channel}} {{outcome}}')],
    unit: UNIT.seconds, min: 0,
  });

export const failureReasons = () =>
  timeseriesPanel({
    title: 'Delivery failures by reason',
    description: 'Failed, retried and dropped attempts per second by channel and bounded reason (vigil_message_delivery_failures_total).',
    w: 24, h: 7,
    queries: [range(`sum by (channel, reason) (rate(vigil_message_delivery_failures_total${sel(C)}[$__rate_interval]))`, '{{channel}} {{reason}}')],
    unit: UNIT.ops, min: 0, stack: true, legendRight: true,
  });
