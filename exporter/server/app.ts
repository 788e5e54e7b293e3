// The koa app, assembled in one place, and the one server file that sees the runtime (through
// AppRuntime, what it takes from it; runtime.ts sits above the server and hands itself in): it
// builds the routes' dependencies (deps.ts) once. Routes are thin: they parse parameters, ask views/ for
// documents and answer; nothing below calls back into them.
import Koa, { type Context, type Next } from 'koa';
import { redact } from '../config/secrets.js';
import type { Logger } from '../log.js';
import type { SelfTelemetry } from '../telemetry/otel.js';
import { AuthFailures } from './auth-failures.js';
import { createGuard, credentialsFor, type BasicAuthUsers } from './auth.js';
import { HttpError } from './body.js';
import type { ReloadFn, ServerDeps } from './deps.js';
import { RouteTable } from './route-table.js';
import { alertsRoutes } from './routes/alerts.js';
import { badgeRoutes } from './routes/badges.js';
import { checksRoutes } from './routes/checks.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { kindRoutes } from './routes/kinds.js';
import { historyRoutes } from './routes/history.js';
import { incidentsRoutes } from './routes/incidents.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { maintenanceRoutes } from './routes/maintenance.js';
import { metricsRoutes } from './routes/metrics.js';
import { probeRoutes } from './routes/probe.js';
import { recordRoutes } from './routes/record.js';
import { seriesRoutes } from './routes/series.js';
import { trendsRoutes } from './routes/trends.js';
import { uiRoutes } from './routes/ui.js';

/** What the app takes from the runtime (runtime.ts's Runtime is one). */
export interface AppRuntime extends Pick<ServerDeps, 'state' | 'readCache' | 'hub' | 'alerts' | 'scheduler' | 'storage' | 'metrics' | 'stores' | 'record' | 'probeEnv' | 'maintenance'> {
  readonly config: ReturnType<ServerDeps['config']>;
  readonly opts: { env?: NodeJS.ProcessEnv };
  reload: ReloadFn;
  otherShards?: ServerDeps['otherShards'];
}

export interface AppOptions {
  runtime: AppRuntime;
  log: Logger;
  otel?: SelfTelemetry;
  /** Reload handler (CLI passes one that also logs); defaults to runtime.reload(). */
  reload?: ReloadFn;
  /** basic_auth_users of the web config (--web.config.file), read per request so a reload applies. */
  basicAuth?: () => BasicAuthUsers | undefined;
  /** Extra response headers of the web config (http_server_config.headers), read per request. */
  headers?: () => Record<string, string> | undefined;
  /** Failed-auth accounting; one is made (logging to `log`) when not given. */
  failures?: AuthFailures;
}

/**
 * What the routes get. The read cache and the SSE hub are the runtime's (one per exporter,
 * whatever number of apps serve it), handed to the routes that use them.
 */
export function serverDeps(runtime: AppRuntime, opts: Pick<AppOptions, 'otel' | 'reload'> = {}): ServerDeps {
  return {
    state: runtime.state,
    config: () => runtime.config,
    readCache: runtime.readCache,
    hub: runtime.hub,
    alerts: runtime.alerts,
    scheduler: runtime.scheduler,
    storage: runtime.storage,
    metrics: runtime.metrics,
    stores: runtime.stores,
    record: runtime.record,
    probeEnv: runtime.probeEnv,
    maintenance: runtime.maintenance,
    reload: opts.reload ?? ((actor) => runtime.reload(actor)),
    otel: opts.otel,
    otherShards: () => runtime.otherShards?.() ?? Promise.resolve(undefined),
  };
}

/** Every route the exporter serves, with its access (see route-table.ts). */
export function routeTable(runtime: AppRuntime, opts: Pick<AppOptions, 'otel' | 'reload'> = {}, deps = serverDeps(runtime, opts)): RouteTable {
  const table = new RouteTable();
  metricsRoutes(deps, table);
  probeRoutes(deps, table);
  healthRoutes(deps, table);
  lifecycleRoutes(deps, table);
  checksRoutes(deps, table);
  alertsRoutes(deps, table);
  kindRoutes(deps, table);
  uiRoutes(deps, table);
  badgeRoutes(deps, table);
  eventsRoutes(deps, table);
  historyRoutes(deps, table);
  seriesRoutes(deps, table);
  recordRoutes(deps, table);
  incidentsRoutes(deps, table);
  trendsRoutes(deps, table);
  maintenanceRoutes(deps, table);
  return table;
}

export function createApp(opts: AppOptions): Koa {
  const { runtime, log, otel } = opts;
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const failures = opts.failures ?? new AuthFailures({
    log,
    onFailure: (kind) => otel?.authFailures.add(1, { kind }),
    onThrottled: () => otel?.authThrottled.add(1),
  });
  const deps = serverDeps(runtime, opts);
  const guard = createGuard({ credentials: credentialsFor({ config: deps.config, state: runtime.state, env: runtime.opts.env }), failures, basicAuth: opts.basicAuth });

  app.use(async (ctx: Context, next: Next) => {
    const t0 = performance.now();
    const extra = opts.headers?.();
    if (extra) ctx.set(extra);
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

  const router = routeTable(runtime, opts, deps).router(guard.forRoute);
  app.use(router.routes()).use(router.allowedMethods()).use(guard.unmatched);
  return app;
}
