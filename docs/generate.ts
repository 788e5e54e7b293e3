// Writes the reference tables of docs/*.md from the code and rules/, and the runbook links of
// rules/ from rules/config.json, so none of them is kept by hand:
//
//   npm run docs        # after changing a metric, probe kind, route, alert or the runbook base
//
// A table lives between `<!-- generated:NAME -->` and `<!-- /generated -->` in a page; the text
// around it is prose and stays as written. tests/unit/docs-generated.test.ts renders everything in
// memory and fails when a checked-in file differs (as dashboards/index.ts does for the dashboards).
//
//   metrics    docs/metrics.md    every family /metrics can serve: check families, probe kinds' specs,
//                                 the exporter's prom-client registry and its OpenTelemetry SDK
//   probes     docs/probes.md     the probe registry: type, what it checks, threshold keys
//   alerts     docs/alerting.md   every alerting rule of rules/*.yml: severity, for, summary, runbook
//   endpoints  docs/endpoints.md  the route table: method, path, who may call it, what it does
//   failure-reasons  docs/probes.md  the closed set of failure reasons, and which every kind has
//   reserved-labels  docs/configuration.md  label names a check's `labels` may not use (config/kinds.ts)
//
// and the rules once more as the Prometheus Operator's PrometheusRule objects
// (deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { AlertReceiver } from '../exporter/alerts/receiver.js';
import { SqliteSql } from '../exporter/db/sqlite.js';
import { StorageDir } from '../exporter/engine/storage-dir.js';
import { registerRecordMetrics } from '../exporter/record/metrics.js';
import { Maintenance } from '../exporter/maintenance/manager.js';
import { StateStore } from '../exporter/engine/state.js';
import { silentLogger as silent } from '../exporter/log.js';
import { reservedLabels } from '../exporter/config/kinds.js';
import { allProbeDefinitions } from '../exporter/probes/index.js';
import { COMMON_REASONS } from '../exporter/probes/types.js';
import { CHECK_FAMILIES, type MetricSpec } from '../exporter/model/metric.js';
import { FAILURE_REASONS } from '../exporter/model/result.js';
import { routeTable } from '../exporter/server/app.js';
import type { Access } from '../exporter/server/route-table.js';
import { Metrics } from '../exporter/telemetry/metrics.js';
import { DETAIL_FAMILIES } from '../exporter/telemetry/series-sets.js';
import { startSelfTelemetry } from '../exporter/telemetry/otel.js';
import { PROMETHEUS_RULE_FILE, renderPrometheusRules } from '../deploy/kubernetes/prometheus-rule.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCS_DIR = path.join(REPO_ROOT, 'docs');
const RULES_DIR = path.join(REPO_ROOT, 'rules');

