// The exporter's own OpenTelemetry SDK. Its metrics are served on the same /metrics as the
// prom-client registry, serialised as 0.0.4 text without target_info or otel_scope_* labels,
// and with names that no prom-client family uses (a duplicate family is silently mis-ingested).
//
// The SDK's MeterProvider is set up directly rather than through @opentelemetry/sdk-node's
// NodeSDK: the exporter wants metrics only (no traces, logs, resource detection or
// instrumentations), and importing sdk-node loads every trace/log exporter and the
// declarative-config validator with it — 3.6 MB of heap, ~5 MB of RSS under the benchmark.
// Apps instrumented with vigil/instrument still get NodeSDK in full mode.
import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { VERSION } from '../version.js';

export interface SelfTelemetry {
  requestDuration: Histogram;
  /** Requests refused for missing or wrong credentials, by `kind` (basic, status_page, admin, webhook, heartbeat). */
  authFailures: Counter;
  /** Requests answered 429 while their client was in failed-auth back-off. */
  authThrottled: Counter;
  /** Connections closed because --web.max-connections was reached. */
  connectionsDropped: Counter;
  serialize(): Promise<string>;
  shutdown(): Promise<void>;
}

export function startSelfTelemetry(opts: { inFlight: () => number; queued: () => number }): SelfTelemetry {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'vigil', 'service.version': VERSION }),
    readers: [exporter],
  });
  // Global for libraries that look it up; our own instruments come from this provider, so a
  // second SDK in the process (tests) cannot hand them to a provider that was shut down.
  metrics.setGlobalMeterProvider(provider);
  const meter = provider.getMeter('vigil');
  const requestDuration = meter.createHistogram('vigil_http_server_request_duration_seconds', {
    description: 'Requests served by the Vigil exporter.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] },
  });
  meter.createObservableGauge('vigil_scheduler_runs_in_flight', { description: 'Check runs executing now.' })
    .addCallback((r) => r.observe(opts.inFlight()));
  meter.createObservableGauge('vigil_scheduler_runs_queued', { description: 'Check runs waiting for a concurrency slot.' })
    .addCallback((r) => r.observe(opts.queued()));
  // Created at 0 (each kind) so rate() and increase() see the first failure.
  const authFailures = meter.createCounter('vigil_http_auth_failures', { description: 'Requests refused for missing or wrong credentials, by kind.' });
  for (const kind of ['basic', 'status_page', 'admin', 'webhook', 'heartbeat']) authFailures.add(0, { kind });
  const authThrottled = meter.createCounter('vigil_http_auth_throttled', { description: 'Requests answered 429 while their client was in failed-authentication back-off.' });
  authThrottled.add(0);
  const connectionsDropped = meter.createCounter('vigil_http_connections_dropped', { description: 'Connections closed because the connection limit was reached.' });
  connectionsDropped.add(0);
  const serializer = new PrometheusSerializer('', false, undefined, true, true);
  return {
    requestDuration,
    authFailures,
    authThrottled,
    connectionsDropped,
    async serialize() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      await provider.shutdown().catch(() => {});
    },
  };
}
