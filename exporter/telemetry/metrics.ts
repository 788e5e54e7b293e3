// Metric families for checks, components and the exporter itself (prom-client, explicit
// registry). Check series are updated when a result lands in the state store, so a scrape only
// serialises; component and overall status are rolled up in collect() at scrape time (pure, no I/O).
import client, { type Gauge, type Counter } from 'prom-client';
import type { CheckCommon } from '../config/common.js';
import type { VigilConfig } from '../config/schema.js';
import type { CheckState, StateStore } from '../engine/state.js';
import { STATUSES } from '../health/status.js';
import { allProbeDefinitions, getProbeDefinition } from '../probes/index.js';
import type { MetricSpec } from '../probes/types.js';
import { VERSION, REVISION } from '../version.js';

const CORE_CHECK_FAMILIES: MetricSpec[] = [
  { name: 'probe_success', help: 'Whether the last run of the check succeeded (after retries).' },
  { name: 'probe_duration_seconds', help: 'How long the final attempt of the last run took.' },
  { name: 'vigil_check_status', help: 'Status of the check: 1 for the current state, 0 for the others.', labels: ['state'] },
  { name: 'vigil_check_threshold', help: 'Configured threshold of a check value, in the unit of `metric`.', labels: ['key', 'metric', 'severity', 'direction'] },
  { name: 'vigil_check_runs_total', help: 'Completed runs of the check (after retries).', type: 'counter' },
  { name: 'vigil_check_failures_total', help: 'Failed runs of the check by reason.', labels: ['reason'], type: 'counter' },
  { name: 'vigil_check_last_run_timestamp_seconds', help: 'When the last run of the check finished.' },
  { name: 'vigil_check_last_success_timestamp_seconds', help: 'When the last successful run of the check finished.' },
  { name: 'vigil_check_info', help: 'One series per configured check; always 1.', labels: ['type', 'interval_seconds'] },
];

const EXPORTER_FAMILIES = [
  'vigil_component_status', 'vigil_component_impacted', 'vigil_component_dependency', 'vigil_overall_status',
  'vigil_build_info', 'vigil_config_last_reload_successful', 'vigil_config_last_reload_success_timestamp_seconds',
];

/** Every family Vigil's registry can serve (the README's metric table is checked against this). */
export function allFamilyNames(): string[] {
  const names = new Set([...CORE_CHECK_FAMILIES.map((m) => m.name), ...EXPORTER_FAMILIES]);
  for (const def of allProbeDefinitions()) for (const m of def.metrics) names.add(m.name);
  return [...names].sort();
}

type Family = Gauge<string> | Counter<string>;

interface SeriesRef {
  family: Family;
  labels: Record<string, string>;
}

export class Metrics {
  readonly registry = new client.Registry();
  private families = new Map<string, Family>();
  private lastSeries = new Map<string, Map<string, SeriesRef>>();
  private reloadOk!: Gauge<string>;
  private reloadTime!: Gauge<string>;
  private userLabels: string[] = [];

  constructor(private state: StateStore) {
    client.collectDefaultMetrics({ register: this.registry });
    new client.Gauge({
      name: 'vigil_build_info', help: 'Vigil build: always 1.', labelNames: ['version', 'revision', 'nodejs'], registers: [this.registry],
    }).set({ version: VERSION, revision: REVISION, nodejs: process.version }, 1);
    this.reloadOk = new client.Gauge({ name: 'vigil_config_last_reload_successful', help: 'Whether the last configuration load succeeded.', registers: [this.registry] });
    this.reloadTime = new client.Gauge({ name: 'vigil_config_last_reload_success_timestamp_seconds', help: 'When the configuration was last loaded successfully.', registers: [this.registry] });
    this.registerRollupFamilies();
    state.on('result', (s) => this.onResult(s));
  }

