// Maintenance windows and acknowledgements (docs/maintenance.md):
//   GET  /api/v1/maintenance                    windows on now, coming up, all windows, open acknowledgements
//   POST /api/v1/maintenance                    plan a window (admin)
//   POST /api/v1/maintenance/:id/extend         move its end (admin)
//   POST /api/v1/maintenance/:id/end            end it now, or cancel it before it begins (admin)
//   GET  /api/v1/acknowledgements               open and recent acknowledgements
//   POST /api/v1/acknowledgements               acknowledge an alert (fingerprint) or an incident (id) (admin)
//   POST /api/v1/acknowledgements/:id/end       end one by hand (admin)
import type { Context } from 'koa';
import { z } from 'zod';
import { instant, maintenanceScopeSchema } from '../../config/maintenance.js';
import { duration } from '../../config/units.js';
import { firingNow } from '../../alerts/query.js';
import { incidentOf } from '../../record/incidents.js';
import { MAX_ACK_MS, MaintenanceError, type Maintenance } from '../../maintenance/manager.js';
import type { Occurrence } from '../../maintenance/schedule.js';
import type { Acknowledgement, AckTarget } from '../../maintenance/store.js';
import { iso } from '../../views/format.js';
import { HttpError, readJson } from '../body.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

const BODY_LIMIT = 64 * 1024;
const who = z.string().trim().min(1, 'by: say who you are (a name or handle)').max(100).regex(/^[^\u0000-\u001f\u007f]+$/, 'by: no control characters');
const comment = z.string().trim().max(1000).optional();

const createSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  start: instant.optional(),
  end: instant.optional(),
  duration: duration.optional(),
  scope: maintenanceScopeSchema,
  by: who,
  comment,
}).refine((b) => (b.end === undefined) !== (b.duration === undefined), 'set either end or duration');

const extendSchema = z.strictObject({ end: instant.optional(), by_duration: duration.optional(), by: who })
  .refine((b) => (b.end === undefined) !== (b.by_duration === undefined), 'set either end (the new end) or by_duration (added to the current end)');

const endSchema = z.strictObject({ by: who });

const ackSchema = z.strictObject({
  alert: z.string().regex(/^[0-9a-f]{1,32}$/, 'alert: an alert fingerprint (hex) as GET /api/v1/alerts lists it').optional(),
  incident: z.number().int().min(1).optional(),
  by: who,
  comment,
  /** For this long; without it, until the alert or incident resolves (7d at most). */
  duration: duration.pipe(z.number().min(60_000, 'duration must be at least 1m').max(MAX_ACK_MS, 'duration must be at most 7d')).optional(),
}).refine((b) => (b.alert === undefined) !== (b.incident === undefined), 'acknowledge either an alert (fingerprint) or an incident (id)');

async function body<T extends z.ZodType>(ctx: Context, schema: T): Promise<z.output<T>> {
  const parsed = schema.safeParse((await readJson(ctx, BODY_LIMIT)) ?? {});
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  return parsed.data;
}

async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MaintenanceError) throw new HttpError(err.status, err.message);
    throw err;
  }
}

function occurrenceDoc(o: Occurrence & { checks?: string[]; components?: string[] }) {
  return {
    id: o.window.id, title: o.window.title, source: o.window.source, start: iso(o.start), end: iso(o.end),
    scope: o.window.scope, ...(o.checks ? { checks: o.checks, components: o.components } : {}),
  };
}

export function ackDoc(a: Acknowledgement) {
  return {
    id: a.id, target: a.target, by: a.by, comment: a.comment ?? null, created_at: iso(a.createdAt),
    until: a.untilResolved ? 'resolved' : iso(a.expiresAt), expires_at: iso(a.expiresAt),
    ended_at: iso(a.endedAt) ?? null, end_reason: a.endReason ?? null,
  };
}

/** The maintenance part of GET /api/v1/maintenance and the page. */
export function maintenanceDoc(m: Maintenance, now: number) {
  return {
    now: iso(now),
    active: m.active(now).map(occurrenceDoc),
    upcoming: m.upcoming(7 * 86_400_000, now).slice(0, 50).map(occurrenceDoc),
    /** Occurrences of the last 24 h (and now), with their checks: the page marks them on the bars. */
    recent: m.between(now - 86_400_000, now + 1).map(occurrenceDoc),
    windows: m.windows().map((w) => ({
      id: w.id, title: w.title, source: w.source, scope: w.scope,
      ...(w.schedule !== undefined ? { schedule: w.schedule, duration_seconds: w.duration! / 1000, timezone: w.timezone } : { start: iso(w.start), end: iso(w.end) }),
      ...(w.createdBy ? { created_by: w.createdBy } : {}), ...(w.comment ? { comment: w.comment } : {}),
    })),
    acknowledgements: m.openAcks().map(ackDoc),
  };
}