/** The one place the runbook links of rules/ come from (node-mixin style config). */
export const RULES_CONFIG = path.join(RULES_DIR, 'config.json');
export function runbookUrlBase(): string {
  const cfg = JSON.parse(readFileSync(RULES_CONFIG, 'utf8')) as { runbook_url_base?: unknown };
  if (typeof cfg.runbook_url_base !== 'string' || !/^https?:\/\/\S+$/.test(cfg.runbook_url_base)) {
    throw new Error(`${path.relative(REPO_ROOT, RULES_CONFIG)}: runbook_url_base: expected an http(s) URL without spaces`);
  }
  return cfg.runbook_url_base.replace(/#.*$/, '');
}

// ---- markdown --------------------------------------------------------------------------------

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

const code = (s: string) => `\`${s}\``;
const codes = (xs: readonly string[]) => xs.map(code).join(', ');

// ---- metrics ---------------------------------------------------------------------------------

export interface FamilyRow {
  name: string;
  type: string;
  labels: string[];
  help: string;
  /** Who serves it: `every check`, the probe kinds, `exporter`, `exporter (OpenTelemetry)`. */
  source: string;
}

/** Every family Vigil itself can serve, from the specs and registries /metrics is built from. */
export async function metricFamilies(): Promise<FamilyRow[]> {
  const rows = new Map<string, FamilyRow>();
  const add = (m: Omit<MetricSpec, 'type'> & { type?: string }, source: string) => {
    const seen = rows.get(m.name);
    if (seen) { if (!seen.source.split(', ').includes(source)) seen.source += `, ${source}`; return; }
    rows.set(m.name, { name: m.name, type: m.type ?? 'gauge', labels: m.labels ?? [], help: m.help, source });
  };
  for (const m of CHECK_FAMILIES) add(m, 'every check');
  for (const def of allProbeDefinitions()) for (const m of def.metrics) add(m, def.type);

  // The exporter's registry, with the families other modules register into it. Neither
  // constructor touches the disk (the database opens at the first statement, the alert log
  // loads at start, the storage check starts later).
  const metrics = new Metrics(new StateStore());
  const tmp = path.join(os.tmpdir(), 'vigil-docs-unused');
  new AlertReceiver({ storagePath: tmp, log: silent, registry: metrics.registry, sql: new SqliteSql(path.join(tmp, 'vigil.db'), { log: silent }) });
  new StorageDir(tmp, silent, metrics.registry);
  registerRecordMetrics(metrics.registry, { file: path.join(tmp, 'vigil.db'), lastWriteAt: 0 });
  new Maintenance({ log: silent, sql: new SqliteSql(path.join(tmp, 'vigil.db'), { log: silent }), registry: metrics.registry, addEvent: () => {}, checks: () => [], openIncidentKeys: () => new Set(), tickMs: 0 });
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    if (/^(process|nodejs)_/.test(m.name)) continue;
    const labelNames = ((metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? []);
    add({ name: m.name, help: m.help, labels: [...labelNames], type: String(m.type) }, 'exporter');
  }

  // The exporter's own OpenTelemetry SDK (one request recorded so the histogram shows its labels).
  const otel = startSelfTelemetry({ inFlight: () => 0, queued: () => 0 });
  otel.requestDuration.record(0.001, { http_route: '/metrics', http_request_method: 'GET', http_response_status_code: 200 });
  const text = await otel.serialize();
  await otel.shutdown();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const help = new RegExp(`^# HELP ${name} (.*)$`, 'm').exec(text)?.[1] ?? '';
    const labels = new Set<string>();
    for (const [, body] of text.matchAll(new RegExp(`^${name}(?:_bucket|_sum|_count)?\\{([^}]*)\\}`, 'gm'))) {
      for (const [, l] of body!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (l !== 'le') labels.add(l!);
    }
    add({ name: name!, help, labels: [...labels], type: type! }, 'exporter (OpenTelemetry)');
  }
  return [...rows.values()];
}

function metricsTable(families: FamilyRow[]): string {
  return table(['metric', 'type', 'labels', 'served for', 'metrics.series', 'meaning'],
    families.map((f) => [code(f.name), f.type, codes(f.labels), f.source, DETAIL_FAMILIES.has(f.name) ? 'full only' : 'full, lean', f.help]));
}

// ---- probes ----------------------------------------------------------------------------------

function probesTable(): string {
  return table(['type', 'what it checks', 'threshold keys (defaults)', 'fails also with'],
    allProbeDefinitions().map((d) => [code(d.type), d.doc.what, d.doc.thresholds, d.reasons.length ? codes(d.reasons) : '—']));
}

function failureReasons(): string {
  return `${codes(FAILURE_REASONS)}.\n\nEvery kind can fail with ${codes(COMMON_REASONS)}, and any check with \`threshold\` when a value `
    + 'crosses its critical level; the probe table above lists what each kind adds.';
}

/** The label names a check's own `labels` may not use, and who sets them (the loader refuses them). */
function reservedLabelList(): string {
  const byFamily = new Map<string, string[]>();
  for (const [label, family] of reservedLabels(allProbeDefinitions())) {
    byFamily.set(family, [...(byFamily.get(family) ?? []), label]);
  }
  return [...byFamily].map(([family, labels]) => `${codes(labels)} (${family === 'every check series' ? family : code(family)})`).join(', ');
}

// ---- alerts ----------------------------------------------------------------------------------

export interface AlertRow { alert: string; severity: string; for: string; summary: string; file: string }

function ruleFiles(): string[] {
  return readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).sort();
}

export function alertRules(): AlertRow[] {
  return ruleFiles().flatMap((file) => {
    const doc = parse(readFileSync(path.join(RULES_DIR, file), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
    };
    return doc.groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({
      alert: r.alert!,
      severity: r.labels?.severity ?? '',
      for: r.for ?? '–',
      // `{{ $labels.check }}` reads as `<check>` in a table.
      summary: (r.annotations?.summary ?? '').replace(/\{\{\s*\$labels\.([a-z_]+)\s*\}\}/g, '`<$1>`'),
      file,
    })));
  });
}

function alertsTable(): string {
  return table(['alert', 'severity', 'for', 'summary', 'rule file'],
    alertRules().map((a) => [`[${a.alert}](runbooks.md#${a.alert.toLowerCase()})`, a.severity, a.for, a.summary, code(`rules/${a.file}`)]));
}

