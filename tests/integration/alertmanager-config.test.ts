// Alertmanager side of the alerting config: the shipped alertmanager.yml keeps every secret in a
// file under /etc/alertmanager/secrets/, its test copy (tests/support/alertmanager-config.ts)
// passes `amtool check-config`, the routing tree sends each kind of alert to the expected
// receivers (`amtool config routes test --verify.receivers`), the templates render what, where,
// since when and the runbook, time-based muting never touches a receiver that sends resolves,
// and the inhibit rules mute exactly what docs/alerting.md says (checked on a live
// Alertmanager). A missing amtool or Alertmanager binary fails.
import { freePort } from '../support/ports.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTMANAGER_CONFIG, ALERTMANAGER_TEMPLATES, SECRETS_DIR, writeAlertmanagerTestConfig, type AlertmanagerTestConfig } from '../support/alertmanager-config.js';

interface Run { code: number | null; stdout: string; stderr: string }
function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? String(err) : '') });
    });
  });
}

function onPath(...bins: string[]): string | undefined {
  for (const bin of bins) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const p = path.join(dir, bin);
      try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
    }
  }
  return undefined;
}


const shipped = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as Record<string, any>;
let dir: string;
let testConfig: AlertmanagerTestConfig;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-am-config-'));
  testConfig = await writeAlertmanagerTestConfig({ dir });
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('binaries', () => {
  it('amtool is installed (Debian package "prometheus-alertmanager", see tests/support/setup.sh)', () => {
    expect(onPath('amtool'), 'amtool not found on PATH').toBeDefined();
  });
  it('Alertmanager is installed', () => {
    expect(onPath('prometheus-alertmanager', 'alertmanager'), 'prometheus-alertmanager not found on PATH').toBeDefined();
  });
});

