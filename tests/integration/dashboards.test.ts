// Static checks of the Grafana dashboards (dashboards/*.ts -> dashboards/generated/*.json) and of
// their provisioning. tests/stack/dashboards-live.test.ts runs every query on a live Prometheus.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as units from '@grafana/grafana-foundation-sdk/units';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROMETHEUS_UID, UNIT } from '../../dashboards/common.js';
import { buildDashboards, fileName, render } from '../../dashboards/index.js';
import { REPO_ROOT } from '../support/alertmanager-config.js';
import {
  BUILTIN_VARIABLES, GENERATED, labelValuesQuery, metricNames, promqlErrors, queriesOf, readGenerated,
  substitute, variablesUsed, type DashboardJson, type PanelJson,
} from '../support/dashboards.js';

const generated = readGenerated();
const dashboards = [...generated.values()];

/** The dashboards and their stable uids: links, provisioning and bookmarks rely on them. */
const EXPECTED_UIDS = [
  'vigil-apps', 'vigil-checks', 'vigil-dependencies', 'vigil-notifications', 'vigil-overview', 'vigil-processes', 'vigil-system',
];

/**
 * Grafana unit ids these dashboards may use. Every entry must be one of Grafana's unit ids (the
 * foundation SDK's `units` module lists them), and every unit in the JSON must be in this list.
 */
const UNIT_ALLOW_LIST = ['percentunit', 's', 'dtdurations', 'bytes', 'reqps', 'ops', 'short', 'none', 'dateTimeFromNow'];

function unitsOf(p: PanelJson): string[] {
  const out: string[] = [];
  const d = p.fieldConfig?.defaults;
  if (d?.unit !== undefined) out.push(d.unit);
  for (const o of p.fieldConfig?.overrides ?? []) for (const prop of o.properties) if (prop.id === 'unit') out.push(prop.value);
  return out;
}

function mappingsOf(p: PanelJson): Array<{ type: string; options: Record<string, { text?: string; color?: string }> }> {
  const out = [...(p.fieldConfig?.defaults.mappings ?? [])];
  for (const o of p.fieldConfig?.overrides ?? []) for (const prop of o.properties) if (prop.id === 'mappings') out.push(...prop.value);
  return out;
}

