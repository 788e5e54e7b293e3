// Shared building blocks for the Vigil dashboards: the data source and template variables,
// PromQL helpers (selectors, status codes, threshold lines), value mappings and one factory per
// panel kind. Topic files (overview.ts, checks.ts, ...) export panel factories built from these;
// index.ts only assembles them into dashboards (buildDashboard) and writes generated/*.json.
//
// Conventions every dashboard follows:
// - Queries go to the `$datasource` variable (type prometheus); provisioning pins its uid.
// - Every target gets a refId (A, B, ... in order) and every panel an id (buildDashboard).
// - Status is shown as a number with value mappings, never by colour alone:
//   0 Healthy, 1 Unknown, 2 Degraded, 3 Critical (the exporter's own order, so max() = worst).
// - Threshold lines come from vigil_check_threshold and are legended "<series> · warning" /
//   "<series> · critical"; timeseries panels draw them dashed in orange / red.

import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { statusRank, STATUSES, type Status } from '../exporter/model/status.js';

// ---- data source and variables ---------------------------------------------------------------

/** uid of the provisioned Prometheus data source (dashboards/provisioning/datasources/prometheus.yml). */
export const PROMETHEUS_UID = 'vigil-prometheus';
/** Every panel and target queries the data source picked in the `datasource` variable. */
export const DS: { type: string; uid: string } = { type: 'prometheus', uid: '${datasource}' };
/**
 * Dashboard schema version written into the JSON. The SDK (0.0.21) emits 42, newer than what
 * Grafana 12.0 (the image pinned in docker-compose.yml) knows; 41 is what Grafana 11.6-12.0
 * write, and newer Grafana versions migrate it up on load.
 */
export const SCHEMA_VERSION = 41;
/** Tag shared by every Vigil dashboard: the dashboard-links dropdown lists dashboards by it. */
export const TAG = 'vigil';

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: PROMETHEUS_UID });
}

export interface VariableOptions {
  label: string;
  description: string;
  /** Multi-select with an "All" option whose value is `.*` (default true). */
  multi?: boolean;
}

/**
 * A Prometheus query variable. `query` is Grafana's `label_values(<selector>, <label>)`; "All"
 * sends `.*`, so every use must be a regex matcher (`label=~"$name"`).
 */
export function queryVariable(name: string, query: string, o: VariableOptions): dashboard.QueryVariableBuilder {
  const multi = o.multi ?? true;
  const v = new dashboard.QueryVariableBuilder(name)
    .label(o.label)
    .description(o.description)
    .datasource(DS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi);
  if (multi) v.allValue('.*').current({ selected: true, text: ['All'], value: ['$__all'] });
  return v;
}

/** The Vigil exporter job(s): Prometheus' `job` label of the series vigil_build_info. */
export const jobVariable = () =>
  queryVariable('job', 'label_values(vigil_build_info, job)', {
    label: 'Exporter job',
    description: 'Prometheus job of the Vigil exporter(s) to show.',
  });

export const componentVariable = (extra = '') =>
  queryVariable('component', `label_values(vigil_check_info${sel('job=~"$job"', extra)}, component)`, {
    label: 'Component',
    description: 'Components as configured in vigil.yml (components[].name or a check\'s component).',
  });

export const checkVariable = (extra = '') =>
  queryVariable('check', `label_values(vigil_check_info${sel('job=~"$job"', 'component=~"$component"', extra)}, check)`, {
    label: 'Check',
    description: 'Checks of the selected components.',
  });

/** Matchers of the series of the selected checks. */
export const CHECK = 'job=~"$job", component=~"$component", check=~"$check"';
/** Matchers of the series of the selected components. */
export const COMPONENT = 'job=~"$job", component=~"$component"';
/**
 * The same for what is per check rather than per exporter: the per-check recording rules
 * (rules/, no job) and probe_* (the vigil-probes scrape job, `check` set; the /probe
 * endpoint's series have none). An HA pair or shards serve a check from several exporters:
 * queries aggregate `by (check, ...)` so each check is one row (docs/alerting.md#several-instances).
 */