describe('shipped alertmanager.yml', () => {
  it('reads every secret from a file under /etc/alertmanager/secrets/ and holds none inline', () => {
    const files: string[] = [];
    const inline: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${at}[${i}]`));
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k.endsWith('_file') && typeof v === 'string') files.push(v);
        if (['routing_key', 'service_key', 'smtp_auth_password', 'auth_password', 'credentials', 'password', 'api_key', 'bot_token', 'token'].includes(k)) inline.push(`${at}.${k}`);
        visit(v, `${at}.${k}`);
      }
    };
    visit(shipped, '');
    expect(inline).toEqual([]);
    expect(files.sort()).toEqual([
      `${SECRETS_DIR}deadmans_switch_token`, `${SECRETS_DIR}pagerduty_routing_key`,
      `${SECRETS_DIR}smtp_password`, `${SECRETS_DIR}vigil_webhook_token`,
    ]);
  });

  it('posts to Vigil\'s own receiver with a bearer token file and sends resolves', () => {
    const wh = (shipped.receivers as Array<Record<string, any>>).find((r) => r.name === 'vigil-webhook')!.webhook_configs[0];
    expect(wh.url).toBe('http://vigil:9470/api/v1/alerts/webhook');
    expect(wh.send_resolved).toBe(true);
    expect(wh.http_config.authorization).toEqual({ type: 'Bearer', credentials_file: `${SECRETS_DIR}vigil_webhook_token` });
  });

  it('pages PagerDuty through Events API v2 with an overridable URL', () => {
    const pd = (shipped.receivers as Array<Record<string, any>>).find((r) => r.name === 'pagerduty')!.pagerduty_configs[0];
    expect(pd.routing_key_file).toBe(`${SECRETS_DIR}pagerduty_routing_key`);
    expect(pd.service_key).toBeUndefined();
    expect(shipped.global.pagerduty_url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(pd.send_resolved).toBe(true);
  });

  it('mutes by time only receivers that send no resolves (e-mail), never pages or the Vigil webhook', () => {
    const receivers = new Map((shipped.receivers as Array<Record<string, any>>).map((r) => [r.name, r]));
    const timed: string[] = [];
    const walk = (route: Record<string, any>, inherited: string) => {
      const receiver = route.receiver ?? inherited;
      if (route.mute_time_intervals?.length || route.active_time_intervals?.length) timed.push(receiver);
      for (const child of route.routes ?? []) walk(child, receiver);
    };
    walk(shipped.route, shipped.route.receiver);
    expect(timed).toEqual(['email']);
    const r = receivers.get('email')!;
    expect(r.pagerduty_configs ?? r.webhook_configs ?? []).toEqual([]);
    for (const e of r.email_configs) expect(e.send_resolved).toBe(false);
    expect((shipped.time_intervals as Array<{ name: string }>).map((t) => t.name)).toEqual(['maintenance-window']);
  });
});

describe('test copy', () => {
  it('points secrets at temp files and endpoints at the sinks, keeping routing intact', () => {
    const text = readFileSync(testConfig.configFile, 'utf8');
    expect(text).not.toContain(SECRETS_DIR);
    expect(testConfig.secrets).toEqual({
      smtp_password: 'test-smtp_password', pagerduty_routing_key: 'test-pagerduty_routing_key',
      vigil_webhook_token: 'test-vigil_webhook_token', deadmans_switch_token: 'test-deadmans_switch_token',
    });
    expect(readFileSync(path.join(dir, 'secrets/pagerduty_routing_key'), 'utf8')).toBe('test-pagerduty_routing_key');
    expect(testConfig.endpoints).toEqual({
      pagerduty_url: 'http://127.0.0.1:9/v2/enqueue', smtp_smarthost: '127.0.0.1:25',
      pagerduty: 'http://127.0.0.1:9/v2/enqueue',
      'vigil-webhook': 'http://127.0.0.1:9/api/v1/alerts/webhook',
      'deadmans-switch': 'http://127.0.0.1:9/ping/vigil',
    });
    expect(testConfig.config.route).toEqual(shipped.route);
    expect(testConfig.config.inhibit_rules).toEqual(shipped.inhibit_rules);
    expect(testConfig.config.templates).toEqual([path.join(ALERTMANAGER_TEMPLATES, '*.tmpl')]);
  });

  it('passes amtool check-config', async () => {
    const r = await run('amtool', ['check-config', testConfig.configFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS/);
    expect(r.stdout).toMatch(/3 inhibit rules/);
    expect(r.stdout).toMatch(/5 receivers/);
    expect(r.stdout).toMatch(/1 templates/);
  });
});

// ---- routing: label sets -> receivers, in the order amtool reports them ----------------------
const PAGE = 'pagerduty,escalation,email,vigil-webhook';
const WARN = 'email,vigil-webhook';
const INFO = 'vigil-webhook';
const routes: Array<{ name: string; labels: Record<string, string>; receivers: string }> = [
  { name: 'critical check alert pages, mails, escalates and reaches Vigil',
    labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'db', check: 'pg' }, receivers: PAGE },
  { name: 'critical alert impacted by a dependency routes the same (inhibition mutes it, not routing)',
    labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'api', check: 'http', impacted: 'true', root_cause: 'db' }, receivers: PAGE },
  { name: 'root-cause component alert pages',
    labels: { alertname: 'VigilComponentDown', severity: 'critical', component: 'db', root_cause: 'db' }, receivers: PAGE },
  { name: 'critical alert without a component (exporter down) pages',
    labels: { alertname: 'VigilExporterDown', severity: 'critical', job: 'vigil', instance: 'vigil:9470' }, receivers: PAGE },
  { name: 'critical app alert pages',
    labels: { alertname: 'VigilAppErrorRateHigh', severity: 'critical', job: 'shop' }, receivers: PAGE },
  { name: 'warning check alert mails and reaches Vigil',
    labels: { alertname: 'VigilCheckDegraded', severity: 'warning', component: 'db', check: 'pg' }, receivers: WARN },
  { name: 'impacted warning routes like any warning',
    labels: { alertname: 'VigilCheckSlow', severity: 'warning', component: 'api', check: 'http', impacted: 'true', root_cause: 'db' }, receivers: WARN },
  { name: 'warning without a component mails and reaches Vigil',
    labels: { alertname: 'VigilPrometheusConfigReloadFailed', severity: 'warning', job: 'prometheus', instance: 'localhost:9090' }, receivers: WARN },
  { name: 'info only reaches Vigil',
    labels: { alertname: 'VigilCheckLatencyAnomaly', severity: 'info', component: 'shop', check: 'api' }, receivers: INFO },
  { name: 'Watchdog goes to the dead man\'s switch only',
    labels: { alertname: 'VigilWatchdog', severity: 'none' }, receivers: 'deadmans-switch' },
  { name: 'Watchdog mislabelled critical still only feeds the switch',
    labels: { alertname: 'VigilWatchdog', severity: 'critical' }, receivers: 'deadmans-switch' },
  { name: 'foreign alert without severity only reaches Vigil',
    labels: { alertname: 'SomethingElse', job: 'x' }, receivers: INFO },
  { name: 'unknown severity only reaches Vigil',
    labels: { alertname: 'VigilCheckCritical', severity: 'page', component: 'db', check: 'pg' }, receivers: INFO },
];

describe('routing (amtool config routes test --verify.receivers)', () => {
  it.concurrent.each(routes)('$name -> $receivers', async ({ labels, receivers }) => {
    const args = ['config', 'routes', 'test', `--config.file=${testConfig.configFile}`, `--verify.receivers=${receivers}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
    const r = await run('amtool', args);
    expect(r.code, `got: ${r.stdout.trim()} ${r.stderr.trim()}`).toBe(0);
    expect(r.stdout.trim()).toBe(receivers);
  });

  it('pages one PagerDuty incident per component, per alert when there is no component', () => {
    const pd = (shipped.route.routes as Array<Record<string, any>>).find((r) => r.receiver === 'pagerduty')!;
    expect(pd.group_by).toEqual(['component']);
    expect(pd.routes).toEqual([{ matchers: ['component=""'], group_by: ['alertname', 'job'] }]);
    expect(shipped.route.group_by).toEqual(['alertname', 'component', 'check']);
  });

  it('escalates unresolved pages: PagerDuty re-sent every 30 min, the escalation list after 30 min then hourly', () => {
    const byReceiver = new Map((shipped.route.routes as Array<Record<string, any>>).map((r) => [r.receiver, r]));
    expect(byReceiver.get('pagerduty')!.repeat_interval).toBe('30m');
    expect(byReceiver.get('escalation')).toMatchObject({ matchers: ['severity="critical"'], group_wait: '30m', repeat_interval: '1h', continue: true });
    expect(byReceiver.get('deadmans-switch')).toMatchObject({ repeat_interval: '1m' });
  });
});

