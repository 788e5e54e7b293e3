// Metric families for checks, components and the exporter itself. Check series are rows whose
// lines are updated when a result lands in the state store (check-series.ts), so a scrape only
// concatenates;
// component and overall status are rolled up in collect() at scrape time (pure, no I/O); the
// exporter's own families live in an explicit prom-client registry.
import client from 'prom-client';
import type { CheckCommon } from '../model/check.js';
import type { VigilConfig } from '../config/schema.js';
import type { CheckState, StateStore } from '../engine/state.js';
import { STATUSES, type Status } from '../model/status.js';
import { allProbeDefinitions, getProbeDefinition } from '../probes/index.js';
import { FAILURE_REASONS, type FailureReason } from '../model/result.js';
import { CHECK_FAMILIES, type MetricSpec } from '../model/metric.js';
import { VERSION, REVISION } from '../version.js';
import { CheckSeries, renderLabels } from './check-series.js';
import { serves, type SeriesSet } from './series-sets.js';
import { registerNodeDefaults } from './node-defaults.js';
import type { TextBody } from './text-body.js';

/** What a check's rows need that only changes with its config, rendered once. */
interface CheckMeta {
  config: CheckCommon;
  base: string;
  info: string;
  /** sample key -> its threshold rows ([label suffix, level] per configured severity); made at the first threshold (most checks have none: an empty Map is ~0.3 KB). */
  thresholds?: Map<string, { rows: Array<[string, number]>; written: number }>;
  /** Renders of this check so far: a key's threshold rows are written once per render. */
  renders: number;
}

const STATE_LABELS = Object.fromEntries(STATUSES.map((s) => [s, `,state="${s}"`])) as Record<Status, string>;
const REASON_LABELS = Object.fromEntries(FAILURE_REASONS.map((r) => [r, `,reason="${r}"`])) as Record<FailureReason, string>;

// Probes that reuse one labels object per series (http phases) render it once.
const labelCache = new WeakMap<Record<string, string>, string>();
function sampleLabels(labels: Record<string, string>): string {
  let text = labelCache.get(labels);
  if (text === undefined) {
    text = `,${renderLabels(labels)}`;
    if (Object.isFrozen(labels)) labelCache.set(labels, text);
  }
  return text;
}


const EXPORTER_FAMILIES = [
  'vigil_component_status', 'vigil_component_impacted', 'vigil_component_dependency', 'vigil_overall_status',
  'vigil_build_info', 'vigil_exporter_shard_info', 'vigil_config_last_reload_successful', 'vigil_config_last_reload_success_timestamp_seconds',
  'vigil_alert_notifications_received_total', // registered by alerts/receiver.ts into Metrics.registry
  'vigil_storage_write_errors_total', // registered by engine/storage-dir.ts into Metrics.registry
  'vigil_storage_bytes', 'vigil_storage_last_successful_write_timestamp_seconds', // record/metrics.ts, same
  'vigil_maintenance_active', 'vigil_acknowledged', // maintenance/manager.ts, same
];

/** Every family Vigil's own code can serve (docs/metrics.md is generated from these). */
export function allFamilyNames(): string[] {
  const names = new Set([...CHECK_FAMILIES.map((m) => m.name), ...EXPORTER_FAMILIES]);
  for (const def of allProbeDefinitions()) for (const m of def.metrics) names.add(m.name);
  return [...names].sort();
}

/** The check's target, credentials removed (blackbox's `instance` for the same probe); none for kinds that probe no target. */
function targetLabel(check: CheckCommon): { target?: string } {
  const target = getProbeDefinition(check.type)?.targetOf?.(check);
  return target ? { target } : {};
}

export class Metrics {
  /** The exporter's own families; other modules may register theirs here (never check series). */
  readonly registry = new client.Registry();
  private series = new CheckSeries();
  private checkMeta = new Map<string, CheckMeta>();
  /** The series set and families the rows were laid out for (a reload that keeps them keeps the rows). */
  private layout = '';
  private seriesSet: SeriesSet = 'full';
  private reloadOk: client.Gauge<string>;
  private reloadTime: client.Gauge<string>;
  private shardInfo: client.Gauge<string>;
  /** --location: a label on every series served, so instances in several places stay apart. */
  private location?: string;

  constructor(private state: StateStore) {
    registerNodeDefaults(this.registry);
    new client.Gauge({
      name: 'vigil_build_info', help: 'Vigil build: always 1.', labelNames: ['version', 'revision', 'nodejs'], registers: [this.registry],
    }).set({ version: VERSION, revision: REVISION, nodejs: process.version }, 1);
    this.shardInfo = new client.Gauge({
      name: 'vigil_exporter_shard_info', help: 'The share of the configured checks this instance runs (--shard.index of --shard.count); always 1.',
      labelNames: ['shard_index', 'shard_count'], registers: [this.registry],
    });
    this.setShard(0, 1);
    this.reloadOk = new client.Gauge({ name: 'vigil_config_last_reload_successful', help: 'Whether the last configuration load succeeded.', registers: [this.registry] });
    this.reloadTime = new client.Gauge({ name: 'vigil_config_last_reload_success_timestamp_seconds', help: 'When the configuration was last loaded successfully.', registers: [this.registry] });
    this.registerRollupFamilies();
    state.on('result', (s) => this.render(s));
  }

