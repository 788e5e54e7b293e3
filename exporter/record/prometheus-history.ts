// Long windows (7 d / 30 d / 90 d) read from Prometheus (or anything that speaks its HTTP query
// API: Thanos, Mimir, VictoriaMetrics) when history.prometheus_url is set: availability from the
// availability recording rules (rules/vigil-availability.yml) with the very expression the
// Grafana dashboards use, response times from the hourly latency recording, so the status page
// and Grafana show the same numbers. Every request has a timeout and a bounded answer; the
// caller falls back to the record when this throws (PrometheusUnavailable).
import { readBodyBounded } from '../model/http-body.js';
export type LongWindow = '7d' | '30d' | '90d';

export const LONG_WINDOWS: Readonly<Record<LongWindow, number>> = { '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000 };

/** One check over a window (or a bucket of it). */
export interface WindowFigures {
  /** Share of time the check's runs succeeded (probe_success), 0–1; null without data. */
  availability: number | null;
  /** Mean response time in seconds; null without data. */
  response_time: number | null;
}

export interface TrendPoint extends WindowFigures {
  /** Start of the bucket (epoch ms); it ends where the next one starts. */
  t: number;
}

export interface CheckWindow extends WindowFigures {
  trend: TrendPoint[];
}

export interface WindowQuery {
  window: LongWindow;
  /** End of the window (epoch ms). */
  now: number;
  /** Trend buckets over the window (each a whole number of hours). */
  buckets: number;
}

/** Prometheus did not answer usably (unreachable, timeout, an error, an answer too large): fall back. */
export class PrometheusUnavailable extends Error {}

export interface PrometheusHistoryOptions {
  /** Base URL of the query API (http://prometheus:9090, a Thanos querier, …). */
  url: string;
  /** Bound on each request. */
  timeoutMs: number;
  /** Label matchers every series must have (history.prometheus_selector, e.g. job="vigil"). */
  selector?: string;
  /** Largest answer read (bytes). */
  maxBytes?: number;
  fetch?: typeof fetch;
}

const HOUR_MS = 3_600_000;
/** Recording rules read; the names are rules/vigil-availability.yml's. */
export const AVAILABILITY_RECORDING: Readonly<Record<LongWindow, string>> = {
  '7d': 'check:probe_success:avg_over_time7d',
  '30d': 'check:probe_success:avg_over_time30d',
  '90d': 'check:probe_success:avg_over_time90d',
};
const SUCCESS_HOURLY = 'check:probe_success:avg_over_time1h';
const DURATION_HOURLY = 'check:probe_duration_seconds:avg_over_time1h';

/** Prometheus' duration syntax for whole seconds. */
const dur = (ms: number) => `${Math.round(ms / 1000)}s`;

/** The PromQL queries for a window (exported for the docs and the tests). */
export function windowQueries(window: LongWindow, stepMs: number, selector = ''): { availability: string; response_time: string; availabilityTrend: string; responseTimeTrend: string } {
  const sel = `{${selector}}`;
  // max by (check): the dashboards' aggregation, so two Vigil instances scraping the same check
  // (an HA pair) read as one.
  return {
    availability: `max by (check) (${AVAILABILITY_RECORDING[window]}${sel})`,
    response_time: `max by (check) (avg_over_time(${DURATION_HOURLY}${sel}[${dur(LONG_WINDOWS[window])}:1h]))`,
    availabilityTrend: `max by (check) (avg_over_time(${SUCCESS_HOURLY}${sel}[${dur(stepMs)}:1h]))`,
    responseTimeTrend: `max by (check) (avg_over_time(${DURATION_HOURLY}${sel}[${dur(stepMs)}:1h]))`,
  };
}

interface PromVector { metric: Record<string, string>; value: [number, string] }
interface PromMatrix { metric: Record<string, string>; values: Array<[number, string]> }

export class PrometheusHistory {
  private readonly base: string;
  private readonly credentials?: string;

  constructor(private readonly opts: PrometheusHistoryOptions) {
    // user:password@ in the URL becomes a basic-auth header (fetch refuses URLs with credentials).
    const u = new URL(opts.url);
    if (u.username || u.password) {
      this.credentials = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
      u.username = '';
      u.password = '';
    }
    this.base = u.toString().replace(/\/+$/, '');
  }

  /** Where answers come from, for messages: scheme, host and path, never credentials. */
  get where(): string {
    return this.base;
  }

  /** Each check's availability, mean response time and trend over the window, by check name. */
  async windows(q: WindowQuery): Promise<Map<string, CheckWindow>> {
    const windowMs = LONG_WINDOWS[q.window];
    const buckets = Math.max(1, Math.min(q.buckets, windowMs / HOUR_MS));
    const stepMs = Math.floor(windowMs / buckets / HOUR_MS) * HOUR_MS;
    const end = Math.floor(q.now / 1000);
    const start = end - (stepMs / 1000) * (buckets - 1);
    const queries = windowQueries(q.window, stepMs, this.opts.selector);
    const [availability, responseTime, availabilityTrend, responseTimeTrend] = await Promise.all([
      this.instant(queries.availability, end),
      this.instant(queries.response_time, end),
      this.range(queries.availabilityTrend, start, end, stepMs / 1000),
      this.range(queries.responseTimeTrend, start, end, stepMs / 1000),
    ]);
    const out = new Map<string, CheckWindow>();
    const entry = (check: string) => {
      let e = out.get(check);
      if (!e) {
        // Bucket i covers (t_i - step, t_i]; it is reported by its start.
        const trend = Array.from({ length: buckets }, (_, i) => ({ t: (start + (stepMs / 1000) * i) * 1000 - stepMs, availability: null, response_time: null }));
        out.set(check, e = { availability: null, response_time: null, trend });
      }
      return e;
    };
    // A series without a check label (some other rule of the same name) is not a check.
    for (const s of availability) if (s.metric.check) entry(s.metric.check).availability = num(s.value[1]);
    for (const s of responseTime) if (s.metric.check) entry(s.metric.check).response_time = num(s.value[1]);
    const fill = (series: PromMatrix[], key: keyof WindowFigures) => {
      for (const s of series) {
        if (!s.metric.check) continue;
        const e = entry(s.metric.check);
        for (const [t, v] of s.values) {
          const i = Math.round((t - start) / (stepMs / 1000));
          if (i >= 0 && i < buckets) e.trend[i][key] = num(v);
        }
      }
    };
    fill(availabilityTrend, 'availability');
    fill(responseTimeTrend, 'response_time');
    return out;
  }

  private instant(query: string, time: number): Promise<PromVector[]> {
    return this.api<PromVector[]>('/api/v1/query', { query, time: String(time) });
  }

  private range(query: string, start: number, end: number, step: number): Promise<PromMatrix[]> {
    return this.api<PromMatrix[]>('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(step) });
  }

  private async api<T>(endpoint: string, params: Record<string, string>): Promise<T> {
    const timeout = Math.max(1, Math.round(this.opts.timeoutMs / 1000));
    const body = new URLSearchParams({ ...params, timeout: `${timeout}s` });
    let text: string;
    let status: number;
    try {
      const res = await (this.opts.fetch ?? fetch)(this.base + endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(this.credentials ? { authorization: `Basic ${this.credentials}` } : {}) },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      text = await readBodyBounded(res, this.opts.maxBytes ?? 16 << 20, this.opts.timeoutMs);
    } catch (err) {
      const e = err as Error;
      throw new PrometheusUnavailable(`${this.base}${endpoint}: ${e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : (e.cause as Error)?.message ?? e.message}`);
    }
    let doc: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      doc = JSON.parse(text);
    } catch {
      throw new PrometheusUnavailable(`${this.base}${endpoint}: HTTP ${status}, not a query API answer`);
    }
    if (doc.status !== 'success' || !Array.isArray(doc.data?.result)) {
      throw new PrometheusUnavailable(`${this.base}${endpoint}: HTTP ${status}${doc.error ? `: ${String(doc.error).slice(0, 300)}` : ''}`);
    }
    return doc.data.result as T;
  }
}

function num(v: string): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
