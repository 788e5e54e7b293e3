// GET /probe?module=<m>&target=<t>: blackbox_exporter's endpoint. One fresh probe per request,
// the module (vigil.yml `modules:`) run against the target, bounded by the scrape's own timeout
// (X-Prometheus-Scrape-Timeout-Seconds less server.probe.timeout_offset); the answer holds only
// that probe's series. `debug=true` answers its log, the series and the module instead.
//
// Targets are refused unless server.probe.allowed_targets lets them through: an exporter that
// probes whatever it is asked to is an open proxy into every network it reaches.
import { probeOnce } from '../../engine/probe-once.js';
import { probeText } from '../../telemetry/probe-text.js';
import { planProbe, probeDebugText } from '../../views/probe-request.js';
import { HttpError } from '../body.js';
import { rawParam } from '../params.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function probeRoutes({ config, probeEnv }: Pick<ServerDeps, 'config' | 'probeEnv'>, router: RouteTable): void {
  let running = 0;
  router.get('/probe', 'public', async (ctx) => {
    const cfg = config();
    if (!cfg) throw new HttpError(503, 'no configuration loaded yet');
    const plan = planProbe(cfg, { module: rawParam(ctx, 'module'), target: rawParam(ctx, 'target'), scrapeTimeout: ctx.get('x-prometheus-scrape-timeout-seconds') || undefined });
    const limit = cfg.server.probe.max_concurrent;
    if (running >= limit) throw new HttpError(503, `${limit} probes are already running (server.probe.max_concurrent)`);
    running++;
    // A client that goes away stops its probe.
    const stop = new AbortController();
    const onClose = () => { if (!ctx.res.writableFinished) stop.abort(); };
    ctx.res.once('close', onClose);
    let run;
    try {
      run = await probeOnce(plan.kind, plan.check, probeEnv, plan.timeout, stop.signal);
    } finally {
      running--;
      ctx.res.off('close', onClose);
    }
    const metrics = probeText(run.result, plan.kind.metrics);
    ctx.set('Cache-Control', 'no-store');
    const debug = rawParam(ctx, 'debug') === 'true';
    ctx.set('Content-Type', debug ? 'text/plain; charset=utf-8' : 'text/plain; version=0.0.4; charset=utf-8');
    ctx.body = debug ? probeDebugText(run.log, metrics, plan.moduleYaml()) : metrics;
  });
}
