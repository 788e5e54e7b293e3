// Reading Alertmanager for the alerts panel (alerts/alertmanager-state.ts): its per-integration
// counters, its receivers' integrations, its alerts' routing; a read that fails in part says so;
// one read per TTL however many ask; and the board puts it together per alert.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlertmanagerReader, parseAlertRouting, parseIntegrationTotals, parseReceiverIntegrations, readAlertmanager, type AlertmanagerSnapshot,
} from '../../exporter/alerts/alertmanager-state.js';
import type { NotificationRecord } from '../../exporter/alerts/log.js';
import { alertBoard } from '../../exporter/views/alert-board.js';

// As Alertmanager 0.25 serves them (trimmed).
const METRICS = `# HELP alertmanager_notifications_total The total number of attempted notifications.
# TYPE alertmanager_notifications_total counter
alertmanager_notifications_total{integration="email"} 3
alertmanager_notifications_total{integration="pagerduty"} 7
alertmanager_notifications_total{integration="webhook"} 12
alertmanager_notifications_failed_total{integration="email"} 2
alertmanager_notifications_failed_total{integration="webhook",reason="other"} 1
alertmanager_notifications_failed_total{integration="webhook",reason="serverError"} 2
alertmanager_notification_requests_total{integration="email"} 9
alertmanager_notification_requests_failed_total{integration="email"} 8
alertmanager_notification_latency_seconds_count{integration="email"} 3
`;
const CONFIG = `global:
  resolve_timeout: 5m
route:
  receiver: vigil-webhook
receivers:
- name: pagerduty
  pagerduty_configs:
  - routing_key: <secret>
    send_resolved: true
- name: email
  email_configs:
  - to: oncall@example.com
- name: both
  webhook_configs:
  - url: http://vigil:9470/api/v1/alerts/webhook
  slack_configs:
  - api_url: <secret>
- name: vigil-webhook
  webhook_configs:
  - url: http://vigil:9470/api/v1/alerts/webhook
- name: blackhole
`;
const ALERTS = [
  { fingerprint: 'aa01', receivers: [{ name: 'pagerduty' }, { name: 'email' }, { name: 'vigil-webhook' }], status: { state: 'active', silencedBy: [], inhibitedBy: [] }, labels: {} },
  { fingerprint: 'bb02', receivers: [{ name: 'vigil-webhook' }], status: { state: 'suppressed', silencedBy: ['0b1f-silence'], inhibitedBy: [] }, labels: {} },
  { nonsense: true },
];

describe('parsing what Alertmanager reports', () => {
  it('sums the four notification counters per integration (any other label summed in)', () => {
    expect([...parseIntegrationTotals(METRICS).values()]).toEqual([
      { integration: 'email', notifications: 3, notifications_failed: 2, requests: 9, requests_failed: 8 },
      { integration: 'pagerduty', notifications: 7, notifications_failed: 0, requests: 0, requests_failed: 0 },
      { integration: 'webhook', notifications: 12, notifications_failed: 3, requests: 0, requests_failed: 0 },
    ]);
  });

  it('lists each receiver\'s integrations from the reported config', () => {
    expect(Object.fromEntries(parseReceiverIntegrations(CONFIG))).toEqual({
      pagerduty: ['pagerduty'], email: ['email'], both: ['slack', 'webhook'], 'vigil-webhook': ['webhook'], blackhole: [],
    });
    expect(parseReceiverIntegrations('route: {}\n').size).toBe(0);
  });

  it('takes each alert\'s receivers and suppression, skipping what is not an alert', () => {
    expect(Object.fromEntries(parseAlertRouting(ALERTS))).toEqual({
      aa01: { receivers: ['pagerduty', 'email', 'vigil-webhook'], state: 'active', silenced_by: [], inhibited_by: [] },
      bb02: { receivers: ['vigil-webhook'], state: 'suppressed', silenced_by: ['0b1f-silence'], inhibited_by: [] },
    });
    expect(parseAlertRouting({ error: 'x' }).size).toBe(0);
  });
});

