// A check as the engine and the probes receive it, after config defaults are applied. The
// schema that produces it lives in config/ (common fields) and in each kind's file (the rest).

export type ThresholdDirection = 'above' | 'below';

/** Levels in the value's base unit (seconds, bytes, ratios 0-1). */
export interface Threshold {
  warning?: number;
  critical?: number;
  /** above: bad when the value rises past the level (latency, usage); below: when it falls under (rate limit left, free space). */
  direction: ThresholdDirection;
}

export interface CheckCommon {
  name: string;
  type: string;
  component: string;
  description?: string;
  interval: number;
  timeout: number;
  retries: number;
  retry_delay: number;
  on_failure: 'critical' | 'degraded';
  labels: Record<string, string>;
  thresholds: Record<string, Threshold>;
  enabled: boolean;
  /** Locations (--location) that must see a failure before the check is critical: the quorum rule's k. */
  quorum?: number;
}
