// One probe run for GET /probe (blackbox_exporter's semantics): a check built from a module and
// a target, run once with no retries under the time the scrape allows, its log kept so
// `debug=true` can show it. Nothing of it reaches the state store, the record or /metrics.
import type { CheckCommon } from '../model/check.js';
import type { CheckResult } from '../model/result.js';
import { createLogger } from '../log.js';
import type { ProbeDefinition, ProbeEnv } from '../probes/types.js';
import { declaredFamilies, runCheck } from './runner.js';

export interface ProbeOnce {
  result: CheckResult;
  /** The run's log, one logfmt line each, as blackbox's debug output has it. */
  log: string[];
}

export async function probeOnce(kind: ProbeDefinition, check: CheckCommon, env: ProbeEnv, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOnce> {
  const lines: string[] = [];
  // The log's JSON lines (secrets already redacted by the logger) rewritten as logfmt.
  // As blackbox's lines: which module, which target (credentials removed).
  const base = { module: check.name, ...(kind.targetOf ? { target: kind.targetOf(check) } : {}) };
  const log = createLogger({ level: 'debug', write: (line) => lines.push(logfmt(line)), base });
  const run: CheckCommon = { ...check, timeout: timeoutMs, retries: 0 };
  log.info('Beginning probe', { probe: kind.type, timeout_seconds: timeoutMs / 1000 });
  const probe = kind.create(run, { ...env, log });
  let result: CheckResult;
  try {
    result = await runCheck(run, probe, { log, families: declaredFamilies(kind), signal });
  } finally {
    try {
      await probe.close?.();
    } catch (err) {
      log.warn('closing the probe failed', { error: err });
    }
  }
  if (result.ok) log.info('Probe succeeded', { duration_seconds: result.duration });
  else log.error('Probe failed', { reason: result.reason, error: result.message, duration_seconds: result.duration });
  return { result, log: lines };
}

function logfmt(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  return Object.entries(record)
    .map(([k, v]) => {
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      return `${k}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
    })
    .join(' ');
}
