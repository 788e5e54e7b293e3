// The koa app, assembled in one place. Routes are thin: they read the state store or call the
// runtime, never the other way round.
import Koa, { type Context, type Next } from 'koa';
import type Router from '@koa/router';
import { redact } from '../config/secrets.js';
import type { Logger } from '../log.js';
import type { Runtime } from '../runtime.js';
import type { SelfTelemetry } from '../telemetry/otel.js';
import { HttpError } from './body.js';
import { alertsRoutes } from './routes/alerts.js';
import { checksRoutes } from './routes/checks.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { heartbeatRoutes } from './routes/heartbeats.js';
import { historyRoutes } from './routes/history.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { metricsRoutes } from './routes/metrics.js';
import { statusPageAuth, uiRoutes } from './routes/ui.js';

export interface AppOptions {
  runtime: Runtime;
  log: Logger;
  otel?: SelfTelemetry;
  /** Reload handler (CLI passes one that also logs); defaults to runtime.reload(). */
  reload?: () => ReturnType<Runtime['reload']>;
}

export function adminTokenFor(runtime: Runtime): () => string | undefined {
  return () => runtime.config?.server.admin_token ?? runtime.opts.env?.VIGIL_ADMIN_TOKEN ?? process.env.VIGIL_ADMIN_TOKEN;
}

export function createApp(opts: AppOptions): Koa {
  const { runtime, log, otel } = opts;
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const adminToken = adminTokenFor(runtime);

  app.use(async (ctx: Context, next: Next) => {
    const t0 = performance.now();
    try {
      await next();
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      ctx.status = status;
      ctx.body = { error: redact(status === 500 ? 'internal error' : (err as Error).message) };
      if (status === 500) log.error('request failed', { path: ctx.path, error: err });
    } finally {
      otel?.requestDuration.record((performance.now() - t0) / 1000, {
        http_route: (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        http_request_method: ctx.method,
        http_response_status_code: ctx.status,
      });
    }
  });

  app.use(statusPageAuth(runtime)); // server.status_page_auth: page + GET /api/v1/*; /metrics, /health, /-/* stay public
  const routers: Router[] = [
    metricsRoutes(runtime, otel),
    healthRoutes(runtime),
    lifecycleRoutes(runtime, opts.reload ?? (() => runtime.reload()), adminToken),
    checksRoutes(runtime, adminToken),
    alertsRoutes(runtime, adminToken),
    heartbeatRoutes(runtime),
    uiRoutes(runtime),
    eventsRoutes(runtime),
    historyRoutes(runtime),
  ];
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
