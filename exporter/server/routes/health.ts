// GET /health and /health/<component>: Vigil JSON by default, the IETF draft shape for
// Accept: application/health+json. 503 only when critical, so load balancers act on real outages.
// Answers come from the read cache (server/read-cache.ts): at most ~1 s old, one computation
// per second however many clients ask.
import type { Context } from 'koa';
import { checkReport, componentReport, healthReport, httpStatusFor, ietfHealthReport, type ReportInput } from '../../health/report.js';
import type { CheckState } from '../../engine/state.js';
import type { Runtime } from '../../runtime.js';
import { VERSION } from '../../version.js';
import type { RouteTable } from '../route-table.js';
import { readCacheFor, respondCached, type Answer } from '../read-cache.js';
import { mapSliced, stringifySliced, TimeSlice } from '../time-slice.js';

export function healthRoutes(runtime: Runtime, router: RouteTable): void {
  const cache = readCacheFor(runtime.state);
  /** The report input; `reportsOf` are the checks whose checkReport() the document shows, built in slices. */
  const input = async (slice: TimeSlice, reportsOf: CheckState[]): Promise<ReportInput> => ({
    checks: runtime.state.list(),
    components: runtime.state.components(),
    rollup: runtime.state.rollup(),
    now: Date.now(),
    startedAt: runtime.state.startedAt,
    version: VERSION,
    checkReports: new Map(await mapSliced(reportsOf, (s) => [s.config.name, checkReport(s)] as const, slice)),
  });
  const wantsIetf = (ctx: Context) => ctx.get('accept').includes('application/health+json');

  /** The document for one component, or the whole system (`name` undefined). */
  async function document(name: string | undefined, ietf: boolean): Promise<Answer> {
    const slice = new TimeSlice();
    const shown = ietf ? [] : runtime.state.list().filter((s) => name === undefined || s.config.component === name);
    const data = await input(slice, shown);
    const json = (status: number, body: unknown) => stringifySliced(body, slice).then((text) => ({ status, type: ietf ? 'application/health+json' : 'application/json', body: text }));
    if (name === undefined) return json(httpStatusFor(data.rollup.status), ietf ? ietfHealthReport(data) : healthReport(data));
    const report = componentReport(name, data)!; // the route checked that it exists
    return json(httpStatusFor(report.status), ietf ? ietfHealthReport(data, name) : { component: name, timestamp: new Date(data.now).toISOString(), ...report });
  }

  router.get('/health', 'public', async (ctx) => {
    const ietf = wantsIetf(ctx);
    await respondCached(ctx, cache, `health ${ietf}`, () => document(undefined, ietf));
  });
  router.get('/health/:component', 'public', async (ctx) => {
    const ietf = wantsIetf(ctx);
    const name = ctx.params.component;
    const known = runtime.state.rollup().components;
    if (!known.has(name)) {
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: `unknown component "${name}"`, components: [...known.keys()].sort() };
      return;
    }
    await respondCached(ctx, cache, `health ${ietf} ${name}`, () => document(name, ietf));
  });
}
