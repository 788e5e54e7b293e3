// GET /api/v1/events: the status page's live feed (Server-Sent Events). Events:
//   hello  {replayed}            connected; missed messages (after Last-Event-ID / ?since=) follow
//   reset  {reason}              the client's view is stale (new connection, expired id, reload): refetch /api/v1/status
//   update {checks[], overall?, components?}   checks that got a result in the last ~250 ms, each with the bar
//                                bucket its run landed in; rollup when any status changed
//   bye    {reason}              the stream reached server.events.max_lifetime: reconnect now, with the last id
// plus a ": keep-alive" comment every 15 s. Per client address at most server.events.max_streams_per_client
// streams (429 past it), server.events.max_streams in all (503). See docs/status-page.md.
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function eventsRoutes({ hub, config }: Pick<ServerDeps, 'hub' | 'config'>, router: RouteTable): void {
  router.get('/api/v1/events', 'status_page', (ctx) => {
    if (ctx.method === 'HEAD') {
      ctx.type = 'text/event-stream';
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      return;
    }
    const limits = config()?.server.events;
    if (limits) {
      hub.configure({ maxClients: limits.max_streams, maxClientsPerAddress: limits.max_streams_per_client, idleTimeoutMs: limits.idle_timeout, maxLifetimeMs: limits.max_lifetime });
    }
    const refused = hub.refusal(ctx.req);
    if (refused) {
      ctx.status = refused.status;
      ctx.set('Retry-After', String(refused.retryAfterSeconds));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: refused.error };
      return;
    }
    const since = ctx.get('last-event-id') || (typeof ctx.query.since === 'string' ? ctx.query.since : undefined);
    ctx.status = 200; // for request telemetry; the hub writes the head itself
    ctx.respond = false; // the hub owns the response from here on
    hub.attach(ctx.req, ctx.res, since);
  });
}