export function maintenanceRoutes({ maintenance: m, alerts, record }: Pick<ServerDeps, 'maintenance' | 'alerts' | 'record'>, routes: RouteTable): void {
  const actor = (ctx: Context, by: string) => `${by} (${ctx.method} ${ctx.path} from ${ctx.ip})`;

  routes.get('/api/v1/maintenance', 'status_page', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = maintenanceDoc(m, Date.now());
  });

  routes.post('/api/v1/maintenance', 'admin', async (ctx) => {
    const b = await body(ctx, createSchema);
    const start = b.start ?? Date.now();
    const w = await answer(() => m.createWindow({ title: b.title, start, end: b.end ?? start + b.duration!, scope: b.scope, by: b.by, actor: actor(ctx, b.by), comment: b.comment }));
    ctx.status = 201;
    ctx.body = { id: w.id, title: w.title, start: iso(w.start), end: iso(w.end), scope: w.scope, created_by: w.createdBy };
  });

  routes.post('/api/v1/maintenance/:id/extend', 'admin', async (ctx) => {
    const b = await body(ctx, extendSchema);
    const id = ctx.params.id;
    const current = m.windows().find((w) => w.id === id);
    const end = b.end ?? (current?.end ?? Date.now()) + b.by_duration!;
    const w = await answer(() => m.extendWindow(id, end, actor(ctx, b.by)));
    ctx.body = { id: w.id, start: iso(w.start), end: iso(w.end) };
  });

  routes.post('/api/v1/maintenance/:id/end', 'admin', async (ctx) => {
    const b = await body(ctx, endSchema);
    const w = await answer(() => m.endWindow(ctx.params.id, actor(ctx, b.by)));
    ctx.body = { id: w.id, start: iso(w.start), end: iso(w.end), ended_early_at: iso(w.endedEarlyAt) };
  });

  routes.get('/api/v1/acknowledgements', 'status_page', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const all = m.acknowledgements();
    ctx.body = { open: all.filter((a) => a.endedAt === undefined).map(ackDoc), recent: all.filter((a) => a.endedAt !== undefined).slice(0, 100).map(ackDoc) };
  });

  routes.post('/api/v1/acknowledgements', 'admin', async (ctx) => {
    const b = await body(ctx, ackSchema);
    let target: AckTarget;
    if (b.alert !== undefined) {
      // The alert as Alertmanager last notified it to Vigil's webhook (its labels are the silence's matchers).
      const r = firingNow(alerts.log.records()).find((x) => x.fingerprint === b.alert);
      if (!r) throw new HttpError(404, `no firing alert with fingerprint ${b.alert} (GET /api/v1/alerts lists them)`);
      target = { kind: 'alert', fingerprint: r.fingerprint, labels: r.labels };
    } else {
      const row = await record.readEvents(async (sql) => (await sql.all('SELECT * FROM incidents WHERE id = ?', [b.incident!]))[0]);
      if (row === undefined) throw new HttpError(404, `no incident ${b.incident}`);
      const inc = incidentOf(row);
      if (inc.endedAt !== undefined) throw new HttpError(409, `incident ${b.incident} has ended`);
      target = { kind: 'incident', id: inc.id, key: inc.key, checks: inc.checks, title: inc.title ?? `incident ${inc.id}` };
    }
    const got = await answer(() => m.acknowledge({ target, by: b.by, actor: actor(ctx, b.by), comment: b.comment, duration: b.duration }));
    ctx.status = 201;
    ctx.body = { ...ackDoc(got.ack), silenced: got.silenced, ...(got.note ? { note: got.note } : {}) };
  });

  routes.post('/api/v1/acknowledgements/:id/end', 'admin', async (ctx) => {
    const b = await body(ctx, endSchema);
    const a = await answer(() => m.endAck(ctx.params.id, actor(ctx, b.by)));
    ctx.body = ackDoc(a);
  });
}
