// A runnable test copy of alertmanager/alertmanager.yml: every secret path under
// /etc/alertmanager/secrets/ points to a temp file instead, the templates are read from the repo,
// and every outbound URL (Vigil webhook, PagerDuty, dead man's switch) and the SMTP smarthost point
// to local sinks. Routing, grouping, inhibition and templates stay exactly as shipped.
// With `chat: true` the four chat channels (off in the shipped file) are switched on the way
// examples/compose/alertmanager-entrypoint.sh does it, their endpoints pointing at the sink too.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ALERTMANAGER_CONFIG = path.join(REPO_ROOT, 'alertmanager/alertmanager.yml');
export const ALERTMANAGER_TEMPLATES = path.join(REPO_ROOT, 'alertmanager/templates');

/** Where the shipped config keeps its secrets (mounted in the container). */
export const SECRETS_DIR = '/etc/alertmanager/secrets/';

export interface AlertmanagerTestConfigOptions {
  /** Directory for the config copy and its secrets/ (created if missing); usually a mkdtemp. */
  dir: string;
  /**
   * Origin of the HTTP sink that receives the webhook, PagerDuty and dead man's switch requests,
   * e.g. `http://127.0.0.1:43210`. Paths are kept: `/api/v1/alerts/webhook` (Vigil),
   * `/v2/enqueue` (PagerDuty), `/ping/vigil` (dead man's switch).
   * Default `http://127.0.0.1:9` (discard port: sends fail, which is fine for config-only tests).
   */
  sinkUrl?: string;
  /** SMTP sink; STARTTLS is not required in the copy. Default 127.0.0.1:25. */
  smtp?: { host?: string; port: number };
  /** Secret file contents by file name (e.g. `pagerduty_routing_key`). Defaults: `test-<name>`. */
  secrets?: Record<string, string>;
  /**
   * Switch on the chat channels (Slack, Telegram, Discord, Webex): uncomment their `#chat:<name> `
   * blocks and point them at the sink: Slack `/services/T0/B0/test-slack` (from its URL secret
   * file), Telegram `/bot<token>/sendMessage` (chat id 4242), Discord `/api/webhooks/1/test-discord`,
   * Webex `/v1/messages` (room `test-room`, bearer from its token file). Default false (as shipped).
   */
  chat?: boolean;
}

/** What the shipped file's chat placeholders become in the test copy (see `chat`). */
export const CHAT_TEST = { slackChannel: '#vigil-test', telegramChatId: 4242, webexRoomId: 'test-room', telegramToken: 'test-telegram_bot_token' };

export interface AlertmanagerTestConfig {
  /** The config copy to pass as --config.file. */
  configFile: string;
  /** The parsed copy, for assertions. */
  config: Record<string, any>;
  /** Secret file name -> the value written to it (what the sinks should receive). */
  secrets: Record<string, string>;
  /** The rewritten endpoints, by receiver name, plus `pagerduty_url` and `smtp_smarthost`. */
  endpoints: Record<string, string>;
}

/** Write the test copy of alertmanager.yml into `opts.dir` and return where it is and what it points to. */
export async function writeAlertmanagerTestConfig(opts: AlertmanagerTestConfigOptions): Promise<AlertmanagerTestConfig> {
  const sink = new URL(opts.sinkUrl ?? 'http://127.0.0.1:9');
  const secretsDir = path.join(opts.dir, 'secrets');
  await mkdir(secretsDir, { recursive: true });
  let text = await readFile(ALERTMANAGER_CONFIG, 'utf8');
  if (opts.chat) {
    text = text.replace(/^#chat:[a-z]+ /gm, '')
      .replaceAll('__SLACK_CHANNEL__', CHAT_TEST.slackChannel)
      .replaceAll('__TELEGRAM_BOT_TOKEN__', CHAT_TEST.telegramToken)
      .replaceAll('__TELEGRAM_CHAT_ID__', String(CHAT_TEST.telegramChatId))
      .replaceAll('__DISCORD_WEBHOOK_URL__', 'https://discord.com/api/webhooks/1/test-discord')
      .replaceAll('__WEBEX_ROOM_ID__', CHAT_TEST.webexRoomId);
  }
  const config = parse(text) as Record<string, any>;
  const defaultSecrets: Record<string, string> = opts.chat ? { slack_webhook_url: new URL('/services/T0/B0/test-slack', sink).toString() } : {};

  // 1. Secrets: every `*_file` value under SECRETS_DIR -> a temp file with a known value.
  const secrets: Record<string, string> = {};
  const writes: Array<Promise<void>> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key.endsWith('_file') && typeof value === 'string' && value.startsWith(SECRETS_DIR)) {
        const name = value.slice(SECRETS_DIR.length);
        const file = path.join(secretsDir, name);
        if (!(name in secrets)) {
          secrets[name] = opts.secrets?.[name] ?? defaultSecrets[name] ?? `test-${name}`;
          writes.push(writeFile(file, secrets[name], { mode: 0o600 }));
        }
        (node as Record<string, unknown>)[key] = file;
      } else {
        visit(value);
      }
    }
  };
  visit(config);
  await Promise.all(writes);

  // 2. Templates from the repo.
  config.templates = [path.join(ALERTMANAGER_TEMPLATES, '*.tmpl')];

  // 3. Outbound endpoints -> the sinks (keeping each path).
  const toSink = (url: string): string => {
    const u = new URL(url);
    return new URL(u.pathname + u.search, sink).toString();
  };
  const endpoints: Record<string, string> = {};
  const global = (config.global ??= {});
  global.pagerduty_url = endpoints.pagerduty_url = toSink(global.pagerduty_url ?? 'https://events.pagerduty.com/v2/enqueue');
  global.smtp_smarthost = endpoints.smtp_smarthost = `${opts.smtp?.host ?? '127.0.0.1'}:${opts.smtp?.port ?? 25}`;
  global.smtp_require_tls = false;
  for (const receiver of config.receivers as Array<Record<string, any>>) {
    for (const wh of receiver.webhook_configs ?? []) wh.url = endpoints[receiver.name] = toSink(wh.url);
    for (const pd of receiver.pagerduty_configs ?? []) {
      if (pd.url) pd.url = toSink(pd.url);
      endpoints[receiver.name] = pd.url ?? global.pagerduty_url;
    }
    for (const c of receiver.slack_configs ?? []) endpoints[receiver.name] = secrets[path.basename(c.api_url_file)]!;
    for (const c of receiver.telegram_configs ?? []) {
      c.api_url = new URL('/', sink).toString().replace(/\/$/, '');
      endpoints[receiver.name] = `${c.api_url}/bot${c.bot_token}/sendMessage`;
    }
    for (const c of receiver.discord_configs ?? []) c.webhook_url = endpoints[receiver.name] = toSink(c.webhook_url);
    for (const c of receiver.webex_configs ?? []) c.api_url = endpoints[receiver.name] = toSink(c.api_url);
  }

  // 4. The shipped maintenance window (Sundays 02:00-04:00 Berlin) mutes e-mail: a stack test run
  // inside it got no e-mail and failed. Each interval keeps its shape and names, moved to a year
  // that never comes, so what the tests see does not depend on the wall clock.
  for (const named of (config.time_intervals ?? []) as Array<{ time_intervals?: Array<Record<string, unknown>> }>) {
    for (const interval of named.time_intervals ?? []) interval.years = ['1999'];
  }

  const configFile = path.join(opts.dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(config, { lineWidth: 0 }));
  return { configFile, config, secrets, endpoints };
}
