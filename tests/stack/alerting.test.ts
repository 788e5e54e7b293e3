// End to end, real binaries on loopback: a broken HTTP target -> Vigil exporter -> Prometheus
// (shipped prometheus.yml intervals, shipped rules/) -> Alertmanager (shipped alertmanager.yml,
// receivers rewritten to local sinks) -> PagerDuty sink, SMTP sink and Vigil's own webhook
// receiver; then the heal and its resolves; a failing receiver (the dead man's switch answering
// 500) counted by alertmanager_notifications_failed_total and alerted on; and the operator's
// test alert coming back through the webhook. Every wait is a bounded poll.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RULES_GLOB } from '../support/prometheus-config.js';
import { REPO_ROOT } from '../support/alertmanager-config.js';
import {
  ADMIN_TOKEN, DEADMANS_SWITCH_PATH, PAGERDUTY_PATH, PAGERDUTY_ROUTING_KEY, WEBHOOK_TOKEN, pagerDutyEvents, poll, startAlertingStack, type AlertingStack,
} from './stack.js';

const FAILING_ALERT = 'VigilAlertmanagerNotificationsFailing';
const SHORTENED = { vigil_stack_test: 'shortened_for' };
const RUNBOOKS = `${(JSON.parse(readFileSync(path.join(REPO_ROOT, 'rules/config.json'), 'utf8')) as { runbook_url_base: string }).runbook_url_base}#`;

/**
 * The shipped notification-failure rules hold for 5 minutes (too long for this test; their `for`
 * is covered by rules/tests/meta.test.yml). Prometheus gets the shipped rules unchanged plus this
 * copy of those rules with `for: 0s` and a marker label, so the test can show the shipped rule
 * going pending on real Alertmanager metrics and the copy firing all the way to a receiver.
 */
function shortenedFailureRules(dir: string): string {
  const meta = parse(readFileSync(path.join(REPO_ROOT, 'rules/meta.yml'), 'utf8')) as { groups: Array<{ interval?: string; rules: Array<Record<string, any>> }> };
  const rules = meta.groups.flatMap((g) => g.rules.filter((r) => r.alert === FAILING_ALERT).map((r) => ({ ...r, for: '0s', labels: { ...r.labels, ...SHORTENED } })));
  if (!rules.length) throw new Error(`rules/meta.yml has no ${FAILING_ALERT}`);
  const file = path.join(dir, 'stack-test-shortened.yml');
  writeFileSync(file, stringify({ groups: [{ name: 'stack-test-shortened-for', interval: meta.groups[0].interval ?? '15s', rules }] }));
  return file;
}

