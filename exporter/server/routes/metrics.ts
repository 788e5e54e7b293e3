// GET /metrics: prom-client families, then the exporter's own OTel families. Always the 0.0.4
// text format, whatever Accept says: appending text after an OpenMetrics "# EOF" breaks scrapes.
import { TextBody } from '../../telemetry/text-body.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function metricsRoutes({ metrics, otel }: Pick<ServerDeps, 'metrics' | 'otel'>, router: RouteTable): void {
  router.get('/metrics', 'public', async (ctx) => {
    const body = new TextBody();
    const [, self] = await Promise.all([metrics.writeTo(body), otel?.serialize() ?? '']);
    if (self) body.append(`\n${self}`);
    ctx.status = 200;
    ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    // The body's blocks go to the socket as they are (text-body.ts), written here rather than
    // through Koa, which would want them as one Buffer or a stream.
    ctx.respond = false;
    body.writeTo(ctx.res);
  });
}
