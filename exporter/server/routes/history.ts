// Read-only JSON behind the status page (status_page access: public unless server.status_page_auth):
//   GET /api/v1/status                       overall + components + checks (with 24 h bar and sparkline) in one payload
//   GET /api/v1/checks/<name>/history        points from the in-memory ring (?since=&until=, or ?buckets=N)
//   GET /api/v1/report?from=&to=&format=     availability, incidents, response-time percentiles per check (json|csv)
import type { Context } from 'koa';
import type { CheckState } from '../../engine/state.js';
import { BucketAccumulator, csvLine, parseTimeParam, summarizePeriod, type PeriodSummary } from '../../health/report-period.js';
import { STATUSES } from '../../health/status.js';
import type { Runtime } from '../../runtime.js';
import { VERSION } from '../../version.js';
import { HttpError } from '../body.js';
import { hubFor } from '../sse.js';
import { checkRange, MAX_HISTORY_BUCKETS, MAX_STATUS_BUCKETS } from '../read-limits.js';
import type { RouteTable } from '../route-table.js';
import { readCacheFor, respondCached, type Answer } from '../read-cache.js';
import { statusSnapshotSliced } from '../../views/status.js';
import { mapSliced, stringifySliced, TimeSlice } from '../time-slice.js';

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
const ms = (seconds: number) => Math.round(seconds * 1e4) / 10;
const BYTES_PER_POINT = 13; // HistoryRing: Float64 time + Float32 duration + Uint8 status

/** JSON built in slices (see time-slice.ts); the read cache gzips it for clients that accept it. */
async function json(body: unknown, slice = new TimeSlice()): Promise<Answer> {
  return { type: 'application/json; charset=utf-8', body: await stringifySliced(body, slice) };
}