// ---- templates -------------------------------------------------------------------------------
describe('templates (amtool template render)', () => {
  const data = {
    receiver: 'pagerduty', status: 'firing', externalURL: 'http://alertmanager:9093',
    groupLabels: { component: 'db' }, commonLabels: { severity: 'critical', component: 'db', job: 'vigil', instance: 'vigil:9470' },
    commonAnnotations: {},
    alerts: [
      { status: 'firing', startsAt: '2026-11-24T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'a1', generatorURL: 'http://prometheus:9090/graph?g0.expr=a',
        labels: { alertname: 'VigilComponentDown', severity: 'critical', component: 'db', root_cause: 'db', job: 'vigil', instance: 'vigil:9470' },
        annotations: { summary: 'Component db is down and none of its dependencies is.', description: 'Component db has been critical for more than 10 seconds with 1 critical check(s).', runbook_url: 'https://github.com/vigil-monitoring/vigil/blob/main/docs/runbooks.md#vigilcomponentdown' } },
      { status: 'firing', startsAt: '2026-11-24T10:00:05Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'a2', generatorURL: 'http://prometheus:9090/graph?g0.expr=b',
        labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'db', check: 'pg', job: 'vigil', instance: 'vigil:9470' },
        annotations: { summary: 'Check pg of component db is critical.', description: 'Check pg (component db, vigil:9470) has been critical for more than 10 seconds.', runbook_url: 'https://github.com/vigil-monitoring/vigil/blob/main/docs/runbooks.md#vigilcheckcritical' } },
    ],
  };
  let dataFile: string;
  beforeAll(async () => {
    dataFile = path.join(dir, 'template-data.json');
    await writeFile(dataFile, JSON.stringify(data));
  });
  const render = async (template: string, type = 'text') => {
    const r = await run('amtool', ['template', 'render', `--template.glob=${path.join(ALERTMANAGER_TEMPLATES, '*.tmpl')}`,
      `--template.type=${type}`, `--template.data=${dataFile}`, `--template.text={{ template "${template}" . }}`]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  it('subject and PagerDuty summary: status, count, severity, where, what', async () => {
    const subject = '[FIRING:2] critical db: Component db is down and none of its dependencies is. (2 alerts in this group)';
    expect((await render('vigil.subject')).trim()).toBe(subject);
    const pd = (await render('vigil.pagerduty.description')).trim();
    expect(pd).toBe(subject);
    expect(pd.length).toBeLessThanOrEqual(1024);
    expect((await render('vigil.pagerduty.severity')).trim()).toBe('critical');
    expect((await render('vigil.source')).trim()).toBe('db');
    expect((await render('vigil.runbook')).trim()).toBe('https://github.com/vigil-monitoring/vigil/blob/main/docs/runbooks.md#vigilcomponentdown');
  });

  it('e-mail text and HTML: every alert with what, where, since when and its runbook', async () => {
    for (const body of [await render('vigil.email.text'), await render('vigil.email.html', 'html')]) {
      expect(body).toContain('Check pg of component db is critical.');
      expect(body).toContain('component db, check pg, instance vigil:9470, job vigil');
      expect(body).toContain('since 2026-11-24 10:00:05 UTC');
      expect(body).toContain('https://github.com/vigil-monitoring/vigil/blob/main/docs/runbooks.md#vigilcheckcritical');
      expect(body).toContain('http://alertmanager:9093/#/alerts?receiver=pagerduty');
    }
  });
});

// ---- inhibition, on a live Alertmanager --------------------------------------------------------
// Named alerts and, for each, the alert that must inhibit it (undefined: must not be inhibited).
const live: Record<string, { labels: Record<string, string>; inhibitedBy?: string }> = {
  checkCritical: { labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'api', check: 'http' } },
  sameCheckWarning: { labels: { alertname: 'VigilCheckSlow', severity: 'warning', component: 'api', check: 'http' }, inhibitedBy: 'checkCritical' },
  otherCheckWarning: { labels: { alertname: 'VigilCheckDegraded', severity: 'warning', component: 'api', check: 'search' } },
  dbDown: { labels: { alertname: 'VigilComponentDown', severity: 'critical', component: 'db', root_cause: 'db' } },
  impactedByDb: { labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: 'front', impacted: 'true', root_cause: 'db' }, inhibitedBy: 'dbDown' },
  impactedWarningByDb: { labels: { alertname: 'VigilHeartbeatMissed', severity: 'warning', component: 'cron', check: 'backup', impacted: 'true', root_cause: 'db' }, inhibitedBy: 'dbDown' },
  // An impacted (muted) critical is no inhibition source for its check's warnings.
  sameCheckAsImpacted: { labels: { alertname: 'VigilCheckSlow', severity: 'warning', component: 'web', check: 'front' } },
  // Started failing before db went down: no impact labels, keeps paging.
  webOnItsOwn: { labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: 'login' } },
  impactedByCdn: { labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: 'img', impacted: 'true', root_cause: 'cdn' } },
  appCritical: { labels: { alertname: 'VigilAppErrorRateHigh', severity: 'critical', job: 'pay' } },
  appWarning: { labels: { alertname: 'VigilAppErrorRateHigh', severity: 'warning', job: 'pay' }, inhibitedBy: 'appCritical' },
  otherAppWarning: { labels: { alertname: 'VigilAppErrorRateHigh', severity: 'warning', job: 'shop' } },
  exporterDown: { labels: { alertname: 'VigilExporterDown', severity: 'critical', job: 'vigil', instance: 'vigil:9470' } },
  // A critical without a check label is no source for warnings without one.
  targetDown: { labels: { alertname: 'VigilScrapeTargetDown', severity: 'warning', job: 'demo-app', instance: 'demo-app:9464' } },
};