let stack: AlertingStack;
let brokenAt = 0;
const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[stack ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

beforeAll(async () => {
  const rulesDir = mkdtempSync(path.join(tmpdir(), 'vigil-stack-rules-'));
  try {
    stack = await startAlertingStack({
      ruleFiles: [RULES_GLOB, shortenedFailureRules(rulesDir)],
      deadmansSwitchStatus: 500,
      log,
    });
  } finally {
    // Prometheus has read the rule files by the time it is ready.
    rmSync(rulesDir, { recursive: true, force: true });
  }
  await poll(async () => (await stack.prometheus.query('up{job="vigil"} == 1')).length > 0, 30_000, 'Prometheus scraping the exporter');
  log('Prometheus scrapes the exporter');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe('alerting stack (Prometheus 2.42 + Alertmanager 0.25, shipped config)', () => {
  it('POST /api/v1/alerts/test reaches Alertmanager and comes back through the webhook', async () => {
    const res = await fetch(`${stack.exporter.url}/api/v1/alerts/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ severity: 'info' }), // info: only the Vigil webhook hears it
    });
    expect(res.status).toBe(202);
    const { alert } = await res.json();
    const [n] = await poll(async () => {
      const list = await stack.vigilNotifications('alertname=VigilTestAlert');
      return list.length ? list : undefined;
    }, 30_000, 'VigilTestAlert back at the webhook');
    expect(n).toMatchObject({ receiver: 'vigil-webhook', status: 'firing', labels: { ...alert.labels, severity: 'info' } });
    expect(Date.parse(n.starts_at)).toBe(Date.parse(alert.startsAt));
    log('test alert came back');
  }, 40_000);

  it('a broken check pages PagerDuty, mails on-call and lands in the Vigil log with labels and annotations', async () => {
    brokenAt = Date.now();
    stack.setBroken('api', true);
    log('target broken');

    const isCritical = (l: Record<string, string>) => l.alertname === 'VigilCheckCritical' && l.check === 'api';
    const [webhook] = await poll(async () => {
      const list = (await stack.vigilNotifications('alertname=VigilCheckCritical&status=firing')).filter((n) => isCritical(n.labels));
      return list.length ? list : undefined;
    }, 60_000, 'VigilCheckCritical at the Vigil webhook');
    log(`webhook: VigilCheckCritical after ${((Date.parse(webhook.received_at) - brokenAt) / 1000).toFixed(1)} s`);
    expect(webhook.receiver).toBe('vigil-webhook');
    expect(webhook.labels).toMatchObject({ alertname: 'VigilCheckCritical', severity: 'critical', check: 'api', component: 'web' });
    // One answer per check whichever exporter (HA pair, shard) or scrape job saw it: no job/instance.
    expect(webhook.labels.instance).toBeUndefined();
    expect(webhook.annotations.summary).toBe('Check api of component web is critical.');
    expect(webhook.annotations.description).toMatch(/has been critical for more than 10 seconds/);
    expect(webhook.annotations.runbook_url).toBe(`${RUNBOOKS}vigilcheckcritical`);
    // value/threshold as a real Prometheus renders them (issue 17: chat messages and the alerts panel).
    expect(webhook.annotations.value).toMatch(/^(last success .+ ago|no successful run on record)$/);
    expect(webhook.annotations.threshold).toBe('critical for more than 10s');

    const pd = await stack.sink.waitFor((r) => r.path === PAGERDUTY_PATH && r.body?.event_action === 'trigger'
      && String(r.body?.payload?.custom_details?.firing).includes('VigilCheckCritical'), 30_000, 'PagerDuty trigger');
    log(`PagerDuty: trigger after ${((pd.at - brokenAt) / 1000).toFixed(1)} s`);
    expect(pd.headers['user-agent']).toMatch(/^Alertmanager\//);
    expect(pd.body).toMatchObject({
      routing_key: PAGERDUTY_ROUTING_KEY,
      event_action: 'trigger',
      payload: { severity: 'critical', component: 'web', source: 'web' },
    });
    expect(pd.body.payload.summary).toMatch(/^\[FIRING:\d+\] critical web: /);
    const details = pd.body.payload.custom_details.firing as string;
    expect(details).toContain('[critical] VigilCheckCritical: Check api of component web is critical.');
    expect(details).toContain(`runbook: ${RUNBOOKS}vigilcheckcritical`);
    expect(details).toContain('where: component web, check api');
    expect(pd.body.links.map((l: { href: string }) => l.href)).toEqual(expect.arrayContaining([expect.stringContaining(RUNBOOKS)]));

    const mail = await stack.smtp.waitFor((m) => m.subject.includes('Check api of component web is critical.'), 30_000, 'e-mail for VigilCheckCritical');
    log(`e-mail: after ${((mail.at - brokenAt) / 1000).toFixed(1)} s: ${mail.subject}`);
    expect(mail.subject).toMatch(/^\[FIRING:1\] critical web: Check api of component web is critical\.$/);
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.from).toBe('alertmanager@example.com');
    expect(mail.user).toBe('alertmanager@example.com'); // smtp_auth_username of the shipped config
    expect(mail.text).toContain('* [critical] VigilCheckCritical: Check api of component web is critical.');
    expect(mail.text).toContain(`runbook: ${RUNBOOKS}vigilcheckcritical`);

    // What Vigil says is firing now includes it.
    const now = await (await fetch(`${stack.exporter.url}/api/v1/alerts`)).json();
    expect(now.alerts.find((a: { alertname: string; check: string }) => a.alertname === 'VigilCheckCritical' && a.check === 'api'))
      .toMatchObject({ severity: 'critical', component: 'web' });
  }, 90_000);

  it('healing resolves: PagerDuty resolve event, webhook resolved; no resolved e-mail (send_resolved is off)', async () => {
    expect(brokenAt).toBeGreaterThan(0);
    const trigger = pagerDutyEvents(stack.sink, 'trigger').find((b) => String(b.payload?.custom_details?.firing).includes('VigilCheckCritical'));
    expect(trigger).toBeDefined();
    const healedAt = Date.now();
    stack.setBroken('api', false);
    log('target healed');

    const resolve = await stack.sink.waitFor((r) => r.path === PAGERDUTY_PATH && r.body?.event_action === 'resolve' && r.body?.dedup_key === trigger.dedup_key,
      110_000, 'PagerDuty resolve');
    log(`PagerDuty: resolve after ${((resolve.at - healedAt) / 1000).toFixed(1)} s`);
    expect(resolve.body.routing_key).toBe(PAGERDUTY_ROUTING_KEY);

    const [resolved] = await poll(async () => {
      const list = (await stack.vigilNotifications('alertname=VigilCheckCritical&status=resolved')).filter((n) => n.labels.check === 'api');
      return list.length ? list : undefined;
    }, 60_000, 'VigilCheckCritical resolved at the Vigil webhook');
    expect(resolved.labels).toMatchObject({ severity: 'critical', check: 'api', component: 'web' });
    expect(Date.parse(resolved.ends_at)).toBeGreaterThan(healedAt - 1000);

    const hist = await (await fetch(`${stack.exporter.url}/api/v1/alerts/history?view=lifecycles&alertname=VigilCheckCritical`)).json();
    const life = hist.lifecycles.find((l: { check: string }) => l.check === 'api');
    expect(life).toMatchObject({ ongoing: false, severity: 'critical', component: 'web', receivers: ['vigil-webhook'] });
    expect(life.duration_seconds).toBeGreaterThan(10);
    const firing = await (await fetch(`${stack.exporter.url}/api/v1/alerts`)).json();
    expect(firing.alerts.filter((a: { alertname: string }) => a.alertname === 'VigilCheckCritical')).toEqual([]);

    const emailReceiver = (stack.amConfig.config.receivers as Array<{ name: string; email_configs?: Array<{ send_resolved?: boolean }> }>).find((r) => r.name === 'email')!;
    expect(emailReceiver.email_configs![0].send_resolved).toBe(false);
    expect(stack.smtp.messages.filter((m) => /RESOLVED/.test(m.subject))).toEqual([]);

    const metrics = await (await fetch(`${stack.exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_alert_notifications_received_total\{receiver="vigil-webhook",severity="critical",status="firing"\} [1-9]/m);
    expect(metrics).toMatch(/^vigil_alert_notifications_received_total\{receiver="vigil-webhook",severity="critical",status="resolved"\} [1-9]/m);
  }, 130_000);

  it('a failing receiver shows in alertmanager_notifications_failed_total and fires the notification-failure alert', async () => {
    // (Run alone, this test waits for the first failures: Watchdog at the first vigil-meta
    // evaluation, Alertmanager giving up after the switch's group_interval, the 15 s scrape.)
    const failed = await poll(async () => {
      const r = await stack.prometheus.query('alertmanager_notifications_failed_total{job="alertmanager",integration="webhook"} > 0');
      return r.length ? r : undefined;
    }, 90_000, 'failed webhook notifications in Prometheus');
    expect(stack.sink.on(DEADMANS_SWITCH_PATH).length).toBeGreaterThan(0); // the Watchdog reached the (failing) switch, which answered 500
    expect(Number(failed[0].value[1])).toBeGreaterThan(0);
    expect(await stack.prometheus.query('alertmanager_notifications_failed_total{integration="pagerduty"} > 0')).toEqual([]);

    // Shipped rule (for: 5m): pending on the real metrics. The same rule with for: 0s: firing and delivered.
    const alerts = await poll(async () => {
      const all = (await stack.prometheus.alerts()).filter((a) => a.labels.alertname === FAILING_ALERT && a.labels.integration === 'webhook');
      const shipped = all.find((a) => !a.labels.vigil_stack_test);
      const short = all.find((a) => a.labels.vigil_stack_test && a.state === 'firing');
      return shipped && short ? { shipped, short } : undefined;
    }, 90_000, `${FAILING_ALERT} active in Prometheus`);
    expect(alerts.shipped.state).toMatch(/pending|firing/);
    expect(alerts.shipped.labels.severity).toBe('warning');
    expect(alerts.short.annotations.summary).toBe(alerts.shipped.annotations.summary);
    expect(alerts.short.annotations.runbook_url).toBe(`${RUNBOOKS}vigilalertmanagernotificationsfailing`);

    const [n] = await poll(async () => {
      const list = await stack.vigilNotifications(`alertname=${FAILING_ALERT}&status=firing`);
      return list.length ? list : undefined;
    }, 30_000, `${FAILING_ALERT} at the Vigil webhook`);
    expect(n.labels).toMatchObject({ severity: 'warning', integration: 'webhook', job: 'alertmanager', ...SHORTENED });
    expect(n.annotations.summary).toMatch(/fails to deliver webhook notifications/);
  }, 200_000);
});
