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
  /** How a GET /probe target fills a check of this kind; kinds without one cannot be a module. */
  target?: KindTarget;
  /**
   * What the check probes, as blackbox's target would name it (a URL, host:port), with
   * credentials removed: vigil_check_info's `target` label.
   */
  targetOf?(check: C): string;
}

/** A /probe target as a kind reads it. */
export interface ParsedTarget {
  /** The check fields the target sets (http: `url`). */
  fields: Record<string, unknown>;
  /** Host and port it reaches, for the allow-list. */
  host: string;
  port?: number;
}

export interface KindTarget {
  /** The keys a target sets, which a module may not set itself. */
  keys: string[];
  /** A target that stands in while a module is validated at load. */
  example: string;
  /** The target read, or what is wrong with it. */
  parse(target: string): ParsedTarget | string;
}

/** `host:port` or `[v6]:port` (port required unless `defaultPort`), for kinds whose target is an address. */
export function hostPortTarget(target: string, defaultPort?: number): { host: string; port: number } | string {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(target) ?? /^([^:\[\]/\s]+)(?::(\d+))?$/.exec(target);
  if (!m) return 'expected host:port';
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port === undefined) return 'expected host:port (the port is required)';
  if (!(port >= 1 && port <= 65535)) return 'port must be 1-65535';
  return { host: m[1], port };
}

/** Labels every check series may carry from outside its families: its identity and Prometheus' target labels. */
const IDENTITY_LABELS = ['check', 'component', 'job', 'instance', 'location'];
// `exporter` is where the shipped vigil-probes scrape job keeps the exporter's address once it
// has set `instance` to the check (prometheus/prometheus.yml).
const VIEW_LABELS = ['exporter'];

/**
 * Label names a check's own `labels` may not use, each with the family that uses it: a
 * configured label of the same name would be written twice in one series.
 */
export function reservedLabels(kinds: readonly CheckKind[]): Map<string, string> {
  const out = new Map<string, string>(IDENTITY_LABELS.map((l) => [l, 'every check series']));
  for (const l of VIEW_LABELS) out.set(l, 'the vigil-probes scrape job of the shipped prometheus.yml');
  for (const spec of [...CHECK_FAMILIES, ...kinds.flatMap((k) => k.metrics)]) {
    for (const l of spec.labels ?? []) if (!out.has(l)) out.set(l, spec.name);
  }
  return out;
}