describe('inhibition on a live Alertmanager', () => {
  let am: ChildProcess | undefined;
  let sink: http.Server;
  let url: string;

  beforeAll(async () => {
    // Answers every webhook / PagerDuty post, so Alertmanager has nothing to retry.
    sink = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end('{}')); });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const liveDir = path.join(dir, 'live');
    const cfg = await writeAlertmanagerTestConfig({ dir: liveDir, sinkUrl: `http://127.0.0.1:${(sink.address() as net.AddressInfo).port}` });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const log = openSync(path.join(liveDir, 'alertmanager.log'), 'w');
    am = spawn(onPath('prometheus-alertmanager', 'alertmanager')!, [
      `--config.file=${cfg.configFile}`, `--storage.path=${path.join(liveDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', `--web.external-url=${url}`,
    ], { stdio: ['ignore', log, log] });
    closeSync(log);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (am.exitCode !== null) throw new Error(`alertmanager exited: ${readFileSync(path.join(liveDir, 'alertmanager.log'), 'utf8')}`);
      try { if ((await fetch(`${url}/-/ready`)).ok) break; } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error('alertmanager not ready after 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((r) => am!.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    await new Promise((r) => sink?.close(r));
  });

  it('mutes warnings under a critical of the same check, impacted alerts under their root cause, and nothing else', async () => {
    const now = Date.now();
    const body = Object.values(live).map(({ labels }) => ({
      labels, annotations: { summary: 'test' }, generatorURL: 'http://prometheus:9090/graph',
      startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(),
    }));
    const post = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(post.status).toBe(200);

    const nameOf = (labels: Record<string, string>) => Object.entries(live).find(([, a]) =>
      Object.keys(a.labels).length === Object.keys(labels).length && Object.entries(a.labels).every(([k, v]) => labels[k] === v))?.[0];
    const expected = Object.fromEntries(Object.entries(live).map(([name, a]) => [name, a.inhibitedBy ?? null]));
    let got: Record<string, string | null> = {};
    const deadline = Date.now() + 20_000; // a real Alertmanager on a loaded CI box
    while (Date.now() < deadline) {
      const list = await (await fetch(`${url}/api/v2/alerts`)).json() as Array<{ fingerprint: string; labels: Record<string, string>; status: { inhibitedBy: string[] } }>;
      const byFingerprint = new Map(list.map((a) => [a.fingerprint, nameOf(a.labels)]));
      got = Object.fromEntries(list.map((a) => [nameOf(a.labels) ?? a.fingerprint,
        a.status.inhibitedBy.length ? a.status.inhibitedBy.map((f) => byFingerprint.get(f) ?? f).sort().join(',') : null]));
      if (JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(expected).sort())) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(got).toEqual(expected);
  });
});
