// JSON about checks, and a manual run (admin token) that returns the fresh result.
import { checkReport } from '../../health/report.js';
import type { Runtime } from '../../runtime.js';
import type { RouteTable } from '../route-table.js';

export function checksRoutes(runtime: Runtime, routes: RouteTable): void {
  const router = routes.under('/api/v1/checks');
  router.get('/', 'status_page', (ctx) => {
    ctx.body = {
      checks: runtime.state.list().map((s) => ({ name: s.config.name, component: s.config.component, interval_seconds: s.config.interval / 1000, labels: s.config.labels, ...checkReport(s) })),
    };
  });
  router.get('/:name', 'status_page', (ctx) => {
    const s = runtime.state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    ctx.body = { name: s.config.name, component: s.config.component, interval_seconds: s.config.interval / 1000, labels: s.config.labels, ...checkReport(s) };
  });
  router.post('/:name/run', 'admin', async (ctx) => {
    const run = runtime.scheduler.runNow(ctx.params.name);
    if (!run) {
      ctx.status = 404;
      ctx.body = { error: `unknown or disabled check "${ctx.params.name}"` };
      return;
    }
    await run;
    const s = runtime.state.get(ctx.params.name)!;
    ctx.body = { name: s.config.name, component: s.config.component, ...checkReport(s) };
  });
}
