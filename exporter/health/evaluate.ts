// Thresholds -> status. Pure: a probe result and the check's thresholds in, a verdict out.
import type { Threshold } from '../model/check.js';
import type { FailureReason, Sample, Violation } from '../model/result.js';
import type { Status } from '../model/status.js';
import { formatValue } from '../model/units.js';

export interface Verdict {
  status: Status;
  violations: Violation[];
}

export interface EvaluateInput {
  ok: boolean;
  reason?: FailureReason;
  samples: Sample[];
}

export function evaluate(result: EvaluateInput, thresholds: Record<string, Threshold>, onFailure: 'critical' | 'degraded' = 'critical'): Verdict {
  const violations: Violation[] = [];
  for (const sample of result.samples) {
    const t = thresholds[sample.key];
    if (!t) continue;
    const v = check(sample, t, 'critical') ?? check(sample, t, 'warning');
    if (v) violations.push(v);
  }
  let status: Status = 'healthy';
  if (violations.some((v) => v.severity === 'warning')) status = 'degraded';
  if (violations.some((v) => v.severity === 'critical')) status = 'critical';
  if (!result.ok) status = onFailure === 'critical' || status === 'critical' ? 'critical' : 'degraded';
  return { status, violations };
}

function check(sample: Sample, t: Threshold, severity: 'warning' | 'critical'): Violation | undefined {
  const level = t[severity];
  if (level === undefined || !Number.isFinite(sample.value)) return undefined;
  const breached = t.direction === 'above' ? sample.value > level : sample.value < level;
  if (!breached) return undefined;
  const where = sample.labels ? ` ${Object.values(sample.labels).join(',')}` : '';
  const op = t.direction === 'above' ? '>' : '<';
  return {
    key: sample.key, severity, value: sample.value, level, direction: t.direction, labels: sample.labels,
    message: `${sample.key}${where} ${formatValue(sample.metric, sample.value)} ${op} ${severity} ${formatValue(sample.metric, level)}`,
  };
}

/** The message shown as last_error: the probe's own failure, else the worst threshold breach. */
export function summarize(message: string | undefined, violations: Violation[]): string | undefined {
  if (message) return message;
  const worstFirst = [...violations].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  return worstFirst.length ? worstFirst.map((v) => v.message).join('; ') : undefined;
}
