// The events of the record: every status change of a check or a component, and the operator's
// actions, one row each in `events` told apart by `kind`. A status change carries the values
// that caused it (the run's samples and the thresholds they crossed), so the record answers
// "what did it see" and not only "what did it say".
import type { CheckResult } from '../model/result.js';
import type { Status } from '../model/status.js';
import type { Rollup } from '../health/rollup.js';
import type { Statement } from '../db/sql.js';

/**
 * What an event is about. check_status and component_status are status changes; the others are
 * operator actions (acknowledgement and maintenance are written by the issues that add them).
 */
export const EVENT_KINDS = ['check_status', 'component_status', 'reload', 'manual_run', 'test_alert', 'acknowledgement', 'maintenance'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export const STATUS_KINDS: readonly EventKind[] = ['check_status', 'component_status'];

export interface RecordEvent {
  t: number;
  kind: EventKind;
  /** The check (check_status, manual_run). */
  check?: string;
  /** The check's component (check_status), or the component itself (component_status). */
  component?: string;
  from?: Status;
  to?: Status;
  /** A failure reason (FailureReason), 'late', or an action's outcome ('ok', 'failed'). */
  reason?: string;
  message?: string;
  /** Values behind the event (samples and violations; an action's details), JSON-encoded when written. */
  data?: unknown;
  /** Who acted (an action): the route and client address, or the signal. */
  actor?: string;
}

/** Samples kept in one event's values: a system check reports a few dozen, the first ones say enough. */
const MAX_SAMPLES = 20;
/** An event's encoded values at most (bytes of JSON); larger values keep only their violations. */
const MAX_DATA_CHARS = 4096;

/** The numbers a result saw: its samples and the thresholds they crossed. */
export function resultValues(r: CheckResult): unknown {
  return {
    samples: r.samples.slice(0, MAX_SAMPLES).map((s) => (s.labels ? { key: s.key, value: s.value, labels: s.labels } : { key: s.key, value: s.value })),
    ...(r.samples.length > MAX_SAMPLES ? { samples_omitted: r.samples.length - MAX_SAMPLES } : {}),
    violations: r.violations.map((v) => ({ key: v.key, severity: v.severity, value: v.value, level: v.level, direction: v.direction, ...(v.labels ? { labels: v.labels } : {}) })),
    duration_seconds: r.duration,
    attempts: r.attempts,
  };
}

export function encodeData(data: unknown): string | null {
  if (data === undefined || data === null) return null;
  const text = JSON.stringify(data);
  if (text.length <= MAX_DATA_CHARS) return text;
  const d = data as { violations?: unknown };
  const small = JSON.stringify({ truncated: true, ...(d.violations ? { violations: d.violations } : {}) });
  return small.length <= MAX_DATA_CHARS ? small : JSON.stringify({ truncated: true });
}

/** The INSERT of one event; `checkId` numbers its check (null for none). */
export function eventInsert(e: RecordEvent, checkId: number | null): Statement {
  return {
    sql: 'INSERT INTO events (t, kind, check_id, component, from_status, to_status, reason, message, data, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    params: [e.t, e.kind, checkId, e.component ?? null, e.from ?? null, e.to ?? null, e.reason ?? null, e.message ?? null, encodeData(e.data), e.actor ?? null],
  };
}

/**
 * Components' status changes, found by comparing the rollup after a check's change with the one
 * before. `reset` takes the current statuses as the baseline without events: after the restore
 * at start (the restored statuses are no change) and after a reload.
 */
export class ComponentWatch {
  private last = new Map<string, Status>();

  reset(r: Rollup): void {
    this.last = new Map([...r.components].map(([name, c]) => [name, c.status]));
  }

  /**
   * The component event a check's change makes against the baseline (which it then becomes).
   * A component's status is the worst of its own checks' (health/rollup.ts): only the check's
   * own component can have moved, so one lookup, not a pass over every component (10 000
   * first results at start-up made that 10^8 steps).
   */
  changes(r: Rollup, t: number, cause: { check: string; component: string; status: Status; reason?: string }): RecordEvent[] {
    const c = r.components.get(cause.component);
    if (!c) return [];
    const from = this.last.get(cause.component) ?? 'unknown';
    if (from === c.status) return [];
    this.last.set(cause.component, c.status);
    return [{
      t, kind: 'component_status', component: cause.component, from, to: c.status, reason: cause.reason,
      message: `check ${cause.check} is ${cause.status}`,
      data: { checks: c.checks, ...(c.impacted_by.length ? { impacted_by: c.impacted_by } : {}) },
    }];
  }
}
