// Reading the generated Grafana dashboards for tests: every panel target and annotation query,
// the template variables, Grafana-variable substitution and a PromQL syntax check with
// @prometheus-io/lezer-promql. Used by tests/integration/dashboards.test.ts (static checks) and
// tests/stack/dashboards-live.test.ts (every query against a live Prometheus).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { REPO_ROOT } from './alertmanager-config.js';

export const GENERATED = path.join(REPO_ROOT, 'dashboards/generated');

export interface DashboardJson {
  uid: string;
  title: string;
  tags?: string[];
  refresh?: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  annotations: { list?: Array<{ name: string; expr?: string; datasource?: { type?: string; uid?: string } }> };
  links?: Array<Record<string, unknown>>;
  [k: string]: unknown;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: TargetJson[];
  fieldConfig?: { defaults: Record<string, any>; overrides: Array<{ matcher: { id: string; options: unknown }; properties: Array<{ id: string; value: any }> }> };
  transformations?: Array<{ id: string; options: unknown }>;
  [k: string]: unknown;
}

export interface TargetJson {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: { type: string; uid: string };
}

export interface VariableJson {
  type: string;
  name: string;
  query?: unknown;
  definition?: string;
  datasource?: { type: string; uid: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

/** The checked-in dashboards, by file name. */
export function readGenerated(): Map<string, DashboardJson> {
  const out = new Map<string, DashboardJson>();
  for (const f of readdirSync(GENERATED).filter((f) => f.endsWith('.json')).sort()) {
    out.set(f, JSON.parse(readFileSync(path.join(GENERATED, f), 'utf8')) as DashboardJson);
  }
  return out;
}

export interface QueryRef {
  dashboard: string;
  /** Panel title, or `annotation <name>`. */
  panel: string;
  panelId?: number;
  refId: string;
  expr: string;
  kind: 'range' | 'instant';
  legend?: string;
}

/** Every PromQL query of a dashboard: panel targets and Prometheus annotations. */
export function queriesOf(d: DashboardJson): QueryRef[] {
  const out: QueryRef[] = [];
  for (const p of d.panels) {
    for (const t of p.targets ?? []) {
      out.push({ dashboard: d.uid, panel: p.title, panelId: p.id, refId: t.refId, expr: t.expr, kind: t.instant ? 'instant' : 'range', legend: t.legendFormat });
    }
  }
  for (const a of d.annotations.list ?? []) {
    if (a.expr !== undefined) out.push({ dashboard: d.uid, panel: `annotation ${a.name}`, refId: 'annotation', expr: a.expr, kind: 'range' });
  }
  return out;
}

/** `label_values(<selector>, <label>)` of a query variable, or undefined for other variable kinds. */
export function labelValuesQuery(v: VariableJson): { selector: string; label: string } | undefined {
  if (v.type !== 'query') return undefined;
  const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
  const m = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/s.exec(q ?? '');
  return m ? { selector: m[1]!.trim(), label: m[2]! } : undefined;
}

/** Grafana's built-in variables (https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/#global-variables) used here. */
export const BUILTIN_VARIABLES = new Set([
  '__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms',
  '__from', '__to', '__field', '__data', '__series', '__value', '__url_time_range', '__all', '__auto',
]);

/** Names of the Grafana variables used in a string: $name, ${name}, ${name:format}, ${name.path}. */
export function variablesUsed(s: string): string[] {
  const out = new Set<string>();
  for (const m of s.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))/g)) out.add((m[1] ?? m[2])!);
  return [...out];
}

const DURATION_VARS = /\$(?:\{(__rate_interval|__interval|__range)\}|(__rate_interval|__interval|__range))(?![A-Za-z0-9_])/g;

/**
 * Replace Grafana variables so that a query is plain PromQL: the interval variables by
 * `durations` (default 5m), every other variable by `values[name]` (default `x`).
 */
export function substitute(expr: string, values: Record<string, string> = {}, durations: Partial<Record<'__rate_interval' | '__interval' | '__range', string>> = {}): string {
  return expr
    .replace(DURATION_VARS, (_m, a: string | undefined, b: string | undefined) => durations[(a ?? b) as '__range'] ?? '5m')
    .replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? 'x');
}

/** Syntax errors of a PromQL expression as `offset: context` strings (empty = it parses). */
export function promqlErrors(expr: string): string[] {
  if (expr.trim() === '') return ['empty expression'];
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(n) {
      // Error nodes may be zero-width (a missing ")" at the end): never filter them by length.
      if (n.type.isError) errors.push(`${n.from}: …${expr.slice(Math.max(0, n.from - 20), n.from + 20)}…`);
    },
  });
  return errors;
}

/** Metric names selected by a PromQL expression (the identifiers of its vector selectors). */
export function metricNames(expr: string): string[] {
  const out = new Set<string>();
  parser.parse(expr).iterate({
    enter(n) {
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        if (id) out.add(expr.slice(id.from, id.to));
      }
    },
  });
  return [...out];
}
