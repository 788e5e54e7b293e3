// docker-compose.yml, checked without a Docker engine: it parses, pins its images, mounts files
// that exist (and exactly the Prometheus / Alertmanager / Grafana files the stack tests use, where
// those files expect them), agrees with prometheus/prometheus.yml on service names and ports,
// wires health checks and secrets, and its Vigil config, Alertmanager entry point and Dockerfile
// health check really work (run here with the Debian/Node binaries).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ALERTMANAGER_CONFIG, ALERTMANAGER_TEMPLATES, REPO_ROOT, SECRETS_DIR } from '../support/alertmanager-config.js';
import { GENERATED } from '../support/dashboards.js';
import { CLI, startExporter } from '../support/exporter.js';
import { PROMETHEUS_CONFIG, RULES_GLOB } from '../support/prometheus-config.js';
import { freePort } from '../support/prometheus.js';

const run = promisify(execFile);
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

type Service = {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: Array<string | { source: string; target?: string }>;
  expose?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
};
const compose = YAML.parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { environment?: string; file?: string }>;
};
const services = compose.services;
const prom = YAML.parse(read('prometheus/prometheus.yml')) as {
  rule_files: string[];
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }>; relabel_configs?: Array<{ target_label?: string; replacement?: string }> }>;
};
const amYaml = read('alertmanager/alertmanager.yml');
const am = YAML.parse(amYaml) as Record<string, any>;
const vigilYml = read('examples/compose/vigil.yml');
const envExample = read('.env.example');

/** `host:container[:ro]` bind mounts of a service, host paths relative to the repo. */
function binds(name: string): Array<{ host: string; container: string }> {
  return (services[name]!.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([host]) => host!.startsWith('./') || host!.startsWith('/'))
    .map(([host, container]) => ({ host: path.resolve(REPO_ROOT, host!), container: container! }));
}
const hostFor = (name: string, container: string) => binds(name).find((b) => b.container === container)?.host;
/** Secret targets of a service (default /run/secrets/<name>). */
const secretTargets = (name: string) =>
  new Map((services[name]!.secrets ?? []).map((s) => typeof s === 'string' ? [`/run/secrets/${s}`, s] : [s.target ?? `/run/secrets/${s.source}`, s.source]));
