// JSON about checks, and a manual run (admin token) that returns the fresh result.
import { configSummary } from '../../views/check-config.js';
import { checkDetail, checkRunReport } from '../../views/health.js';
import { mapSliced, stringifySliced, TimeSlice } from '../../views/time-slice.js';
import type { ServerDeps } from '../deps.js';
import { respondCached } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

export function checksRoutes({ state, readCache: cache, scheduler, record }: Pick<ServerDeps, 'state' | 'readCache' | 'scheduler' | 'record'>, routes: RouteTable): void {
  const router = routes.under('/api/v1/checks');
  router.get('/', 'status_page', async (ctx) => {
    await respondCached(ctx, cache, 'checks', async () => {
      const slice = new TimeSlice();
      const checks = await mapSliced(state.list(), checkDetail, slice);
      return { type: 'application/json; charset=utf-8', body: await stringifySliced({ checks }, slice) };
    });
  });
  router.get('/:name', 'status_page', (ctx) => {
    const s = state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    // One check's document also carries its settings (secrets redacted) for the page's detail view.
    ctx.body = { ...checkDetail(s), thresholds: s.config.thresholds, config: configSummary(s.config) };
  });
  router.post('/:name/run', 'admin', async (ctx) => {
    const run = scheduler.runNow(ctx.params.name);
    if (!run) {
      ctx.status = 404;
      ctx.body = { error: `unknown or disabled check "${ctx.params.name}"` };
      return;
    }
    await run;
    cache.clear(); // whoever asks next sees this run
    const s = state.get(ctx.params.name)!;
    record.addEvent({
      t: Date.now(), kind: 'manual_run', check: s.config.name, component: s.config.component, to: s.status, reason: s.last?.reason ?? 'ok',
      message: `manual run: ${s.status}${s.last?.message ? ` (${s.last.message})` : ''}`.slice(0, 500), actor: `POST /api/v1/checks/:name/run from ${ctx.ip}`,
    });
    ctx.body = checkRunReport(s);
  });
}
