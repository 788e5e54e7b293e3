// prom-client's default Node.js families (process_*, nodejs_*) for the exporter's own /metrics,
// with one change. prom-client declares nodejs_active_{handles,requests,resources}_total as
// gauges, and a gauge must not end in _total: `promtool check metrics` exits 3 on them, which
// fails an unfiltered CI gate. Dashboards (Grafana 11159 and its copies) query these names, so
// they stay, served as `untyped`, the text format's "type not stated" (promtool accepts it,
// PromQL reads it like a gauge). The typed per-type gauges nodejs_active_handles{type}, ...
// carry the same figures.
import client from 'prom-client';

export const UNTYPED_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

interface MetricLike {
  name: string;
  help: string;
  get(): Promise<{ type: string } & Record<string, unknown>>;
}

export function registerNodeDefaults(registry: client.Registry): void {
  client.collectDefaultMetrics({ register: registry });
  for (const name of UNTYPED_TOTALS) {
    const gauge = registry.getSingleMetric(name) as unknown as MetricLike | undefined;
    if (!gauge) continue; // not every Node version has all three
    registry.removeSingleMetric(name);
    const alias: MetricLike = {
      name,
      help: gauge.help,
      get: async () => ({ ...(await gauge.get()), type: 'untyped' }),
    };
    registry.registerMetric(alias as unknown as client.Metric);
  }
}
