// GET /metrics: prom-client families, then the exporter's own OTel families. Always the 0.0.4
// text format, whatever Accept says: appending text after an OpenMetrics "# EOF" breaks scrapes.
import { TextBody } from '../../telemetry/text-body.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function metricsRoutes({ metrics, otel }: Pick<ServerDeps, 'metrics' | 'otel'>, router: RouteTable): void {
  router.get('/metrics', 'public', async (ctx) => {
    ctx.status = 200;
    ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    // HEAD answers the headers alone: Node drops a HEAD response's body, so rendering one (18 MB
    // at 10 000 checks) would be work for nothing. No Content-Length: the scrape's is not known
    // without rendering it, and 0 would be wrong.
    if (ctx.method === 'HEAD') {
      ctx.respond = false;
      ctx.res.end();
      return;
    }
    // The body streams its blocks to the socket as it renders them (text-body.ts), written here
    // rather than through Koa, which would want them as one Buffer or a stream.
    const body = new TextBody(ctx.res);
    try {
      const [, self] = await Promise.all([metrics.writeTo(body), otel?.serialize() ?? '']);
      if (self) body.append(`\n${self}`);
    } catch (err) {
      // Nothing sent yet: Koa answers the error as usual. Part of a scrape sent: cut it off, so
      // the scraper sees a failed scrape rather than a short one.
      if (!ctx.res.headersSent) throw err;
      ctx.res.destroy(err as Error);
      ctx.respond = false;
      return;
    }
    ctx.respond = false;
    body.end();
  });
}
