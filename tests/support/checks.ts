// Build validated checks from YAML snippets and run them once through the real runner.
import YAML from 'yaml';
import { parseConfig } from './config.js';
import type { CheckCommon } from '../../exporter/model/check.js';
import { declaredFamilies, runCheck } from '../../exporter/engine/runner.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { silentLogger } from '../../exporter/log.js';
import { getProbeDefinition } from '../../exporter/probes/index.js';
import type { Probe } from '../../exporter/probes/types.js';

export function makeCheck(fields: Record<string, unknown>): CheckCommon {
  const yaml = YAML.stringify({ defaults: { retries: 0, timeout: '2s' }, checks: [{ name: 'c', ...fields }] });
  return parseConfig(yaml, 'test.yml', { env: process.env }).checks[0];
}

export function makeProbe(check: CheckCommon, storagePath = '/tmp'): Probe {
  return getProbeDefinition(check.type)!.create(check, { log: silentLogger, storagePath, stores: {} });
}

export async function runOnce(fields: Record<string, unknown>): Promise<CheckResult> {
  const check = makeCheck(fields);
  const probe = makeProbe(check);
  try {
    return await runCheck(check, probe, { log: silentLogger, families: declaredFamilies(getProbeDefinition(check.type)!) });
  } finally {
    await probe.close?.();
  }
}

export const sample = (r: CheckResult, key: string, labels?: Record<string, string>) =>
  r.samples.find((s) => s.key === key && (!labels || JSON.stringify(s.labels) === JSON.stringify(labels)))?.value;
