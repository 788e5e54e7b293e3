// SVG badges per check and per component (status, uptime over a window, response time), for
// READMEs and wikis. Same access as the status page's reads (status_page). Cacheable: an ETag
// (a hash of the SVG: a 304 while nothing changed) and a short max-age, `private` when the page
// needs a login, so a shared cache never hands a protected badge to someone else.
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { CheckState } from '../../engine/state.js';
import { worst } from '../../model/status.js';
import { badgeSvg, BADGE_WINDOWS, responseTimeBadge, statusBadge, uptimeOfRows, type Badge } from '../../views/badge.js';
import { ms } from '../../views/format.js';
import { reportRows } from '../../views/report.js';
import { TimeSlice } from '../../views/time-slice.js';
import { HttpError } from '../body.js';
import type { ServerDeps } from '../deps.js';
import { BusyError } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

const MAX_AGE_SECONDS = 30;

export function badgeRoutes(deps: Pick<ServerDeps, 'state' | 'config' | 'readCache'> & Partial<Pick<ServerDeps, 'record'>>, routes: RouteTable): void {
  const { state, readCache } = deps;
  const router = routes.under('/api/v1/badges');

  const send = (ctx: Context, badge: Badge | string) => {
    const svg = typeof badge === 'string' ? badge : badgeSvg(badge);
    const etag = `W/"${createHash('sha256').update(svg).digest('base64url').slice(0, 22)}"`;
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', `${deps.config()?.server.status_page_auth ? 'private' : 'public'}, max-age=${MAX_AGE_SECONDS}`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    // An SVG opened on its own is a document: let it run nothing.
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'image/svg+xml';
    ctx.body = svg;
  };
  const check = (ctx: Context): CheckState => {
    const s = state.get(ctx.params.name);
    if (!s) throw new HttpError(404, `unknown check "${ctx.params.name}"`);
    return s;
  };
  const component = (ctx: Context): CheckState[] => {
    const list = state.list().filter((s) => s.config.component === ctx.params.name);
    if (!list.length) throw new HttpError(404, `unknown component (or one without checks) "${ctx.params.name}"`);
    return list;
  };
  const windowOf = (ctx: Context): string => {
    const w = typeof ctx.query.window === 'string' ? ctx.query.window : '24h';
    if (!(w in BADGE_WINDOWS)) throw new HttpError(400, `window: expected one of ${Object.keys(BADGE_WINDOWS).join(', ')}, got "${w}"`);
    return w;
  };
  // An uptime summarises the window's history: through the read cache, like the report (a badge
  // embedded in a busy wiki costs one computation a second, and a flood of them a 503).
  const uptime = async (ctx: Context, key: string, checks: CheckState[], window: string): Promise<void> => {
    let svg: string;
    try {
      const { entry } = await readCache.get(`badge uptime ${key} ${window}`, async () => {
        const to = Date.now();
        return { type: 'image/svg+xml', body: badgeSvg(uptimeOfRows(await reportRows(checks, { from: to - BADGE_WINDOWS[window], to }, new TimeSlice(), deps.record), window)) };
      });
      svg = entry.body.toString();
    } catch (err) {
      if (!(err instanceof BusyError)) throw err;
      ctx.set('Retry-After', String(err.retryAfterSeconds));
      throw new HttpError(503, err.message);
    }
    send(ctx, svg);
  };

  router.get('/checks/:name/status.svg', 'status_page', (ctx) => {
    const s = check(ctx);
    send(ctx, statusBadge(s.config.name, s.status));
  });
  router.get('/checks/:name/uptime.svg', 'status_page', async (ctx) => {
    const s = check(ctx);
    await uptime(ctx, `check ${s.config.name}`, [s], windowOf(ctx));
  });
  router.get('/checks/:name/response-time.svg', 'status_page', (ctx) => {
    const s = check(ctx);
    send(ctx, responseTimeBadge(s.last ? ms(s.last.duration) : null, s.status));
  });
  router.get('/components/:name/status.svg', 'status_page', (ctx) => {
    const list = component(ctx);
    send(ctx, statusBadge(ctx.params.name, state.rollup().components.get(ctx.params.name)?.status ?? worst(list.map((s) => s.status))));
  });
  router.get('/components/:name/uptime.svg', 'status_page', async (ctx) => {
    const list = component(ctx);
    await uptime(ctx, `component ${ctx.params.name}`, list, windowOf(ctx));
  });
  router.get('/components/:name/response-time.svg', 'status_page', (ctx) => {
    // The slowest of the component's latest runs: what a user of the component waits for at worst.
    const list = component(ctx).filter((s) => s.last);
    const slowest = list.length ? Math.max(...list.map((s) => ms(s.last!.duration))) : null;
    send(ctx, responseTimeBadge(slowest, worst(list.map((s) => s.status))));
  });
}
