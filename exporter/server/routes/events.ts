// GET /api/v1/events: the status page's live feed (Server-Sent Events). Events:
//   hello  {replayed}            connected; missed messages (after Last-Event-ID / ?since=) follow
//   reset  {reason}              the client's view is stale (new connection, expired id, reload): refetch /api/v1/status
//   update {checks[], overall?, components?}   checks that got a result in the last ~250 ms; rollup when any status changed
// plus a ": keep-alive" comment every 15 s. See docs/status-page.md.
import type { Runtime } from '../../runtime.js';
import type { RouteTable } from '../route-table.js';
import { hubFor } from '../sse.js';

export function eventsRoutes(runtime: Runtime, router: RouteTable): void {
  const hub = hubFor(runtime.state);
  router.get('/api/v1/events', 'status_page', (ctx) => {
    if (ctx.method === 'HEAD') {
      ctx.type = 'text/event-stream';
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      return;
    }
    const since = ctx.get('last-event-id') || (typeof ctx.query.since === 'string' ? ctx.query.since : undefined);
    ctx.status = 200; // for request telemetry; the hub writes the head itself
    ctx.respond = false; // the hub owns the response from here on
    hub.attach(ctx.req, ctx.res, since);
  });
}
