// The OpenTelemetry-native runtime set (the default): the Node.js and V8 runtime metrics of the
// semantic conventions (v1.44: nodejs.eventloop.*, v8js.*, process.*), read from perf_hooks/v8/
// process at collection time, plus GC pauses from the shared observer (gc.ts).

import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { eventLoopWindow, RESOLUTION_MS, WINDOW_MS, type DelayStats } from './eventloop.js';
import { onGc } from './gc.js';
import { LeanHistogram } from './histogram.js';
import { GC_DURATION } from './names.js';
import type { ObservedMetric, Point } from './producer.js';

export class RuntimeMetrics {
  readonly gc = new LeanHistogram(GC_DURATION);
  private stopGc: (() => void) | undefined;
  private readonly startSeconds = Math.round(Date.now() - process.uptime() * 1000) / 1000;
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    eventLoopWindow.start();
    this.stopGc = onGc((kind, seconds) => this.gc.record(kind, () => ({ 'v8js.gc.type': kind }), seconds));
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    eventLoopWindow.stop();
    this.stopGc?.();
  }

  observed(): ObservedMetric[] {
    // The delay beyond the sampling timer's own period: 0 on an idle loop.
    const delay = (stat: keyof DelayStats): ObservedMetric => ({
      promName: `nodejs_eventloop_delay_${stat}_seconds`,
      otelName: `nodejs.eventloop.delay.${stat}`,
      description: `Event loop delay ${stat} over the last ${WINDOW_MS / 1000} s window.`,
      unit: 's',
      kind: 'gauge',
      read: (): Point[] => {
        const s = eventLoopWindow.delayStats();
        if (!s) return [];
        return [{ attributes: {}, value: stat === 'stddev' ? s.stddev : Math.max(0, s[stat] - RESOLUTION_MS / 1000) }];
      },
    });
    const heapSpaces = (promName: string, otelName: string, description: string, field: keyof v8.HeapSpaceInfo): ObservedMetric => ({
      promName,
      otelName,
      description,
      unit: 'By',
      kind: 'gauge',
      read: () => v8.getHeapSpaceStatistics().map((s) => ({ attributes: { 'v8js.heap.space.name': s.space_name }, value: Number(s[field]) })),
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
        read: () => [{ attributes: {}, value: eventLoopWindow.utilization() }],
      },
      {
        promName: 'nodejs_eventloop_time_seconds',
        otelName: 'nodejs.eventloop.time',
        description: 'Cumulative time the event loop has been active and idle.',
        unit: 's',
        kind: 'counter',
        read: () => {
          const elu = performance.eventLoopUtilization();
          return [
            { attributes: { 'nodejs.eventloop.state': 'active' }, value: elu.active / 1000 },
            { attributes: { 'nodejs.eventloop.state': 'idle' }, value: elu.idle / 1000 },
          ];
        },
      },
      heapSpaces('v8js_memory_heap_used_bytes', 'v8js.memory.heap.used', 'V8 heap used, by heap space.', 'space_used_size'),
      heapSpaces('v8js_memory_heap_space_size_bytes', 'v8js.memory.heap.space.size', 'V8 heap memory pre-allocated, by heap space.', 'space_size'),
      heapSpaces('v8js_memory_heap_space_available_size_bytes', 'v8js.memory.heap.space.available_size', 'V8 heap space available, by heap space.', 'space_available_size'),
      heapSpaces('v8js_memory_heap_space_physical_size_bytes', 'v8js.memory.heap.space.physical_size', 'V8 heap memory committed, by heap space.', 'physical_space_size'),
      {
        // Not (yet) in the semantic conventions; the name @opentelemetry/instrumentation-runtime-node uses.
        promName: 'v8js_memory_heap_max_bytes',
        otelName: 'v8js.memory.heap.max',
        description: 'Maximum V8 heap size (heap_size_limit: --max-old-space-size and friends).',
        unit: 'By',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: v8.getHeapStatistics().heap_size_limit }],
      },
      {
        promName: 'v8js_resource_active',
        otelName: 'v8js.resource.active',
        description: 'Resources keeping the event loop alive, by type.',
        unit: '{resource}',
        kind: 'gauge',
        read: () => {
          const counts = new Map<string, number>();
          for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
          return [...counts].map(([type, n]) => ({ attributes: { 'v8js.resource.type': type }, value: n }));
        },
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
        // Prometheus' own convention (every client library has it; restarts show as changes).
        promName: 'process_start_time_seconds',
        otelName: 'process.start_time',
        only: 'prometheus',
        description: 'Start time of the process, seconds since the Unix epoch.',
        unit: 's',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: this.startSeconds }],
      },
      {
        promName: 'process_uptime_seconds',
        otelName: 'process.uptime',
        only: 'otel',
        description: 'Time the process has been running.',
        unit: 's',
        kind: 'gauge',
        read: () => [{ attributes: {}, value: process.uptime() }],
      },
    ];
  }
}