// ---- endpoints -------------------------------------------------------------------------------

/**
 * What each route does, keyed `METHOD path` as the route table declares it. The generator fails
 * on a route without an entry here and on an entry without a route, so the table cannot drift.
 */
const ENDPOINTS: Record<string, string> = {
  'GET /metrics': 'Prometheus text format 0.0.4 (always, whatever `Accept` says) — [metrics.md](metrics.md)',
  'GET /probe': 'blackbox_exporter\'s endpoint: `?module=<m>&target=<t>` runs the `modules:` entry `m` once against `t` (no retries), bounded by `X-Prometheus-Scrape-Timeout-Seconds` less `server.probe.timeout_offset`, and answers only that probe\'s series (0.0.4 text); `debug=true` answers its log, the series and the module (secrets redacted). 403 unless `server.probe.allowed_targets` lets the target through (none configured: every target is refused); 400 for an unknown module or a target the module\'s kind cannot read; 503 past `server.probe.max_concurrent` — [probes.md](probes.md#get-probe-blackbox-style)',
  'GET /health': '`{status, timestamp, uptime_seconds, version, checks_total, checks_by_status, components: {<name>: {status, description, depends_on, impacted_by, checks: {<check>: {status, type, since, response_time_ms, last_run, last_success, last_failure, last_error, reason, attempts, values, violations}}}}}`; 200 when healthy/degraded/unknown, 503 when critical. With `Accept: application/health+json`: the IETF *Health Check Response Format for HTTP APIs* draft (`pass`/`warn`/`fail`, `checks` keyed `component:responseTime`)',
  'GET /health/:component': 'one component, same status codes; 404 lists the known components',
  'GET /-/healthy': 'the exporter itself is up: 200 `Vigil is Healthy.`',
  'GET /-/ready': '200 once every enabled check has run once and `--storage.path` is writable, else 503 with the reasons as text',
  'POST /api/v1/record/backup': 'an online, consistent copy of the record to `<storage.path>/backups/vigil-<UTC time>.db` (pending results flushed first): 200 `{file, bytes, duration_seconds}`, 409 while another backup runs, 501 when the record is in PostgreSQL (use `pg_dump`) — [configuration.md](configuration.md#backup-and-restore)',
  'GET /api/v1/incidents': '`?from=&to=&check=&component=&state=open|closed&limit=&offset=`: incidents (start, end, duration, checks, components, root cause), newest first — [incidents.md](incidents.md#get-apiv1incidents)',
  'GET /api/v1/incidents/:id': 'one incident with its timeline of events, the alerts that fired and the notifications delivered for it — [incidents.md](incidents.md#get-apiv1incidentsid)',
  'GET /api/v1/record/events': '`?check=&component=&status=&kind=&from=&to=&q=&limit=&cursor=&format=json|csv`: the record of status changes and operator actions (the live stream stays `/api/v1/events`) — [incidents.md](incidents.md#get-apiv1recordevents)',
  'GET /api/v1/record/reliability': '`?check=&component=&format=json|csv`: MTTR and MTBF per check and component over 24 h, 7 d, 30 d and 90 d — [incidents.md](incidents.md#get-apiv1recordreliability)',
  'POST /-/reload': 'reload the configuration (as `SIGHUP`): 200 with the result (`restart_needed` lists what only a restart applies: a change of `storage`), 400 when the new config is rejected (the running one stays)',
  'GET /api/v1/checks': 'every check\'s state as JSON',
  'GET /api/v1/checks/:name': 'one check\'s state as JSON, with its settings (`config`, secrets redacted); 404 for an unknown check',
  'GET /api/v1/badges/checks/:name/status.svg': 'SVG badge: the check\'s status — [status-page.md](status-page.md#badges)',
  'GET /api/v1/badges/checks/:name/uptime.svg': 'SVG badge: the check\'s uptime over `?window=24h|7d|30d|90d`, with the amount of data when less than the window',
  'GET /api/v1/badges/checks/:name/response-time.svg': 'SVG badge: the check\'s latest response time',
  'GET /api/v1/badges/components/:name/status.svg': 'SVG badge: the component\'s status',
  'GET /api/v1/badges/components/:name/uptime.svg': 'SVG badge: the component\'s uptime (its checks\' up time / observed time) over `?window=`',
  'GET /api/v1/badges/components/:name/response-time.svg': 'SVG badge: the slowest latest response time of the component\'s checks',
  'POST /api/v1/checks/:name/run': 'run a check now and return the fresh result',
  'GET /api/v1/checks/:name/history': '`?since=&until=&buckets=`: the check\'s in-memory history (points or buckets) — [status-page.md](status-page.md#json)',
  'GET /api/v1/checks/:name/series': '`?window=1h|24h|7d|30d|90d`: the check\'s history in equal buckets (worst status, time up, slowest and mean run) from the record\'s rollups, as the page\'s check detail charts it — [status-page.md](status-page.md#json)',
  'GET /api/v1/status': 'one snapshot of overall, components and checks for a first render — [status-page.md](status-page.md#json)',
  'GET /api/v1/report': '`?from=&to=&format=json|csv&table=checks|incidents`: availability, incidents and response-time percentiles per check for a period — [status-page.md](status-page.md#json)',
  'GET /api/v1/trends': '`?window=7d|30d|90d&buckets=&check=&component=`: availability and mean response time per check over a long window with a trend of buckets, from Prometheus (`history.prometheus_url`) or the record; `source` says which answered — [history.md](history.md)',
  'GET /api/v1/events': 'Server-Sent Events: `hello`, `update` (diffs), `reset`, `ping`; resumable with `Last-Event-ID` — [status-page.md](status-page.md#live-updates-get-apiv1events-server-sent-events)',
  'GET /': 'the live status page, with the overall status and the failing checks rendered on the server (readable without JavaScript) — [status-page.md](status-page.md)',
  'GET /ui/:version/:file': 'the page\'s assets under the build\'s content hash (`immutable`, a year; an old hash is served `no-cache`)',
  'GET /favicon.ico': 'the page\'s icon',
  'POST /api/v1/alerts/webhook': 'Alertmanager\'s webhook receiver — [alert-receiver.md](alert-receiver.md#post-apiv1alertswebhook)',
  'GET /api/v1/alerts': 'alerts firing now — [alert-receiver.md](alert-receiver.md#get-apiv1alerts)',
  'GET /api/v1/alerts/board': 'the status page\'s alerts panel: firing and recently ended alerts (`window`, default 24h) with links, value, threshold and notifications per receiver — [alert-receiver.md](alert-receiver.md#get-apiv1alertsboard)',
  'GET /api/v1/alerts/history': 'notification history and alert lifecycles (JSON or CSV) — [alert-receiver.md](alert-receiver.md#get-apiv1alertshistory)',
  'POST /api/v1/alerts/test': 'send a synthetic alert through Alertmanager — [alert-receiver.md](alert-receiver.md#post-apiv1alertstest)',
  'GET /api/v1/maintenance': 'maintenance windows on now and coming up, every window, open acknowledgements — [maintenance.md](maintenance.md)',
  'POST /api/v1/maintenance': 'plan a maintenance window (scope, start, end or duration); Alertmanager silence while it is on — [maintenance.md](maintenance.md#api)',
  'POST /api/v1/maintenance/:id/extend': 'move the end of a maintenance window made through the API — [maintenance.md](maintenance.md#api)',
  'POST /api/v1/maintenance/:id/end': 'end a maintenance window now (or cancel it before it begins) — [maintenance.md](maintenance.md#api)',
  'GET /api/v1/acknowledgements': 'open and recently ended acknowledgements — [maintenance.md](maintenance.md#acknowledgements)',
  'POST /api/v1/acknowledgements': 'acknowledge a firing alert or an open incident (who, comment, duration or until resolved); silenced in Alertmanager — [maintenance.md](maintenance.md#acknowledgements)',
  'POST /api/v1/acknowledgements/:id/end': 'end an acknowledgement by hand (its silence expires) — [maintenance.md](maintenance.md#acknowledgements)',
  'POST /api/v1/heartbeats/:name': 'a heartbeat ping: the job succeeded — [probes.md](probes.md#heartbeat-api)',
  'POST /api/v1/heartbeats/:name/start': 'a heartbeat ping: the job started',
  'POST /api/v1/heartbeats/:name/fail': 'a heartbeat ping: the job failed',
  'GET /api/v1/logs': 'lines kept by `log` checks, newest first: `check`, `q` (every word), `since`/`until`, `before`/`after`, `limit` — [probes.md](probes.md#log-watch)',
  'GET /api/v1/heartbeats/:name': '405 with `Allow: POST`: GET is refused so that link previews cannot record pings',
  'GET /api/v1/heartbeats/:name/start': '405, as above',
  'GET /api/v1/heartbeats/:name/fail': '405, as above',
};

