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
  last?: CheckResult;
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
      next.set(check.name, {
        config: check,
        status: 'unknown',
        since: Date.now(),
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

/**
 * The latest result lives in one object per check: a run that reports the same series as the
 * previous one writes its numbers into the existing objects. A fresh result per run lives one
 * interval, long enough for V8 to promote it out of the young generation; at 1 000 runs/s that
 * was the main source of old-space growth in `npm run bench -- exporter`. The stored object is
 * never the one handed to a caller (a manual run's answer must not change under it).
 */
function keepLatest(last: CheckResult | undefined, r: CheckResult): CheckResult {
  // Copied field by field: a spread would give each check's kept result a hidden class of its
  // own (model/result.ts, withSamples).
  if (!last || !sameSeries(last.samples, r.samples)) return copyResult(r);
  for (let i = 0; i < r.samples.length; i++) last.samples[i].value = r.samples[i].value;
  last.ok = r.ok;
  last.reason = r.reason;
  last.message = r.message;
  last.status = r.status;
  last.violations = r.violations.length ? r.violations : NO_VIOLATIONS;
  last.duration = r.duration;
  last.info = r.info;
  last.attempts = r.attempts;
  last.startedAt = r.startedAt;
  last.finishedAt = r.finishedAt;
  return last;
}

function copyResult(r: CheckResult): CheckResult {
  const samples = r.samples.map((x): Sample => (x.labels ? { key: x.key, metric: x.metric, value: x.value, labels: x.labels } : { key: x.key, metric: x.metric, value: x.value }));
  return {
    check: r.check, ok: r.ok, reason: r.reason, message: r.message, status: r.status, violations: r.violations, duration: r.duration,
    samples, info: r.info, attempts: r.attempts, startedAt: r.startedAt, finishedAt: r.finishedAt,
  };
}

function sameSeries(a: Sample[], b: Sample[]): boolean {
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
