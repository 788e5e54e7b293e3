// Long-term storage through remote_write, live: a Prometheus scraping a real Vigil exporter with
// the shipped prometheus.yml (loopback copy) and rules/ sends everything to a second Prometheus
// started with --web.enable-remote-write-receiver (standing in for Thanos Receive, Mimir or
// VictoriaMetrics), using the shipped prometheus/remote-write.example.yml block. On the receiver,
// which evaluates no rules, the recording rules' outputs and every query of every Grafana
// dashboard answer exactly what they answer on the source, and Vigil's long windows
// (history.prometheus_url) read the receiver. Every interval is 1 s so that this takes seconds.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/alertmanager-config.js';
import { labelValuesQuery, queriesOf, readGenerated, substitute, type DashboardJson, type QueryRef } from '../support/dashboards.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { writePrometheusTestConfig } from '../support/prometheus-config.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

const REMOTE_WRITE_EXAMPLE = path.join(REPO_ROOT, 'prometheus/remote-write.example.yml');
const RULES_DIR = path.join(REPO_ROOT, 'rules');
/** Grafana's interval variables for 1 s scrapes. */
const DURATIONS = { __rate_interval: '10s', __interval: '2s', __range: '1m' } as const;
const RANGE_SECONDS = 60;
const STEP_SECONDS = 5;
/** How far behind now the two are compared: remote_write sends in batches (1 s deadline here). */
const LAG_SECONDS = 10;

let dir: string;
let target: HttpTarget;
let exporter: RunningExporter;
let source: RunningPrometheus;
let receiver: RunningPrometheus;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

async function poll<T>(fn: () => Promise<T | false | undefined>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** rules/*.yml with every group evaluated each second (the 1 m availability groups included). */
function fastRules(into: string): string[] {
  mkdirSync(into, { recursive: true });
  return readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).map((f) => {
    const doc = parse(readFileSync(path.join(RULES_DIR, f), 'utf8')) as { groups: Array<{ interval?: string }> };
    for (const g of doc.groups) g.interval = '1s';
    writeFileSync(path.join(into, f), stringify(doc, { lineWidth: 0 }));
    return path.join(into, f);
  });
}

const recordNames = () => readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).flatMap((f) =>
  (parse(readFileSync(path.join(RULES_DIR, f), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> }).groups
    .flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-remote-write-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  try {
    target = await startHttpTarget();
    cleanups.push(() => target.close());
    target.route('/ok', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); });
    target.route('/down', (_req, res) => { res.writeHead(500); res.end('down'); });

    // The receiver: no scrapes, no rules; only what remote_write brings.
    writeFileSync(path.join(dir, 'receiver.yml'), 'global: {}\n');
    receiver = await startPrometheus({ configFile: path.join(dir, 'receiver.yml'), args: ['--web.enable-remote-write-receiver'], readyTimeoutMs: 30_000 });
    cleanups.push(() => receiver.stop());

    exporter = await startExporter({
      config: [
        'defaults: { interval: 1s, timeout: 800ms, retries: 0 }',
        'history:',
        `  prometheus_url: ${receiver.url}`,
        '  prometheus_selector: check=~".+"', // the recordings carry no job (one series per check: docs/alerting.md#several-instances)
        'components:',
        '  - { name: web }',
        '  - { name: shop, depends_on: [web] }',
        '  - { name: payments }',
        '  - { name: vigil }',
        'checks:',
        `  - { name: api, type: http, component: web, url: "${target.url}/ok", thresholds: { response_time: { warning: 500ms, critical: 1s } } }`,
        `  - { name: checkout, type: http, component: shop, url: "${target.url}/ok" }`,
        `  - { name: payment-gateway, type: http, component: payments, url: "${target.url}/down" }`,
        '  - { name: vigil-self, type: process, component: vigil }',
        '',
      ].join('\n'),
      args: ['--log.level=info'],
      timeoutMs: 30_000,
    });
    cleanups.push(() => exporter.stop());

    // The source: the shipped prometheus.yml (loopback copy) and rules, every interval 1 s, plus
    // the shipped remote_write block pointed at the receiver.
    const prom = await writePrometheusTestConfig({
      dir: path.join(dir, 'source'),
      ports: { vigil: exporter.port, 'vigil-probes': exporter.port },
      ruleFiles: fastRules(path.join(dir, 'rules')),
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    });
    for (const job of prom.config.scrape_configs) Object.assign(job, { scrape_interval: '1s', scrape_timeout: '1s' });
    const example = parse(readFileSync(REMOTE_WRITE_EXAMPLE, 'utf8')) as { remote_write: Array<Record<string, any>> };
    expect(example.remote_write).toHaveLength(1);
    prom.config.remote_write = example.remote_write.map((rw) => ({
      ...rw,
      url: `${receiver.url}/api/v1/write`,
      queue_config: { ...rw.queue_config, batch_send_deadline: '1s' },
    }));
    writeFileSync(prom.configFile, stringify(prom.config, { lineWidth: 0 }));
    source = await startPrometheus({ configFile: prom.configFile, readyTimeoutMs: 30_000 });
    cleanups.push(() => source.stop());

    // Data must be there at the instant the tests compare (LAG_SECONDS ago), not only now.
    const has = async (p: RunningPrometheus, expr: string) => {
      const body = await api(p, '/api/v1/query', { query: expr, time: String(Math.floor(Date.now() / 1000) - LAG_SECONDS) });
      return body.status === 'success' && (body.data.result as unknown[]).length > 0;
    };
    const waits: Array<[RunningPrometheus, string]> = [
      [source, 'count_over_time(up{job="vigil"}[1m]) >= 5'],
      [source, 'check:vigil_check_status:last_over_time15s{check="payment-gateway"}'],
      [source, 'count_over_time(component:probe_success:avg_over_time24h[1m]) >= 5'],
      [receiver, 'count_over_time(check:probe_success:avg_over_time7d{check="api"}[1m]) >= 3'],
    ];
    for (const [p, expr] of waits) {
      await poll(() => has(p, expr), 60_000, () => `${p === source ? 'source' : 'receiver'}: ${expr}\nsource:\n${source.logs().slice(-2000)}\nexporter:\n${exporter.logs().slice(-1500)}`);
    }
  } catch (err) {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
    throw err;
  }
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
});

