// Parsing of human units in vigil.yml. Everything ends up in base units:
// durations in milliseconds here (exported as seconds), sizes in bytes, percentages as 0-1 ratios.
import { z } from 'zod';
import { parseDuration, parseSize } from '../model/units.js';

/** A duration field: "15s" style strings (a bare number is rejected: the unit must be explicit). */
export const duration = z.string({ error: 'expected a duration with a unit, e.g. 500ms, 15s, 5m' }).transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${s}", expected e.g. 500ms, 15s, 5m, 1h` });
    return z.NEVER;
  }
  return ms;
});

/**
 * The shortest check interval: ten runs a second per check is finer than any scrape (Prometheus
 * stores milliseconds but scrapes every few seconds) and keeps the sub-second canaries tests and
 * heartbeats use, while `0ms`/`1ms` (730 runs a second of one check, a hot loop) is refused.
 */
export const MIN_INTERVAL_MS = 100;

/** A check interval: a duration of at least MIN_INTERVAL_MS. */
export const interval = duration.refine((ms) => ms >= MIN_INTERVAL_MS, {
  message: `interval must be at least ${MIN_INTERVAL_MS}ms`,
});

/** A probe timeout: a duration greater than zero (0s would fail every run before it starts). */
export const timeout = duration.refine((ms) => ms > 0, { message: 'timeout must be greater than 0' });

/** A size field: 1048576 or "1MiB". */
export const size = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const n = parseSize(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid size "${v}", expected e.g. 512KiB, 10MB` });
    return z.NEVER;
  }
  return n;
});

/**
 * A threshold level: a plain number in the value's base unit, a percentage ("80%" -> 0.8),
 * a duration ("500ms" -> 0.5, seconds) or a size ("10GiB" -> bytes).
 */
export const level = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?%$/.test(s)) return Number(s.slice(0, -1)) / 100;
  const ms = parseDuration(s);
  if (ms !== undefined) return ms / 1000;
  const bytes = parseSize(s);
  if (bytes !== undefined) return bytes;
  ctx.addIssue({ code: 'custom', message: `invalid threshold "${v}", expected a number, 80%, 500ms or 10GiB` });
  return z.NEVER;
});
