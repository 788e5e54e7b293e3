// Hands the lean recorder's histograms and the runtime gauges to OpenTelemetry readers as a
// MetricProducer (PrometheusExporter and PeriodicExportingMetricReader both accept producers).
// Two namings: `prometheus` (names exactly as on /metrics) and `otel` (semantic conventions, for OTLP).

import type { Attributes, HrTime } from '@opentelemetry/api';
import type { CollectionResult, MetricData, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { LeanHistogram } from './histogram.js';
import { LEAN_SCOPE } from './names.js';

// Values of the sdk-metrics enums, inlined so that this module needs no runtime import.
const CUMULATIVE = 1; // AggregationTemporality.CUMULATIVE
const DOUBLE = 1; // ValueType.DOUBLE
const HISTOGRAM = 0; // DataPointType.HISTOGRAM
const GAUGE = 2; // DataPointType.GAUGE
const SUM = 3; // DataPointType.SUM

export interface Point {
  attributes: Attributes;
  value: number;
}

/** A value read at collection time (runtime metrics). `counter` is monotonic (Prometheus adds _total). */
export interface ObservedMetric {
  promName: string;
  otelName: string;
  description: string;
  unit: string;
  kind: 'gauge' | 'counter';
  /** Served under one naming only (a Prometheus convention without an OTel equivalent, or the reverse). */
  only?: Naming;
  read(): Point[];
}

export type Naming = 'prometheus' | 'otel';

function hr(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

export class LeanProducer implements MetricProducer {
  private readonly startMs = Date.now();

  constructor(
    private readonly naming: Naming,
    private readonly histograms: () => LeanHistogram[],
    private readonly observed: () => ObservedMetric[],
    private readonly resource: Resource,
    private readonly version: string,
  ) {}

  async collect(): Promise<CollectionResult> {
    const errors: unknown[] = [];
    const now = hr(Date.now());
    const metrics: MetricData[] = [];
    for (const h of this.histograms()) {
      const series = h.snapshot().filter((s) => s.count > 0);
      if (series.length === 0) continue;
      const d = h.definition;
      metrics.push({
        descriptor: { name: this.naming === 'prometheus' ? d.promName : d.otelName, description: d.description, unit: d.unit, valueType: DOUBLE },
        aggregationTemporality: CUMULATIVE,
        dataPointType: HISTOGRAM,
        dataPoints: series.map((s) => ({
          attributes: s.attributes,
          startTime: hr(s.startMs),
          endTime: now,
          value: {
            buckets: { boundaries: [...h.boundaries], counts: [...s.counts] },
            sum: s.sum,
            count: s.count,
            min: s.min,
            max: s.max,
          },
        })),
      } as MetricData);
    }
    for (const m of this.observed()) {
      if (m.only !== undefined && m.only !== this.naming) continue;
      let points: Point[];
      try {
        points = m.read().filter((p) => Number.isFinite(p.value));
      } catch (err) {
        errors.push(err);
        continue;
      }
      if (points.length === 0) continue;
      const descriptor = { name: this.naming === 'prometheus' ? m.promName : m.otelName, description: m.description, unit: m.unit, valueType: DOUBLE };
      const dataPoints = points.map((p) => ({ attributes: p.attributes, startTime: hr(this.startMs), endTime: now, value: p.value }));
      metrics.push(
        (m.kind === 'counter'
          ? { descriptor, aggregationTemporality: CUMULATIVE, dataPointType: SUM, isMonotonic: true, dataPoints }
          : { descriptor, aggregationTemporality: CUMULATIVE, dataPointType: GAUGE, dataPoints }) as MetricData,
      );
    }
    const scopeMetrics: ScopeMetrics[] = metrics.length > 0 ? [{ scope: { name: LEAN_SCOPE, version: this.version }, metrics }] : [];
    return { resourceMetrics: { resource: this.resource, scopeMetrics }, errors };
  }
}
