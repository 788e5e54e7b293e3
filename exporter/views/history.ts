// One check's history (GET /api/v1/checks/<name>/history): the runs held in its in-memory ring,
// point by point or summarised into equal buckets. Built in slices (see time-slice.ts).
import type { CheckState } from '../engine/state.js';
import { STATUSES } from '../model/status.js';
import { BucketAccumulator } from './bar.js';
import { iso, ms } from './format.js';
import type { TimeSlice } from './time-slice.js';

const BYTES_PER_POINT = 13; // HistoryRing: Float64 time + Float32 duration + Uint8 status

function historyHead(s: CheckState) {
  const ring = s.history;
  return {
    name: s.config.name,
    component: s.config.component,
    interval_seconds: s.config.interval / 1000,
    // The ring: 24 h (history.retention) at the check's interval, at most history.max_points points.
    capacity_points: ring.capacity,
    capacity_bytes: ring.capacity * BYTES_PER_POINT,
    points_held: ring.length,
    bytes_allocated: ring.bytes(),
    oldest: iso(ring.oldest()),
  };
}

export interface HistoryRange {
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, inclusive; Infinity for "up to the latest run". */
  until: number;
}

/** The runs in [since, until], point by point (at most history.max_points of them). `sinceGiven`: echo `since`. */
export async function historyPoints(s: CheckState, { since, until }: HistoryRange, sinceGiven: boolean, slice: TimeSlice) {
  const { t, duration, status } = s.history.columns(since, until + 1); // until is inclusive; times are whole ms
  const points: Array<{ time: string; status: string; response_time_ms: number }> = [];
  for (let i = 0; i < t.length; i++) {
    points.push({ time: new Date(t[i]).toISOString(), status: STATUSES[status[i]], response_time_ms: ms(duration[i]) });
    if (i % 256 === 0) await slice.pause();
  }
  return { ...historyHead(s), since: sinceGiven ? iso(since) : null, until: iso(Number.isFinite(until) ? until : undefined), points };
}

/** The runs in [since, until] (clipped to the data and to `now`) summarised into `buckets` equal buckets. */
export async function historyBuckets(s: CheckState, { since, until }: HistoryRange, buckets: number, now: number, slice: TimeSlice) {
  const ring = s.history;
  const from = Math.max(since, ring.oldest() ?? now);
  const to = Math.min(until, now);
  const step = Math.max(1, Math.ceil((to - from) / buckets));
  const acc = new BucketAccumulator({ start: from, step, count: buckets });
  const maxDuration = new Float64Array(buckets).fill(-1);
  const { t, duration, status } = ring.columns(from, to + 1);
  for (let j = 0; j < t.length; j++) {
    acc.add(t[j], status[j]);
    const i = acc.index(t[j]);
    if (i >= 0 && duration[j] > maxDuration[i]) maxDuration[i] = duration[j];
    if (j % 1024 === 0) await slice.pause();
  }
  const up = acc.upPercent();
  return {
    ...historyHead(s),
    from: iso(from), to: iso(to), step_seconds: step / 1000,
    buckets: Array.from({ length: buckets }, (_, i) => ({
      start: iso(from + i * step),
      worst: acc.worst[i] < 0 ? null : STATUSES[acc.worst[i]],
      runs: acc.runs[i],
      up_percent: up[i],
      max_response_time_ms: maxDuration[i] >= 0 ? ms(maxDuration[i]) : null,
    })),
  };
}
