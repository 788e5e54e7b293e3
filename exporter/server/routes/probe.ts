// GET /probe?module=<m>&target=<t>: blackbox_exporter's endpoint. One fresh probe per request,
// the module (vigil.yml `modules:`) run against the target, bounded by the scrape's own timeout
// (X-Prometheus-Scrape-Timeout-Seconds less server.probe.timeout_offset); the answer holds only
// that probe's series. `debug=true` answers its log, the series and the module instead.
//
// Targets are refused unless server.probe.allowed_targets lets them through: an exporter that
// probes whatever it is asked to is an open proxy into every network it reaches.
import YAML from 'yaml';
import { ConfigError } from '../../config/errors.js';
import { allowedBy } from '../../config/probe-targets.js';
import { moduleCheck } from '../../config/load.js';
import { redact } from '../../config/secrets.js';
import { probeOnce } from '../../engine/probe-once.js';
import { getProbeDefinition, PROBE_KINDS } from '../../probes/index.js';
import { probeText } from '../../telemetry/probe-text.js';
import { HttpError } from '../body.js';
import { rawParam } from '../params.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

/** A target longer than this is refused before it is parsed. */
const MAX_TARGET_CHARS = 2048;

export function probeRoutes({ config, probeEnv }: Pick<ServerDeps, 'config' | 'probeEnv'>, router: RouteTable): void {
  let running = 0;
  router.get('/probe', 'public', async (ctx) => {
    const cfg = config();
    if (!cfg) throw new HttpError(503, 'no configuration loaded yet');
    const moduleName = rawParam(ctx, 'module');
    const target = rawParam(ctx, 'target');
    if (!target) throw new HttpError(400, 'target parameter is missing');
    if (target.length > MAX_TARGET_CHARS) throw new HttpError(400, `target longer than ${MAX_TARGET_CHARS} characters`);
    if (!moduleName) throw new HttpError(400, 'module parameter is missing');
    const module = cfg.modules[moduleName];
    if (!module) throw new HttpError(400, `unknown module "${moduleName.slice(0, 100)}"${Object.keys(cfg.modules).length ? `, expected one of ${Object.keys(cfg.modules).sort().join(', ')}` : ' (vigil.yml defines no modules)'}`);

    let built;
    try {
      built = moduleCheck(module, target, cfg.defaults, PROBE_KINDS);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new HttpError(400, `target is not one for module "${moduleName}" (type ${module.type}): ${err.problems.map((p) => (p.path.length ? `${p.path.join('.')}: ${p.message}` : p.message)).join('; ')}`);
    }
    const allow = cfg.server.probe.allowed_targets;
    const where = built.port === undefined ? built.host : `${built.host}:${built.port}`;
    if (!allow.length) throw new HttpError(403, 'GET /probe refuses every target: server.probe.allowed_targets in vigil.yml is empty (list the hosts /probe may reach, e.g. "*.example.com" or "10.0.0.0/8:443")');
    if (!allowedBy(allow, built.host, built.port)) throw new HttpError(403, `target ${where} is not in server.probe.allowed_targets`);

    const { timeout_offset: offset, max_concurrent: limit } = cfg.server.probe;
    const header = ctx.get('x-prometheus-scrape-timeout-seconds');
    let timeout = built.check.timeout;
    if (header) {
      const seconds = Number(header);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new HttpError(400, `X-Prometheus-Scrape-Timeout-Seconds: expected a positive number of seconds, got "${header.slice(0, 40)}"`);
      // As blackbox: the scrape's timeout less the offset, unless the module's own is shorter.
      const allowed = seconds * 1000 - offset;
      if (allowed > 0) timeout = Math.min(timeout, allowed);
    }
    if (running >= limit) throw new HttpError(503, `${limit} probes are already running (server.probe.max_concurrent)`);
    running++;
    // A client that goes away stops its probe.
    const stop = new AbortController();
    const onClose = () => { if (!ctx.res.writableFinished) stop.abort(); };
    ctx.res.once('close', onClose);
    let run;
    try {
      run = await probeOnce(getProbeDefinition(module.type)!, built.check, probeEnv, timeout, stop.signal);
    } finally {
      running--;
      ctx.res.off('close', onClose);
    }
    const kind = getProbeDefinition(module.type)!;
    const metrics = probeText(run.result, kind.metrics);
    ctx.set('Cache-Control', 'no-store');
    if (rawParam(ctx, 'debug') === 'true') {
      ctx.set('Content-Type', 'text/plain; charset=utf-8');
      const moduleYaml = redact(YAML.stringify({ type: module.type, ...module.fields }));
      ctx.body = `Logs for the probe:\n${run.log.join('\n')}\n\n\n\nMetrics that would have been returned:\n${metrics}\n\n\nModule configuration:\n${moduleYaml}`;
      return;
    }
    ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.body = metrics;
  });
}