/** The raw value of a query parameter, for cache keys (after validation). */
const raw = (ctx: Context, name: string) => {
  const v = ctx.query[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
};

function timeParam(ctx: Context, name: string, now: number, fallback: number): number {
  const raw = ctx.query[name];
  if (raw === undefined) return fallback;
  const t = parseTimeParam(Array.isArray(raw) ? raw[0] : raw, now);
  if (t === undefined) throw new HttpError(400, `${name}: expected RFC 3339 time, Unix seconds, "now" or a duration such as 24h, got "${raw}"`);
  return t;
}

function intParam(ctx: Context, name: string, min: number, max: number): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** How long a run's status is believed without a newer run: beyond that the data has a gap. */
export function maxGapFor(s: CheckState): number {
  const c = s.config;
  return 2 * c.interval + c.timeout * (c.retries + 1) + c.retry_delay * c.retries;
}

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

/** One check's runs in [since, until], point by point (at most history.max_points of them). */
async function historyPoints(s: CheckState, since: number, until: number, sinceGiven: boolean): Promise<Answer> {
  const slice = new TimeSlice();
  const { t, duration, status } = s.history.columns(since, until + 1); // until is inclusive; times are whole ms
  const points: Array<{ time: string; status: string; response_time_ms: number }> = [];
  for (let i = 0; i < t.length; i++) {
    points.push({ time: new Date(t[i]).toISOString(), status: STATUSES[status[i]], response_time_ms: ms(duration[i]) });
    if (i % 256 === 0) await slice.pause();
  }
  return json({ ...historyHead(s), since: sinceGiven ? iso(since) : null, until: iso(Number.isFinite(until) ? until : undefined), points }, slice);
}

/** One check's runs in [since, until] summarised into `buckets` equal buckets. */
async function historyBuckets(s: CheckState, since: number, until: number, buckets: number): Promise<Answer> {
  const slice = new TimeSlice();
  const now = Date.now();
  const ring = s.history;
  const from = Math.max(since, ring.oldest() ?? now);
  const to = Math.min(until, now);
  const step = Math.max(1, Math.ceil((to - from) / buckets));
  const acc = new BucketAccumulator({ start: from, step, count: buckets });
  const maxDuration = new Float64Array(buckets).fill(-1);
  const { t, duration, status } = ring.columns(from, to + 1);
  for (let j = 0; j < t.length; j++) {
    acc.add(t[j], status[j]);
    const i = Math.floor((t[j] - from) / step);
    if (i >= 0 && i < buckets && duration[j] > maxDuration[i]) maxDuration[i] = duration[j];
    if (j % 1024 === 0) await slice.pause();
  }
  const up = acc.upPercent();
  return json({
    ...historyHead(s),
    from: iso(from), to: iso(to), step_seconds: step / 1000,
    buckets: Array.from({ length: buckets }, (_, i) => ({
      start: iso(from + i * step),
      worst: acc.worst[i] < 0 ? null : STATUSES[acc.worst[i]],
      runs: acc.runs[i],
      up_percent: up[i],
      max_response_time_ms: maxDuration[i] >= 0 ? ms(maxDuration[i]) : null,
    })),
  }, slice);
}

interface ReportParams { from: number; to: number; now: number; format: string; table: string; only?: string; component?: string }

const CHECK_COLUMNS = ['check', 'component', 'type', 'from', 'to', 'data_from', 'runs', 'observed_seconds', 'availability_percent', 'healthy_percent',
  'degraded_seconds', 'critical_seconds', 'incidents', 'p50_ms', 'p95_ms', 'p99_ms', 'mean_ms', 'max_ms'];
const INCIDENT_COLUMNS = ['check', 'component', 'start', 'end', 'duration_seconds', 'worst_status', 'runs', 'ongoing', 'started_before_period'];

/** GET /api/v1/report: availability, incidents and percentiles per check over [from, to), JSON or CSV. */
async function report(runtime: Runtime, { from, to, now, format, table, only, component }: ReportParams): Promise<Answer> {
  const slice = new TimeSlice();
  const rows: Array<{ s: CheckState; r: PeriodSummary }> = [];
  for (const s of runtime.state.list()) {
    if (only && s.config.name !== only) continue;
    if (component && s.config.component !== component) continue;
    const maxGap = maxGapFor(s);
    rows.push({ s, r: summarizePeriod(s.history.columns(from - maxGap, to), { from, to, maxGap }) });
    await slice.pause(); // 500 checks x 24 h is ~100 ms of work
  }
  if (format === 'csv') {
    const stamp = (t: number) => new Date(t).toISOString().replace(/[-:]/g, '').slice(0, 15); // 20261120T104500
    const pct = (x: number | null) => (x === null ? null : Math.round(x * 1e5) / 1e3);
    const lines = table === 'checks'
      ? rows.map(({ s, r }) => [s.config.name, s.config.component, s.config.type, iso(from), iso(to), iso(s.history.oldest()), r.runs, r.observed_seconds,
        pct(r.availability), pct(r.healthy_ratio), r.seconds_by_status.degraded, r.seconds_by_status.critical, r.incidents.length,
        ...(r.response_time ? [r.response_time.p50, r.response_time.p95, r.response_time.p99, r.response_time.mean, r.response_time.max].map(ms) : [null, null, null, null, null])])
      : rows.flatMap(({ s, r }) => r.incidents.map((i) => [s.config.name, s.config.component, iso(i.start), iso(i.end), i.duration_seconds, i.worst, i.runs, i.ongoing, i.clipped_start]));
    let text = csvLine(table === 'checks' ? CHECK_COLUMNS : INCIDENT_COLUMNS);
    for (const l of lines) {
      text += csvLine(l);
      await slice.pause();
    }
    return { type: 'text/csv; charset=utf-8', body: text, headers: { 'Content-Disposition': `attachment; filename="vigil-${table}-${stamp(from)}-${stamp(to)}.csv"` } };
  }
  const checks = await mapSliced(rows, ({ s, r }) => ({
    name: s.config.name,
    component: s.config.component,
    type: s.config.type,
    interval_seconds: s.config.interval / 1000,
    max_gap_seconds: maxGapFor(s) / 1000,
    data_from: iso(s.history.oldest()),
    runs: r.runs,
    observed_seconds: r.observed_seconds,
    availability: r.availability,
    healthy_ratio: r.healthy_ratio,
    seconds_by_status: r.seconds_by_status,
    incidents_total: r.incidents.length,
    incidents: r.incidents.map((i) => ({ start: iso(i.start), end: iso(i.end), duration_seconds: i.duration_seconds, worst: i.worst, runs: i.runs, ongoing: i.ongoing, started_before_period: i.clipped_start })),
    response_time_ms: r.response_time && {
      p50: ms(r.response_time.p50), p95: ms(r.response_time.p95), p99: ms(r.response_time.p99), mean: ms(r.response_time.mean), max: ms(r.response_time.max),
    },
  }), slice);
  return json({
    from: iso(from),
    to: iso(to),
    generated_at: iso(now),
    definitions: {
      availability: 'time up (healthy or degraded) / time covered by data; each run\'s status holds until the next run, for at most max_gap_seconds',
      healthy_ratio: 'time healthy / time covered by data',
      incident: 'a contiguous period of non-healthy runs, from the first non-healthy run to the next healthy one',
      percentiles: 'nearest-rank over the response times of the runs in the period',
      data: `the in-memory history ring only: at most history.max_points (${runtime.config.history.max_points}) points per check and history.retention; data_from says where each check's data starts`,
    },
    checks,
  }, slice);
}

export function historyRoutes(runtime: Runtime, router: RouteTable): void {
  const hub = hubFor(runtime.state);
  const cache = readCacheFor(runtime.state);

  router.get('/api/v1/status', 'status_page', async (ctx) => {
    const buckets = intParam(ctx, 'buckets', 1, MAX_STATUS_BUCKETS);
    await respondCached(ctx, cache, `status ${buckets}`, async () => {
      const slice = new TimeSlice();
      // The event id is taken first: the page replays every change after it, so a snapshot that
      // is a second old (cached) or took a while to build is still completed by the feed.
      const snapshot = await statusSnapshotSliced(runtime.state, {
        now: Date.now(), version: VERSION, eventId: hub.lastEventId(), buckets, history: runtime.config.history,
      }, slice);
      return json(snapshot, slice);
    });
  });

  router.get('/api/v1/checks/:name/history', 'status_page', async (ctx) => {
    const s = runtime.state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    const now = Date.now();
    const since = timeParam(ctx, 'since', now, 0);
    const until = timeParam(ctx, 'until', now, Infinity);
    if (ctx.query.since !== undefined) checkRange(['since', 'until'], since, Math.min(until, now), runtime.config.history.retention);
    const buckets = intParam(ctx, 'buckets', 1, MAX_HISTORY_BUCKETS);
    const key = `history ${s.config.name} ${raw(ctx, 'since')} ${raw(ctx, 'until')} ${buckets}`;
    await respondCached(ctx, cache, key, () => (buckets === undefined ? historyPoints(s, since, until, ctx.query.since !== undefined) : historyBuckets(s, since, until, buckets)));
  });

  router.get('/api/v1/report', 'status_page', async (ctx) => {
    const now = Date.now();
    const to = Math.min(timeParam(ctx, 'to', now, now), now);
    const from = timeParam(ctx, 'from', now, to - 86_400_000);
    if (!(from < to)) throw new HttpError(400, `from (${iso(from)}) must be before to (${iso(to)})`);
    checkRange(['from', 'to'], from, to, runtime.config.history.retention);
    const format = (ctx.query.format ?? 'json') as string;
    if (format !== 'json' && format !== 'csv') throw new HttpError(400, `format: expected json or csv, got "${format}"`);
    const table = (ctx.query.table ?? 'checks') as string;
    if (table !== 'checks' && table !== 'incidents') throw new HttpError(400, `table: expected checks or incidents, got "${table}"`);
    const only = typeof ctx.query.check === 'string' ? ctx.query.check : undefined;
    const component = typeof ctx.query.component === 'string' ? ctx.query.component : undefined;

    const key = `report ${raw(ctx, 'from')} ${raw(ctx, 'to')} ${format} ${table} ${only ?? ''} ${component ?? ''}`;
    await respondCached(ctx, cache, key, () => report(runtime, { from, to, now, format, table, only, component }));
  });
}