export const CHECK_ID = 'component=~"$component", check=~"$check"';
export const COMPONENT_ID = 'component=~"$component"';
export const PROBE_CHECK = `check!="", ${CHECK_ID}`;
export const PROBE_COMPONENT = `check!="", ${COMPONENT_ID}`;

// ---- PromQL helpers --------------------------------------------------------------------------

/** `{a, b}` from the non-empty matchers given (each may itself be "a, b"). */
export function sel(...matchers: string[]): string {
  const parts = matchers.map((m) => m.trim()).filter(Boolean);
  return `{${parts.join(', ')}}`;
}

/** The status codes: the exporter's own rank (health/status.ts), so max() over them is the worst. */
export const STATUS = Object.fromEntries(STATUSES.map((s) => [s, statusRank(s)])) as Record<Status, number>;

/**
 * The status of a state-set metric (vigil_check_status, vigil_component_status,
 * vigil_overall_status) as one number per `by` group: 0 healthy, 1 unknown, 2 degraded,
 * 3 critical. Each arm is 0 unless that state is the current one, so max() picks it (and the
 * worst one when several series are aggregated).
 */
export function statusCode(metric: string, matchers: string, by: string): string {
  const m = (state: string) => `${metric}${sel(matchers, `state="${state}"`)}`;
  // One arm per status above healthy, its rank times its 0/1 state series; healthy (0) needs
  // none: every arm is 0 then.
  const arms = STATUSES.filter((s) => STATUS[s] > 0).map((s, i) => `  ${i ? 'or ' : ''}${STATUS[s] === 1 ? '' : `${STATUS[s]} * `}${m(s)}`);
  return [`max by (${by}) (`, ...arms, `)`].join('\n');
}

export type Severity = 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['warning', 'critical'];

/**
 * Threshold lines read from vigil_check_threshold: one query per severity, legended
 * `<legend> · warning` / `<legend> · critical` so that timeseries() styles them.
 */
export function thresholdLines(matchers: string, by: string, legend: string): Query[] {
  return SEVERITIES.map((s) =>
    range(`max by (${by}) (vigil_check_threshold${sel(matchers, `severity="${s}"`)})`, `${legend} · ${s}`));
}

// ---- queries ---------------------------------------------------------------------------------

export interface Query {
  expr: string;
  legend?: string;
  /** range (time series over the dashboard range), instant (last value), table (instant, table format). */
  kind: 'range' | 'instant' | 'table';
  /** Defaults to A, B, C... by position. */
  refId?: string;
}

export const range = (expr: string, legend?: string): Query => ({ expr, legend, kind: 'range' });
export const instant = (expr: string, legend?: string): Query => ({ expr, legend, kind: 'instant' });
export const tableQuery = (expr: string, refId?: string): Query => ({ expr, kind: 'table', refId });

function target(q: Query, index: number): prometheus.DataqueryBuilder {
  const t = new prometheus.DataqueryBuilder()
    .datasource(DS)
    .refId(q.refId ?? String.fromCharCode(65 + index))
    .expr(q.expr)
    .editorMode(prometheus.QueryEditorMode.Code)
    .legendFormat(q.legend ?? '__auto');
  if (q.kind === 'range') t.range();
  else t.instant();
  if (q.kind === 'table') t.format(prometheus.PromQueryFormat.Table);
  return t;
}

// ---- units, colours, mappings ----------------------------------------------------------------

/** The Grafana unit ids these dashboards use (tests/integration/dashboards.test.ts keeps the allow-list). */
export const UNIT = {
  ratio: units.PercentUnit,
  seconds: units.Seconds,
  duration: units.DurationSeconds,
  bytes: units.BytesIEC,
  reqps: units.RequestsPerSecond,
  ops: units.OpsPerSecond,
  short: units.Short,
  none: units.NoUnit,
  dateFromNow: units.DateTimeFromNow,
} as const;

export const COLOR = { ok: 'green', unknown: '#8e8e8e', warning: 'orange', critical: 'red', info: 'blue' } as const;

