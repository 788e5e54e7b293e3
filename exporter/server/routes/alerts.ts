// Alert notifications (the Alertmanager side of Vigil; see docs/alert-receiver.md):
//   POST /api/v1/alerts/webhook   Alertmanager webhook receiver (bearer: webhook or admin token)
//   GET  /api/v1/alerts           what is firing now (latest notification per fingerprint)
//   GET  /api/v1/alerts/history   notifications and alert lifecycles (filters; format=json|csv)
//   GET  /api/v1/alerts/board     the status page's alerts panel: firing and recently ended alerts with their notifications
//   POST /api/v1/alerts/test      push a synthetic VigilTestAlert to Alertmanager (admin token)
import type { Context } from 'koa';
import { AlertmanagerReader } from '../../alerts/alertmanager-state.js';
import { parseWebhookPayload } from '../../alerts/payload.js';
import { alertIdentity, filterLifecycles, filterNotifications, firingNow, lifecycles, type HistoryFilter } from '../../alerts/query.js';
import { AlertmanagerError, buildTestAlert, displayUrl, sendTestAlert, testAlertRequestSchema } from '../../alerts/test-alert.js';
import { parseDuration } from '../../model/units.js';
import { alertBoard } from '../../views/alert-board.js';
import { lifecyclesCsv, notificationsCsv } from '../../views/alerts.js';
import { iso } from '../../views/format.js';
import { HttpError, readJson } from '../body.js';
import type { ServerDeps } from '../deps.js';
import { checkRange } from '../read-limits.js';
import { respondCached, type Answer } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';
import { stringifySliced, TimeSlice } from '../../views/time-slice.js';

/** Alertmanager batches at most a few hundred alerts per notification; 1 MiB leaves room for long annotations. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const DEFAULT_LIMIT = 1000;
/** How far back the alerts panel lists ended alerts: default, bounds (ms). */
const BOARD_WINDOW = { default: '24h', min: 60_000, max: 7 * 86_400_000 };

