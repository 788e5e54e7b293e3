// The whole alerting path on loopback, with the shipped prometheus.yml, rules/ and
// alertmanager.yml: target HTTP service <- Vigil exporter <- Prometheus -> Alertmanager ->
// { PagerDuty sink, SMTP sink, dead man's switch sink, the exporter's own webhook receiver }.
// Shared by tests/stack/alerting.test.ts and bench/alerting.ts. Everything runs in temp dirs on
// random ports and stop() tears all of it down (also when start-up fails half way).
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { writeAlertmanagerTestConfig, type AlertmanagerTestConfig } from '../support/alertmanager-config.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { writePrometheusTestConfig } from '../support/prometheus-config.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { startHttpSink, startSmtpSink, type HttpSink, type SmtpSink } from '../support/sinks.js';

export const ADMIN_TOKEN = 'stack-admin-token-0123456789';
export const WEBHOOK_TOKEN = 'stack-webhook-token-0123456789';
export const PAGERDUTY_ROUTING_KEY = '0123456789abcdef0123456789abcdef';
export const PAGERDUTY_PATH = '/v2/enqueue';
export const DEADMANS_SWITCH_PATH = '/ping/vigil';

export interface StackCheck {
  name: string;
  component: string;
  /** Path on the target; the check fails while `break(name)` is in effect. */
  path: string;
}

export interface StackOptions {
  checks?: StackCheck[];
  /** Probe interval of the checks (exporter side, not a shipped Prometheus interval). Default 1s. */
  interval?: string;
  /** Rule files for Prometheus (default: the repo's rules/*.yml, unchanged). */
  ruleFiles?: string[];
  /** Answer this HTTP status at the dead man's switch (e.g. 500 to make a receiver fail). */
  deadmansSwitchStatus?: number;
  log?: (msg: string) => void;
}

export interface AlertingStack {
  target: HttpTarget;
  exporter: RunningExporter;
  prometheus: RunningPrometheus;
  alertmanager: RunningAlertmanager;
  /** PagerDuty (/v2/enqueue) and dead man's switch (/ping/vigil) sink. */
  sink: HttpSink;
  smtp: SmtpSink;
  amConfig: AlertmanagerTestConfig;
  checks: StackCheck[];
  /** Make a check's target answer 500 (true) or 200 (false). */
  setBroken(check: string, broken: boolean): void;
  /** Alert notifications the exporter's webhook receiver has stored (newest first). */
  vigilNotifications(query?: string): Promise<any[]>;
  stop(): Promise<void>;
}

export async function startAlertingStack(opts: StackOptions = {}): Promise<AlertingStack> {
  const log = opts.log ?? (() => {});
  const checks = opts.checks ?? [{ name: 'api', component: 'web', path: '/api' }];
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log(`teardown: ${(err as Error).message}`);
      }
    }
  };
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-stack-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const broken = new Set<string>();
    const target = await startHttpTarget();
    cleanups.push(() => target.close());
    for (const c of checks) {
      target.route(c.path, (_req, res) => {
        res.writeHead(broken.has(c.name) ? 500 : 200, { 'content-type': 'application/json' });
        res.end(broken.has(c.name) ? '{"status":"down"}' : '{"status":"ok"}');
      });
    }

    const sink = await startHttpSink();
    cleanups.push(() => sink.close());
    if (opts.deadmansSwitchStatus) sink.respond(DEADMANS_SWITCH_PATH, opts.deadmansSwitchStatus);
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());

    const amPort = await freePort();
    const promPort = await freePort();

    const components = [...new Set(checks.map((c) => c.component))];
    const exporter = await startExporter({
      config: [
        'server:',
        `  admin_token: ${ADMIN_TOKEN}`,
        `  webhook_token: ${WEBHOOK_TOKEN}`,
        `  alertmanager_url: http://127.0.0.1:${amPort}`,
        `defaults: { interval: ${opts.interval ?? '1s'}, timeout: 800ms, retries: 0 }`,
        'components:',
        ...components.map((c) => `  - { name: ${c} }`),
        'checks:',
        ...checks.map((c) => `  - { name: ${c.name}, type: http, component: ${c.component}, url: "${target.url}${c.path}" }`),
        '',
      ].join('\n'),
      args: ['--log.level=info'],
    });
    cleanups.push(() => exporter.stop());
    log(`exporter on ${exporter.url}`);

    // Alertmanager: the shipped config with secrets in temp files and receivers at the sinks;
    // the Vigil webhook receiver goes to the real exporter.
    const amConfig = await writeAlertmanagerTestConfig({
      dir: path.join(dir, 'am'),
      sinkUrl: sink.url,
      smtp: { host: smtp.host, port: smtp.port },
      secrets: { vigil_webhook_token: WEBHOOK_TOKEN, pagerduty_routing_key: PAGERDUTY_ROUTING_KEY },
    });
    for (const r of amConfig.config.receivers as Array<Record<string, any>>) {
      if (r.name !== 'vigil-webhook') continue;
      for (const wh of r.webhook_configs) wh.url = amConfig.endpoints[r.name] = `${exporter.url}/api/v1/alerts/webhook`;
    }
    await writeFile(amConfig.configFile, stringify(amConfig.config, { lineWidth: 0 }));
    const alertmanager = await startAlertmanager({ configFile: amConfig.configFile, port: amPort });
    cleanups.push(() => alertmanager.stop());
    log(`alertmanager on ${alertmanager.url}`);

    const promConfig = await writePrometheusTestConfig({
      dir: path.join(dir, 'prom'),
      ports: { vigil: exporter.port, 'vigil-probes': exporter.port, alertmanager: amPort, prometheus: promPort },
      ruleFiles: opts.ruleFiles,
    });
    const prometheus = await startPrometheus({ configFile: promConfig.configFile, port: promPort });
    cleanups.push(() => prometheus.stop());
    log(`prometheus on ${prometheus.url}`);

    return {
      target, exporter, prometheus, alertmanager, sink, smtp, amConfig, checks,
      setBroken: (check, b) => { if (b) broken.add(check); else broken.delete(check); },
      vigilNotifications: async (query = '') => {
        const res = await fetch(`${exporter.url}/api/v1/alerts/history?view=notifications&${query}`, { signal: AbortSignal.timeout(5000) });
        return ((await res.json()) as { notifications: any[] }).notifications;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Poll until `fn` returns a truthy value; throws `what` with the last error after `timeoutMs`. */
export async function poll<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, what: string, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** PagerDuty events of an alert name at the sink (the summary/details name it). */
export function pagerDutyEvents(sink: HttpSink, action?: 'trigger' | 'resolve'): any[] {
  return sink.on(PAGERDUTY_PATH).map((r) => r.body).filter((b) => !action || b?.event_action === action);
}