export interface Step {
  value: number | null;
  color: string;
}

/** Threshold steps: `steps(COLOR.ok, [0.9, COLOR.warning], [0.98, COLOR.critical])`. */
export function steps(base: string, ...rest: [number, string][]): Step[] {
  return [{ value: null, color: base }, ...rest.map(([value, color]) => ({ value, color }))];
}

/** Value-to-text mappings with colours, e.g. `{ '1': { text: 'Up', color: 'green' } }`. */
export function valueMap(entries: Record<string, { text: string; color: string }>): dashboard.ValueMapping {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(entries).forEach(([k, v], index) => { options[k] = { ...v, index }; });
  return { type: dashboard.MappingType.ValueToText, options };
}

/** 0-3 status codes (statusCode()) as text with colour. */
export const STATUS_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({
    [STATUS.healthy]: { text: 'Healthy', color: COLOR.ok },
    [STATUS.unknown]: { text: 'Unknown', color: COLOR.unknown },
    [STATUS.degraded]: { text: 'Degraded', color: COLOR.warning },
    [STATUS.critical]: { text: 'Critical', color: COLOR.critical },
  }),
];
export const STATUS_STEPS = steps(COLOR.ok, [STATUS.unknown, COLOR.unknown], [STATUS.degraded, COLOR.warning], [STATUS.critical, COLOR.critical]);

/** Alert severities (the `severity` label) with colour. */
export const SEVERITY_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({
    critical: { text: 'critical', color: COLOR.critical },
    warning: { text: 'warning', color: COLOR.warning },
    info: { text: 'info', color: COLOR.info },
  }),
];

/** `up`-like 0/1 series as text with colour. */
export function upMappings(up = 'Up', down = 'Down'): dashboard.ValueMapping[] {
  return [valueMap({ '1': { text: up, color: COLOR.ok }, '0': { text: down, color: COLOR.critical } })];
}
export const UP_STEPS = steps(COLOR.critical, [1, COLOR.ok]);

/** Higher is better ratios (availability, success): red below 95 %, orange below 99 %. */
export const AVAILABILITY_STEPS = steps(COLOR.critical, [0.95, COLOR.warning], [0.99, COLOR.ok]);
/** Lower is better ratios (errors): orange from 1 %, red from 5 %. */
export const ERROR_RATIO_STEPS = steps(COLOR.ok, [0.01, COLOR.warning], [0.05, COLOR.critical]);

