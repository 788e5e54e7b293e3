// GET /metrics: prom-client families, then the exporter's own OTel families. Always the 0.0.4
// text format, whatever Accept says: appending text after an OpenMetrics "# EOF" breaks scrapes.
import Router from '@koa/router';
import type { Runtime } from '../../runtime.js';
import type { SelfTelemetry } from '../../telemetry/otel.js';

export function metricsRoutes(runtime: Runtime, otel?: SelfTelemetry): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    const [own, self] = await Promise.all([runtime.metrics.text(), otel?.serialize() ?? '']);
    ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    // One encode into a Buffer: koa then takes its length as is instead of measuring the string.
    ctx.body = Buffer.from(self ? `${own}\n${self}` : own);
  });
  return router;
}