const ACCESS_TEXT: Record<Access, string> = {
  public: 'public',
  status_page: '`server.status_page_auth` when set',
  admin: 'admin token',
  webhook: 'webhook or admin token',
  heartbeat: 'the check\'s token, else the heartbeat token',
};

/** Every route, as the exporter's route table declares it (the runtime is never called here). */
export function routes(): Array<{ method: string; path: string; access: Access }> {
  // Route factories only keep the runtime for their handlers; anything they read eagerly from
  // it is an inert stand-in.
  const inert: any = new Proxy(function inert() {}, { get: (_t, k) => (k === Symbol.toPrimitive ? () => 0 : inert), apply: () => inert, construct: () => inert });
  return routeTable(inert).routes.map((r) => ({ method: r.method, path: r.path, access: r.access }));
}

function endpointsTable(): string {
  const list = routes();
  const keys = new Set(list.map((r) => `${r.method} ${r.path}`));
  const undocumented = [...keys].filter((k) => !(k in ENDPOINTS));
  const gone = Object.keys(ENDPOINTS).filter((k) => !keys.has(k));
  if (undocumented.length || gone.length) {
    throw new Error(`docs/generate.ts ENDPOINTS: ${undocumented.length ? `no entry for ${undocumented.join(', ')}` : ''}${undocumented.length && gone.length ? '; ' : ''}${gone.length ? `no route for ${gone.join(', ')}` : ''}`);
  }
  return table(['method', 'path', 'who may call it', 'what'],
    list.map((r) => [r.method === 'GET' ? 'GET, HEAD' : r.method, code(r.path.replace(/:([a-z_]+)/g, '<$1>')), ACCESS_TEXT[r.access], ENDPOINTS[`${r.method} ${r.path}`]!]));
}