  configReloaded(ok: boolean): void {
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) this.reloadTime.set(Date.now() / 1000);
  }

  /** Rebuild check families for a new config (label names follow the checks' own labels). */
  applyConfig(cfg: Pick<VigilConfig, 'checks'>): void {
    for (const name of this.families.keys()) this.registry.removeSingleMetric(name);
    this.families.clear();
    this.lastSeries.clear();
    this.userLabels = [...new Set(cfg.checks.flatMap((c) => Object.keys(c.labels)))].sort();
    const specs = new Map<string, MetricSpec>(CORE_CHECK_FAMILIES.map((m) => [m.name, m]));
    for (const type of new Set(cfg.checks.map((c) => c.type))) {
      for (const m of getProbeDefinition(type)?.metrics ?? []) specs.set(m.name, m);
    }
    for (const spec of specs.values()) {
      const labelNames = ['check', 'component', ...this.userLabels, ...(spec.labels ?? [])];
      const Kind = spec.type === 'counter' ? client.Counter : client.Gauge;
      this.families.set(spec.name, new Kind({ name: spec.name, help: spec.help, labelNames, registers: [this.registry] }));
    }
    for (const s of this.state.list()) this.initCheck(s);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private base(check: CheckCommon): Record<string, string> {
    return { check: check.name, component: check.component, ...check.labels };
  }

  /** Series for a check from its state alone: counters carry over a reload of unchanged checks. */
  private initCheck(s: CheckState): void {
    const check = s.config;
    const base = this.base(check);
    this.gauge('vigil_check_info').set({ ...base, type: check.type, interval_seconds: String(check.interval / 1000) }, 1);
    this.counter('vigil_check_runs_total').inc(base, s.runs);
    for (const [reason, n] of Object.entries(s.failures)) this.counter('vigil_check_failures_total').inc({ ...base, reason }, n);
    for (const state of STATUSES) this.gauge('vigil_check_status').set({ ...base, state }, state === s.status ? 1 : 0);
    this.setValues(s);
  }

  private onResult(s: CheckState): void {
    const r = s.last;
    if (!r || !this.families.size) return;
    const base = this.base(s.config);
    this.counter('vigil_check_runs_total').inc(base);
    if (!r.ok) this.counter('vigil_check_failures_total').inc({ ...base, reason: r.reason ?? 'error' });
    this.setValues(s);
  }

  private setValues(s: CheckState): void {
    const r = s.last;
    if (!r) return;
    const check = s.config;
    const base = this.base(check);
    const next = new Map<string, SeriesRef>();
    const set = (name: string, labels: Record<string, string>, value: number) => {
      const family = this.families.get(name) as Gauge<string> | undefined;
      if (!family) return;
      const all = { ...base, ...labels };
      family.set(all, value);
      next.set(name + JSON.stringify(labels), { family, labels: all });
    };
    set('probe_success', {}, r.ok ? 1 : 0);
    for (const sample of r.samples) set(sample.metric, sample.labels ?? {}, sample.value);
    for (const sample of r.samples) {
      const t = check.thresholds[sample.key];
      if (!t || sample.labels) continue;
      for (const severity of ['warning', 'critical'] as const) {
        if (t[severity] !== undefined) set('vigil_check_threshold', { key: sample.key, metric: sample.metric, severity, direction: t.direction }, t[severity]!);
      }
    }
    for (const state of STATUSES) this.gauge('vigil_check_status').set({ ...base, state }, state === r.status ? 1 : 0);
    this.gauge('vigil_check_last_run_timestamp_seconds').set(base, r.finishedAt / 1000);
    if (s.lastSuccess) this.gauge('vigil_check_last_success_timestamp_seconds').set(base, s.lastSuccess / 1000);

    // Series this run did not produce (an unmounted disk, a header that stopped coming) go away.
    const previous = this.lastSeries.get(check.name);
    if (previous) for (const [key, ref] of previous) if (!next.has(key)) ref.family.remove(ref.labels);
    this.lastSeries.set(check.name, next);
  }

  private gauge(name: string): Gauge<string> {
    return this.families.get(name) as Gauge<string>;
  }

  private counter(name: string): Counter<string> {
    return this.families.get(name) as Counter<string>;
  }

  private registerRollupFamilies(): void {
    const state = this.state;
    new client.Gauge({
      name: 'vigil_component_status', help: 'Status of the component (worst of its checks): 1 for the current state.',
      labelNames: ['component', 'state'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [component, c] of state.rollup().components) {
          for (const s of STATUSES) this.set({ component, state: s }, s === c.status ? 1 : 0);
        }
      },
    });
    new client.Gauge({
      name: 'vigil_component_impacted', help: 'A critical component this one depends on, directly or transitively.',
      labelNames: ['component', 'root_cause'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [component, c] of state.rollup().components) for (const root of c.impacted_by) this.set({ component, root_cause: root }, 1);
      },
    });
    new client.Gauge({
      name: 'vigil_component_dependency', help: 'The dependency map: component depends on depends_on. Always 1.',
      labelNames: ['component', 'depends_on'], registers: [this.registry],
      collect() {
        this.reset();
        for (const c of state.components()) for (const d of c.depends_on) this.set({ component: c.name, depends_on: d }, 1);
      },
    });
    new client.Gauge({
      name: 'vigil_overall_status', help: 'Overall status (worst of all components): 1 for the current state.',
      labelNames: ['state'], registers: [this.registry],
      collect() {
        const overall = state.rollup().status;
        for (const s of STATUSES) this.set({ state: s }, s === overall ? 1 : 0);
      },
    });
  }
}
