// Metric names and buckets, in one place. The Prometheus names are the binding contract in
// docs/instrumentation.md ("Metrics, as on /metrics"); the OpenTelemetry names are what OTLP receives.

import type { HistogramDefinition } from './histogram.js';

// Bucket boundaries are the ExplicitBucketBoundaries advisories of the OpenTelemetry semantic
// conventions (v1.44): http.server/client.request.duration, db.client.operation.duration, and
// v8js.gc.duration (which uses the HTTP boundaries since v1.42; it was [0.01, 0.1, 1, 10] before).

/** http.server.request.duration, http.client.request.duration (seconds). */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;
/** db.client.operation.duration (seconds). */
export const DB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] as const;
/** v8js.gc.duration (seconds). */
export const GC_BUCKETS = HTTP_BUCKETS;
/** prom-client's nodejs_gc_duration_seconds (the prom-client-compatible runtime set). */
export const PROM_CLIENT_GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const;
export const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
export const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20] as const;
export const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] as const;

export const HTTP_SERVER_DURATION: HistogramDefinition = {
  promName: 'http_server_request_duration_seconds',
  otelName: 'http.server.request.duration',
  description: 'Duration of HTTP server requests (5xx and aborted requests carry error_type).',
  unit: 's',
  boundaries: HTTP_BUCKETS,
};

export const HTTP_CLIENT_DURATION: HistogramDefinition = {
  promName: 'http_client_request_duration_seconds',
  otelName: 'http.client.request.duration',
  description: 'Duration of outbound HTTP requests until the response headers arrive (node:http, undici, fetch).',
  unit: 's',
  boundaries: HTTP_BUCKETS,
};

export const DB_CLIENT_DURATION: HistogramDefinition = {
  promName: 'db_client_operation_duration_seconds',
  otelName: 'db.client.operation.duration',
  description: 'Duration of database client operations (pg, mysql2, ioredis).',
  unit: 's',
  boundaries: DB_BUCKETS,
};

export const GC_DURATION: HistogramDefinition = {
  promName: 'v8js_gc_duration_seconds',
  otelName: 'v8js.gc.duration',
  description: 'Garbage collection pauses by kind.',
  unit: 's',
  boundaries: GC_BUCKETS,
};

/** Names of the app-signal API's instruments (created on the OTel meter named `vigil`). */
export const API_METRICS = {
  deliveries: 'vigil_message_deliveries', // counter: Prometheus adds _total
  deliveryDuration: 'vigil_message_delivery_duration_seconds',
  deliveryAttempts: 'vigil_message_delivery_attempts',
  deliveryFailures: 'vigil_message_delivery_failures', // counter: Prometheus adds _total
  jobRuns: 'vigil_job_runs', // counter: Prometheus adds _total
  jobDuration: 'vigil_job_duration_seconds',
  jobLastSuccess: 'vigil_job_last_success_timestamp_seconds',
  jobInProgress: 'vigil_job_in_progress',
} as const;

/** Meter name (and otel_scope_name, were scope labels on) of the app-signal API. */
export const API_METER = 'vigil';
/** Instrumentation scope of the lean recorder's own series. */
export const LEAN_SCOPE = 'vigil-instrument';
