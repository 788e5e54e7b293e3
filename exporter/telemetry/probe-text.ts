// The answer to GET /probe: only that probe's series, in the 0.0.4 text format, families sorted
// by name as blackbox_exporter's registry gathers them. No check/component labels: Prometheus
// gives the series their identity (the target and module it scraped with).
import type { CheckResult } from '../model/result.js';
import { CHECK_FAMILIES, type MetricSpec } from '../model/metric.js';
import { formatSampleValue, renderLabels } from './check-series.js';

export function probeText(result: CheckResult, kindMetrics: readonly MetricSpec[]): string {
  const specs = new Map<string, MetricSpec>([...CHECK_FAMILIES, ...kindMetrics].map((m) => [m.name, m]));
  const families = new Map<string, string[]>();
  const add = (family: string, labels: Record<string, string> | undefined, value: number) => {
    let lines = families.get(family);
    if (!lines) families.set(family, (lines = []));
    const l = labels && Object.keys(labels).length ? `{${renderLabels(labels)}}` : '';
    lines.push(`${family}${l} ${formatSampleValue(value)}\n`);
  };
  add('probe_success', undefined, result.ok ? 1 : 0);
  for (const s of result.samples) add(s.metric, s.labels, s.value);
  let out = '';
  for (const name of [...families.keys()].sort()) {
    const spec = specs.get(name);
    out += `# HELP ${name} ${(spec?.help ?? name).replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${spec?.type ?? 'gauge'}\n`;
    out += families.get(name)!.join('');
  }
  return out;
}
