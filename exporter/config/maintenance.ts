// Maintenance windows in vigil.yml (`maintenance:`): planned work on some components, checks or
// labelled checks, one-off (start and end) or recurring (a cron expression, a duration and a time
// zone). The same scope shape is what POST /api/v1/maintenance takes. Evaluated by
// exporter/maintenance/; here only their shape and the cross-checks against the config.
import { createRequire } from 'node:module';
import { z } from 'zod';
import { labelName, name } from './common.js';
import { duration } from './units.js';

const require = createRequire(import.meta.url);
type CronParser = typeof import('cron-parser').CronExpressionParser;
let parser: CronParser | undefined;
/** cron-parser (and luxon under it) load with the first window that has a schedule. */
export function cronParser(): CronParser {
  return (parser ??= (require('cron-parser') as { CronExpressionParser: CronParser }).CronExpressionParser);
}

/** Longest window: planned work that needs more is an outage to show, not to hide. */
export const MAX_WINDOW_MS = 7 * 86_400_000;
/** Names in one scope at most. */
export const MAX_SCOPE_NAMES = 1000;

/** What a window covers: a check is in it when named, when its component is named, or when it has every label given. */
export const maintenanceScopeSchema = z.strictObject({
  components: z.array(name).max(MAX_SCOPE_NAMES).default([]),
  checks: z.array(name).max(MAX_SCOPE_NAMES).default([]),
  /** Checks whose `labels` include all of these. */
  labels: z.record(labelName, z.string().max(200)).default({}),
}).refine((s) => s.components.length + s.checks.length + Object.keys(s.labels).length > 0, 'name at least one of components, checks or labels');
export type MaintenanceScope = z.output<typeof maintenanceScopeSchema>;

/** An RFC 3339 time with its offset (2026-12-05T22:00:00Z, 2026-12-05T23:00:00+01:00), as epoch ms. */
export const instant = z.union([z.string(), z.date()]).transform((v, ctx) => {
  if (v instanceof Date) return v.getTime();
  const s = v.trim();
  const t = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(s) ? Date.parse(s.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: `invalid time "${s.slice(0, 60)}", expected RFC 3339 with an offset, e.g. 2026-12-05T22:00:00Z or 2026-12-05T23:00:00+01:00` });
    return z.NEVER;
  }
  return t;
});

export const maintenanceWindowSchema = z.strictObject({
  name,
  /** What the page's banner says (default: the name). */
  title: z.string().min(1).max(200).optional(),
  /** One-off: start and end. */
  start: instant.optional(),
  end: instant.optional(),
  /** Recurring: a 5-field cron expression (minute hour day month weekday) for each start, in `timezone`, lasting `duration`. */
  schedule: z.string().min(1).max(200).optional(),
  duration: duration.optional(),
  timezone: z.string().max(100).default('UTC'),
  scope: maintenanceScopeSchema,
}).superRefine((w, ctx) => {
  const oneOff = w.start !== undefined || w.end !== undefined;
  const recurring = w.schedule !== undefined || w.duration !== undefined;
  if (oneOff === recurring) {
    ctx.addIssue({ code: 'custom', path: [oneOff ? 'schedule' : 'start'], message: 'set either start and end (one-off) or schedule and duration (recurring)' });
    return;
  }
  if (oneOff) {
    if (w.start === undefined || w.end === undefined) ctx.addIssue({ code: 'custom', path: [w.start === undefined ? 'start' : 'end'], message: 'a one-off window needs both start and end' });
    else if (w.end <= w.start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    else if (w.end - w.start > MAX_WINDOW_MS) ctx.addIssue({ code: 'custom', path: ['end'], message: 'a window lasts at most 7d' });
    return;
  }
  if (w.schedule === undefined || w.duration === undefined) {
    ctx.addIssue({ code: 'custom', path: [w.schedule === undefined ? 'schedule' : 'duration'], message: 'a recurring window needs both schedule and duration' });
    return;
  }
  if (w.duration < 60_000 || w.duration > MAX_WINDOW_MS) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration must be from 1m to 7d' });
  let zoneOk = true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: w.timezone });
  } catch {
    zoneOk = false;
    ctx.addIssue({ code: 'custom', path: ['timezone'], message: `unknown time zone "${w.timezone.slice(0, 60)}", expected an IANA name such as Europe/Berlin or UTC` });
  }
  const fields = w.schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    ctx.addIssue({ code: 'custom', path: ['schedule'], message: `cron expression has ${fields.length} fields, expected 5 (minute hour day month weekday)` });
    return;
  }
  if (!zoneOk) return;
  try {
    cronParser().parse(w.schedule, { tz: w.timezone, strict: false }).next();
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['schedule'], message: `invalid cron expression: ${(err as Error).message}` });
  }
});
export type MaintenanceWindowConfig = z.output<typeof maintenanceWindowSchema>;
