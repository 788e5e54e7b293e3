// The record's events and incidents (docs/incidents.md):
//   GET /api/v1/incidents               incidents (from, to, check, component, state, limit, offset)
//   GET /api/v1/incidents/:id           one incident with its timeline, alerts and notifications
//   GET /api/v1/record/events           the record of events (filters, text search, cursor; format=json|csv)
//   GET /api/v1/record/reliability      MTTR and MTBF per check and component, 24h/7d/30d/90d
// The live stream of changes stays GET /api/v1/events (SSE). All are status-page reads, answered
// through the read cache: identical requests within a second cost one query.
import type { Context } from 'koa';
import { STATUSES, type Status } from '../../model/status.js';
import { EVENT_KINDS, type EventKind } from '../../record/events.js';
import { incidentDetail, listIncidents, queryEvents, statusTransitions, type EventFilter, type IncidentFilter } from '../../record/queries.js';
import { RELIABILITY_WINDOWS, reliabilityWindows } from '../../record/reliability.js';
import { eventDoc, eventsCsv, incidentDetailDoc, incidentDoc, reliabilityCsv } from '../../views/incidents.js';
import { fileStamp } from '../../views/format.js';
import { stringifySliced, TimeSlice } from '../../views/time-slice.js';
import { HttpError } from '../body.js';
import type { ServerDeps } from '../deps.js';
import { choiceParam, intParam, rawParam, timeParam } from '../params.js';
import { checkRange } from '../read-limits.js';
import { respondCached, type Answer } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

/** Events per page at most (and by default). */
export const MAX_EVENTS_PAGE = 1000;
const DEFAULT_EVENTS_PAGE = 100;
/** Incidents per page at most (and by default), and how deep offset paging goes. */
export const MAX_INCIDENTS_PAGE = 500;
const DEFAULT_INCIDENTS_PAGE = 100;
export const MAX_OFFSET = 100_000;
/** Longest text search and name filter accepted. */
const MAX_TEXT = 200;
const MAX_NAME = 100;

const json = (body: string): Answer => ({ type: 'application/json; charset=utf-8', body });
const UNREADABLE: Answer = { status: 503, type: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'the record (vigil.db) cannot be read right now; see the log' }) };

function text(ctx: Context, name: string, max: number): string | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const v = (Array.isArray(raw) ? raw[0] : raw).trim();
  if (!v.length || v.length > max) throw new HttpError(400, `${name}: expected 1 to ${max} characters, got ${v.length}`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new HttpError(400, `${name}: control characters are not allowed`);
  return v;
}

function timeRange(ctx: Context, now: number, retention: number): { from?: number; to?: number } {
  const from = ctx.query.from === undefined ? undefined : timeParam(ctx, 'from', now, now);
  const to = ctx.query.to === undefined ? undefined : timeParam(ctx, 'to', now, now);
  if (from !== undefined && to !== undefined && from > to) throw new HttpError(400, 'from must not be after to');
  if (from !== undefined) checkRange(['from', 'to'], from, to ?? now, retention);
  return { from, to };
}

