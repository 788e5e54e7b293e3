// The endpoints the probe kinds declare (ProbeDefinition.routes: the heartbeat kind's pings),
// mounted under /api/v1 with the access each names. Answers are never cached: they record or
// refuse something.
import type { Context } from 'koa';
import { PROBE_KINDS } from '../../probes/index.js';
import type { KindRoute, KindRouteContext, ProbeDefinition } from '../../probes/types.js';
import { readBody } from '../body.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function kindRoutes({ state, scheduler, stores }: Pick<ServerDeps, 'state' | 'scheduler' | 'stores'>, routes: RouteTable, kinds: readonly ProbeDefinition[] = PROBE_KINDS): void {
  const context: KindRouteContext = {
    check: (name) => {
      const s = state.get(name);
      return s && { type: s.config.type, status: s.status };
    },
    runNow: (name) => scheduler.runNow(name),
    store: (name) => stores[name],
  };
  const handler = (route: KindRoute) => async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    const params = ctx.params as Record<string, string>;
    const reply = await route.handle({ params, query: ctx.query, contentType: ctx.get('content-type'), body: (max) => readBody(ctx, max) }, context);
    if (reply.headers) ctx.set(reply.headers);
    ctx.status = reply.status ?? 200;
    ctx.body = reply.body;
  };
  for (const kind of kinds) {
    for (const route of kind.routes ?? []) {
      if (route.method === 'GET') routes.get(`/api/v1${route.path}`, route.access, handler(route));
      else routes.post(`/api/v1${route.path}`, route.access, handler(route));
    }
  }
}
