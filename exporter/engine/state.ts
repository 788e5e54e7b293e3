// The state store: latest result and bounded history per check. Everything downstream
// (/metrics, /health, the status page, SSE) reads from here; nothing here knows about them.
import { EventEmitter } from 'node:events';
import type { CheckCommon } from '../config/common.js';
import type { Component, VigilConfig } from '../config/schema.js';
import type { Violation } from '../health/evaluate.js';
import { rollup, type Rollup } from '../health/rollup.js';
import type { Status } from '../health/status.js';
import type { FailureReason, ProbeInfo, Sample } from '../probes/types.js';
import { HistoryRing } from './history.js';

/** One completed run of a check (after retries). */
export interface CheckResult {
  check: string;
  ok: boolean;
  reason?: FailureReason;
  /** Probe failure or threshold summary, secrets removed. */
  message?: string;
  status: Status;
  violations: Violation[];
  /** Seconds taken by the final attempt. */
  duration: number;
  samples: Sample[];
  info?: ProbeInfo;
  attempts: number;
  startedAt: number;
  finishedAt: number;
}

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
}

export interface StateEvents {
  result: [state: CheckState, previous: Status];
  config: [];
}

export class StateStore extends EventEmitter<StateEvents> {
  private checks = new Map<string, CheckState>();
  private componentList: Component[] = [];
  private historyPoints = 8640;
  private retentionMs = 86_400_000;
  private cachedRollup?: Rollup;
  readonly startedAt = Date.now();

  /** Apply a new config: keep the state of checks whose config is unchanged, reset changed ones, drop removed ones. */
  applyConfig(cfg: Pick<VigilConfig, 'checks' | 'components' | 'history'>, unchanged: Set<string>): void {
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
      });
    }
    this.checks = next;
    this.componentList = cfg.components;
    this.cachedRollup = undefined;
    this.emit('config');
  }

  record(result: CheckResult): void {
    const state = this.checks.get(result.check);
    if (!state) return; // removed by a reload while it ran
    const previous = state.status;
    state.last = result;
    state.runs++;
    if (result.ok) state.lastSuccess = result.finishedAt;
    else {
      state.lastFailure = result.finishedAt;
      state.failures[result.reason ?? 'error'] = (state.failures[result.reason ?? 'error'] ?? 0) + 1;
    }
    if (result.message) state.lastError = result.message;
    if (result.status !== previous) state.since = result.finishedAt;
    state.status = result.status;
    if (result.status !== previous) this.cachedRollup = undefined;
    state.history.push({ t: result.finishedAt, duration: result.duration, status: result.status });
    state.history.trim(result.finishedAt - this.retentionMs);
    this.emit('result', state, previous);
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

  /** Component and overall status; recomputed only after some check changed status. */
  rollup(): Rollup {
    return this.cachedRollup ??= rollup(this.componentList, this.list().map((s) => ({ name: s.config.name, component: s.config.component, status: s.status })));
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
