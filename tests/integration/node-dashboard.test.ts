// Grafana's "NodeJS Application Dashboard" (11159, built for prom-client's default metrics) works
// for an app under vigil/instrument with VIGIL_RUNTIME_METRICS=prom-client: a real Prometheus
// scrapes the app, the dashboard's $instance variable (label_values(nodejs_version_info,
// instance)) is resolved as Grafana does, and every one of its 14 queries returns data.
// The queries are a fixture written from the dashboard's public definition.
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelValuesQuery, promqlErrors, queriesOf, substitute, type DashboardJson } from '../support/dashboards.js';
import { ROOT, waitFor } from '../support/exporter.js';
import { startInstrumentedApp, type InstrumentedApp } from '../support/instrumented-app.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

const DASHBOARD = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/dashboards/grafana-11159-nodejs.json'), 'utf8')) as DashboardJson;

let app: InstrumentedApp;
let prom: RunningPrometheus;
let dir: string;

beforeAll(async () => {
  app = await startInstrumentedApp({ VIGIL_RUNTIME_METRICS: 'prom-client' });
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-node-dash-'));
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: node-app\n    static_configs: [ { targets: ['127.0.0.1:${app.metricsPort}'] } ]\n`);
  prom = await startPrometheus({ configFile, port: await freePort() });
  // Some traffic, then enough scrapes for irate(...[2m]) (two samples) and changes(...[1m]).
  for (const p of ['/hello/a', '/hello/b', '/outbound']) await app.hit(p);
  await waitFor(async () => (await prom.query('count_over_time(up{job="node-app"}[1m]) >= 3 and up{job="node-app"} == 1')).length === 1, 20_000, 200);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([prom?.stop(), app?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Grafana dashboard 11159 (NodeJS Application Dashboard) on an instrumented app', () => {
  const queries = queriesOf(DASHBOARD);
  let instances: string[] = [];

  it('the fixture holds its 14 queries, all valid PromQL', () => {
    expect(queries).toHaveLength(14);
    for (const q of queries) expect(promqlErrors(substitute(q.expr, { instance: 'x' })), `${q.panel} ${q.refId}`).toEqual([]);
  });

  it('$instance (label_values(nodejs_version_info, instance)) lists the app', async () => {
    const variable = DASHBOARD.templating.list.find((v) => v.name === 'instance')!;
    const lv = labelValuesQuery(variable)!;
    expect(lv).toEqual({ selector: 'nodejs_version_info', label: 'instance' });
    const res = await fetch(`${prom.url}/api/v1/label/${lv.label}/values?match[]=${encodeURIComponent(lv.selector)}`, { signal: AbortSignal.timeout(5000) });
    instances = ((await res.json()) as { data: string[] }).data;
    expect(instances).toEqual([`127.0.0.1:${app.metricsPort}`]);
  });

  it.each(queries.map((q) => [`${q.panel} ${q.refId}`, q] as const))('%s returns data', async (_name, q) => {
    expect(instances.length, 'the $instance variable resolved first').toBeGreaterThan(0);
    // Grafana's regex formatting of a multi-value variable: regex-escaped values (the backslash
    // itself escaped for the PromQL string) joined with |.
    const value = `(${instances.map((i) => i.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|')})`;
    const expr = substitute(q.expr, { instance: value });
    const result = await prom.query(expr);
    expect(result.length, expr).toBeGreaterThan(0);
    expect(result.every((s) => Number.isFinite(Number(s.value[1]))), expr).toBe(true);
  });
});
