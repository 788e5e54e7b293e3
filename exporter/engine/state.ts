// The state store: latest result and bounded history per check. Everything downstream
// (/metrics, /health, the status page, SSE) reads from here; nothing here knows about them.
import { EventEmitter } from 'node:events';
import type { CheckCommon } from '../model/check.js';
import type { Component, VigilConfig } from '../config/schema.js';
import type { Rollup } from '../health/rollup.js';
import { LiveRollup } from '../health/live-rollup.js';
import type { Status } from '../model/status.js';
import type { CheckResult, FailureReason, Sample, Violation } from '../model/result.js';
import { HistoryRing, type HistoryPoint, type RestoredMinute } from './history.js';

export interface CheckState {
  config: CheckCommon;
  status: Status;
  /** When the status last changed (epoch ms). */
  since: number;
  last?: KeptResult;
  lastSuccess?: number;
  lastFailure?: number;
  lastError?: string;
  runs: number;
  failures: Partial<Record<FailureReason, number>>;
  history: HistoryRing;
  /**
   * No run has completed for longer than lateAfterMs(config): the check is queued or wedged.
   * A late healthy check shows `unknown` (its old "healthy" is no longer evidence); a failing one
   * keeps its status, so an alert on it does not resolve because the checks stopped.
   */
  late: boolean;
}

/**
 * How long after its last completed run a check counts as late: two intervals plus the longest
 * a run may take (every attempt timing out, with the retry delays between them).
 */
export function lateAfterMs(c: Pick<CheckCommon, 'interval' | 'timeout' | 'retries' | 'retry_delay'>): number {
  return 2 * c.interval + (c.retries + 1) * c.timeout + c.retries * c.retry_delay;
}

export interface StateEvents {
  result: [state: CheckState, previous: Status];
  config: [];
}

export class StateStore extends EventEmitter<StateEvents> {
  private checks = new Map<string, CheckState>();
  private componentList: Component[] = [];
  // The config's history section (its schema holds the defaults), set by applyConfig().
  private historyPoints = 0;
  private retentionMs = 0;
  private live = new LiveRollup(() => this.list().map((s) => ({ name: s.config.name, component: s.config.component, status: s.status })));
  readonly startedAt = Date.now();

  /** Apply a new config: keep the state of checks whose config is unchanged, reset changed ones, drop removed ones. */
  applyConfig(cfg: Pick<VigilConfig, 'checks' | 'components'> & { history: Pick<VigilConfig['history'], 'retention' | 'max_points'> }, unchanged: Set<string>): void {
    this.historyPoints = cfg.history.max_points;
    this.retentionMs = cfg.history.retention;
    const next = new Map<string, CheckState>();
    for (const check of cfg.checks) {
      const old = this.checks.get(check.name);
      if (old && unchanged.has(check.name)) {
        old.config = check;
        next.set(check.name, old);
        continue;
      }
      // Every field from the start: one added later goes to a property array of its own (per check).
      next.set(check.name, {
        config: check,
        status: 'unknown',
        since: Date.now(),
        last: undefined,
        lastSuccess: undefined,
        lastFailure: undefined,
        lastError: undefined,
        runs: 0,
        failures: {},
        history: new HistoryRing(this.capacityFor(check)),
        late: false,
      });
    }
    this.checks = next;
    this.componentList = cfg.components;
    this.live.configure(cfg.components);
    this.emit('config');
  }

  record(result: CheckResult): void {
    const state = this.checks.get(result.check);
    if (!state) return; // removed by a reload while it ran
    const previous = state.status;
    state.last = keepLatest(state.last, result);
    state.late = false;
    state.runs++;
    if (result.ok) state.lastSuccess = result.finishedAt;
    else {
      state.lastFailure = result.finishedAt;
      state.failures[result.reason ?? 'error'] = (state.failures[result.reason ?? 'error'] ?? 0) + 1;
    }
    if (result.message) state.lastError = result.message;
    if (result.status !== previous) state.since = result.finishedAt;
    state.status = result.status;
    this.live.change(state.config.component, previous, result.status);
    state.history.push({ t: result.finishedAt, duration: result.duration, status: result.status });
    state.history.trim(result.finishedAt - this.retentionMs);
    this.emit('result', state, previous);
  }

  /**
   * Put back what the durable record remembers of a check from before a restart: its status and
   * since when, its last error and its recent history. Only for a check that has not run since
   * (a result is newer than anything restored), so the first run after a restart that finds the
   * same status is no change. `runs` stays 0: /-/ready still waits for a real run.
   */
  restore(name: string, r: Pick<CheckState, 'status' | 'since' | 'lastError' | 'lastSuccess' | 'lastFailure'> & { points: HistoryPoint[]; minutes?: RestoredMinute[] }): void {
    const state = this.checks.get(name);
    if (!state || state.runs > 0 || state.last) return;
    this.live.change(state.config.component, state.status, r.status);
    state.status = r.status;
    state.since = r.since;
    state.lastError = r.lastError;
    state.lastSuccess = r.lastSuccess;
    state.lastFailure = r.lastFailure;
    // The bar's minutes from the record's minute rollups, when given (they count the points too).
    for (const [m, worst, runs, up] of r.minutes ?? []) state.history.minutes.addMinute(m, worst, runs, up);
    for (const p of r.points) state.history.push(p, r.minutes === undefined);
    state.history.trim(Date.now() - this.retentionMs);
  }

