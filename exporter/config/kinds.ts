// What the loader needs from a check kind: its own fields, its threshold keys and defaults, its
// extra validation, and the labels its metric families use. The kinds live above config, in
// probes/ (they use config's field types), so the loader never imports them: whoever loads a
// config hands it the list (runtime.ts passes probes/index.ts's), and data flows one way.
import type { z } from 'zod';
import type { CheckCommon, Threshold } from '../model/check.js';
import { CHECK_FAMILIES, type MetricSpec } from '../model/metric.js';

/** A problem found by a kind's own validation: the key path under the check, and what is wrong. */
export type KindProblem = [Array<string | number>, string];

export interface CheckKind<C extends CheckCommon = any> {
  type: string;
  /** Type-specific fields only; the common fields are merged in by the loader. Must be a z.object. */
  schema: z.ZodObject<any>;
  /** Every family this kind can emit, with its labels (static: docs and reserved labels come from it). */
  metrics: MetricSpec[];
  /** Threshold keys valid for this check (config rejects others). `response_time` is always valid. */
  thresholdKeys(check: C): string[];
  /** Default thresholds for this kind, merged under the configured ones. */
  defaultThresholds?(check: C): Record<string, Threshold>;
  /** Optional extra validation across fields; return problems as [path, message]. */
  validate?(check: C): KindProblem[];
}

/** Labels every check series may carry from outside its families: its identity and Prometheus' target labels. */
const IDENTITY_LABELS = ['check', 'component', 'job', 'instance'];

/**
 * Label names a check's own `labels` may not use, each with the family that uses it: a
 * configured label of the same name would be written twice in one series.
 */
export function reservedLabels(kinds: readonly CheckKind[]): Map<string, string> {
  const out = new Map<string, string>(IDENTITY_LABELS.map((l) => [l, 'every check series']));
  for (const spec of [...CHECK_FAMILIES, ...kinds.flatMap((k) => k.metrics)]) {
    for (const l of spec.labels ?? []) if (!out.has(l)) out.set(l, spec.name);
  }
  return out;
}