/** Ports a service listens on inside the network. */
const exposed = (name: string) => new Set((services[name]!.expose ?? []).map(String));
/** Every `*_file` value of a parsed config. */
function fileFields(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((x) => fileFields(x, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k.endsWith('_file') && typeof v === 'string') out.push(v);
      else fileFields(v, out);
    }
  }
  return out;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-compose-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  it('has the whole stack: exporter, Prometheus, Alertmanager, Grafana, demo app, PostgreSQL, Redis, e-mail sink', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo-app', 'grafana', 'mailpit', 'postgres', 'prometheus', 'redis', 'vigil']);
  });

  it('pins every image (no latest, no untagged image) to the versions the tests run', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        expect(existsSync(path.join(REPO_ROOT, s.build.context, s.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`).toBe(true);
      }
      expect(s.image, `${name}: image`).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image!.split(':').pop(), `${name}: image tag`).not.toMatch(/^latest$|^(stable|main|edge)$/);
    }
    expect(services.prometheus!.image).toBe('prom/prometheus:v2.42.0'); // Debian prometheus 2.42.0 in tests
    expect(services.alertmanager!.image).toBe('prom/alertmanager:v0.25.0'); // Debian prometheus-alertmanager 0.25.0
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/); // @grafana/grafana-foundation-sdk 0.0.21
    expect(services.postgres!.image).toMatch(/^postgres:15\./); // Debian PostgreSQL 15 in tests
    expect(services.redis!.image).toMatch(/^redis:7\.0\./); // Debian redis 7.0
    for (const f of ['Dockerfile', 'examples/demo-app/Dockerfile']) {
      for (const [, base] of read(f).matchAll(/^FROM\s+(\S+)/gm)) expect(base).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim$/);
      expect(read(f)).toMatch(/^ARG NODE_VERSION=20\.\d+\.\d+$/m);
    }
  });

  it('mounts only host files and directories that exist, and declares its named volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (source!.startsWith('./') || source!.startsWith('/')) {
          expect(existsSync(path.resolve(REPO_ROOT, source!)), `${name}: ${source} does not exist`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes), `${name}: volume ${source} is not declared`).toContain(source);
        }
      }
    }
  });

  it('mounts exactly the Prometheus, Alertmanager and Grafana files the stack tests use, where they are expected', () => {
    // Prometheus: prometheus.yml and the rules its rule_files glob reads.
    const promArgs = services.prometheus!.command!;
    const promConfig = promArgs.find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    expect(hostFor('prometheus', promConfig)).toBe(PROMETHEUS_CONFIG);
    for (const glob of prom.rule_files) expect(hostFor('prometheus', path.dirname(glob))).toBe(path.dirname(RULES_GLOB));
    // Alertmanager: the shipped config (rendered by the entry point), its templates, its secrets.
    expect(hostFor('alertmanager', '/etc/alertmanager/alertmanager.yml')).toBe(ALERTMANAGER_CONFIG);
    for (const glob of am.templates as string[]) expect(hostFor('alertmanager', path.dirname(glob))).toBe(ALERTMANAGER_TEMPLATES);
    const amSecrets = secretTargets('alertmanager');
    const wanted = [...new Set(fileFields(am))];
    expect(wanted.length).toBeGreaterThan(0);
    for (const f of wanted) {
      expect(f.startsWith(SECRETS_DIR), `${f} outside ${SECRETS_DIR}`).toBe(true);
      expect(amSecrets.has(f), `alertmanager secret for ${f}`).toBe(true);
    }
    // Grafana: provisioning, and the generated dashboards where the file provider reads them.
    expect(hostFor('grafana', '/etc/grafana/provisioning/datasources')).toBe(path.join(REPO_ROOT, 'dashboards/provisioning/datasources'));
    expect(hostFor('grafana', '/etc/grafana/provisioning/dashboards')).toBe(path.join(REPO_ROOT, 'dashboards/provisioning/dashboards'));
    const provider = YAML.parse(read('dashboards/provisioning/dashboards/vigil.yml')).providers[0];
    expect(hostFor('grafana', provider.options.path)).toBe(GENERATED);
    const home = services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(existsSync(path.join(GENERATED, path.relative(provider.options.path, home)))).toBe(true);
    // Vigil: its config where --config.file points, its secrets where vigil.yml reads them.
    const vigilConfig = services.vigil!.command!.find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    expect(hostFor('vigil', vigilConfig)).toBe(path.join(REPO_ROOT, 'examples/compose/vigil.yml'));
    const vigilSecrets = secretTargets('vigil');
    for (const f of fileFields(YAML.parse(vigilYml))) expect(vigilSecrets.has(f), `vigil secret for ${f}`).toBe(true);
  });

  it('agrees with prometheus/prometheus.yml on service names and ports (scrape targets, Alertmanager)', () => {
    // A /probe job scrapes the exporter its relabeling names, with URLs as targets.
    const scraped = (j: (typeof prom.scrape_configs)[number]) => (j.metrics_path === '/probe'
      ? [j.relabel_configs!.find((r) => r.target_label === '__address__')!.replacement!, ...j.static_configs.flatMap((c) => c.targets).map((t) => new URL(t).host)]
      : j.static_configs.flatMap((c) => c.targets));
    const jobs = Object.fromEntries(prom.scrape_configs.map((j) => [j.job_name, scraped(j)]));
    expect(Object.keys(jobs).sort()).toEqual(['alertmanager', 'demo-app', 'prometheus', 'vigil', 'vigil-probe-endpoint', 'vigil-probes']);
    const targets = [...Object.values(jobs).flat(), ...prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))];
    for (const t of targets) {
      const [host, port] = t.split(':');
      const service = host === 'localhost' ? 'prometheus' : host!;
      expect(services[service], `no service "${service}" for target ${t}`).toBeDefined();
      expect(exposed(service).has(port!), `service ${service} does not expose ${port} (target ${t})`).toBe(true);
    }
    // Each listens where it says.
    expect(services.vigil!.command).toContain('--web.listen-address=:9470');
    expect(services.prometheus!.command).toContain('--web.listen-address=:9090');
    expect(services.alertmanager!.command).toContain('--web.listen-address=:9093');
    expect(services['demo-app']!.environment!.OTEL_EXPORTER_PROMETHEUS_PORT).toBe('9464');
    // Grafana's data source, Alertmanager's Vigil receiver and Vigil's Alertmanager URL.
    const ds = YAML.parse(read('dashboards/provisioning/datasources/prometheus.yml')).datasources as Array<{ url: string }>;
    const urls = [
      ...ds.map((d) => d.url),
      ...(am.receivers as Array<Record<string, any>>).flatMap((r) => (r.webhook_configs ?? []).map((w: { url: string }) => w.url)).filter((u: string) => !u.includes('example.com')),
      YAML.parse(vigilYml).server.alertmanager_url as string,
    ];
    for (const u of urls) {
      const { hostname, port } = new URL(u);
      expect(services[hostname], `no service for ${u}`).toBeDefined();
      expect(exposed(hostname).has(port), `service ${hostname} does not expose ${port} (${u})`).toBe(true);
    }
  });

  it('gives every service a health check and waits for health (depends_on: condition service_healthy)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name}: healthcheck`).toBeGreaterThan(0);
      expect(JSON.stringify(s.healthcheck!.test), `${name}: no curl in these images`).not.toMatch(/curl/);
      for (const [dep, c] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        expect(c.condition, `${name} -> ${dep}`).toBe('service_healthy');
      }
    }
    expect(Object.keys(services['demo-app']!.depends_on!).sort()).toEqual(['postgres', 'redis']);
    expect(Object.keys(services.grafana!.depends_on!)).toContain('prometheus');
  });

  it('runs Grafana provisioned, anonymous read-only, with the admin password from the environment', () => {
    const env = services.grafana!.environment!;
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
  });

  it('keeps secrets in files: every secret comes from .env, every ${VAR} is documented in .env.example', () => {
    const defined = new Set([...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    for (const [name, s] of Object.entries(compose.secrets)) {
      expect(s.environment, `secret ${name}`).toBeDefined();
      expect(defined.has(s.environment!), `${s.environment} missing from .env.example`).toBe(true);
    }
    for (const [, v] of read('docker-compose.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)[:?}-]/g)) {
      expect(defined.has(v!), `${v} missing from .env.example`).toBe(true);
    }
    // No secret value is passed as a plain environment variable to Alertmanager or Vigil.
    for (const name of ['alertmanager', 'vigil']) {
      for (const k of Object.keys(services[name]!.environment ?? {})) expect(k, `${name} env`).not.toMatch(/TOKEN|ROUTING_KEY|SMTP_PASSWORD/);
    }
    expect(read('.gitignore')).toMatch(/^\.env$/m);
  });

  it('watches every other service from examples/compose/vigil.yml, which passes --check-config', async () => {
    const cfg = YAML.parse(vigilYml) as { checks: Array<{ type: string; url?: string; host?: string; dsn?: string }> };
    const hosts = new Set<string>();
    for (const c of cfg.checks) {
      for (const u of [c.url, c.dsn]) if (u) hosts.add(new URL(u.replace(/\$\{[^}]+\}/g, 'x')).hostname);
      if (c.host) hosts.add(c.host);
    }
    for (const s of ['demo-app', 'postgres', 'redis', 'prometheus', 'alertmanager', 'grafana', 'mailpit']) expect(hosts, s).toContain(s);
    for (const h of hosts) expect(services[h], `vigil.yml watches ${h}, which is no compose service`).toBeDefined();
    // The secrets as compose would mount them, at a temp path.
    const secrets = path.join(tmp, 'run-secrets');
    mkdirSync(secrets, { recursive: true });
    for (const name of Object.keys(compose.secrets)) writeFileSync(path.join(secrets, name), `compose-test-${name}-0123456789\n`);
    const file = path.join(tmp, 'vigil.yml');
    writeFileSync(file, vigilYml.replaceAll('/run/secrets/', `${secrets}/`));
    const env = { ...process.env, POSTGRES_USER: 'vigil', POSTGRES_PASSWORD: 'compose-test', POSTGRES_DB: 'demo' };
    const r = spawnSync(process.execPath, [CLI, '--check-config', `--config.file=${file}`], { env, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr + r.stdout).toMatch(/OK, \d+ checks/);
    expect(r.status).toBe(0);
  });

  it('renders alertmanager.yml with the .env SMTP / PagerDuty / dead man\'s switch settings and nothing else (entry point + amtool)', async () => {
    const entry = services.alertmanager!.entrypoint!;
    expect(entry[0]).toBe('/bin/sh');
    const script = hostFor('alertmanager', entry[1]!)!;
    expect(script).toBe(path.join(REPO_ROOT, 'examples/compose/alertmanager-entrypoint.sh'));
    const out = path.join(tmp, 'am-rendered.yml');
    const env: Record<string, string> = {
      PATH: process.env.PATH!, AM_CONFIG_IN: ALERTMANAGER_CONFIG, AM_CONFIG_OUT: out, ALERTMANAGER_BIN: 'true',
      // The compose defaults (environment: in docker-compose.yml), with a tricky From.
      ...Object.fromEntries(Object.entries(services.alertmanager!.environment!).map(([k, v]) => [k, v.replace(/^\$\{[A-Z_]+:-(.*)\}$/s, '$1')])),
      SMTP_FROM: 'O\'Brien & Co | Alerts <alerts@vigil.local>',
    };
    const r = spawnSync('/bin/sh', [script, '--storage.path=/tmp/x'], { env, encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rendered = YAML.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    expect(rendered.global).toMatchObject({
      smtp_smarthost: 'mailpit:1025', smtp_from: env.SMTP_FROM, smtp_hello: 'alertmanager', smtp_auth_username: '',
      smtp_require_tls: false, pagerduty_url: 'https://events.pagerduty.com/v2/enqueue',
    });
    const dms = (rendered.receivers as Array<Record<string, any>>).find((x) => x.name === 'deadmans-switch')!;
    expect(dms.webhook_configs[0].url).toBe('http://vigil:9470/api/v1/heartbeats/alerting-pipeline');
    expect(vigilYml).toMatch(/name: alerting-pipeline\n\s+type: heartbeat/);
    // Everything else is the shipped file.
    const strip = (c: Record<string, any>) => {
      const copy = structuredClone(c);
      for (const k of ['smtp_smarthost', 'smtp_from', 'smtp_hello', 'smtp_auth_username', 'smtp_require_tls', 'pagerduty_url']) delete copy.global[k];
      for (const x of copy.receivers) if (x.name === 'deadmans-switch') for (const w of x.webhook_configs) delete w.url;
      return copy;
    };
    expect(strip(rendered)).toEqual(strip(am));
    // amtool accepts it (secrets and templates at local paths, as Alertmanager sees them in the container).
    const secrets = path.join(tmp, 'am-secrets');
    mkdirSync(secrets, { recursive: true });
    for (const f of fileFields(am)) writeFileSync(path.join(secrets, path.basename(f)), 'compose-test-secret-0123456789');
    const checkable = path.join(tmp, 'am-check.yml');
    writeFileSync(checkable, readFileSync(out, 'utf8').replaceAll(SECRETS_DIR, `${secrets}/`).replaceAll('/etc/alertmanager/templates', ALERTMANAGER_TEMPLATES));
    const check = await run('amtool', ['check-config', checkable]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${check.stdout}${check.stderr}`).toMatch(/SUCCESS/);
  });

  it('switches on exactly the chat channels whose secret is set, with their values inline where 0.25 needs it, and amtool accepts the result', async () => {
    const script = path.join(REPO_ROOT, 'examples/compose/alertmanager-entrypoint.sh');
    const secretsDir = path.join(tmp, 'chat-secrets');
    mkdirSync(secretsDir, { recursive: true });
    for (const f of fileFields(am)) writeFileSync(path.join(secretsDir, path.basename(f)), 'compose-test-secret-0123456789');
    // Slack and Discord set, Telegram set without a value (empty secret = off), Webex absent.
    writeFileSync(path.join(secretsDir, 'slack_webhook_url'), 'https://hooks.slack.com/services/T0/B0/x\n');
    writeFileSync(path.join(secretsDir, 'discord_webhook_url'), "https://discord.com/api/webhooks/1/it's&|\\tricky$(id)\n");
    writeFileSync(path.join(secretsDir, 'telegram_bot_token'), '');
    const render = (extra: Record<string, string>) => {
      const out = path.join(tmp, `am-chat-${Object.keys(extra).join('-') || 'base'}.yml`);
      const r = spawnSync('/bin/sh', [script], {
        env: { PATH: process.env.PATH!, AM_CONFIG_IN: ALERTMANAGER_CONFIG, AM_CONFIG_OUT: out, AM_SECRETS_DIR: secretsDir, ALERTMANAGER_BIN: 'true', SLACK_CHANNEL: '#ops', ...extra },
        encoding: 'utf8', timeout: 10_000,
      });
      return { r, out };
    };
    const { r, out } = render({});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(statSync(out).mode & 0o077).toBe(0); // the rendered copy may hold Discord's URL
    const text = readFileSync(out, 'utf8');
    const rendered = YAML.parse(text) as Record<string, any>;
    const receivers = new Map((rendered.receivers as Array<Record<string, any>>).map((x) => [x.name, x]));
    expect([...receivers.keys()].filter((n) => ['slack', 'telegram', 'discord', 'webex'].includes(n))).toEqual(['slack', 'discord']);
    expect(receivers.get('slack')!.slack_configs[0]).toMatchObject({ api_url_file: `${SECRETS_DIR}slack_webhook_url`, channel: '#ops' });
    expect(receivers.get('discord')!.discord_configs[0].webhook_url).toBe("https://discord.com/api/webhooks/1/it's&|\\tricky$(id)");
    const chatRoutes = (rendered.route.routes as Array<Record<string, any>>).filter((x) => ['slack', 'telegram', 'discord', 'webex'].includes(x.receiver));
    expect(chatRoutes.map((x) => [x.receiver, x.matchers, x.continue])).toEqual([
      ['slack', ['severity=~"critical|warning"'], true], ['discord', ['severity=~"critical|warning"'], true],
    ]);
    expect(text).not.toMatch(/^#chat:(slack|discord) /m);
    expect(text).toMatch(/^#chat:telegram /m);
    const checkable = path.join(tmp, 'am-chat-check.yml');
    writeFileSync(checkable, text.replaceAll(SECRETS_DIR, `${secretsDir}/`).replaceAll('/etc/alertmanager/templates', ALERTMANAGER_TEMPLATES));
    const check = await run('amtool', ['check-config', checkable]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${check.stdout}${check.stderr}`).toMatch(/SUCCESS/);
    expect(`${check.stdout}`).toMatch(/7 receivers/);

    // All four on (Telegram and Webex with their settings) still passes amtool.
    writeFileSync(path.join(secretsDir, 'telegram_bot_token'), '123456:ABC-def');
    writeFileSync(path.join(secretsDir, 'webex_bot_token'), 'webex-token');
    const all = render({ TELEGRAM_CHAT_ID: '-1001234567890', WEBEX_ROOM_ID: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj' });
    expect(all.r.stderr).toBe('');
    const allText = readFileSync(all.out, 'utf8');
    expect(allText).not.toMatch(/^#chat:/m);
    expect(allText).not.toContain('__');
    const allParsed = YAML.parse(allText) as Record<string, any>;
    const tg = (allParsed.receivers as Array<Record<string, any>>).find((x) => x.name === 'telegram')!.telegram_configs[0];
    expect(tg).toMatchObject({ bot_token: '123456:ABC-def', chat_id: -1001234567890 });
    writeFileSync(checkable, allText.replaceAll(SECRETS_DIR, `${secretsDir}/`).replaceAll('/etc/alertmanager/templates', ALERTMANAGER_TEMPLATES));
    const checkAll = await run('amtool', ['check-config', checkable]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${checkAll.stdout}${checkAll.stderr}`).toMatch(/SUCCESS[\s\S]*9 receivers/);

    // A token without its chat id is refused with a clear message, not a broken config.
    const bad = render({ TELEGRAM_CHAT_ID: '12a', WEBEX_ROOM_ID: 'r' });
    expect(bad.r.status).toBe(1);
    expect(bad.r.stderr).toBe("alertmanager-entrypoint: telegram_bot_token is set but TELEGRAM_CHAT_ID is not an integer: '12a'\n");
    expect(bad.r.stderr).not.toContain('123456:ABC-def');
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');

  it('builds in a builder stage (npm ci, npm run build) and runs node dist/exporter/cli.js as a non-root user', () => {
    const stages = df.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]).toMatch(/RUN npm ci/);
    expect(stages[0]).toMatch(/npm run build/);
    const runtime = stages.at(-1)!;
    expect(runtime).toMatch(/^USER (node|\d+)$/m);
    expect(runtime).not.toMatch(/^USER root$/m);
    // The container runs Node with the flags and malloc settings `npm start` and the `vigil` bin
    // use (tuned by `npm run bench`).
    const start = (JSON.parse(read('package.json')).scripts.start as string).split(' ');
    const startFlags = start.filter((t) => t.startsWith('--'));
    const startEnv = start.slice(0, start.indexOf('node'));
    expect(startFlags.length).toBeGreaterThan(0);
    expect(startEnv).toEqual(['MALLOC_MMAP_THRESHOLD_=131072']);
    expect(runtime).toContain(`ENTRYPOINT ${JSON.stringify(['node', ...startFlags, 'dist/exporter/cli.js']).replace(/","/g, '", "')}`);
    for (const e of startEnv) expect(runtime).toMatch(new RegExp(`^ENV ${e}$`, 'm'));
    expect(read('exporter/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S ${startEnv.join(' ')} node ${startFlags.join(' ')}`);
    // Everything COPY'd from the context exists (and is not excluded by .dockerignore).
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    for (const file of ['Dockerfile', 'examples/demo-app/Dockerfile']) {
      for (const [, args] of read(file).matchAll(/^COPY (?!--from)(.+)$/gm)) {
        for (const src of args!.trim().split(/\s+/).slice(0, -1)) {
          expect(existsSync(path.join(REPO_ROOT, src)), `${file}: COPY ${src}`).toBe(true);
          expect(ignored.some((p) => src === p || src.startsWith(`${p}/`)), `${file}: ${src} is in .dockerignore`).toBe(false);
        }
      }
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.git']));
    // The status page assets are copied next to dist/ (the server finds them by walking up).
    expect(df).toMatch(/^COPY exporter\/server\/ui \.\/exporter\/server\/ui$/m);
    expect(statSync(path.join(REPO_ROOT, 'exporter/server/ui/index.html')).isFile()).toBe(true);
  });

  it('has a HEALTHCHECK with Node\'s fetch of /-/healthy that passes on a live exporter and fails without one', async () => {
    const m = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(df);
    expect(m, 'HEALTHCHECK ... CMD [...]').not.toBeNull();
    const cmd = JSON.parse(m![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('/-/healthy');
    expect(cmd.join(' ')).not.toMatch(/curl|wget/);
    expect(JSON.stringify(services.vigil!.healthcheck!.test.slice(1))).toBe(JSON.stringify(cmd));
    const exp = await startExporter();
    try {
      const ok = spawnSync(process.execPath, cmd.slice(1).map((a) => a.replace('127.0.0.1:9470', `127.0.0.1:${exp.port}`)), { timeout: 10_000 });
      expect(ok.status).toBe(0);
    } finally {
      await exp.stop();
    }
    const closed = await freePort();
    const bad = spawnSync(process.execPath, cmd.slice(1).map((a) => a.replace('127.0.0.1:9470', `127.0.0.1:${closed}`)), { timeout: 10_000 });
    expect(bad.status).toBe(1);
  });
});
