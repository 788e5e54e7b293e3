// GET /health and /health/<component>: Vigil JSON by default, the IETF draft shape for
// Accept: application/health+json. 503 only when critical, so load balancers act on real outages.
import type { Context } from 'koa';
import { componentReport, healthReport, httpStatusFor, ietfHealthReport, type ReportInput } from '../../health/report.js';
import type { Runtime } from '../../runtime.js';
import { VERSION } from '../../version.js';
import type { RouteTable } from '../route-table.js';

export function healthRoutes(runtime: Runtime, router: RouteTable): void {
  const input = (): ReportInput => ({
    checks: runtime.state.list(),
    components: runtime.state.components(),
    rollup: runtime.state.rollup(),
    now: Date.now(),
    startedAt: runtime.state.startedAt,
    version: VERSION,
  });
  const wantsIetf = (ctx: Context) => ctx.get('accept').includes('application/health+json');

  router.get('/health', 'public', (ctx) => {
    const data = input();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = httpStatusFor(data.rollup.status);
    if (wantsIetf(ctx)) {
      ctx.type = 'application/health+json';
      ctx.body = JSON.stringify(ietfHealthReport(data));
    } else ctx.body = healthReport(data);
  });
  router.get('/health/:component', 'public', (ctx) => {
    const data = input();
    const name = ctx.params.component;
    const report = componentReport(name, data);
    ctx.set('Cache-Control', 'no-store');
    if (!report) {
      ctx.status = 404;
      ctx.body = { error: `unknown component "${name}"`, components: [...data.rollup.components.keys()].sort() };
      return;
    }
    ctx.status = httpStatusFor(report.status);
    if (wantsIetf(ctx)) {
      ctx.type = 'application/health+json';
      ctx.body = JSON.stringify(ietfHealthReport(data, name));
    } else ctx.body = { component: name, timestamp: new Date(data.now).toISOString(), ...report };
  });
}
