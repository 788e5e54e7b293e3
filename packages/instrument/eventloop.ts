// Event-loop delay and utilisation over a rolling window, shared by both runtime metric sets.
// Figures cover the last complete window (WINDOW_MS), or the time since start before the first
// one ends, so that several scrapers (an HA Prometheus pair, OTLP) never reset each other's view.

import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

export const WINDOW_MS = 15_000;
/** monitorEventLoopDelay samples with a timer of this period (ms); every sample includes it. */
export const RESOLUTION_MS = 10;

/** Raw monitorEventLoopDelay figures in seconds (each includes the RESOLUTION_MS timer period). */
export interface DelayStats {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

export class EventLoopWindow {
  private delay: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDelay: DelayStats | undefined;
  private eluMark: EventLoopUtilization = performance.eventLoopUtilization();
  private lastElu: number | undefined;
  private users = 0;

  /** Reference-counted: each set that uses the window starts and stops it once. */
  start(): void {
    if (this.users++ > 0) return;
    this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.delay.enable();
    this.timer = setInterval(() => this.rotate(), WINDOW_MS).unref();
  }

  stop(): void {
    if (--this.users > 0) return;
    this.users = 0;
    this.delay?.disable();
    this.delay = undefined;
    if (this.timer) clearInterval(this.timer);
  }

  /** Delay figures of the last window (or so far), undefined before the first sample. */
  delayStats(): DelayStats | undefined {
    return this.lastDelay ?? this.current();
  }

  /** Share of time the loop was busy over the last window (or so far), 0-1. */
  utilization(): number {
    return this.lastElu ?? performance.eventLoopUtilization(this.eluMark).utilization;
  }

  private current(): DelayStats | undefined {
    const h = this.delay;
    if (!h || h.count === 0) return undefined;
    const s = (ns: number) => ns / 1e9;
    return { min: s(h.min), max: s(h.max), mean: s(h.mean), stddev: s(h.stddev), p50: s(h.percentile(50)), p90: s(h.percentile(90)), p99: s(h.percentile(99)) };
  }

  private rotate(): void {
    this.lastDelay = this.current() ?? this.lastDelay;
    this.delay?.reset();
    const elu = performance.eventLoopUtilization(this.eluMark);
    this.eluMark = performance.eventLoopUtilization();
    this.lastElu = elu.utilization;
  }
}

/** One window per process: both runtime sets read the same figures. */
export const eventLoopWindow = new EventLoopWindow();
