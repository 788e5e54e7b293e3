// GET /api/v1/checks/<name>/series?window=1h|24h|7d|30d|90d (status_page access): one check's
// history in equal buckets from the record's tiers, for the page's check detail (views/series.ts).
import { checkSeries } from '../../record/series.js';
import { SERIES_WINDOWS, seriesDocument, seriesGrid, type SeriesWindow } from '../../views/series.js';
import type { ServerDeps } from '../deps.js';
import { choiceParam } from '../params.js';
import { respondCached } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

const WINDOWS = Object.keys(SERIES_WINDOWS) as SeriesWindow[];

export function seriesRoutes({ state, readCache, record }: Pick<ServerDeps, 'state' | 'readCache' | 'record'>, router: RouteTable): void {
  router.get('/api/v1/checks/:name/series', 'status_page', async (ctx) => {
    const s = state.get(ctx.params.name);
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: `unknown check "${ctx.params.name}"` };
      return;
    }
    const window = choiceParam(ctx, 'window', WINDOWS, '24h');
    await respondCached(ctx, readCache, `series ${s.config.name} ${window}`, async () => {
      const now = Date.now();
      const grid = seriesGrid(window, now);
      // A record that cannot be read (no storage, a failing disk): the ring's runs, said so by `source`.
      const series = await record.read((sql) => checkSeries(sql, s.config.name, grid.from, grid.step, grid.count, now - SERIES_WINDOWS[window].ms))
        .catch(() => undefined);
      return { type: 'application/json; charset=utf-8', body: JSON.stringify(seriesDocument(s, window, grid, series, now)) };
    });
  });
}
