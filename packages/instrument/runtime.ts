// Runtime metrics: event-loop delay and utilisation, GC pauses, V8 heap, RSS, CPU time. All read
// from perf_hooks/v8/process at collection time (or by one PerformanceObserver for GC).
// Event-loop figures cover a rolling window (WINDOW_MS): the last complete window, or the time
// since start before the first one ends, so that several readers never reset each other's view.

import { monitorEventLoopDelay, performance, PerformanceObserver, constants, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import { LeanHistogram } from './histogram.js';
import { GC_DURATION } from './names.js';
import type { ObservedMetric, Point } from './producer.js';

const WINDOW_MS = 15_000;
/** monitorEventLoopDelay records whole timer intervals; the delay is what exceeds the resolution. */
const RESOLUTION_MS = 10;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

interface DelayStats {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

export class RuntimeMetrics {
  readonly gc = new LeanHistogram(GC_DURATION);
  private delay: IntervalHistogram | undefined;
  private observer: PerformanceObserver | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDelay: DelayStats | undefined;
  private eluMark = performance.eventLoopUtilization();
  private lastElu: number | undefined;
  private readonly startSeconds = Math.round((Date.now() - process.uptime() * 1000)) / 1000;

  start(): void {
    this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.delay.enable();
    this.timer = setInterval(() => this.rotate(), WINDOW_MS).unref();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        this.gc.record(kind, () => ({ 'v8js.gc.type': kind }), entry.duration / 1000);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.delay?.disable();
    this.observer?.disconnect();
    if (this.timer) clearInterval(this.timer);
  }

  private stats(): DelayStats | undefined {
    const h = this.delay;
    if (!h || h.count === 0) return undefined;
    const s = 1e-9; // ns -> s
    const d = (ns: number) => Math.max(0, ns * s - RESOLUTION_MS / 1000);
    return {
      min: d(h.min),
      max: d(h.max),
      mean: d(h.mean),
      stddev: h.stddev * s,
      p50: d(h.percentile(50)),
      p90: d(h.percentile(90)),
      p99: d(h.percentile(99)),
    };
  }

  private rotate(): void {
    this.lastDelay = this.stats() ?? this.lastDelay;
    this.delay?.reset();
    const elu = performance.eventLoopUtilization(this.eluMark);
    this.eluMark = performance.eventLoopUtilization();
    this.lastElu = elu.utilization;
  }

  observed(): ObservedMetric[] {
    const delay = (stat: keyof DelayStats): ObservedMetric => ({
      promName: `nodejs_eventloop_delay_${stat}_seconds`,
      otelName: `nodejs.eventloop.delay.${stat}`,
      description: `Event loop delay ${stat} over the last ${WINDOW_MS / 1000} s window.`,
      unit: 's',
      kind: 'gauge',
      read: (): Point[] => {
        const s = this.lastDelay ?? this.stats();
        return s ? [{ attributes: {}, value: s[stat] }] : [];
      },
    });
    return [
      delay('p50'),
      delay('p90'),
      delay('p99'),
      delay('max'),
      delay('mean'),
      delay('min'),
      delay('stddev'),
      {
        promName: 'nodejs_eventloop_utilization_ratio',
        otelName: 'nodejs.eventloop.utilization',
        description: `Share of time the event loop was busy over the last ${WINDOW_MS / 1000} s window (0-1).`,
        unit: '1',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: this.lastElu ?? performance.eventLoopUtilization(this.eluMark).utilization }],
      },
      {
        promName: 'v8js_memory_heap_used_bytes',
        otelName: 'v8js.memory.heap.used',
        description: 'V8 heap used, by heap space.',
        unit: 'By',
        kind: 'gauge',
        read: () => v8.getHeapSpaceStatistics().map((s) => ({ attributes: { 'v8js.heap.space.name': s.space_name }, value: s.space_used_size })),
      },
      {
        promName: 'v8js_memory_heap_limit_bytes',
        otelName: 'v8js.memory.heap.limit',
        description: 'V8 heap space size, by heap space.',
        unit: 'By',
        kind: 'gauge',
        read: () => v8.getHeapSpaceStatistics().map((s) => ({ attributes: { 'v8js.heap.space.name': s.space_name }, value: s.space_size })),
      },
      {
        promName: 'v8js_heap_size_limit_bytes',
        otelName: 'v8js.heap.size_limit',
        description: 'Maximum V8 heap size (--max-old-space-size and friends).',
        unit: 'By',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: v8.getHeapStatistics().heap_size_limit }],
      },
      {
        promName: 'process_memory_usage_bytes',
        otelName: 'process.memory.usage',
        description: 'Resident set size of the process.',
        unit: 'By',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: process.memoryUsage.rss() }],
      },
      {
        promName: 'process_cpu_time_seconds',
        otelName: 'process.cpu.time',
        description: 'CPU time used by the process, by mode.',
        unit: 's',
        kind: 'counter',
        read: () => {
          const u = process.cpuUsage();
          return [
            { attributes: { 'cpu.mode': 'user' }, value: u.user / 1e6 },
            { attributes: { 'cpu.mode': 'system' }, value: u.system / 1e6 },
          ];
        },
      },
      {
        promName: 'process_start_time_seconds',
        otelName: 'process.start_time',
        description: 'Start time of the process, seconds since the Unix epoch.',
        unit: 's',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: this.startSeconds }],
      },
    ];
  }
}
