// The contract every probe module implements. blackbox_exporter's prober/ is the model:
// a probe does its protocol and returns data; the runner (engine/runner.ts) owns timeouts,
// retries, duration, probe_success and error containment.
import type { z } from 'zod';
import type { CheckCommon } from '../config/common.js';
import type { Logger } from '../log.js';

/** Why a run failed. A closed set, so it can be a metric label (never raw error text). */
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
  /** Extra labels of `metric` (declared in the probe's MetricSpec), e.g. {mount: '/'}. */
  labels?: Record<string, string>;
}

/** Info strings a probe wants to show (server version, resolved IP). Exported as *_info only if declared. */
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

export interface ProbeRunContext {
  /** Aborted when the check's timeout elapses or the exporter stops. */
  signal: AbortSignal;
  /** Epoch ms by which the run must finish. */
  deadline: number;
  attempt: number;
  log: Logger;
}

export interface Probe {
  run(ctx: ProbeRunContext): Promise<ProbeResult>;
  /** Release pooled connections etc. Called when the check is removed, changed or the exporter stops. */
  close?(): Promise<void> | void;
}

/** A metric family a probe type can emit. Every family also gets `check`, `component` and the check's own labels. */
export interface MetricSpec {
  name: string;
  help: string;
  labels?: string[];
  type?: 'gauge' | 'counter';
}

/** Services a probe may use (they flow into probes, never the other way). */
export interface ProbeEnv {
  log: Logger;
  /** Directory for durable probe state (heartbeats). */
  storagePath: string;
  /** Read-only access to shared input stores, keyed by name (e.g. 'heartbeats'). */
  stores: Record<string, unknown>;
}

/** What docs/probes.md says about a kind (docs/generate.ts writes its probe table from these). */
export interface ProbeDoc {
  /** What a check of this kind checks, one line. */
  what: string;
  /** Its threshold keys and their defaults, one line (`response_time` is implied for every kind). */
  thresholds: string;
}

export interface ProbeDefinition<C extends CheckCommon = any> {
  type: string;
  doc: ProbeDoc;
  /** Type-specific fields only; the common fields are merged in by config/schema.ts. Must be a z.object. */
  schema: z.ZodObject<any>;
  /** Every family this type can emit (static: docs/metrics.md is generated from it). */
  metrics: MetricSpec[];
  /** Threshold keys valid for this check (config rejects others). `response_time` is always valid. */
  thresholdKeys(check: C): string[];
  /** Default thresholds for this type, merged under the configured ones. */
  defaultThresholds?(check: C): Record<string, import('../config/common.js').Threshold>;
  /** Optional extra validation across fields; return problems as [path, message]. */
  validate?(check: C): Array<[Array<string | number>, string]>;
  create(check: C, env: ProbeEnv): Probe;
}
