// Read-only JSON behind the status page (status_page access: public unless server.status_page_auth):
//   GET /api/v1/status                       overall + components + checks (with 24 h bar and sparkline) in one payload
//   GET /api/v1/checks/<name>/history        points from the in-memory ring (?since=&until=, or ?buckets=N)
//   GET /api/v1/report?from=&to=&format=     availability, incidents, response-time percentiles per check (json|csv)
import { gzipSync } from 'node:zlib';
import type { Context } from 'koa';
import type { CheckState } from '../../engine/state.js';
import { BucketAccumulator, parseTimeParam, summarizePeriod, toCsv, type PeriodSummary } from '../../health/report-period.js';
import { STATUSES } from '../../health/status.js';
import type { Runtime } from '../../runtime.js';
import { VERSION } from '../../version.js';
import { HttpError } from '../body.js';
import type { RouteTable } from '../route-table.js';
import { hubFor } from '../sse.js';
import { statusSnapshot } from '../status-view.js';

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
const ms = (seconds: number) => Math.round(seconds * 1e4) / 10;
const BYTES_PER_POINT = 13; // HistoryRing: Float64 time + Float32 duration + Uint8 status

/** Large JSON is gzipped when the client accepts it (a 500-check snapshot shrinks ~10x). */
function sendJson(ctx: Context, body: unknown): void {
  const text = JSON.stringify(body);
  ctx.set('Vary', 'Accept-Encoding');
  if (text.length > 32 * 1024 && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
    ctx.set('Content-Encoding', 'gzip');
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = gzipSync(text, { level: 1 });
    return;
  }
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = text;
}

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

export function historyRoutes(runtime: Runtime, router: RouteTable): void {
  const hub = hubFor(runtime.state);

  router.get('/api/v1/status', 'status_page', (ctx) => {
    const buckets = intParam(ctx, 'buckets', 1, 1440);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, statusSnapshot(runtime.state, {
      now: Date.now(), version: VERSION, eventId: hub.lastEventId(), buckets, history: runtime.config.history,
    }));
  });

  router.get('/api/v1/checks/:name/history', 'status_page', (ctx) => {
    const s = runtime.state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    const now = Date.now();
    const since = timeParam(ctx, 'since', now, 0);
    const until = timeParam(ctx, 'until', now, Infinity);
    const buckets = intParam(ctx, 'buckets', 1, 10_000);
    const ring = s.history;
    const head = {
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
    ctx.set('Cache-Control', 'no-store');
    if (buckets !== undefined) {
      const from = Math.max(since, ring.oldest() ?? now);
      const to = Math.min(until, now);
      const step = Math.max(1, Math.ceil((to - from) / buckets));
      const acc = new BucketAccumulator({ start: from, step, count: buckets });
      const durations: number[][] = Array.from({ length: buckets }, () => []);
      ring.forEach(from, (t, d, st) => {
        if (t > to) return;
        acc.add(t, st);
        const i = Math.floor((t - from) / step);
        if (i >= 0 && i < buckets) durations[i].push(d);
      });
      const up = acc.upPercent();
      sendJson(ctx, {
        ...head,
        from: iso(from), to: iso(to), step_seconds: step / 1000,
        buckets: Array.from({ length: buckets }, (_, i) => ({
          start: iso(from + i * step),
          worst: acc.worst[i] < 0 ? null : STATUSES[acc.worst[i]],
          runs: acc.runs[i],
          up_percent: up[i],
          max_response_time_ms: durations[i].length ? ms(Math.max(...durations[i])) : null,
        })),
      });
      return;
    }
    const points: Array<{ time: string; status: string; response_time_ms: number }> = [];
    ring.forEach(since, (t, d, st) => {
      if (t <= until) points.push({ time: new Date(t).toISOString(), status: STATUSES[st], response_time_ms: ms(d) });
    });
    sendJson(ctx, { ...head, since: ctx.query.since === undefined ? null : iso(since), until: iso(Number.isFinite(until) ? until : undefined), points });
  });

  router.get('/api/v1/report', 'status_page', async (ctx) => {
    const now = Date.now();
    const to = Math.min(timeParam(ctx, 'to', now, now), now);
    const from = timeParam(ctx, 'from', now, to - 86_400_000);
    if (!(from < to)) throw new HttpError(400, `from (${iso(from)}) must be before to (${iso(to)})`);
    const format = (ctx.query.format ?? 'json') as string;
    if (format !== 'json' && format !== 'csv') throw new HttpError(400, `format: expected json or csv, got "${format}"`);
    const table = (ctx.query.table ?? 'checks') as string;
    if (table !== 'checks' && table !== 'incidents') throw new HttpError(400, `table: expected checks or incidents, got "${table}"`);
    const only = typeof ctx.query.check === 'string' ? ctx.query.check : undefined;
    const component = typeof ctx.query.component === 'string' ? ctx.query.component : undefined;

    const rows: Array<{ s: CheckState; r: PeriodSummary }> = [];
    let done = 0;
    for (const s of runtime.state.list()) {
      if (only && s.config.name !== only) continue;
      if (component && s.config.component !== component) continue;
      const maxGap = maxGapFor(s);
      rows.push({ s, r: summarizePeriod(s.history.columns(from - maxGap, to), { from, to, maxGap }) });
      // 500 checks x 24 h is ~100 ms of work: let probes and scrapes in between batches.
      if (++done % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    ctx.set('Cache-Control', 'no-store');
    if (format === 'csv') {
      const stamp = (t: number) => new Date(t).toISOString().replace(/[-:]/g, '').slice(0, 15); // 20261120T104500
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="vigil-${table}-${stamp(from)}-${stamp(to)}.csv"`);
      const pct = (x: number | null) => (x === null ? null : Math.round(x * 1e5) / 1e3);
      ctx.body = table === 'checks'
        ? toCsv(
          ['check', 'component', 'type', 'from', 'to', 'data_from', 'runs', 'observed_seconds', 'availability_percent', 'healthy_percent',
            'degraded_seconds', 'critical_seconds', 'incidents', 'p50_ms', 'p95_ms', 'p99_ms', 'mean_ms', 'max_ms'],
          rows.map(({ s, r }) => [s.config.name, s.config.component, s.config.type, iso(from), iso(to), iso(s.history.oldest()), r.runs, r.observed_seconds,
            pct(r.availability), pct(r.healthy_ratio), r.seconds_by_status.degraded, r.seconds_by_status.critical, r.incidents.length,
            ...(r.response_time ? [r.response_time.p50, r.response_time.p95, r.response_time.p99, r.response_time.mean, r.response_time.max].map(ms) : [null, null, null, null, null])]))
        : toCsv(
          ['check', 'component', 'start', 'end', 'duration_seconds', 'worst_status', 'runs', 'ongoing', 'started_before_period'],
          rows.flatMap(({ s, r }) => r.incidents.map((i) => [s.config.name, s.config.component, iso(i.start), iso(i.end), i.duration_seconds, i.worst, i.runs, i.ongoing, i.clipped_start])));
      return;
    }
    sendJson(ctx, {
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
      checks: rows.map(({ s, r }) => ({
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
      })),
    });
  });
}

