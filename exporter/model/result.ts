// What a probe run produces, and what a completed run of a check is after retries and
// thresholds: the values every layer above passes along.
import type { Status } from './status.js';

/**
 * Why a run failed. A closed vocabulary, so it can be a metric label (never raw error text);
 * each kind declares which of these it gives (ProbeDefinition.reasons).
 */
export const FAILURE_REASONS = [
  'dns', 'connect', 'tls', 'timeout', 'status', 'assertion', 'protocol', 'auth',
  'threshold', 'missing', 'invalid_result', 'error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** One measured number. `key` is what thresholds and /health use; `metric` the exported family. */
export interface Sample {
  key: string;
  metric: string;
  value: number;
  /** Extra labels of `metric` (declared in the kind's MetricSpec), e.g. {mount: '/'}. */
  labels?: Record<string, string>;
}

/** Info strings a probe wants to show (server version, resolved IP). */
export type ProbeInfo = Record<string, string>;

export interface ProbeResult {
  ok: boolean;
  /** Set when ok is false. */
  reason?: FailureReason;
  /** Human-readable, already redacted of secrets; shown as last_error. */
  message?: string;
  samples: Sample[];
  info?: ProbeInfo;
}

/**
 * A probe's outcome with its samples, written out field by field. Not `{ ...result, samples }`:
 * Node 20's V8 gives the copy of a spread whose source shapes vary (a passed run, a failed one)
 * a hidden class of its own, one per call — at 1 000 runs/s that was ~1 000 maps a second
 * allocated in old space and left for the full collector (seen with %HaveSameMap).
 */
export function withSamples(result: Omit<ProbeResult, 'samples'>, samples: Sample[]): ProbeResult {
  return { ok: result.ok, reason: result.reason, message: result.message, samples, info: result.info };
}

/** A threshold a sample crossed. */
export interface Violation {
  key: string;
  severity: 'warning' | 'critical';
  value: number;
  level: number;
  direction: 'above' | 'below';
  labels?: Record<string, string>;
  message: string;
}

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
