// Fields every check has, whatever its type, and the threshold shape.
import { z } from 'zod';
import { duration, interval, level, timeout } from './units.js';

export const NAME_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,99}$/;
export const name = z.string().regex(NAME_RE, 'must start with a letter and contain only letters, digits, _ . - (max 100)');

// Label names follow Prometheus rules. Names Vigil sets itself are refused by the loader, which
// knows the kinds' families (config/kinds.ts reservedLabels).
export const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'invalid label name')
  .refine((l) => !l.startsWith('__'), 'label names starting with __ are reserved by Prometheus');

export const threshold = z.strictObject({
  warning: level.optional(),
  critical: level.optional(),
  /** above: bad when the value rises past the level (latency, usage); below: when it falls under (rate limit left, free space). */
  direction: z.enum(['above', 'below']).default('above'),
}).refine((t) => t.warning !== undefined || t.critical !== undefined, 'set warning, critical or both')
  .refine((t) => t.warning === undefined || t.critical === undefined
    || (t.direction === 'above' ? t.warning <= t.critical : t.warning >= t.critical),
  'warning must be reached before critical (warning <= critical for direction above, >= for below)');

export const defaultsSchema = z.strictObject({
  interval: interval.default(30_000),
  timeout: timeout.default(10_000),
  /** Extra attempts before a failure is reported: 2 means up to 3 attempts. */
  retries: z.number().int().min(0).max(10).default(2),
  retry_delay: duration.default(1_000),
  /** Locations that must see a check fail before it is critical (instances started with --location). */
  quorum: z.number().int().min(1).max(100).optional(),
});
export type Defaults = z.output<typeof defaultsSchema>;

/** Common check fields as written by the user; interval/timeout/retries fall back to `defaults`. */
export const checkCommonSchema = z.object({
  name,
  type: z.string(),
  component: name.optional(),
  description: z.string().max(500).optional(),
  interval: interval.optional(),
  timeout: timeout.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  retry_delay: duration.optional(),
  /** What a failed probe means for status: most checks page, some only degrade. */
  on_failure: z.enum(['critical', 'degraded']).default('critical'),
  labels: z.record(labelName, z.string().max(200)).default({}),
  thresholds: z.record(z.string(), threshold).default({}),
  enabled: z.boolean().default(true),
  quorum: z.number().int().min(1).max(100).optional(),
});
