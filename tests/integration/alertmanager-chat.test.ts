// Chat channels of the shipped alertmanager.yml (issue 17): Slack, Telegram, Discord and Webex,
// off until configured. Switched on (tests/support/alertmanager-config.ts `chat: true`, the same
// uncommenting the compose entry point does), the copy passes `amtool check-config`, routes
// critical and warning alerts to all four like e-mail, and a real Alertmanager 0.25 delivers one
// alert to each of them on the local sink with the check, component, value, threshold, runbook and
// status page link in the payload, without a failed notification.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTMANAGER_TEMPLATES, CHAT_TEST, REPO_ROOT, writeAlertmanagerTestConfig, type AlertmanagerTestConfig } from '../support/alertmanager-config.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { startHttpSink, type HttpSink, type SinkRequest } from '../support/sinks.js';

interface Run { code: number | null; stdout: string; stderr: string }
function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const CHAT = ['slack', 'telegram', 'discord', 'webex'];

/**
 * The `value` and `threshold` annotations exactly as the shipped rule renders them: the critical
 * VigilCheckSlow of rules/tests/vigil-signals.test.yml, whose wording `promtool test rules` checks
 * against rules/vigil-checks.yml (tests/integration/rules.test.ts).
 */
function ruleValueAndThreshold(): { value: string; threshold: string } {
  const doc = parse(readFileSync(path.join(REPO_ROOT, 'rules/tests/vigil-signals.test.yml'), 'utf8')) as {
    tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }> }> }>;
  };
  for (const t of doc.tests) {
    for (const a of t.alert_rule_test ?? []) {
      if (a.alertname !== 'VigilCheckSlow') continue;
      const crit = a.exp_alerts.find((e) => e.exp_labels.severity === 'critical');
      if (crit) return { value: crit.exp_annotations.value!, threshold: crit.exp_annotations.threshold! };
    }
  }
  throw new Error('no critical VigilCheckSlow expectation in rules/tests/vigil-signals.test.yml');
}
const RULE = ruleValueAndThreshold();

const ALERT = {
  labels: { alertname: 'VigilCheckSlowCritical', severity: 'critical', component: 'payments db', check: 'pg-main', instance: 'vigil:9470', job: 'vigil' },
  annotations: {
    summary: 'Check pg-main of component payments db is slower than its critical threshold.',
    description: 'Check pg-main has taken longer than its critical threshold for 2 minutes.',
    value: RULE.value, threshold: RULE.threshold,
    runbook_url: 'https://github.com/vigil-monitoring/vigil/blob/main/docs/runbooks.md#vigilcheckslowcritical',
  },
};
const STATUS_LINK = 'http://localhost:9470/?component=payments+db&q=pg-main#/check/pg-main';

/** Every fact a chat message must name, as it appears in the text. */
function expectNamesEverything(text: string): void {
  expect(text).toContain('check: pg-main');
  expect(text).toContain('component: payments db');
  expect(text).toContain(`value: ${RULE.value}`);
  expect(text).toContain(`threshold: ${RULE.threshold}`);
  expect(text).not.toContain('see below');
  expect(text).toContain(`runbook: ${ALERT.annotations.runbook_url}`);
  expect(text).toContain(`status page: ${STATUS_LINK}`);
  expect(text).toContain(ALERT.annotations.summary);
}

