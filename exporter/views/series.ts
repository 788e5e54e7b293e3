// One check's history for the detail view's chart (GET /api/v1/checks/<name>/series): a window
// of 1 h, 24 h, 7 d, 30 d or 90 d in equal buckets (the worst status, share of time up, slowest
// and mean run per bucket), from the record's tiers (record/series.ts), so it shows what happened
// before a restart and over windows the in-memory ring never holds; from the ring only when the
// record cannot be read.
import type { CheckState } from '../engine/state.js';
import { STATUSES } from '../model/status.js';
import { bucketRows, type CheckSeries, type SeriesBucket, type SeriesRow } from '../record/series.js';
import { iso } from './format.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The windows the chart offers, each in buckets of a width one tier answers whole. */
export const SERIES_WINDOWS = {
  '1h': { ms: HOUR, buckets: 60 }, // 1 min: minute rows
  '24h': { ms: DAY, buckets: 96 }, // 15 min: minute rows
  '7d': { ms: 7 * DAY, buckets: 168 }, // 1 h: hour rows
  '30d': { ms: 30 * DAY, buckets: 120 }, // 6 h: hour rows
  '90d': { ms: 90 * DAY, buckets: 90 }, // 1 d: day rows
} as const;
export type SeriesWindow = keyof typeof SERIES_WINDOWS;

export interface SeriesGrid { from: number; step: number; count: number }

/** The window's buckets at `now`: aligned to their width (UTC), the last one holding `now`. */
export function seriesGrid(window: SeriesWindow, now: number): SeriesGrid {
  const { ms, buckets } = SERIES_WINDOWS[window];
  const step = ms / buckets;
  const end = (Math.floor(now / step) + 1) * step;
  return { from: end - buckets * step, step, count: buckets };
}

const UNKNOWN = STATUSES.indexOf('unknown');
const CRITICAL = STATUSES.indexOf('critical');

/** The ring's runs as series rows (each run weighs one in its status), when the record cannot answer. */
export function ringRows(s: CheckState, from: number): SeriesRow[] {
  const rows: SeriesRow[] = [];
  s.history.forEach(from, (t, duration, status) => {
    const us = duration * 1e6;
    rows.push({ start: t, length: 0, runs: status === UNKNOWN ? 0 : 1, failures: status === CRITICAL ? 1 : 0,
      ms: STATUSES.map((_x, i) => (i === status ? 1 : 0)), worst: status, rtMaxUs: us, rtSumUs: us });
  });
  return rows;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** One bucket as the page reads it. Availability counts time up (healthy or degraded) over time observed, as the report does. */
export function bucketView(b: SeriesBucket, start: number) {
  const [healthy, , degraded, critical] = b.ms;
  const observed = healthy + degraded + critical;
  return {
    start: iso(start),
    worst: b.worst < 0 ? null : STATUSES[b.worst],
    runs: b.runs,
    failures: b.failures,
    up_percent: observed > 0 ? Math.floor(((healthy + degraded) / observed) * 1000) / 10 : null,
    max_response_time_ms: b.rtMaxUs >= 0 && b.runs > 0 ? round1(b.rtMaxUs / 1000) : null,
    mean_response_time_ms: b.runs > 0 ? round1(b.rtSumUs / 1000 / b.runs) : null,
  };
}

/**
 * The document: the record's series when there is one, else the ring's runs in the same grid.
 * `now`: the window's totals (availability, time observed) are over [now - window, now).
 */
export function seriesDocument(s: CheckState, window: SeriesWindow, grid: SeriesGrid, series: CheckSeries | undefined, now: number) {
  const windowFrom = now - SERIES_WINDOWS[window].ms;
  const end = grid.from + grid.step * grid.count;
  const rows = series ? [] : ringRows(s, Math.min(grid.from, windowFrom));
  const buckets = series?.buckets ?? bucketRows(rows, grid.from, grid.step, grid.count);
  const total = series?.total ?? bucketRows(rows, windowFrom, end - windowFrom, 1)[0];
  const [healthy, , degraded, critical] = total.ms;
  const observed = healthy + degraded + critical;
  return {
    name: s.config.name,
    component: s.config.component,
    window,
    from: iso(grid.from),
    to: iso(grid.from + grid.step * grid.count),
    step_seconds: grid.step / 1000,
    source: series ? 'record' : 'memory',
    // Which of the record's tiers answered which part (raw results, minute, hour or day rows).
    tiers: (series?.pieces ?? []).map((p) => ({ tier: p.tier, from: iso(p.from), to: iso(p.to) })),
    // The window itself (now - window to now): time up (healthy or degraded) over time observed, as /api/v1/report counts it.
    window_from: iso(windowFrom),
    runs: total.runs,
    failures: total.failures,
    observed_seconds: series ? Math.round(observed) / 1000 : null,
    availability: observed > 0 ? (healthy + degraded) / observed : null,
    buckets: buckets.map((b, i) => bucketView(b, grid.from + i * grid.step)),
  };
}
