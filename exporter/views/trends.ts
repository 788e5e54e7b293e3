// Long-window availability and response-time trends (GET /api/v1/trends): per check, over the
// last 7 d / 30 d / 90 d, with a trend of buckets. With history.prometheus_url set, Prometheus
// answers (the same recording rules and expressions as the Grafana dashboards); when it does not
// answer in time, or knows nothing of a check, the record answers (the same numbers as
// /api/v1/report for that window). Each answer says which source gave it.
import type { CheckState } from '../engine/state.js';
import { LONG_WINDOWS, PrometheusUnavailable, type CheckWindow, type LongWindow, type PrometheusHistory, type WindowFigures } from '../record/prometheus-history.js';
import { iso, ms } from './format.js';
import type { ReportRow } from './report.js';
import { mapSliced, type TimeSlice } from './time-slice.js';

export interface TrendsQuery {
  window: LongWindow;
  buckets: number;
  check?: string;
  component?: string;
}

/** The report's rows for [from, to) (views/report.ts reportRows: the ring, or the record's rollups). */
export type ReportSource = (from: number, to: number) => Promise<ReportRow[]>;

export type TrendSource = 'prometheus' | 'record' | 'memory';

interface Answer extends CheckWindow {
  source: TrendSource;
}

const HOUR = 3_600_000;

function fromReport(row: ReportRow | undefined): WindowFigures & { source: TrendSource } {
  return { availability: row?.r.availability ?? null, response_time: row?.r.response_time?.mean ?? null, source: (row as { source?: TrendSource } | undefined)?.source ?? 'memory' };
}

export async function trendsDocument(checks: CheckState[], q: TrendsQuery, now: number, sources: { prometheus?: PrometheusHistory; report: ReportSource }, slice: TimeSlice) {
  const selected = checks.filter((s) => (!q.check || s.config.name === q.check) && (!q.component || s.config.component === q.component));
  const windowMs = LONG_WINDOWS[q.window];
  const buckets = Math.max(1, Math.min(q.buckets, windowMs / HOUR));
  const stepMs = Math.floor(windowMs / buckets / HOUR) * HOUR;
  let fromPrometheus: Map<string, CheckWindow> | undefined;
  let fallbackReason: string | undefined;
  if (sources.prometheus) {
    try {
      fromPrometheus = await sources.prometheus.windows({ window: q.window, now, buckets });
    } catch (err) {
      if (!(err instanceof PrometheusUnavailable)) throw err;
      fallbackReason = err.message;
    }
  }
  const answers = new Map<string, Answer>();
  for (const s of selected) {
    const p = fromPrometheus?.get(s.config.name);
    if (p) answers.set(s.config.name, { ...p, source: 'prometheus' });
  }
  // The record answers for every check Prometheus did not: one report for the window and one per bucket.
  const missing = selected.filter((s) => !answers.has(s.config.name));
  if (missing.length) {
    const end = Math.floor(now / HOUR) * HOUR + HOUR;
    const bucketStarts = Array.from({ length: buckets }, (_, i) => end - stepMs * (buckets - i));
    const byName = (rows: ReportRow[]) => new Map(rows.map((r) => [r.s.config.name, r]));
    const whole = byName(await sources.report(now - windowMs, now));
    const perBucket: Array<Map<string, ReportRow>> = [];
    for (const t of bucketStarts) {
      perBucket.push(byName(await sources.report(t, Math.min(t + stepMs, now))));
      await slice.pause();
    }
    for (const s of missing) {
      const name = s.config.name;
      const w = fromReport(whole.get(name));
      answers.set(name, {
        availability: w.availability,
        response_time: w.response_time,
        source: w.source,
        trend: bucketStarts.map((t, i) => {
          const b = fromReport(perBucket[i].get(name));
          return { t, availability: b.availability, response_time: b.response_time };
        }),
      });
      await slice.pause();
    }
  }
  const rows = await mapSliced(selected, (s) => {
    const a = answers.get(s.config.name)!;
    return {
      name: s.config.name,
      component: s.config.component,
      source: a.source,
      availability: a.availability,
      response_time_ms: a.response_time === null ? null : ms(a.response_time),
      trend: a.trend.map((p) => ({ t: iso(p.t), availability: p.availability, response_time_ms: p.response_time === null ? null : ms(p.response_time) })),
    };
  }, slice);
  const used = new Set(rows.map((r) => r.source));
  return {
    window: q.window,
    from: iso(now - windowMs),
    to: iso(now),
    bucket_seconds: stepMs / 1000,
    // The source of the whole answer when one answered for every check; "mixed" otherwise.
    source: used.size === 1 ? [...used][0] : used.size ? 'mixed' : (sources.prometheus && !fallbackReason ? 'prometheus' : 'record'),
    ...(sources.prometheus ? { prometheus: fallbackReason ? { answered: false, error: fallbackReason } : { answered: true } } : {}),
    definitions: {
      availability: 'prometheus: the availability recording rules (check:probe_success:avg_over_time7d/30d/90d, max by check, as the Grafana dashboards): share of time the last run had succeeded; record/memory: time up (healthy or degraded) / time covered by data, as /api/v1/report',
      response_time_ms: 'mean response time over the window (prometheus: average of check:probe_duration_seconds:avg_over_time1h at 1 h steps)',
      trend: 'one point per bucket of bucket_seconds, by the bucket\'s start',
    },
    checks: rows,
  };
}