let dir: string;
let sink: HttpSink;
let cfg: AlertmanagerTestConfig;
let am: RunningAlertmanager | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-am-chat-'));
  sink = await startHttpSink();
  cfg = await writeAlertmanagerTestConfig({ dir, sinkUrl: sink.url, chat: true });
});
afterAll(async () => {
  await am?.stop();
  await sink?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('chat channels switched on', () => {
  it('pass amtool check-config (9 receivers) and point every endpoint at the sink', async () => {
    const r = await run('amtool', ['check-config', cfg.configFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/9 receivers/);
    for (const name of CHAT) expect(cfg.endpoints[name], name).toMatch(new RegExp(`^${sink.url}/`));
  });

  it.concurrent.each([
    { severity: 'critical', receivers: `pagerduty,escalation,email,${CHAT.join(',')},vigil-webhook` },
    { severity: 'warning', receivers: `email,${CHAT.join(',')},vigil-webhook` },
    { severity: 'info', receivers: 'vigil-webhook' },
  ])('route $severity alerts like e-mail -> $receivers', async ({ severity, receivers }) => {
    const r = await run('amtool', ['config', 'routes', 'test', `--config.file=${cfg.configFile}`, `--verify.receivers=${receivers}`,
      'alertname=VigilCheckDegraded', `severity=${severity}`, 'component=db', 'check=pg']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('render a resolved group as RESOLVED with its link (amtool template render)', async () => {
    const data = path.join(dir, 'resolved.json');
    await writeFile(data, JSON.stringify({
      receiver: 'slack', status: 'resolved', externalURL: 'http://alertmanager:9093',
      groupLabels: {}, commonLabels: { severity: 'critical', component: 'payments db', check: 'pg-main' }, commonAnnotations: {},
      alerts: [{ status: 'resolved', startsAt: '2026-11-24T10:00:00Z', endsAt: '2026-11-24T10:05:00Z', fingerprint: 'a', generatorURL: '',
        labels: ALERT.labels, annotations: ALERT.annotations }],
    }));
    const r = await run('amtool', ['template', 'render', `--template.glob=${path.join(ALERTMANAGER_TEMPLATES, '*.tmpl')}`,
      `--template.data=${data}`, '--template.text={{ template "vigil.chat.message" . }}|{{ template "vigil.chat.color" . }}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[RESOLVED\] critical payments db: /);
    expect(r.stdout).toContain('RESOLVED VigilCheckSlowCritical:');
    expect(r.stdout).toContain('resolved 2026-11-24 10:05:00 UTC');
    expectNamesEverything(r.stdout);
    expect(r.stdout.trim().endsWith('|good')).toBe(true);
  });

  it('deliver one alert to Slack, Telegram, Discord and Webex on the sink with the expected payloads', async () => {
    am = await startAlertmanager({ configFile: cfg.configFile });
    const post = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ ...ALERT, startsAt: new Date().toISOString() }]), signal: AbortSignal.timeout(5000),
    });
    expect(post.status).toBe(200);
    const at = (url: string) => (r: SinkRequest) => r.method === 'POST' && r.path === new URL(url).pathname;
    // group_wait is 10 s for the chat routes.
    const [slack, telegram, discord, webex] = await Promise.all(CHAT.map((name) => sink.waitFor(at(cfg.endpoints[name]!), 40_000, name)));

    expect(slack!.body.channel).toBe(CHAT_TEST.slackChannel);
    const att = slack!.body.attachments[0];
    expect(att.title).toBe('[FIRING:1] critical payments db: Check pg-main of component payments db is slower than its critical threshold.');
    expect(att.title_link).toBe(STATUS_LINK);
    expect(att.color).toBe('danger');
    expectNamesEverything(att.text);

    expect(telegram!.path).toBe(`/bot${CHAT_TEST.telegramToken}/sendMessage`);
    expect(String(telegram!.body.chat_id)).toBe(String(CHAT_TEST.telegramChatId));
    expect(telegram!.body.text).toMatch(/^\[FIRING:1\] critical payments db: /);
    expectNamesEverything(telegram!.body.text);

    const embed = discord!.body.embeds[0];
    expect(embed.title).toMatch(/^\[FIRING:1\] critical payments db: /);
    expectNamesEverything(embed.description);

    expect(webex!.headers.authorization).toBe(`Bearer ${cfg.secrets.webex_bot_token}`);
    expect(webex!.body.roomId).toBe(CHAT_TEST.webexRoomId);
    expectNamesEverything(webex!.body.markdown);

    // The sink answered like each service: no integration counted a failure (0.25 creates the
    // failure series of discord and webex only on their first failure: absent means none).
    const metrics = await am.metrics();
    for (const integration of CHAT) {
      const sent = metrics.match(new RegExp(`^alertmanager_notifications_total\\{integration="${integration}"\\} (\\d+)`, 'm'));
      const failed = metrics.match(new RegExp(`^alertmanager_notifications_failed_total\\{integration="${integration}"\\} (\\d+)`, 'm'));
      expect(Number(sent?.[1]), `${integration} sent`).toBeGreaterThanOrEqual(1);
      expect(Number(failed?.[1] ?? 0), `${integration} failed`).toBe(0);
    }
  }, 60_000);
});
