// GET /health and /health/<component>: Vigil JSON by default, the IETF draft shape for
// Accept: application/health+json. 503 only when critical, so load balancers act on real outages.
// Answers come from the read cache (server/read-cache.ts): at most ~1 s old, one computation
// per second however many clients ask. The documents are built in views/health.ts.
import type { Context } from 'koa';
import { VERSION } from '../../version.js';
import { healthDocument } from '../../views/health.js';
import { stringifySliced, TimeSlice } from '../../views/time-slice.js';
import type { ServerDeps } from '../deps.js';
import { respondCached, type Answer } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

export function healthRoutes({ state, readCache: cache, maintenance, otherShards }: Pick<ServerDeps, 'state' | 'readCache' | 'maintenance' | 'otherShards'>, router: RouteTable): void {
  const wantsIetf = (ctx: Context) => ctx.get('accept').includes('application/health+json');

  /** The document for one component, or the whole system (`component` undefined). */
  async function document(component: string | undefined, ietf: boolean): Promise<Answer> {
    const slice = new TimeSlice();
    const now = Date.now();
    const windows = maintenance.active(now).map((w) => ({ id: w.window.id, title: w.window.title, start: w.start, end: w.end, checks: w.checks, components: w.components }));
    const { status, body } = await healthDocument(state, { component, ietf, now, version: VERSION }, slice, windows);
    // Sharded: the whole document also lists the checks other shards run (they do not change
    // this instance's status code: their own shard answers for them).
    const others = component === undefined && !ietf ? await otherShards() : undefined;
    if (others) Object.assign(body as object, { other_shards: others });
    return { status, type: ietf ? 'application/health+json' : 'application/json', body: await stringifySliced(body, slice) };
  }

  router.get('/health', 'public', async (ctx) => {
    const ietf = wantsIetf(ctx);
    await respondCached(ctx, cache, `health ${ietf}`, () => document(undefined, ietf));
  });
  router.get('/health/:component', 'public', async (ctx) => {
    const ietf = wantsIetf(ctx);
    const name = ctx.params.component;
    const known = state.rollup().components;
    if (!known.has(name)) {
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: `unknown component "${name}"`, components: [...known.keys()].sort() };
      return;
    }
    await respondCached(ctx, cache, `health ${ietf} ${name}`, () => document(name, ietf));
  });
}