  /** Flag checks whose last run is older than lateAfterMs (called every second by the scheduler). */
  markLate(now: number): void {
    for (const state of this.checks.values()) {
      if (state.late || !state.last || !state.config.enabled) continue;
      if (now - state.last.finishedAt <= lateAfterMs(state.config)) continue;
      const previous = state.status;
      state.late = true;
      if (previous === 'healthy') {
        state.status = 'unknown';
        state.since = now;
        this.live.change(state.config.component, previous, 'unknown');
      }
      // Same event as a run: /metrics, /health and the page's SSE all re-read the check.
      this.emit('result', state, previous);
    }
  }

  get(name: string): CheckState | undefined {
    return this.checks.get(name);
  }

  list(): CheckState[] {
    return [...this.checks.values()];
  }

  components(): Component[] {
    return this.componentList;
  }

  /** Component and overall status, kept current as checks change (see live-rollup.ts). */
  rollup(): Rollup {
    return this.live.get();
  }

  historyBytes(): number {
    let total = 0;
    for (const s of this.checks.values()) total += s.history.bytes();
    return total;
  }

  private capacityFor(check: CheckCommon): number {
    return Math.max(10, Math.min(this.historyPoints, Math.ceil(this.retentionMs / check.interval)));
  }
}

const NO_VIOLATIONS: Violation[] = [];

/** What stays the same of a sample from run to run: its key, family and labels. */
export type SampleSeries = Omit<Sample, 'value'>;

/**
 * A check's latest result as kept: the run's fields, and its samples as two parts — the list of
 * series, one list shared by every check whose results carry the same series (an http check's 13,
 * say), and the check's own values, one array of doubles. A result kept as it came held 13
 * sample objects, each value boxed in a heap number of its own: ~1 KB a check, 10 MB of the heap
 * at 10 000 checks (heap snapshot). `samples` builds the objects for a reader that wants them
 * (/health, the status page); the per-run path (/metrics) reads `series` and `values`.
 */
export class KeptResult implements CheckResult {
  readonly check: string;
  ok!: boolean;
  reason?: CheckResult['reason'];
  message?: string;
  status!: Status;
  violations!: Violation[];
  duration!: number;
  info?: CheckResult['info'];
  attempts!: number;
  startedAt!: number;
  finishedAt!: number;

  constructor(r: CheckResult, readonly series: readonly SampleSeries[], readonly values: number[]) {
    this.check = r.check;
    this.take(r);
  }

  /** A run's own fields (its values go into `values` apart). */
  take(r: CheckResult): void {
    this.ok = r.ok;
    this.reason = r.reason;
    this.message = r.message;
    this.status = r.status;
    this.violations = r.violations.length ? r.violations : NO_VIOLATIONS;
    this.duration = r.duration;
    this.info = r.info;
    this.attempts = r.attempts;
    this.startedAt = r.startedAt;
    this.finishedAt = r.finishedAt;
  }

  /** The samples as objects, made anew on each read (a copy: the kept values change with each run). */
  get samples(): Sample[] {
    return this.series.map((x, i): Sample => (x.labels
      ? { key: x.key, metric: x.metric, value: this.values[i], labels: x.labels }
      : { key: x.key, metric: x.metric, value: this.values[i] }));
  }
}

/**
 * Series lists by their text, so checks of one shape share one list. Bounded: past the cap it
 * starts over (lists already kept stay valid; only the sharing is lost for a while).
 */
const seriesLists = new Map<string, readonly SampleSeries[]>();
const MAX_SERIES_LISTS = 4096;

function sharedSeries(samples: readonly Sample[]): readonly SampleSeries[] {
  let text = '';
  for (const x of samples) text += `${x.key}\u0000${x.metric}\u0000${x.labels ? JSON.stringify(x.labels) : ''}\u0001`;
  let list = seriesLists.get(text);
  if (!list) {
    if (seriesLists.size >= MAX_SERIES_LISTS) seriesLists.clear();
    list = Object.freeze(samples.map((x): SampleSeries => (x.labels
      ? { key: x.key, metric: x.metric, labels: Object.freeze({ ...x.labels }) }
      : { key: x.key, metric: x.metric })));
    seriesLists.set(text, list);
  }
  return list;
}

/**
 * The latest result lives in one object per check: a run that reports the same series as the
 * previous one writes its numbers into the existing object. A fresh result per run lives one
 * interval, long enough for V8 to promote it out of the young generation; at 1 000 runs/s that
 * was the main source of old-space growth in `npm run bench -- exporter`. The stored object is
 * never the one handed to a caller (a manual run's answer must not change under it).
 */
function keepLatest(last: KeptResult | undefined, r: CheckResult): KeptResult {
  if (!last || !sameSeries(last.series, r.samples)) return new KeptResult(r, sharedSeries(r.samples), r.samples.map((x) => x.value));
  const values = last.values;
  for (let i = 0; i < r.samples.length; i++) values[i] = r.samples[i].value;
  last.take(r);
  return last;
}

function sameSeries(a: readonly SampleSeries[], b: readonly Sample[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x.key !== y.key || x.metric !== y.metric || !sameLabels(x.labels, y.labels)) return false;
  }
  return true;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}