  /**
   * Label every series with `location` (before the first config is applied): the registry's
   * families through its default labels, the check rows through their base labels.
   */
  setLocation(location: string | undefined): void {
    this.location = location;
    if (location) this.registry.setDefaultLabels({ location });
  }

  /**
   * Which share of the config this instance runs: the rules tell a covered exporter (its HA
   * twin, same location and shard, is up) from one whose checks nobody runs (rules/meta.yml).
   */
  setShard(index: number, count: number): void {
    this.shardInfo.reset();
    this.shardInfo.set({ shard_index: String(index), shard_count: String(count) }, 1);
  }

  configReloaded(ok: boolean): void {
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) this.reloadTime.set(Date.now() / 1000);
  }

  /**
   * Declare the families the configured check types use and render the checks from their state.
   * `unchanged` (checks whose config and state the reload kept): while the families stay the
   * same, their rows stay as they are and only the other checks are rendered again — a reload
   * that changes one check of 10 000 re-rendered all of them.
   */
  applyConfig(cfg: Pick<VigilConfig, 'checks'> & { metrics?: Pick<VigilConfig['metrics'], 'series'> }, unchanged: ReadonlySet<string> = new Set()): void {
    const set: SeriesSet = cfg.metrics?.series ?? 'full';
    const specs = new Map<string, MetricSpec>(CHECK_FAMILIES.map((m) => [m.name, m]));
    for (const type of new Set(cfg.checks.map((c) => c.type))) {
      for (const m of getProbeDefinition(type)?.metrics ?? []) if (serves(set, m.name)) specs.set(m.name, m);
    }
    const layout = `${set} ${[...specs.keys()].join(' ')}`;
    const keep = layout === this.layout;
    this.layout = layout;
    this.seriesSet = set;
    if (!keep) {
      this.series.reset([...specs.values()]);
      this.checkMeta.clear();
    }
    const configured = new Set<string>();
    for (const s of this.state.list()) {
      const name = s.config.name;
      configured.add(name);
      const meta = this.checkMeta.get(name);
      // A kept check's config is a new object with the same content: its rendered labels hold.
      if (keep && meta && unchanged.has(name)) meta.config = s.config;
      else this.render(s);
    }
    for (const name of [...this.checkMeta.keys()]) {
      if (configured.has(name)) continue;
      this.checkMeta.delete(name);
      this.series.remove(name);
    }
  }

  /** The exporter's families, then every check's series, appended to a response body in chunks. */
  async writeTo(body: TextBody): Promise<void> {
    body.append(await this.registry.metrics());
    this.series.renderTo(body);
  }

  private meta(check: CheckCommon): CheckMeta {
    let m = this.checkMeta.get(check.name);
    if (m?.config !== check) {
      m = {
        config: check,
        base: renderLabels({ check: check.name, component: check.component, ...(this.location ? { location: this.location } : {}), ...check.labels }),
        info: `,${renderLabels({ type: check.type, interval_seconds: String(check.interval / 1000), ...targetLabel(check) })}`,
        renders: 0,
      };
      this.checkMeta.set(check.name, m);
    }
    return m;
  }

  /** All series of one check, from its state alone (so counters survive a reload of unchanged checks). */
  private render(s: CheckState): void {
    const check = s.config;
    const meta = this.meta(check);
    const r = s.last;
    const render = ++meta.renders;
    this.series.update(check.name, meta.base, (w) => {
      w.set('vigil_check_info', meta.info, 1);
      w.set('vigil_check_interval_seconds', '', check.interval / 1000);
      // Only where locations exist: the quorum rule reads it (rules/vigil-checks.yml).
      if (this.location) w.set('vigil_check_quorum', '', check.quorum ?? 1);
      for (const state of STATUSES) w.set('vigil_check_status', STATE_LABELS[state], state === s.status ? 1 : 0);
      w.set('vigil_check_runs_total', '', s.runs);
      for (const reason in s.failures) w.set('vigil_check_failures_total', REASON_LABELS[reason as FailureReason], s.failures[reason as FailureReason]!);
      if (!r) return;
      w.set('probe_success', '', r.ok ? 1 : 0);
      w.set('vigil_check_last_run_timestamp_seconds', '', r.finishedAt / 1000);
      if (s.lastSuccess) w.set('vigil_check_last_success_timestamp_seconds', '', s.lastSuccess / 1000);
      const lean = this.seriesSet === 'lean';
      const { series, values } = r;
      for (let i = 0; i < series.length; i++) {
        const sample = series[i];
        if (lean && !serves('lean', sample.metric)) continue;
        w.set(sample.metric, sample.labels ? sampleLabels(sample.labels) : '', values[i]);
        const t = check.thresholds[sample.key];
        if (!t) continue;
        // Labels rendered once per check and key; a key with several samples (disk per mount)
        // writes its rows once.
        meta.thresholds ??= new Map();
        let th = meta.thresholds.get(sample.key);
        if (!th) {
          th = { rows: [], written: 0 };
          for (const severity of ['warning', 'critical'] as const) {
            const level = t[severity];
            if (level !== undefined) th.rows.push([`,${renderLabels({ key: sample.key, metric: sample.metric, severity, direction: t.direction })}`, level]);
          }
          meta.thresholds.set(sample.key, th);
        }
        if (th.written === render) continue;
        th.written = render;
        for (const [labels, level] of th.rows) w.set('vigil_check_threshold', labels, level);
      }
    });
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