export function incidentsRoutes({ record, readCache: cache, config, state }: Pick<ServerDeps, 'record' | 'readCache' | 'config' | 'state'>, routes: RouteTable): void {
  const retention = () => config()?.history.retention ?? 0;
  /** The request's validated parameters, as the cache key (relative times as written: the answer is at most a second old). */
  const keyOf = (route: string, params: object) => `record ${route} ${JSON.stringify(params)}`;

  routes.get('/api/v1/incidents', 'status_page', async (ctx) => {
    const now = Date.now();
    const { from, to } = timeRange(ctx, now, retention());
    const f: IncidentFilter = {
      from, to, check: text(ctx, 'check', MAX_NAME), component: text(ctx, 'component', MAX_NAME),
      offset: intParam(ctx, 'offset', 0, MAX_OFFSET) ?? 0, limit: intParam(ctx, 'limit', 1, MAX_INCIDENTS_PAGE) ?? DEFAULT_INCIDENTS_PAGE,
    };
    const st = choiceParam(ctx, 'state', ['all', 'open', 'closed'] as const, 'all');
    if (st !== 'all') f.state = st;
    await respondCached(ctx, cache, keyOf('incidents', { ...f, from: rawParam(ctx, 'from'), to: rawParam(ctx, 'to') }), async () => {
      const got = await record.readEvents((sql) => listIncidents(sql, f));
      if (!got) return UNREADABLE;
      const next = f.offset + got.incidents.length < got.total ? f.offset + got.incidents.length : null;
      return json(await stringifySliced({ total: got.total, offset: f.offset, limit: f.limit, next_offset: next, incidents: got.incidents.map((i) => incidentDoc(i, now)) }, new TimeSlice()));
    });
  });

  routes.get('/api/v1/incidents/:id', 'status_page', async (ctx) => {
    const raw = ctx.params.id;
    if (!/^\d{1,15}$/.test(raw)) throw new HttpError(400, `id: expected an incident number, got "${raw.slice(0, 40)}"`);
    const id = Number(raw);
    await respondCached(ctx, cache, keyOf('incident', { id }), async () => {
      const now = Date.now();
      const got = await record.readEvents(async (sql) => (await incidentDetail(sql, id, now)) ?? null);
      if (got === undefined) return UNREADABLE;
      if (got === null) return { status: 404, ...json(JSON.stringify({ error: `no incident ${id}` })) };
      return json(await stringifySliced(incidentDetailDoc(got, now), new TimeSlice()));
    });
  });

  routes.get('/api/v1/record/events', 'status_page', async (ctx) => {
    const now = Date.now();
    const { from, to } = timeRange(ctx, now, retention());
    const f: EventFilter = {
      from, to, check: text(ctx, 'check', MAX_NAME), component: text(ctx, 'component', MAX_NAME), text: text(ctx, 'q', MAX_TEXT),
      limit: intParam(ctx, 'limit', 1, MAX_EVENTS_PAGE) ?? DEFAULT_EVENTS_PAGE, before: intParam(ctx, 'cursor', 1, Number.MAX_SAFE_INTEGER),
    };
    const status = text(ctx, 'status', 20);
    if (status !== undefined) {
      if (!STATUSES.includes(status as Status)) throw new HttpError(400, `status: expected ${STATUSES.join(', ')}, got "${status}"`);
      f.status = status as Status;
    }
    const kinds = text(ctx, 'kind', 200);
    if (kinds !== undefined) {
      const list = kinds.split(',').map((k) => k.trim());
      const bad = list.find((k) => !EVENT_KINDS.includes(k as EventKind));
      if (bad !== undefined) throw new HttpError(400, `kind: expected a comma-separated list of ${EVENT_KINDS.join(', ')}, got "${bad.slice(0, 40)}"`);
      f.kinds = [...new Set(list)] as EventKind[];
    }
    const format = choiceParam(ctx, 'format', ['json', 'csv'] as const, 'json');
    await respondCached(ctx, cache, keyOf('events', { ...f, from: rawParam(ctx, 'from'), to: rawParam(ctx, 'to'), format }), async () => {
      const got = await record.readEvents((sql) => queryEvents(sql, f));
      if (!got) return UNREADABLE;
      const headers: Record<string, string> = got.next !== undefined ? { 'X-Next-Cursor': String(got.next) } : {};
      if (format === 'csv') {
        return { type: 'text/csv; charset=utf-8', headers: { ...headers, 'Content-Disposition': `attachment; filename="vigil-events-${fileStamp(now)}.csv"` }, body: eventsCsv(got.events) };
      }
      return { ...json(await stringifySliced({ events: got.events.map(eventDoc), next_cursor: got.next ?? null }, new TimeSlice())), headers };
    });
  });

  routes.get('/api/v1/record/reliability', 'status_page', async (ctx) => {
    const format = choiceParam(ctx, 'format', ['json', 'csv'] as const, 'json');
    const check = text(ctx, 'check', MAX_NAME);
    const component = text(ctx, 'component', MAX_NAME);
    await respondCached(ctx, cache, keyOf('reliability', { format, check, component }), async () => {
      const now = Date.now();
      const longest = Math.max(...RELIABILITY_WINDOWS.map(([, ms]) => ms));
      const got = await record.readEvents((sql) => statusTransitions(sql, now - longest));
      if (!got) return UNREADABLE;
      const rollup = state.rollup();
      const rows: Array<{ kind: string; name: string; windows: ReturnType<typeof reliabilityWindows> }> = [];
      for (const s of state.list()) {
        if (check !== undefined && s.config.name !== check) continue;
        if (component !== undefined && s.config.component !== component) continue;
        rows.push({ kind: 'check', name: s.config.name, windows: reliabilityWindows(got.bySubject.get(`check:${s.config.name}`) ?? [], s.status, now) });
      }
      for (const [name, c] of rollup.components) {
        if (check !== undefined || (component !== undefined && name !== component)) continue;
        rows.push({ kind: 'component', name, windows: reliabilityWindows(got.bySubject.get(`component:${name}`) ?? [], c.status, now) });
      }
      if (format === 'csv') return { type: 'text/csv; charset=utf-8', headers: { 'Content-Disposition': `attachment; filename="vigil-reliability-${fileStamp(now)}.csv"` }, body: reliabilityCsv(rows) };
      const slice = new TimeSlice();
      return json(await stringifySliced({
        generated_at: new Date(now).toISOString(), windows: RELIABILITY_WINDOWS.map(([w]) => w), truncated: got.truncated,
        checks: rows.filter((r) => r.kind === 'check').map(({ name, windows }) => ({ name, windows })),
        components: rows.filter((r) => r.kind === 'component').map(({ name, windows }) => ({ name, windows })),
      }, slice));
    });
  });
}
