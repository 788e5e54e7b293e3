// What a GET /probe request asks for, checked before anything runs: the module (vigil.yml
// `modules:`), the target filled into it, the allow-list (server.probe.allowed_targets), and the
// timeout — the module's own, or the scrape's (X-Prometheus-Scrape-Timeout-Seconds) less
// server.probe.timeout_offset when that is shorter, as blackbox_exporter does. Every refusal is
// a RequestError with the status and the reason the client gets.
import YAML from 'yaml';
import { ConfigError } from '../config/errors.js';
import { moduleCheck } from '../config/load.js';
import { allowedBy } from '../config/probe-targets.js';
import type { VigilConfig } from '../config/schema.js';
import { redact } from '../config/secrets.js';
import { RequestError } from '../model/request.js';
import { getProbeDefinition, PROBE_KINDS } from '../probes/index.js';
import type { ProbeDefinition } from '../probes/types.js';

/** A target longer than this is refused before it is parsed. */
const MAX_TARGET_CHARS = 2048;

export interface ProbeRequest {
  module: string | undefined;
  target: string | undefined;
  /** The X-Prometheus-Scrape-Timeout-Seconds header, when sent. */
  scrapeTimeout: string | undefined;
}

export interface PlannedProbe {
  kind: ProbeDefinition;
  check: ReturnType<typeof moduleCheck>['check'];
  /** Milliseconds the probe may take. */
  timeout: number;
  /** The module as configured, secrets redacted (for debug=true). */
  moduleYaml: () => string;
}

export function planProbe(cfg: VigilConfig, req: ProbeRequest): PlannedProbe {
  const { module: moduleName, target } = req;
  if (!target) throw new RequestError(400, 'target parameter is missing');
  if (target.length > MAX_TARGET_CHARS) throw new RequestError(400, `target longer than ${MAX_TARGET_CHARS} characters`);
  if (!moduleName) throw new RequestError(400, 'module parameter is missing');
  const module = cfg.modules[moduleName];
  if (!module) throw new RequestError(400, `unknown module "${moduleName.slice(0, 100)}"${Object.keys(cfg.modules).length ? `, expected one of ${Object.keys(cfg.modules).sort().join(', ')}` : ' (vigil.yml defines no modules)'}`);

  let built;
  try {
    built = moduleCheck(module, target, cfg.defaults, PROBE_KINDS);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new RequestError(400, `target is not one for module "${moduleName}" (type ${module.type}): ${err.problems.map((p) => (p.path.length ? `${p.path.join('.')}: ${p.message}` : p.message)).join('; ')}`);
  }
  const allow = cfg.server.probe.allowed_targets;
  const where = built.port === undefined ? built.host : `${built.host}:${built.port}`;
  if (!allow.length) throw new RequestError(403, 'GET /probe refuses every target: server.probe.allowed_targets in vigil.yml is empty (list the hosts /probe may reach, e.g. "*.example.com" or "10.0.0.0/8:443")');
  if (!allowedBy(allow, built.host, built.port)) throw new RequestError(403, `target ${where} is not in server.probe.allowed_targets`);

  let timeout = built.check.timeout;
  if (req.scrapeTimeout) {
    const seconds = Number(req.scrapeTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new RequestError(400, `X-Prometheus-Scrape-Timeout-Seconds: expected a positive number of seconds, got "${req.scrapeTimeout.slice(0, 40)}"`);
    // As blackbox: the scrape's timeout less the offset, unless the module's own is shorter.
    const allowed = seconds * 1000 - cfg.server.probe.timeout_offset;
    if (allowed > 0) timeout = Math.min(timeout, allowed);
  }
  return {
    kind: getProbeDefinition(module.type)!,
    check: built.check,
    timeout,
    moduleYaml: () => redact(YAML.stringify({ type: module.type, ...module.fields })),
  };
}

/** blackbox_exporter's debug=true answer: the probe's log, the series it would return, the module. */
export function probeDebugText(log: string[], metrics: string, moduleYaml: string): string {
  return `Logs for the probe:\n${log.join('\n')}\n\n\n\nMetrics that would have been returned:\n${metrics}\n\n\nModule configuration:\n${moduleYaml}`;
}
