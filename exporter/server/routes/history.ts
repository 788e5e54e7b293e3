// Read-only JSON behind the status page (status_page access: public unless server.status_page_auth):
//   GET /api/v1/status                       overall + components + checks (with 24 h bar and sparkline) in one payload
//   GET /api/v1/checks/<name>/history        points from the in-memory ring (?since=&until=, or ?buckets=N)
//   GET /api/v1/report?from=&to=&format=     availability, incidents, response-time percentiles per check (json|csv)
// The documents are built in views/; here only parameters, cache keys and the answer's type.
import { VERSION } from '../../version.js';
import { iso } from '../../views/format.js';
import { historyBuckets, historyPoints } from '../../views/history.js';
import { REPORT_TABLES, reportCsv, reportDocument, reportRows, type ReportQuery, type ReportTable } from '../../views/report.js';
import { statusSnapshotSliced } from '../../views/status.js';
import { stringifySliced, TimeSlice } from '../../views/time-slice.js';
import { HttpError } from '../body.js';
import type { ServerDeps } from '../deps.js';
import { choiceParam, intParam, rawParam, timeParam } from '../params.js';
import { respondCached, type Answer } from '../read-cache.js';
import { checkRange, MAX_HISTORY_BUCKETS, MAX_STATUS_BUCKETS } from '../read-limits.js';
import type { RouteTable } from '../route-table.js';

/** JSON built in slices (see time-slice.ts); the read cache gzips it for clients that accept it. */
async function json(build: (slice: TimeSlice) => Promise<unknown>, slice = new TimeSlice()): Promise<Answer> {
  return { type: 'application/json; charset=utf-8', body: await stringifySliced(await build(slice), slice) };
}

const DAY = 86_400_000;
const retention = (deps: Pick<ServerDeps, 'config'>) => deps.config()!.history.retention;

/**
 * Slices of the status snapshot's build: longer than the default 8 ms, so that the first payload
 * of a page load is built in two or three turns of the event loop, not a dozen (each turn waits
 * behind every probe result that came in meanwhile: on a busy exporter with 500 checks, 8 ms
 * slices made a 40 ms build take over a second). A scrape waits for at most one slice.
 */
const STATUS_SLICE_MS = 20;

/**
 * GET /api/v1/status's answer: its read-cache key and computation, shared with GET / (which
 * starts it as the page's HTML goes out, so the snapshot the page asks for next is ready or
 * under way).
 */
export function statusAnswer(deps: Pick<ServerDeps, 'state' | 'config' | 'hub' | 'otherShards' | 'maintenance'>, buckets?: number): { key: string; compute: () => Promise<Answer> } {
  return {
    key: `status ${buckets}`,
    // The event id is taken first: the page replays every change after it, so a snapshot that
    // is a second old (cached) or took a while to build is still completed by the feed.
    compute: () => json(async (slice) => {
      const snapshot = await statusSnapshotSliced(deps.state, {
        now: Date.now(), version: VERSION, eventId: deps.hub.lastEventId(), buckets, history: deps.config()!.history,
        planned: (from, to) => deps.maintenance.plannedBars(from, to),
      }, slice);
      // Sharded: the checks other shards run, from the shared record (the page lists them apart).
      const others = await deps.otherShards();
      return others ? { ...snapshot, other_shards: others } : snapshot;
    }, new TimeSlice(STATUS_SLICE_MS)),
  };
}

export function historyRoutes(deps: Pick<ServerDeps, 'state' | 'config' | 'readCache' | 'hub' | 'record' | 'maintenance' | 'otherShards'>, router: RouteTable): void {
  const { state, readCache: cache } = deps;

  router.get('/api/v1/status', 'status_page', async (ctx) => {
    const { key, compute } = statusAnswer(deps, intParam(ctx, 'buckets', 1, MAX_STATUS_BUCKETS));
    await respondCached(ctx, cache, key, compute);
  });

  router.get('/api/v1/checks/:name/history', 'status_page', async (ctx) => {
    const s = state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    const now = Date.now();
    const range = { since: timeParam(ctx, 'since', now, 0), until: timeParam(ctx, 'until', now, Infinity) };
    const sinceGiven = ctx.query.since !== undefined;
    if (sinceGiven) checkRange(['since', 'until'], range.since, Math.min(range.until, now), retention(deps));
    const buckets = intParam(ctx, 'buckets', 1, MAX_HISTORY_BUCKETS);
    const key = `history ${s.config.name} ${rawParam(ctx, 'since')} ${rawParam(ctx, 'until')} ${buckets}`;
    await respondCached(ctx, cache, key, () => json((slice) => (buckets === undefined
      ? historyPoints(s, range, sinceGiven, slice)
      : historyBuckets(s, range, buckets, Date.now(), slice))));
  });

  router.get('/api/v1/report', 'status_page', async (ctx) => {
    const now = Date.now();
    const to = Math.min(timeParam(ctx, 'to', now, now), now);
    const from = timeParam(ctx, 'from', now, to - DAY);
    if (!(from < to)) throw new HttpError(400, `from (${iso(from)}) must be before to (${iso(to)})`);
    checkRange(['from', 'to'], from, to, retention(deps));
    const format = choiceParam(ctx, 'format', ['json', 'csv'], 'json');
    const table = choiceParam<ReportTable>(ctx, 'table', REPORT_TABLES, 'checks');
    const q: ReportQuery = { from, to, check: typeof ctx.query.check === 'string' ? ctx.query.check : undefined, component: typeof ctx.query.component === 'string' ? ctx.query.component : undefined };
    const key = `report ${rawParam(ctx, 'from')} ${rawParam(ctx, 'to')} ${format} ${table} ${q.check ?? ''} ${q.component ?? ''}`;
    await respondCached(ctx, cache, key, async () => {
      const slice = new TimeSlice();
      const rows = await reportRows(state.list(), q, slice, deps.record, (s, from, to) => deps.maintenance.excluded({ name: s.config.name, component: s.config.component, labels: s.config.labels }, from, to));
      if (format === 'json') return json((sl) => reportDocument(rows, q, now, deps.config()!.history.max_points, sl), slice);
      const { text, filename } = await reportCsv(rows, table, q, slice);
      return { type: 'text/csv; charset=utf-8', body: text, headers: { 'Content-Disposition': `attachment; filename="${filename}"` } };
    });
  });
}