function thresholdsBuilder(s: Step[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(s);
}

// ---- links -----------------------------------------------------------------------------------

/** Dashboard links shown on every dashboard: the other Vigil dashboards, keeping variables and time. */
export function dashboardLinks(): dashboard.DashboardLinkBuilder[] {
  return [
    new dashboard.DashboardLinkBuilder('Vigil dashboards')
      .type(dashboard.DashboardLinkType.Dashboards)
      .tags([TAG])
      .asDropdown(true)
      .includeVars(true)
      .keepTime(true)
      .targetBlank(false)
      .icon('external link')
      .tooltip('The other Vigil dashboards, with the same variables and time range'),
  ];
}

/**
 * A data link to another Vigil dashboard that keeps the time range, the data source and the
 * job, and sets `vars` (values may use ${__field.labels.x} / ${__data.fields.x}).
 */
export function drillDown(title: string, uid: string, vars: Record<string, string>): dashboard.DashboardLinkBuilder {
  const params = ['${datasource:queryparam}', '${job:queryparam}', '${__url_time_range}',
    ...Object.entries(vars).map(([k, v]) => `var-${k}=${v}`)];
  return new dashboard.DashboardLinkBuilder(title)
    .type(dashboard.DashboardLinkType.Link)
    .url(`/d/${uid}?${params.join('&')}`)
    .targetBlank(false)
    .includeVars(false)
    .keepTime(false);
}

// ---- panels ----------------------------------------------------------------------------------

/** What buildDashboard needs from any SDK panel builder. */
export interface PanelLike extends cog.Builder<dashboard.Panel> {
  id(id: number): unknown;
}

interface PanelBase {
  title: string;
  /** What the panel answers; shown as the panel's (i) tooltip. */
  description: string;
  queries: Query[];
  /** Width in the 24-column grid and height in rows. */
  w: number;
  h: number;
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  noValue?: string;
  links?: dashboard.DashboardLinkBuilder[];
  mappings?: dashboard.ValueMapping[];
  thresholds?: Step[];
  transformations?: dashboard.DataTransformerConfig[];
}

type AnyPanelBuilder =
  | stat.PanelBuilder
  | timeseries.PanelBuilder
  | statetimeline.PanelBuilder
  | table.PanelBuilder
  | bargauge.PanelBuilder
  | nodegraph.PanelBuilder;

function applyBase<B extends AnyPanelBuilder>(b: B, o: PanelBase): B {
  b.title(o.title).description(o.description).datasource(DS).span(o.w).height(o.h)
    .targets(o.queries.map((q, i) => target(q, i)));
  if (o.unit !== undefined) b.unit(o.unit);
  if (o.min !== undefined) b.min(o.min);
  if (o.max !== undefined) b.max(o.max);
  if (o.decimals !== undefined) b.decimals(o.decimals);
  if (o.noValue !== undefined) b.noValue(o.noValue);
  if (o.links) b.dataLinks(o.links);
  if (o.mappings) b.mappings(o.mappings);
  if (o.thresholds) b.thresholds(thresholdsBuilder(o.thresholds));
  if (o.transformations) b.transformations(o.transformations);
  return b;
}

const reduce = (calc: string, values = false) =>
  new common.ReduceDataOptionsBuilder().calcs([calc]).fields('').values(values);

export interface StatOptions extends PanelBase {
  /** Reducer over the range (default lastNotNull). */
  calc?: string;
  colorMode?: common.BigValueColorMode;
  textMode?: common.BigValueTextMode;
  sparkline?: boolean;
}

export function statPanel(o: StatOptions): stat.PanelBuilder {
  return applyBase(new stat.PanelBuilder(), o)
    .reduceOptions(reduce(o.calc ?? 'lastNotNull'))
    .colorMode(o.colorMode ?? common.BigValueColorMode.Background)
    .graphMode(o.sparkline ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .textMode(o.textMode ?? common.BigValueTextMode.Auto)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .orientation(common.VizOrientation.Auto)
    .wideLayout(true)
    .showPercentChange(false);
}

export interface TimeseriesOptions extends PanelBase {
  stack?: boolean;
  bars?: boolean;
  fillOpacity?: number;
  /** Legend as a table with these calculations (default: last and max). */
  legendCalcs?: string[];
  legendRight?: boolean;
}

/** Overrides that draw "<x> · warning" / "<x> · critical" series as dashed threshold lines. */
function thresholdLineOverrides(b: timeseries.PanelBuilder): void {
  for (const [sev, color] of [['warning', COLOR.warning], ['critical', COLOR.critical]] as const) {
    b.overrideByRegexp(`.* · ${sev}$`, [
      { id: 'color', value: { mode: 'fixed', fixedColor: color } },
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
      { id: 'custom.drawStyle', value: 'line' },
      { id: 'custom.showPoints', value: 'never' },
    ]);
  }
}

export function timeseriesPanel(o: TimeseriesOptions): timeseries.PanelBuilder {
  const b = applyBase(new timeseries.PanelBuilder(), o)
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .lineInterpolation(common.LineInterpolation.Linear)
    .lineWidth(1)
    .fillOpacity(o.fillOpacity ?? (o.stack || o.bars ? 70 : 10))
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new common.StackingConfigBuilder().mode(o.stack ? common.StackingMode.Normal : common.StackingMode.None).group('A'))
    .legend(new common.VizLegendOptionsBuilder()
      .showLegend(true)
      .displayMode(common.LegendDisplayMode.Table)
      .placement(o.legendRight ? common.LegendPlacement.Right : common.LegendPlacement.Bottom)
      .calcs(o.legendCalcs ?? ['lastNotNull', 'max']))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (o.thresholds) b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  thresholdLineOverrides(b);
  return b;
}

export function stateTimelinePanel(o: PanelBase): statetimeline.PanelBuilder {
  return applyBase(new statetimeline.PanelBuilder(), o)
    .showValue(common.VisibilityMode.Auto)
    .mergeValues(true)
    .rowHeight(0.9)
    .alignValue(common.TimelineValueAlignment.Left)
    .fillOpacity(80)
    .lineWidth(0)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds));
}

