// The exporter's own liveness/readiness and reload, Prometheus-style paths.
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function lifecycleRoutes({ state, storage, reload }: Pick<ServerDeps, 'state' | 'storage' | 'reload'>, router: RouteTable): void {
  router.get('/-/healthy', 'public', (ctx) => { ctx.body = 'Vigil is Healthy.\n'; });
  router.get('/-/ready', 'public', (ctx) => {
    // Ready once every enabled check has reported at least once, so a restart doesn't serve
    // "unknown" as truth, and while --storage.path takes writes (a 2xx on a write means on disk).
    const pending = state.list().filter((s) => s.config.enabled && s.runs === 0).length;
    const reasons = [storage.problem(), pending ? `${pending} checks have not run yet` : undefined].filter(Boolean);
    ctx.status = reasons.length ? 503 : 200;
    ctx.body = reasons.length ? `Vigil is not ready: ${reasons.join('; ')}.\n` : 'Vigil is Ready.\n';
  });
  router.post('/-/reload', 'admin', (ctx) => {
    const result = reload(`POST /-/reload from ${ctx.ip}`);
    ctx.status = result.ok ? 200 : 400;
    ctx.body = result;
  });
}