/** Every string of a JSON value, with its path. */
function strings(v: unknown, at = '$'): Array<[string, string]> {
  if (typeof v === 'string') return [[at, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${at}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => strings(x, `${at}.${k}`));
  return [];
}

/** Metric names the project defines: the metric reference, the instrumentation's, recording rules, exporter and instrument sources. */
function knownMetricNames(): Set<string> {
  const names = new Set<string>();
  const words = (text: string) => { for (const m of text.matchAll(/\b[a-z_][a-z0-9_]*\b/g)) names.add(m[0]); };
  words(readFileSync(path.join(REPO_ROOT, 'docs/metrics.md'), 'utf8'));
  words(readFileSync(path.join(REPO_ROOT, 'docs/instrumentation.md'), 'utf8'));
  for (const f of readdirSync(path.join(REPO_ROOT, 'rules')).filter((f) => f.endsWith('.yml'))) {
    const doc = YAML.parse(readFileSync(path.join(REPO_ROOT, 'rules', f), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> };
    for (const g of doc.groups) for (const r of g.rules) if (r.record) names.add(r.record);
  }
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/['`]([a-z][a-z0-9_]*)['`$]/g)) names.add(m[1]!);
    }
  };
  walk(path.join(REPO_ROOT, 'exporter'));
  walk(path.join(REPO_ROOT, 'packages/instrument'));
  return names;
}

/**
 * Metrics from outside the project: Prometheus (ALERTS, up), Alertmanager 0.25, and the Node
 * runtime series of vigil/instrument (packages/instrument/runtime.ts builds their names).
 */
const EXTERNAL_METRICS = new Set([
  'ALERTS', 'up',
  'alertmanager_notifications_total', 'alertmanager_notifications_failed_total', 'alertmanager_notification_latency_seconds_bucket', 'alertmanager_alerts',
  'nodejs_eventloop_delay_p99_seconds',
]);

describe('generated dashboards', () => {
  it('are not stale: regenerating them in memory gives the checked-in JSON, file for file', () => {
    const built = buildDashboards();
    expect([...generated.keys()].sort()).toEqual(built.map(fileName).sort());
    for (const d of built) {
      expect(render(d), `dashboards/generated/${fileName(d)} is stale: run npm run dashboards`).toBe(readFileSync(path.join(GENERATED, fileName(d)), 'utf8'));
    }
  });

  it('have stable uids, named after their files, all tagged vigil', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(EXPECTED_UIDS);
    for (const [file, d] of generated) {
      expect(file).toBe(`${d.uid}.json`);
      expect(d.tags).toContain('vigil');
    }
  });

  it('give every panel a unique id and every target a unique refId, and query the $datasource variable', () => {
    for (const d of dashboards) {
      const ids = d.panels.map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id) && id > 0), `${d.uid} panel ids`).toBe(true);
      expect(new Set(ids).size, `${d.uid} duplicate panel ids`).toBe(ids.length);
      for (const p of d.panels.filter((p) => p.type !== 'row')) {
        const refIds = (p.targets ?? []).map((t) => t.refId);
        expect(refIds.length, `${d.uid} "${p.title}" has no query`).toBeGreaterThan(0);
        expect(refIds.every((r) => typeof r === 'string' && r !== ''), `${d.uid} "${p.title}" refIds`).toBe(true);
        expect(new Set(refIds).size, `${d.uid} "${p.title}" duplicate refIds`).toBe(refIds.length);
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(typeof p.description === 'string' && p.description.length > 10, `${d.uid} "${p.title}" needs a description`).toBe(true);
      }
    }
  });

  it('lay panels out inside the 24-column grid without overlaps', () => {
    for (const d of dashboards) {
      const cells = new Set<string>();
      for (const p of d.panels) {
        const { x, y, w, h } = p.gridPos;
        expect(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${d.uid} "${p.title}" gridPos ${JSON.stringify(p.gridPos)}`).toBe(true);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `${d.uid} "${p.title}" overlaps another panel at ${i},${j}`).toBe(false);
            cells.add(`${i},${j}`);
          }
        }
      }
    }
  });

  it('define every variable they use (queries, titles, links, variable queries)', () => {
    for (const d of dashboards) {
      const defined = new Set(d.templating.list.map((v) => v.name));
      const { templating, ...rest } = d;
      const texts = [
        ...strings(rest),
        ...templating.list.flatMap((v) => strings({ query: v.query, definition: v.definition, datasource: v.datasource }, `$.templating.${v.name}`)),
      ];
      for (const [at, s] of texts) {
        // label_replace()'s "$1" is a regex group, not a variable.
        for (const name of variablesUsed(s)) {
          expect(defined.has(name) || BUILTIN_VARIABLES.has(name), `${d.uid} ${at} uses undefined variable $${name}`).toBe(true);
        }
      }
      // A variable may only use variables defined before it.
      templating.list.forEach((v, i) => {
        const before = new Set(templating.list.slice(0, i).map((x) => x.name));
        for (const name of variablesUsed(JSON.stringify([v.query, v.datasource]))) {
          expect(before.has(name), `${d.uid} variable ${v.name} uses $${name} before it is defined`).toBe(true);
        }
      });
    }
  });

  it('have a datasource variable defaulting to the provisioned Prometheus, and regex-safe multi-value variables', () => {
    for (const d of dashboards) {
      const ds = d.templating.list.find((v) => v.name === 'datasource');
      expect(ds?.type).toBe('datasource');
      expect(ds?.query).toBe('prometheus');
      expect((ds as { current?: { value?: string } }).current?.value).toBe(PROMETHEUS_UID);
      for (const v of d.templating.list.filter((v) => v.type === 'query')) {
        expect(labelValuesQuery(v), `${d.uid} variable ${v.name}: label_values(...)`).toBeDefined();
        if (v.multi) expect(v.allValue).toBe('.*');
        // A multi-value variable must only be used with a regex matcher.
        for (const q of queriesOf(d)) {
          expect(new RegExp(`[^~]="[^"]*\\$\\{?${v.name}\\b`).test(q.expr), `${d.uid} "${q.panel}" uses $${v.name} with = instead of =~`).toBe(false);
        }
      }
    }
  });

  it('only contain queries that parse as PromQL once the Grafana variables are substituted', () => {
    let count = 0;
    for (const d of dashboards) {
      for (const q of queriesOf(d)) {
        expect(promqlErrors(substitute(q.expr)), `${d.uid} "${q.panel}" ${q.refId}: ${q.expr}`).toEqual([]);
        count++;
      }
      for (const v of d.templating.list) {
        const lv = labelValuesQuery(v);
        if (lv) expect(promqlErrors(substitute(lv.selector)), `${d.uid} variable ${v.name}: ${lv.selector}`).toEqual([]);
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it('the PromQL check catches what it must (a missing parenthesis, an unsubstituted range, an empty query)', () => {
    expect(promqlErrors('sum(rate(up[5m])')).not.toEqual([]);
    expect(promqlErrors('rate(up[$__rate_interval])')).not.toEqual([]);
    expect(promqlErrors('')).not.toEqual([]);
    expect(promqlErrors(substitute('rate(up{job=~"$job"}[$__rate_interval])'))).toEqual([]);
  });

  it('only query metrics the project or its components define (no typos)', () => {
    const known = knownMetricNames();
    const unknown = new Set<string>();
    for (const d of dashboards) {
      for (const q of queriesOf(d)) {
        for (const name of metricNames(substitute(q.expr))) {
          const base = name.replace(/_(bucket|count|sum|total)$/, ''); // histogram series; OTel counters get _total
          if (!known.has(name) && !known.has(base) && !EXTERNAL_METRICS.has(name)) unknown.add(`${name} (${d.uid} "${q.panel}")`);
        }
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('use only valid Grafana unit ids, from an allow-list', () => {
    const grafanaUnits = new Set<string>(Object.values(units as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
    for (const u of UNIT_ALLOW_LIST) expect(grafanaUnits.has(u), `${u} is not a Grafana unit id`).toBe(true);
    for (const u of Object.values(UNIT)) expect(UNIT_ALLOW_LIST).toContain(u);
    for (const d of dashboards) {
      for (const p of d.panels) for (const u of unitsOf(p)) expect(UNIT_ALLOW_LIST, `${d.uid} "${p.title}" unit ${u}`).toContain(u);
    }
  });

  it('show status as text with colour, never by colour alone', () => {
    let statusPanels = 0;
    for (const d of dashboards) {
      for (const p of d.panels) {
        if (!(p.targets ?? []).some((t) => /or 3 \* vigil_\w+_status/.test(t.expr))) continue;
        statusPanels++;
        const m = mappingsOf(p).find((x) => x.type === 'value' && ['0', '1', '2', '3'].every((k) => x.options[k]));
        expect(m, `${d.uid} "${p.title}" maps status codes to text`).toBeDefined();
        expect(['0', '1', '2', '3'].map((k) => m!.options[k]!.text)).toEqual(['Healthy', 'Unknown', 'Degraded', 'Critical']);
        expect(['0', '1', '2', '3'].every((k) => m!.options[k]!.color)).toBe(true);
      }
    }
    expect(statusPanels).toBeGreaterThanOrEqual(5);
  });

  it('link to each other keeping variables and time range', () => {
    for (const d of dashboards) {
      const link = (d.links ?? []).find((l) => l.type === 'dashboards');
      expect(link, `${d.uid} dashboard links`).toMatchObject({ tags: ['vigil'], includeVars: true, keepTime: true, asDropdown: true });
    }
    const overview = generated.get('vigil-overview.json')!;
    expect(overview.refresh).toBe('5s');
    const drill = strings(overview).filter(([, s]) => s.startsWith('/d/vigil-checks?'));
    expect(drill.length).toBeGreaterThan(0);
    for (const [, url] of drill) expect(url).toMatch(/\$\{__url_time_range\}/);
  });

  it('cover what the overview must answer: overall/component status, firing alerts, availability, pipeline up', () => {
    const exprs = queriesOf(generated.get('vigil-overview.json')!).map((q) => q.expr).join('\n');
    for (const s of ['vigil_overall_status', 'vigil_component_status', 'ALERTS{alertstate="firing"', 'component:probe_success:avg_over_time24h',
      'component:probe_success:avg_over_time7d', 'up{job=~"$job"}', 'up{job="prometheus"}']) {
      expect(exprs).toContain(s);
    }
  });
});

describe('Grafana provisioning', () => {
  const ds = YAML.parse(readFileSync(path.join(REPO_ROOT, 'dashboards/provisioning/datasources/prometheus.yml'), 'utf8'));
  const provider = YAML.parse(readFileSync(path.join(REPO_ROOT, 'dashboards/provisioning/dashboards/vigil.yml'), 'utf8'));

  it('provisions Prometheus with the fixed uid the dashboards default to, at http://prometheus:9090', () => {
    const prom = ds.datasources.find((d: { type: string }) => d.type === 'prometheus');
    expect(prom).toMatchObject({ uid: PROMETHEUS_UID, url: 'http://prometheus:9090', access: 'proxy', isDefault: true });
    expect(ds.apiVersion).toBe(1);
  });

  it('provisions the generated folder with a file provider', () => {
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards/vigil' } });
  });
});

export type { DashboardJson };
