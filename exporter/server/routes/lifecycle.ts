// The exporter's own liveness/readiness and reload, Prometheus-style paths.
import type { Runtime } from '../../runtime.js';
import type { RouteTable } from '../route-table.js';

export function lifecycleRoutes(runtime: Runtime, reload: () => ReturnType<Runtime['reload']>, router: RouteTable): void {
  router.get('/-/healthy', 'public', (ctx) => { ctx.body = 'Vigil is Healthy.\n'; });
  router.get('/-/ready', 'public', (ctx) => {
    // Ready once every enabled check has reported at least once, so a restart doesn't serve "unknown" as truth.
    const pending = runtime.state.list().filter((s) => s.config.enabled && s.runs === 0).length;
    ctx.status = pending === 0 ? 200 : 503;
    ctx.body = pending === 0 ? 'Vigil is Ready.\n' : `Vigil is not ready: ${pending} checks have not run yet.\n`;
  });
  router.post('/-/reload', 'admin', (ctx) => {
    const result = reload();
    ctx.status = result.ok ? 200 : 400;
    ctx.body = result;
  });
}