async function api(p: RunningPrometheus, route: string, params: Record<string, string>): Promise<{ status: string; data?: any; error?: string }> {
  const res = await fetch(p.url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as { status: string; data?: any; error?: string };
}

/** A query's answer in a form that compares across servers: series sorted by their labels. */
function canonical(body: { status: string; data?: any; error?: string }): string {
  if (body.status !== 'success') return `error: ${body.error}`;
  const { resultType, result } = body.data as { resultType: string; result: any };
  if (resultType !== 'vector' && resultType !== 'matrix') return JSON.stringify({ resultType, result });
  const series = (result as Array<{ metric: Record<string, string> }>).map((s) => JSON.stringify({ ...s, metric: Object.fromEntries(Object.entries(s.metric).sort()) }));
  return `${resultType} ${series.sort().join('\n')}`;
}

interface Asked { label: string; instant: boolean; expr: string }

/** One expression at time `at` on one server: instant, or a range over the minute before. */
const ask = (p: RunningPrometheus, q: Asked, at: number) => (q.instant
  ? api(p, '/api/v1/query', { query: q.expr, time: String(at) })
  : api(p, '/api/v1/query_range', { query: q.expr, start: String(at - RANGE_SECONDS), end: String(at), step: String(STEP_SECONDS) }));

/**
 * Ask both servers each expression at the same past instant until every answer agrees (the
 * receiver may be a batch behind); returns the differences left at the deadline, and how many
 * answers held data.
 */
async function compare(queries: Asked[], timeoutMs = 20_000): Promise<{ differences: string[]; withData: Set<string> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = Math.floor(Date.now() / 1000) - LAG_SECONDS;
    const differences: string[] = [];
    const withData = new Set<string>();
    for (const q of queries) {
      const [a, b] = await Promise.all([ask(source, q, at), ask(receiver, q, at)]);
      const [ca, cb] = [canonical(a), canonical(b)];
      if (a.status !== 'success') differences.push(`${q.label}: the source answers an error: ${a.error}\n  ${q.expr}`);
      else if (ca !== cb) differences.push(`${q.label}: the receiver answers differently\n  ${q.expr}\n  source:   ${ca.slice(0, 400)}\n  receiver: ${cb.slice(0, 400)}`);
      if (b.status === 'success' && (b.data.result as unknown[]).length > 0) withData.add(q.label);
    }
    if (differences.length === 0 || Date.now() > deadline) return { differences, withData };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Dashboard variables resolved on the source over the last minute, as Grafana would ("All" where allowed). */
async function variables(d: DashboardJson): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const end = Math.floor(Date.now() / 1000) - LAG_SECONDS;
  for (const v of d.templating.list) {
    const lv = labelValuesQuery(v);
    if (!lv) continue;
    const selector = substitute(lv.selector, values, DURATIONS);
    const params = new URLSearchParams({ 'match[]': selector, start: String(end - RANGE_SECONDS), end: String(end) });
    const [a, b] = await Promise.all([source, receiver].map(async (p) =>
      ((await (await fetch(`${p.url}/api/v1/label/${lv.label}/values?${params}`, { signal: AbortSignal.timeout(5000) })).json()) as { data: string[] }).data));
    expect(b, `${d.uid} $${v.name}: the receiver offers other values`).toEqual(a);
    values[v.name] = v.includeAll ? (v.allValue ?? '.*') : (a![0] ?? 'none');
  }
  return values;
}

describe('long-term storage: remote_write to a second Prometheus', () => {
  it('every recording rule of rules/ answers the same on the receiver as on the source, the check and availability recordings with data', async () => {
    const records = [...new Set(recordNames())];
    expect(records.length).toBeGreaterThan(20);
    const { differences, withData } = await compare(records.map((r) => ({ label: r, instant: true, expr: r })));
    expect(differences).toEqual([]);
    for (const r of [
      'check:vigil_check_status:last_over_time15s', 'check:vigil_check_unhealthy:last_over_time15s',
      'check:probe_success:avg_over_time5m', 'check:probe_success:avg_over_time1h', 'check:probe_success:avg_over_time24h',
      'check:probe_success:avg_over_time7d', 'component:probe_success:avg_over_time24h', 'check:probe_duration_seconds:avg_over_time1h',
    ]) expect(withData, `${r} has no data on the receiver`).toContain(r);
    // The alerts the source's rules raised travel too (ALERTS is a series like any other).
    const alerts = await compare([{ label: 'ALERTS', instant: true, expr: 'ALERTS{check="payment-gateway"}' }]);
    expect(alerts.differences).toEqual([]);
    expect(alerts.withData).toContain('ALERTS');
  }, 60_000);

  it('every query of every dashboard answers the same on the receiver, and the Vigil panels have data there', async () => {
    const dashboards = [...readGenerated().values()];
    const asked: Array<Asked & { q: QueryRef }> = [];
    for (const d of dashboards) {
      const values = await variables(d);
      for (const q of queriesOf(d)) {
        asked.push({ q, label: `${q.dashboard} "${q.panel}" ${q.refId}`, instant: q.kind === 'instant', expr: substitute(q.expr, values, DURATIONS) });
      }
    }
    expect(asked.length).toBeGreaterThan(100);
    const { differences, withData } = await compare(asked);
    expect(differences).toEqual([]);
    // Equal answers could both be empty: the panels this stack feeds must show data on the receiver.
    for (const [uid, title] of [
      ['vigil-overview', 'Overall status'], ['vigil-overview', 'Components'], ['vigil-overview', 'Checks by status'],
      ['vigil-overview', 'Availability by component'], ['vigil-checks', 'Status'], ['vigil-checks', 'Status history'],
      ['vigil-checks', 'Success ratio'], ['vigil-checks', 'Response time'], ['vigil-checks', 'Failures by reason'],
      ['vigil-dependencies', 'Dependencies'],
    ]) {
      const mine = asked.filter((a) => a.q.dashboard === uid && a.q.panel === title);
      expect(mine.length, `${uid}: no panel "${title}"`).toBeGreaterThan(0);
      expect(mine.some((a) => withData.has(a.label)), `${uid} "${title}" has no data on the receiver`).toBe(true);
    }
    expect(withData.size).toBeGreaterThan(30);
  }, 60_000);

  it('Vigil\'s long windows (history.prometheus_url) read the receiver', async () => {
    const res = await fetch(`${exporter.url}/api/v1/trends?window=7d`, { signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { source: string; prometheus?: { answered: boolean }; checks: Array<{ name: string; source: string; availability: number | null }> };
    expect(doc.prometheus).toEqual({ answered: true });
    const byName = Object.fromEntries(doc.checks.map((c) => [c.name, c]));
    expect(byName.api).toMatchObject({ source: 'prometheus', availability: 1 });
    expect(byName['payment-gateway']).toMatchObject({ source: 'prometheus', availability: 0 });
  });
});
