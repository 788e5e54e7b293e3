// What happened to a check over a period, from its history points: availability, incidents,
// response-time percentiles. Pure evaluation; the documents built from it are in views/report.ts,
// the status page's bar in views/bar.ts.
import { statusRank, STATUSES, type Status } from '../model/status.js';

export interface PeriodPoint {
  t: number; // epoch ms the run finished
  duration: number; // seconds
  status: Status;
}

export interface Incident {
  /** Epoch ms of the first non-healthy run (or `from` when it began before the period). */
  start: number;
  /** Epoch ms of the first healthy run after it, or where the data / period ends. */
  end: number;
  duration_seconds: number;
  worst: Status;
  runs: number;
  /** Began before the period; `start` is clipped to `from`. */
  clipped_start: boolean;
  /** Still non-healthy at the end of the data, which reaches the end of the period. */
  ongoing: boolean;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export interface PeriodSummary {
  from: number;
  to: number;
  /** Runs that finished inside [from, to). */
  runs: number;
  /** Seconds of the period covered by data (gaps longer than maxGap are not). */
  observed_seconds: number;
  /** Seconds spent in each status (maintenance time left out). */
  seconds_by_status: Record<'healthy' | 'degraded' | 'critical', number>;
  /** Seconds of data that fell in maintenance windows: in no status, not in availability. */
  maintenance_seconds: number;
  /** Up (healthy or degraded) time / observed time; null with no data. */
  availability: number | null;
  /** Healthy time / observed time; null with no data. */
  healthy_ratio: number | null;
  incidents: Incident[];
  /** Response times of the runs in the period, in seconds; null with no runs. */
  response_time: Percentiles | null;
}

export interface PeriodOptions {
  from: number;
  to: number;
  /**
   * How long one run's status is taken to hold when no newer run follows (ms). Normally about
   * twice the check's interval: a longer silence (exporter down) is a gap, not a status.
   */
  maxGap: number;
  /**
   * Maintenance windows over the check, sorted and not overlapping: the time in them counts in
   * no status, so planned work does not lower availability (incidents are still listed).
   */
  exclude?: ReadonlyArray<readonly [number, number]>;
}

/** How much of [a, b) lies in the sorted intervals `ex`, starting the search at ex[k.i] (advanced; calls come in time order). */
function excludedWithin(a: number, b: number, ex: ReadonlyArray<readonly [number, number]>, k: { i: number }): number {
  while (k.i < ex.length && ex[k.i][1] <= a) k.i++;
  let total = 0;
  for (let j = k.i; j < ex.length && ex[j][0] < b; j++) total += Math.max(0, Math.min(b, ex[j][1]) - Math.max(a, ex[j][0]));
  return total;
}

/** Runs as columns, ascending by t (HistoryRing.columns() gives exactly this, without per-point objects). */
export interface PeriodSeries {
  t: ArrayLike<number>; // epoch ms
  duration: ArrayLike<number>; // seconds
  status: ArrayLike<number>; // index into STATUSES
}

export function seriesOf(points: readonly PeriodPoint[]): PeriodSeries {
  return {
    t: points.map((p) => p.t),
    duration: points.map((p) => p.duration),
    status: points.map((p) => statusRank(p.status)),
  };
}

// Series hold statuses as ranks, so the worst is simply the largest.
const HEALTHY = statusRank('healthy');
const UNKNOWN = statusRank('unknown');
const DEGRADED = statusRank('degraded');
const CRITICAL = statusRank('critical');

/** What maxGapFor() needs of a check's config (all ms). */
export interface RunBudget {
  interval: number;
  timeout: number;
  retries: number;
  retry_delay: number;
}

/** How long a run's status is believed without a newer run: beyond that the data has a gap. */
export function maxGapFor(c: RunBudget): number {
  return 2 * c.interval + c.timeout * (c.retries + 1) + c.retry_delay * c.retries;
}

/**
 * Summarise runs over [from, to). The series may start before `from`: the latest run before it
 * sets the status at `from`. Each run's status holds until the next run, for at most maxGap.
 */
export function summarizePeriod(series: PeriodSeries, opts: PeriodOptions): PeriodSummary {
  const { from, to, maxGap } = opts;
  const ex = opts.exclude ?? [];
  const exAt = { i: 0 };
  let inMaintenance = 0;
  const { t, duration, status } = series;
  const n = t.length;
  const seconds = [0, 0, 0, 0]; // by status index
  const incidents: Incident[] = [];
  let open: Incident | undefined;
  let openWorst = 0;
  let lastEnd = Infinity; // where the data seen so far ends (last run + maxGap, clipped to `to`)

  // The latest run before `from` sets the status at the start of the period.
  let first = 0;
  while (first < n && t[first] < from) first++;
  let end = first;
  while (end < n && t[end] < to) end++;
  const durations = new Float64Array(end - first);
  let runs = 0;

  for (let i = first > 0 ? first - 1 : 0; i < end; i++) {
    const st = status[i];
    if (st === UNKNOWN) continue;
    const ti = t[i];
    const inPeriod = ti >= from;
    if (inPeriod) durations[runs++] = duration[i];
    const holdEnd = Math.min(i + 1 < n ? t[i + 1] : Infinity, ti + maxGap, to);
    const segStart = Math.max(ti, from);
    if (holdEnd > segStart) {
      const off = ex.length ? excludedWithin(segStart, holdEnd, ex, exAt) : 0;
      seconds[st] += (holdEnd - segStart - off) / 1000;
      inMaintenance += off / 1000;
    }

    // A silence longer than maxGap (exporter down) ends an open incident where the data ended.
    if (open && ti > lastEnd) {
      incidents.push(close(open, openWorst, lastEnd, false));
      open = undefined;
    }
    lastEnd = Math.min(ti + maxGap, to);

    if (st === HEALTHY) {
      if (open) {
        incidents.push(close(open, openWorst, ti, false));
        open = undefined;
      }
      continue;
    }
    if (!inPeriod && ti + maxGap <= from) continue; // too old to say anything about `from`
    if (!open) {
      open = { start: Math.max(ti, from), end: 0, duration_seconds: 0, worst: STATUSES[st], runs: 0, clipped_start: ti < from, ongoing: false };
      openWorst = st;
    }
    if (st > openWorst) openWorst = st;
    if (inPeriod) open.runs++;
  }
  if (open) incidents.push(close(open, openWorst, lastEnd, lastEnd >= to));

  const observed = seconds[HEALTHY] + seconds[DEGRADED] + seconds[CRITICAL];
  return {
    from,
    to,
    runs,
    observed_seconds: round(observed, 3),
    seconds_by_status: { healthy: round(seconds[HEALTHY], 3), degraded: round(seconds[DEGRADED], 3), critical: round(seconds[CRITICAL], 3) },
    maintenance_seconds: round(inMaintenance, 3),
    availability: observed > 0 ? (seconds[HEALTHY] + seconds[DEGRADED]) / observed : null,
    healthy_ratio: observed > 0 ? seconds[HEALTHY] / observed : null,
    incidents,
    response_time: percentiles(durations.subarray(0, runs)),
  };
}

function close(i: Incident, worst: number, end: number, ongoing: boolean): Incident {
  i.end = Math.max(i.start, end);
  i.worst = STATUSES[worst];
  i.ongoing = ongoing;
  i.duration_seconds = round((i.end - i.start) / 1000, 3);
  return i;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles (p50, p95, p99), mean and max; null for no values. O(n): quickselect, no sort. */
export function percentiles(values: ArrayLike<number>): Percentiles | null {
  const n = values.length;
  if (!n) return null;
  const a = Float64Array.from(values);
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) { sum += a[i]; if (a[i] > max) max = a[i]; }
  const rank = (p: number) => Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  // Each selection leaves everything at or above its rank to the right, so the next one starts there.
  const k50 = rank(50);
  const k95 = rank(95);
  const k99 = rank(99);
  const p50 = select(a, k50, 0);
  const p95 = select(a, k95, k50);
  const p99 = select(a, k99, k95);
  return { p50, p95, p99, mean: sum / n, max };
}

/** Hoare quickselect: the k-th smallest of a[lo..], partially reordering `a` in place. */
function select(a: Float64Array, k: number, lo: number): number {
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const x = a[i]; a[i] = a[j]; a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