// ---- regions and files -----------------------------------------------------------------------

const REGION = /(<!-- generated:([a-z-]+) -->\n)(?:[\s\S]*?\n)?(<!-- \/generated -->)/g;

export async function renderRegions(): Promise<Record<string, string>> {
  return {
    metrics: metricsTable(await metricFamilies()),
    probes: probesTable(),
    alerts: alertsTable(),
    endpoints: endpointsTable(),
    'failure-reasons': failureReasons(),
    'reserved-labels': reservedLabelList(),
  };
}

/** A page with each of its generated regions replaced; unknown region names are an error. */
export function fillRegions(file: string, text: string, regions: Record<string, string>): string {
  return text.replace(REGION, (_m, open: string, name: string, close: string) => {
    if (!(name in regions)) throw new Error(`${file}: unknown generated region "${name}"`);
    return `${open}${regions[name]}\n${close}`;
  });
}

/** rules/*.yml and rules/tests/*.test.yml with every runbook_url on the configured base. */
export function rebaseRunbooks(text: string, base: string): string {
  return text.replace(/^([ \t]*runbook_url:[ \t]*)\S+?#([a-z0-9-]+)[ \t]*$/gm, (_m, key: string, anchor: string) => `${key}${base}#${anchor}`);
}

/** Every generated file as it should be: path -> content. */
export async function expectedFiles(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const regions = await renderRegions();
  const used = new Set<string>();
  for (const f of readdirSync(DOCS_DIR).filter((f) => f.endsWith('.md')).sort()) {
    const p = path.join(DOCS_DIR, f);
    const text = readFileSync(p, 'utf8');
    for (const m of text.matchAll(REGION)) used.add(m[2]!);
    out.set(p, fillRegions(`docs/${f}`, text, regions));
  }
  const missing = Object.keys(regions).filter((r) => !used.has(r));
  if (missing.length) throw new Error(`docs/: no page has the generated region(s) ${missing.join(', ')}`);
  const base = runbookUrlBase();
  for (const dir of [RULES_DIR, path.join(RULES_DIR, 'tests')]) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yml'))) {
      const p = path.join(dir, f);
      out.set(p, rebaseRunbooks(readFileSync(p, 'utf8'), base));
    }
  }
  // The rules again as PrometheusRule objects for the Prometheus Operator, from the texts above.
  out.set(PROMETHEUS_RULE_FILE, renderPrometheusRules(ruleFiles().map((name) => ({ name, text: out.get(path.join(RULES_DIR, name))! }))));
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let changed = 0;
  for (const [p, text] of await expectedFiles()) {
    if (existsSync(p) && readFileSync(p, 'utf8') === text) continue;
    writeFileSync(p, text);
    changed++;
    console.log(`wrote ${path.relative(REPO_ROOT, p)}`);
  }
  console.log(changed ? `${changed} file(s) updated` : 'docs and rules are up to date');
}