export interface Column {
  /** Field name in the merged frame: a label name, or `Value #<refId>` for a query's value. */
  field: string;
  /** Header shown instead (default: the field name). */
  title?: string;
  unit?: string;
  mappings?: dashboard.ValueMapping[];
  thresholds?: Step[];
  /** Colour the cell background from mappings/thresholds (status, availability). */
  colored?: boolean;
  decimals?: number;
  links?: dashboard.DashboardLinkBuilder[];
}

export interface TableOptions extends Omit<PanelBase, 'transformations'> {
  /** Columns to show, in order; every other field is hidden. */
  columns: Column[];
  sortBy?: { field: string; desc?: boolean };
}

/**
 * A table of instant table-format queries merged on their labels. Only `columns` are shown,
 * renamed and in order.
 */
export function tablePanel(o: TableOptions): table.PanelBuilder {
  const indexByName: Record<string, number> = {};
  const renameByName: Record<string, string> = {};
  o.columns.forEach((c, i) => {
    indexByName[c.field] = i;
    if (c.title) renameByName[c.field] = c.title;
  });
  const transformations: dashboard.DataTransformerConfig[] = [];
  if (o.queries.length > 1) transformations.push({ id: 'merge', options: {} });
  // Keep only the named columns: a filter by name, then ordering and renaming.
  transformations.push({
    id: 'filterFieldsByName',
    options: { include: { names: o.columns.map((c) => c.field) } },
  });
  transformations.push({ id: 'organize', options: { excludeByName: {}, indexByName, renameByName, includeByName: {} } });
  const b = applyBase(new table.PanelBuilder(), { ...o, transformations })
    .showHeader(true)
    .cellHeight(common.TableCellHeight.Sm)
    .footer(new common.TableFooterOptionsBuilder().show(false).reducer(['sum']).countRows(false));
  if (o.sortBy) b.sortBy([new common.TableSortByFieldStateBuilder().displayName(o.sortBy.field).desc(o.sortBy.desc ?? false)]);
  for (const c of o.columns) {
    const props: dashboard.DynamicConfigValue[] = [];
    if (c.unit) props.push({ id: 'unit', value: c.unit });
    if (c.decimals !== undefined) props.push({ id: 'decimals', value: c.decimals });
    if (c.mappings) props.push({ id: 'mappings', value: c.mappings });
    if (c.thresholds) props.push({ id: 'thresholds', value: { mode: 'absolute', steps: c.thresholds } });
    if (c.colored) {
      props.push({ id: 'color', value: { mode: 'thresholds' } });
      props.push({ id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } });
    }
    if (c.links) props.push({ id: 'links', value: c.links.map((l) => l.build()) });
    if (props.length) b.overrideByName(c.field, props);
  }
  return b;
}

export interface BarGaugeOptions extends PanelBase {
  calc?: string;
}

export function barGaugePanel(o: BarGaugeOptions): bargauge.PanelBuilder {
  return applyBase(new bargauge.PanelBuilder(), o)
    .reduceOptions(reduce(o.calc ?? 'lastNotNull'))
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .valueMode(common.BarGaugeValueMode.Color)
    .namePlacement(common.BarGaugeNamePlacement.Auto)
    .showUnfilled(true)
    .sizing(common.BarGaugeSizing.Auto)
    .orientation(common.VizOrientation.Horizontal)
    .minVizHeight(16)
    .minVizWidth(8)
    .maxVizHeight(300);
}