function one(ctx: Context, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** RFC 3339, Unix seconds, or a duration meaning "that long ago" (`24h`). */
export function parseTime(raw: string, now: number): number | undefined {
  const v = raw.trim();
  if (v === 'now') return now;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const d = parseDuration(v);
  if (d !== undefined) return now - d;
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function parseFilter(ctx: Context, now: number): HistoryFilter {
  const f: HistoryFilter = {};
  const status = one(ctx, 'status');
  if (status !== undefined) {
    if (status !== 'firing' && status !== 'resolved') throw new HttpError(400, `status: expected firing or resolved, got "${status}"`);
    f.status = status;
  }
  for (const key of ['severity', 'component', 'alertname', 'receiver'] as const) {
    const v = one(ctx, key);
    if (v !== undefined) f[key] = v;
  }
  for (const key of ['from', 'to'] as const) {
    const raw = one(ctx, key);
    if (raw === undefined) continue;
    const t = parseTime(raw, now);
    if (t === undefined) throw new HttpError(400, `${key}: expected RFC 3339 time, Unix seconds, "now" or a duration such as 24h, got "${raw}"`);
    f[key] = t;
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) throw new HttpError(400, 'from must not be after to');
  return f;
}

function parseLimit(ctx: Context, max: number): number {
  const raw = one(ctx, 'limit');
  if (raw === undefined) return Math.min(DEFAULT_LIMIT, max);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpError(400, `limit: expected an integer from 1 to ${max}, got "${raw}"`);
  return n;
}

export function alertsRoutes({ alerts: receiver, readCache: cache, config, record }: Pick<ServerDeps, 'alerts' | 'readCache' | 'config' | 'record'>, routes: RouteTable): void {
  const router = routes.under('/api/v1/alerts');
  // The alerts panel's view of Alertmanager (routing, delivery per integration): read at most every 15 s.
  const amReader = new AlertmanagerReader();

  // The webhook accepts its own token (server.webhook_token / VIGIL_WEBHOOK_TOKEN) or the admin token.
  router.post('/webhook', 'webhook', async (ctx) => {
    const parsed = parseWebhookPayload(await readJson(ctx, WEBHOOK_BODY_LIMIT));
    if (!parsed.ok) throw new HttpError(400, parsed.reason);
    let stored;
    try {
      stored = await receiver.receive(parsed.payload);
    } catch (err) {
      // Not on disk: a 5xx makes Alertmanager retry the notification.
      throw new HttpError(503, `notification not stored: the storage write failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    cache.clear('alerts'); // Alertmanager (and tests) read back what they just sent
    ctx.body = { stored: stored.length, ids: stored.map((r) => r.id) };
  });

  router.get('/', 'status_page', async (ctx) => {
    await respondCached(ctx, cache, 'alerts firing', async () => {
      const firing = firingNow(receiver.log.records());
      const alerts = firing.map((r) => ({ ...alertIdentity(r), starts_at: r.starts_at, last_notified_at: r.received_at, receiver: r.receiver }));
      return { type: 'application/json; charset=utf-8', body: await stringifySliced({ firing: firing.length, alerts }, new TimeSlice()) };
    });
  });

  router.get('/board', 'status_page', async (ctx) => {
    const raw = one(ctx, 'window') ?? BOARD_WINDOW.default;
    const windowMs = parseDuration(raw);
    if (windowMs === undefined || windowMs < BOARD_WINDOW.min || windowMs > BOARD_WINDOW.max) {
      throw new HttpError(400, `window: expected a duration from 1m to 7d, got "${raw.slice(0, 40)}"`);
    }
    await respondCached(ctx, cache, `alerts board ${windowMs}`, async () => {
      const checks = new Set((config()?.checks ?? []).map((c) => c.name));
      const base = config()?.server.alertmanager_url;
      const alertmanager = base ? await amReader.get(base) : undefined;
      const board = alertBoard(receiver.log.records(), { now: Date.now(), windowMs, checks, alertmanager });
      return { type: 'application/json; charset=utf-8', body: await stringifySliced(board, new TimeSlice()) };
    });
  });

  router.get('/history', 'status_page', async (ctx) => {
    const now = Date.now();
    const filter = parseFilter(ctx, now);
    if (filter.from !== undefined) checkRange(['from', 'to'], filter.from, filter.to ?? now);
    const limit = parseLimit(ctx, receiver.log.maxRecords);
    const format = one(ctx, 'format') ?? 'json';
    if (format !== 'json' && format !== 'csv') throw new HttpError(400, `format: expected json or csv, got "${format}"`);
    const view = one(ctx, 'view') ?? (format === 'csv' ? 'notifications' : 'both');
    const views = format === 'csv' ? ['notifications', 'lifecycles'] : ['both', 'notifications', 'lifecycles'];
    if (!views.includes(view)) throw new HttpError(400, `view: expected ${views.join(' or ')}, got "${view}"`);
    // Relative times ("24h") are keyed as written: the answer is at most a second old.
    const key = `alerts history ${JSON.stringify({ ...filter, from: one(ctx, 'from'), to: one(ctx, 'to') })} ${limit} ${format} ${view}`;
    await respondCached(ctx, cache, key, () => history(filter, limit, format, view, now));
  });

  /** GET /api/v1/alerts/history, once its parameters are valid. */
  async function history(filter: HistoryFilter, limit: number, format: string, view: string, now: number): Promise<Answer> {
    const records = receiver.log.records();
    const notifications = view === 'lifecycles' ? [] : filterNotifications(records, filter, limit);
    const cycles = view === 'notifications' ? [] : filterLifecycles(lifecycles(records, now), filter, limit, now);
    if (format === 'csv') {
      return {
        type: 'text/csv; charset=utf-8',
        headers: { 'Content-Disposition': `attachment; filename="vigil-alert-${view}.csv"` },
        body: view === 'lifecycles' ? lifecyclesCsv(cycles) : notificationsCsv(notifications),
      };
    }
    return {
      type: 'application/json; charset=utf-8',
      body: await stringifySliced({
        filter: { ...filter, from: iso(filter.from), to: iso(filter.to), limit },
        retained: { records: records.length, max_records: receiver.log.maxRecords, oldest: records[0]?.received_at ?? null },
        ...(view !== 'lifecycles' ? { notifications } : {}),
        ...(view !== 'notifications' ? { lifecycles: cycles } : {}),
      }, new TimeSlice()),
    };
  }

  router.post('/test', 'admin', async (ctx) => {
    const base = config()?.server.alertmanager_url;
    if (!base) throw new HttpError(409, 'server.alertmanager_url is not configured: Vigil does not know where Alertmanager is');
    const body = await readJson(ctx, 64 * 1024);
    const req = testAlertRequestSchema.safeParse(body ?? {});
    if (!req.success) {
      throw new HttpError(400, `invalid test alert request: ${req.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
    }
    const alert = buildTestAlert(req.data, { requestedBy: ctx.ip });
    const actor = `POST /api/v1/alerts/test from ${ctx.ip}`;
    const event = { kind: 'test_alert' as const, actor, data: { labels: alert.labels, alertmanager: displayUrl(base) } };
    try {
      await sendTestAlert(base, alert, 5000);
    } catch (err) {
      record.addEvent({ ...event, t: Date.now(), reason: 'failed', message: `test alert not accepted by Alertmanager: ${(err as Error).message}`.slice(0, 500) });
      if (err instanceof AlertmanagerError) throw new HttpError(502, err.message);
      throw err;
    }
    record.addEvent({ ...event, t: Date.now(), reason: 'ok', message: `test alert sent to ${displayUrl(base)}` });
    ctx.status = 202;
    ctx.body = {
      sent: true,
      alertmanager: displayUrl(base),
      alert,
      note: 'Alertmanager routes it like any other alert; it appears in GET /api/v1/alerts/history once it comes back through the webhook.',
    };
  });
}
