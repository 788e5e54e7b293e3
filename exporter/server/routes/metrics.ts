// GET /metrics: prom-client families, then the exporter's own OTel families. Always the 0.0.4
// text format, whatever Accept says: appending text after an OpenMetrics "# EOF" breaks scrapes.
import { TextBodyPool } from '../../telemetry/text-body.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function metricsRoutes({ metrics, otel }: Pick<ServerDeps, 'metrics' | 'otel'>, router: RouteTable): void {
  // Scrapes reuse their buffers (see text-body.ts): one per concurrent scrape, kept afterwards.
  const bodies = new TextBodyPool();
  router.get('/metrics', 'public', async (ctx) => {
    const body = bodies.take();
    const [, self] = await Promise.all([metrics.writeTo(body), otel?.serialize() ?? '']);
    if (self) body.append(`\n${self}`);
    ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body.bytes();
    // 'finish' comes once the last byte was handed to the kernel; after a cut-short response
    // the socket may still reference the buffer, so that body is left to the GC.
    ctx.res.once('finish', () => bodies.give(body));
  });
}
