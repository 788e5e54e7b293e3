// Webhook payload validation and the test alert, as tables of named cases.
import { describe, expect, it } from 'vitest';
import { parseWebhookPayload } from '../../exporter/alerts/payload.js';
import { toRecords } from '../../exporter/alerts/receiver.js';
import { buildTestAlert, displayUrl, testAlertRequestSchema } from '../../exporter/alerts/test-alert.js';

/** A notification as Alertmanager 0.25 sends it (captured from the stack test). */
function amPayload(over: Record<string, unknown> = {}, alert: Record<string, unknown> = {}) {
  return {
    receiver: 'vigil',
    status: 'firing',
    alerts: [{
      status: 'firing',
      labels: { alertname: 'VigilCheckCritical', severity: 'critical', check: 'api', component: 'web' },
      annotations: { summary: 'api is critical', runbook_url: 'https://example.test/runbook' },
      startsAt: '2026-11-24T23:01:02.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
      fingerprint: '0108efb9a2c4d5e6',
      ...alert,
    }],
    groupLabels: { check: 'api', component: 'web' },
    commonLabels: { alertname: 'VigilCheckCritical', severity: 'critical' },
    commonAnnotations: { summary: 'api is critical' },
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}/{severity="critical"}:{check="api", component="web"}',
    truncatedAlerts: 0,
    ...over,
  };
}

const without = (key: string) => {
  const p: Record<string, unknown> = amPayload();
  delete p[key];
  return p;
};

describe('parseWebhookPayload', () => {
  const cases: Array<{ name: string; input: unknown; ok: boolean; reason?: RegExp }> = [
    { name: 'Alertmanager 0.25 firing notification', input: amPayload(), ok: true },
    { name: 'resolved with an end time', input: amPayload({ status: 'resolved' }, { status: 'resolved', endsAt: '2026-11-24T23:05:00Z' }), ok: true },
    { name: 'unknown extra keys (a later Alertmanager) are ignored', input: amPayload({ newKey: 1 }, { newAlertKey: 'x' }), ok: true },
    { name: 'empty body', input: undefined, ok: false, reason: /empty body/ },
    { name: 'not an object', input: [1, 2], ok: false, reason: /\(payload\)/ },
    { name: 'wrong version', input: amPayload({ version: '3' }), ok: false, reason: /version/ },
    { name: 'missing groupKey', input: without('groupKey'), ok: false, reason: /groupKey/ },
    { name: 'missing truncatedAlerts', input: without('truncatedAlerts'), ok: false, reason: /truncatedAlerts/ },
    { name: 'unknown status', input: amPayload({ status: 'pending' }), ok: false, reason: /^invalid.*status/ },
    { name: 'no alerts', input: amPayload({ alerts: [] }), ok: false, reason: /alerts/ },
    { name: 'bad startsAt', input: amPayload({}, { startsAt: 'yesterday' }), ok: false, reason: /alerts\.0\.startsAt/ },
    { name: 'label value not a string', input: amPayload({}, { labels: { alertname: 'X', n: 1 } }), ok: false, reason: /alerts\.0\.labels\.n/ },
    { name: 'no alertname', input: amPayload({}, { labels: { severity: 'critical' } }), ok: false, reason: /alertname/ },
    { name: 'fingerprint not hex', input: amPayload({}, { fingerprint: '../../etc' }), ok: false, reason: /fingerprint/ },
    { name: 'missing fingerprint', input: amPayload({}, { fingerprint: undefined }), ok: false, reason: /fingerprint/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseWebhookPayload(c.input);
      expect(r.ok).toBe(c.ok);
      if (!r.ok && c.reason) expect(r.reason).toMatch(c.reason);
    });
  }
});

describe('toRecords', () => {
  it('one record per alert; Go zero endsAt becomes null', () => {
    const p = parseWebhookPayload(amPayload({ alerts: [amPayload().alerts[0], { ...amPayload().alerts[0], status: 'resolved', fingerprint: 'ab', endsAt: '2026-11-24T23:05:00Z' }] }));
    if (!p.ok) throw new Error(p.reason);
    const r = toRecords(p.payload, Date.parse('2026-11-24T23:06:00Z'));
    expect(r).toHaveLength(2);
    expect(r[0]).toMatchObject({ receiver: 'vigil', status: 'firing', ends_at: null, received_at: '2026-11-24T23:06:00.000Z', fingerprint: '0108efb9a2c4d5e6' });
    expect(r[1]).toMatchObject({ status: 'resolved', ends_at: '2026-11-24T23:05:00Z' });
  });
});

describe('test alert', () => {
  it('defaults to warning, 5 minutes, vigil-test labels', () => {
    const a = buildTestAlert(testAlertRequestSchema.parse({}), { now: Date.parse('2026-11-24T12:00:00Z'), id: 'abc' });
    expect(a.labels).toEqual({ alertname: 'VigilTestAlert', severity: 'warning', component: 'vigil-test', check: 'vigil-test', test_id: 'abc' });
    expect(a.startsAt).toBe('2026-11-24T12:00:00.000Z');
    expect(a.endsAt).toBe('2026-11-24T12:05:00.000Z');
    expect(a.annotations.summary).toMatch(/test alert/);
    expect(a.annotations.description).toMatch(/resolves by itself/);
  });
  const bad: Array<{ name: string; input: unknown }> = [
    { name: 'unknown severity', input: { severity: 'fatal' } },
    { name: 'unknown key', input: { sevrity: 'critical' } },
    { name: 'duration too short', input: { duration_seconds: 1 } },
  ];
  for (const c of bad) it(`rejects ${c.name}`, () => expect(testAlertRequestSchema.safeParse(c.input).success).toBe(false));
  it('never shows credentials of the Alertmanager URL', () => {
    expect(displayUrl('http://user:secret@am.example:9093/prefix/')).toBe('http://am.example:9093/prefix');
  });
});
