// GET /api/v1/trends?window=7d|30d|90d&buckets=&check=&component=  (status_page access)
// Long-window availability and response-time trends per check: from Prometheus when
// history.prometheus_url is set and it answers in time, otherwise from the record (see
// views/trends.ts); the answer names its source.
import { LONG_WINDOWS, PrometheusHistory, type LongWindow } from '../../record/prometheus-history.js';
import { reportRows } from '../../views/report.js';
import { stringifySliced, TimeSlice } from '../../views/time-slice.js';
import { trendsDocument } from '../../views/trends.js';
import type { ServerDeps } from '../deps.js';
import { choiceParam, intParam } from '../params.js';
import { respondCached } from '../read-cache.js';
import type { RouteTable } from '../route-table.js';

const WINDOWS = Object.keys(LONG_WINDOWS) as LongWindow[];
/** Buckets of a trend at most (a day each over 90 days). */
export const MAX_TREND_BUCKETS = 90;
const DEFAULT_BUCKETS: Record<LongWindow, number> = { '7d': 7, '30d': 30, '90d': 90 };

export function trendsRoutes(deps: Pick<ServerDeps, 'state' | 'config' | 'readCache' | 'record' | 'maintenance'>, router: RouteTable): void {
  router.get('/api/v1/trends', 'status_page', async (ctx) => {
    const window = choiceParam(ctx, 'window', WINDOWS, '30d');
    const buckets = intParam(ctx, 'buckets', 1, MAX_TREND_BUCKETS) ?? DEFAULT_BUCKETS[window];
    const check = typeof ctx.query.check === 'string' ? ctx.query.check : undefined;
    const component = typeof ctx.query.component === 'string' ? ctx.query.component : undefined;
    const h = deps.config()!.history;
    await respondCached(ctx, deps.readCache, `trends ${window} ${buckets} ${check ?? ''} ${component ?? ''}`, async () => {
      const slice = new TimeSlice();
      const prometheus = h.prometheus_url ? new PrometheusHistory({ url: h.prometheus_url, timeoutMs: h.prometheus_timeout, selector: h.prometheus_selector }) : undefined;
      const checks = deps.state.list();
      const doc = await trendsDocument(checks, { window, buckets, check, component }, Date.now(), {
        prometheus,
        report: (from, to) => reportRows(checks, { from, to, check, component }, slice, deps.record, (s, from, to) => deps.maintenance.excluded({ name: s.config.name, component: s.config.component, labels: s.config.labels }, from, to)),
      }, slice);
      return { type: 'application/json; charset=utf-8', body: await stringifySliced(doc, slice) };
    });
  });
}