describe('reading a live Alertmanager API', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ path: string; auth?: string }> = [];
  let broken = false;
  let hang = false;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url!, auth: req.headers.authorization });
      if (hang) return; // never answers
      const path = req.url!.replace(/^\/am/, '');
      if (path.startsWith('/api/v2/alerts')) return res.end(JSON.stringify(ALERTS));
      if (path === '/api/v2/status') return res.end(JSON.stringify({ config: { original: CONFIG } }));
      if (path === '/metrics') { res.statusCode = broken ? 500 : 200; return res.end(broken ? 'oops' : METRICS); }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://ops:p%40ss@127.0.0.1:${(server.address() as AddressInfo).port}/am`;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  it('reads alerts, status and metrics under a path prefix with basic auth, and never shows the password', async () => {
    seen.length = 0;
    const snap = await readAlertmanager(base);
    expect(snap.error).toBeNull();
    expect(snap.url).toBe(base.replace('ops:p%40ss@', ''));
    expect(snap.alerts.get('aa01')?.receivers).toEqual(['pagerduty', 'email', 'vigil-webhook']);
    expect(snap.receivers.get('both')).toEqual(['slack', 'webhook']);
    expect(snap.integrations.get('email')?.requests_failed).toBe(8);
    expect(seen.map((s) => s.path).sort()).toEqual(['/am/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true', '/am/api/v2/status', '/am/metrics']);
    for (const s of seen) expect(s.auth).toBe(`Basic ${Buffer.from('ops:p@ss').toString('base64')}`);
  });

  it('a part that fails is named in error and the rest is kept', async () => {
    broken = true;
    try {
      const snap = await readAlertmanager(base);
      expect(snap.error).toMatch(/^Alertmanager at http:\/\/127\.0\.0\.1:\d+\/am: metrics: \/am\/metrics answered 500$/);
      expect(snap.error).not.toContain('p%40ss');
      expect(snap.integrations.size).toBe(0);
      expect(snap.alerts.size).toBe(2);
    } finally {
      broken = false;
    }
  });

  it('gives up after its timeout when Alertmanager hangs', async () => {
    hang = true;
    try {
      const t0 = Date.now();
      const snap = await readAlertmanager(base, 300);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(snap.error).toMatch(/no answer within 0\.3 s/);
    } finally {
      hang = false;
    }
  });
});

describe('AlertmanagerReader', () => {
  it('reads once per TTL and base, however many ask', async () => {
    let reads = 0;
    const snap = { url: 'x', read_at: '', error: null, alerts: new Map(), receivers: new Map(), integrations: new Map() } satisfies AlertmanagerSnapshot;
    const reader = new AlertmanagerReader(15_000, async () => { reads++; return snap; });
    await Promise.all([reader.get('http://am', 0), reader.get('http://am', 1), reader.get('http://am', 14_999)]);
    expect(reads).toBe(1);
    await reader.get('http://am', 15_000);
    expect(reads).toBe(2);
    await reader.get('http://other-am', 15_001);
    expect(reads).toBe(3);
  });
});

describe('the board with Alertmanager', () => {
  const rec = (fp: string): NotificationRecord => ({
    id: 1, batch: 1, received_at: new Date().toISOString(), receiver: 'vigil-webhook', status: 'firing', fingerprint: fp,
    labels: { alertname: 'VigilCheckCritical', severity: 'critical' }, annotations: {}, starts_at: new Date().toISOString(), ends_at: null,
    generator_url: '', group_key: fp, truncated_alerts: 0, external_url: '',
  });
  it('routes each alert to its receivers with their integrations\' totals; null for an alert Alertmanager no longer holds', () => {
    const am: AlertmanagerSnapshot = {
      url: 'http://am', read_at: '2026-12-03T10:00:00.000Z', error: null,
      alerts: parseAlertRouting(ALERTS), receivers: parseReceiverIntegrations(CONFIG), integrations: parseIntegrationTotals(METRICS),
    };
    const b = alertBoard([rec('aa01'), rec('bb02'), rec('cc03')], { now: Date.now(), windowMs: 86_400_000, checks: new Set(), alertmanager: am });
    const by = Object.fromEntries(b.alerts.map((a) => [a.fingerprint, a.routing]));
    expect(by.aa01).toEqual({
      state: 'active', silenced_by: [], inhibited_by: [],
      receivers: [
        { receiver: 'pagerduty', integrations: [{ integration: 'pagerduty', notifications: 7, notifications_failed: 0, requests: 0, requests_failed: 0 }] },
        { receiver: 'email', integrations: [{ integration: 'email', notifications: 3, notifications_failed: 2, requests: 9, requests_failed: 8 }] },
        { receiver: 'vigil-webhook', integrations: [{ integration: 'webhook', notifications: 12, notifications_failed: 3, requests: 0, requests_failed: 0 }] },
      ],
    });
    expect(by.bb02).toMatchObject({ state: 'suppressed', silenced_by: ['0b1f-silence'] });
    expect(by.cc03).toBeNull();
    expect(b.alertmanager).toMatchObject({ url: 'http://am', error: null });
    expect(b.alertmanager!.integrations.map((i) => i.integration)).toEqual(['email', 'pagerduty', 'webhook']);
    // Without server.alertmanager_url: no routing, no section.
    const plain = alertBoard([rec('aa01')], { now: Date.now(), windowMs: 86_400_000, checks: new Set() });
    expect(plain.alertmanager).toBeNull();
    expect(plain.alerts[0]!.routing).toBeNull();
  });
});
