// JSON about checks, and a manual run (admin token) that returns the fresh result.
import { checkReport } from '../../health/report.js';
import type { Runtime } from '../../runtime.js';
import { readCacheFor, respondCached } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';
import { mapSliced, stringifySliced, TimeSlice } from '../time-slice.js';

export function checksRoutes(runtime: Runtime, routes: RouteTable): void {
  const router = routes.under('/api/v1/checks');
  const cache = readCacheFor(runtime.state);
  router.get('/', 'status_page', async (ctx) => {
    await respondCached(ctx, cache, 'checks', async () => {
      const slice = new TimeSlice();
      const checks = await mapSliced(runtime.state.list(), (s) => ({ name: s.config.name, component: s.config.component, interval_seconds: s.config.interval / 1000, labels: s.config.labels, ...checkReport(s) }), slice);
      return { type: 'application/json; charset=utf-8', body: await stringifySliced({ checks }, slice) };
    });
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
    cache.clear(); // whoever asks next sees this run
    const s = runtime.state.get(ctx.params.name)!;
    ctx.body = { name: s.config.name, component: s.config.component, ...checkReport(s) };
  });
}
