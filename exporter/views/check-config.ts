// A check's configuration as the status page's detail view shows it: every field the check was
// configured with, credentials removed. Fields named like a credential are replaced whole (a
// literal `password:` is not always registered as a secret), and every string goes through the
// same redact() the logs and errors use (URL passwords, key=value credentials, registered secrets).
import { redact } from '../config/secrets.js';
import type { CheckCommon } from '../model/check.js';
import { formatDuration } from '../model/units.js';

const CREDENTIAL_KEY = /pass(word|wd)?|secret|token|api[_-]?key|authorization|cookie|credential|private|dsn/i;
const DURATION_KEYS = new Set(['interval', 'timeout', 'retry_delay', 'period', 'grace', 'max_run_time']);
const SHOWN_ELSEWHERE = new Set(['name', 'component', 'description', 'labels', 'enabled']);

/** Threshold levels are in the value's base unit: seconds for times, so say them as durations. */
function thresholds(t: Record<string, { warning?: number; critical?: number; direction?: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(t)) {
    const timed = /time|latency|late|age|duration|lag/.test(key);
    const level = (x: number) => (timed ? (x > 0 && x < 1 ? `${+(x * 1000).toFixed(3)}ms` : formatDuration(Math.round(x * 1000))) : String(x));
    const parts = [];
    if (v.warning !== undefined) parts.push(`warning ${v.direction === 'below' ? '<' : '>'} ${level(v.warning)}`);
    if (v.critical !== undefined) parts.push(`critical ${v.direction === 'below' ? '<' : '>'} ${level(v.critical)}`);
    out[key] = parts.join(', ');
  }
  return out;
}

function clean(key: string, value: unknown, depth: number): unknown {
  if (key === 'thresholds' && depth === 0 && value && typeof value === 'object') return thresholds(value as Record<string, { warning?: number }>);
  if (CREDENTIAL_KEY.test(key) && value !== undefined && value !== null && value !== '') return '<redacted>';
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'number' && DURATION_KEYS.has(key)) return formatDuration(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 4) return '…';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => clean('', v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(k, v, depth + 1)]));
}

/** The check's settings for people, secrets redacted, durations as written in vigil.yml ("30s"). */
export function configSummary(check: CheckCommon): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(check)) {
    if (SHOWN_ELSEWHERE.has(k) || v === undefined) continue;
    out[k] = clean(k, v, 0);
  }
  return out;
}
