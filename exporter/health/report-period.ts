// What happened to a check over a period, from its history points: availability, incidents,
// response-time percentiles, and the per-bucket summary behind the status page's 24 h bar. Pure.
import { STATUSES, type Status } from './status.js';

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
  /** Seconds spent in each status. */
  seconds_by_status: Record<'healthy' | 'degraded' | 'critical', number>;
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
    status: points.map((p) => STATUSES.indexOf(p.status)),
  };
}

// STATUSES is ordered healthy < unknown < degraded < critical, so an index is also a rank.
const HEALTHY = STATUSES.indexOf('healthy');
const UNKNOWN = STATUSES.indexOf('unknown');
const DEGRADED = STATUSES.indexOf('degraded');
const CRITICAL = STATUSES.indexOf('critical');

/**
 * Summarise runs over [from, to). The series may start before `from`: the latest run before it
 * sets the status at `from`. Each run's status holds until the next run, for at most maxGap.
 */
export function summarizePeriod(series: PeriodSeries, opts: PeriodOptions): PeriodSummary {
  const { from, to, maxGap } = opts;
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
    if (holdEnd > segStart) seconds[st] += (holdEnd - segStart) / 1000;

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

// ---------------------------------------------------------------------------------------------
// Buckets: the availability bar. Each bucket holds the worst status of the runs that finished in
// it and how many of them were up (not critical); a bucket with no run is "no data".

export interface BarSpec {
  /** Epoch ms where bucket 0 starts. */
  start: number;
  /** Bucket width, ms. */
  step: number;
  count: number;
}

/** `count` buckets covering `span` ms, aligned to multiples of the bucket width, the last one containing `now`. */
export function barSpec(now: number, count = 48, span = 86_400_000): BarSpec {
  const step = Math.max(1, Math.floor(span / count));
  const end = (Math.floor(now / step) + 1) * step;
  return { start: end - count * step, step, count };
}

export class BucketAccumulator {
  /** Worst status index per bucket (into STATUSES), -1 when no run. */
  readonly worst: Int8Array;
  readonly runs: Uint32Array;
  readonly up: Uint32Array;

  constructor(readonly spec: BarSpec) {
    this.worst = new Int8Array(spec.count).fill(-1);
    this.runs = new Uint32Array(spec.count);
    this.up = new Uint32Array(spec.count);
  }

  /** Add one run; `status` is an index into STATUSES (the HistoryRing's own encoding). */
  add(t: number, status: number): void {
    const i = Math.floor((t - this.spec.start) / this.spec.step);
    if (i < 0 || i >= this.spec.count || status === UNKNOWN) return;
    this.runs[i]++;
    if (status !== CRITICAL) this.up[i]++;
    if (status > this.worst[i]) this.worst[i] = status;
  }

  /** One letter per bucket: h(ealthy) d(egraded) c(ritical), "-" for no data. */
  letters(): string {
    let s = '';
    for (const w of this.worst) s += w < 0 ? '-' : LETTER[STATUSES[w]];
    return s;
  }

  /** Percent of runs up per bucket (integer 0-100), null for no data. */
  upPercent(): Array<number | null> {
    return Array.from(this.runs, (n, i) => (n ? Math.floor((this.up[i] / n) * 100) : null));
  }

  /** Up runs / runs over the whole bar, null with no runs. */
  availability(): number | null {
    let runs = 0;
    let up = 0;
    for (let i = 0; i < this.spec.count; i++) { runs += this.runs[i]; up += this.up[i]; }
    return runs ? up / runs : null;
  }
}

export const LETTER: Record<Status, string> = { healthy: 'h', unknown: 'u', degraded: 'd', critical: 'c' };

/** Bucket plain points (for callers that have arrays rather than a HistoryRing). */
export function bucketize(points: readonly PeriodPoint[], spec: BarSpec): BucketAccumulator {
  const acc = new BucketAccumulator(spec);
  for (const p of points) acc.add(p.t, STATUSES.indexOf(p.status));
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Query parameters and CSV.

const REL_RE = /^-?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

/**
 * A time query parameter: RFC 3339 / ISO 8601 ("2026-11-20T10:00:00Z"), Unix time as a number
 * (seconds, as Prometheus' API takes it; values above 1e11 are read as milliseconds), "now", or a
 * duration back from now ("24h", "-90m"). Returns epoch ms, or undefined when malformed.
 */
export function parseTimeParam(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === 'now') return now;
  const rel = REL_RE.exec(v);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n > 1e11 ? Math.round(n) : Math.round(n * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // Spreadsheet formula injection: a leading = + - @ would be evaluated by Excel/LibreOffice.
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record, with its line end. */
export function csvLine(row: unknown[]): string {
  return row.map(csvField).join(',') + '\r\n';
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map(csvLine).join('');
}