export interface NodeGraphOptions extends Omit<PanelBase, 'queries'> {
  /** Instant table query with (after transformations) fields id, title, mainstat, color. */
  nodes: string;
  /** Instant table query with (after transformations) fields id, source, target. */
  edges: string;
}

/**
 * A node graph from two Prometheus table queries, refIds `nodes` and `edges` (the node graph
 * panel recognises frames by those names). Transformations reduce each frame to the fields the
 * panel reads.
 */
export function nodeGraphPanel(o: NodeGraphOptions): nodegraph.PanelBuilder {
  const onlyFrame = (refId: string) => ({ id: 'byRefId', options: refId });
  const transformations: dashboard.DataTransformerConfig[] = [
    { id: 'filterFieldsByName', filter: onlyFrame('nodes'), options: { include: { names: ['id', 'title', 'mainstat', 'color'] } } },
    { id: 'filterFieldsByName', filter: onlyFrame('edges'), options: { include: { names: ['id', 'source', 'target'] } } },
  ];
  return applyBase(new nodegraph.PanelBuilder(), {
    ...o,
    queries: [tableQuery(o.nodes, 'nodes'), tableQuery(o.edges, 'edges')],
    transformations,
  })
    .nodes(new nodegraph.NodeOptionsBuilder())
    .edges(new nodegraph.EdgeOptionsBuilder())
    .zoomMode(nodegraph.ZoomMode.Cooperative);
}

// ---- dashboards ------------------------------------------------------------------------------

export interface RowSpec {
  title: string;
  panels: PanelLike[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Grafana refresh interval (e.g. "5s"); default 30s. */
  refresh?: string;
  /** Default time range start, e.g. "now-1h". */
  from?: string;
  variables: cog.Builder<dashboard.VariableModel>[];
  annotations?: dashboard.AnnotationQueryBuilder[];
  rows: RowSpec[];
}

/** Grafana's built-in "Annotations & Alerts" entry, present on every dashboard Grafana saves. */
function builtInAnnotation(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Annotations & Alerts')
    .builtIn(1)
    .datasource({ type: 'grafana', uid: '-- Grafana --' })
    .enable(true)
    .hide(true)
    .iconColor('rgba(0, 211, 255, 1)')
    .type('dashboard');
}

/** A Prometheus annotation: one marker per series of `expr` while it has a value. */
export function promAnnotation(name: string, expr: string, title: string, text: string, color: string): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource(DS)
    .enable(true)
    .hide(false)
    .iconColor(color)
    .expr(expr)
    .step('15s')
    .titleFormat(title)
    .textFormat(text)
    .tagKeys('severity,component,check');
}

/**
 * Assembles a dashboard: rows in order, each followed by its panels (the builder flows them
 * left to right in the 24-column grid); ids are assigned in that order, starting at 1, so they
 * are stable as long as the layout is.
 */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG])
    .editable()
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from ?? 'now-1h', to: 'now' })
    .refresh(spec.refresh ?? '30s')
    .timepicker(new dashboard.TimePickerBuilder().refreshIntervals(['5s', '10s', '30s', '1m', '5m', '15m', '1h']))
    .liveNow(false)
    .links(dashboardLinks())
    .variables(spec.variables)
    .annotations([builtInAnnotation(), ...(spec.annotations ?? [])]);
  let id = 1;
  for (const row of spec.rows) {
    b.withRow(new dashboard.RowBuilder(row.title).id(id++));
    // The builder wraps to the next line only after a line is full: make every line add up to 24.
    let x = 0;
    for (const panel of row.panels) {
      const { title, gridPos } = panel.build();
      const w = gridPos?.w ?? 0;
      if (x + w > 24) throw new Error(`${spec.uid}: panel "${title}" (w ${w}) does not fit after ${x} columns in row "${row.title}"`);
      x = (x + w) % 24;
      panel.id(id++);
      b.withPanel(panel);
    }
    if (x !== 0) throw new Error(`${spec.uid}: row "${row.title}" ends with a line of ${x} columns, not 24`);
  }
  const built = b.build();
  built.schemaVersion = SCHEMA_VERSION;
  return built;
}
