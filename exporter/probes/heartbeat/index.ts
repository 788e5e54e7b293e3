// Heartbeats (push checks, a dead man's switch): jobs report success, start and failure to
// POST /api/v1/heartbeats/<name>[/start|/fail] (./routes.ts), the facts are kept
// by ./store.ts, and this probe turns them into a status at every run:
//
//   failed   the last finish was /fail or a non-zero exit code          -> critical (status)
//   overrun  a /start has no finish within max_run_time                  -> critical (timeout)
//   missed   no success by the expected time + grace                     -> critical (missing)
//   late     no success by the expected time, grace still running        -> degraded (late > 0)
//
// The expected time is the schedule's next slot after the last success (or after Vigil first
// saw the check): last success + period, or the next cron occurrence in `timezone`. A run that
// has started is not late, and is given max_run_time (when set) before it counts as missed.
import path from 'node:path';
import { z } from 'zod';
import type { CheckCommon, Threshold } from '../../model/check.js';
import { duration } from '../../config/units.js';
import { formatDuration } from '../../model/units.js';
import { HEARTBEAT_ROUTES } from './routes.js';
import { HeartbeatStore, type HeartbeatRecord } from './store.js';
import { lazyRequire } from '../support/lazy.js';
import type { ProbeDefinition } from '../types.js';
import type { ProbeResult, Sample } from '../../model/result.js';

// cron-parser brings luxon (~1.3 MB of heap): loaded by the first check with a schedule.
/** Where earlier versions kept the heartbeat state (imported into the database once). */
export const LEGACY_FILE = 'heartbeats.json';

const cron = lazyRequire<{ CronExpressionParser: typeof import('cron-parser').CronExpressionParser }>('cron-parser');

const schema = z.object({
  /** Expected at least every `period` (e.g. 5m, 1h, 1d). Set this or `schedule`. */
  period: duration.optional(),
  /** Cron expression (5 fields, or 6 with seconds, or @daily style) for jobs run on a calendar. */
  schedule: z.string().min(1).optional(),
  /** IANA time zone of `schedule`. */
  timezone: z.string().default('UTC'),
  /** How long past the expected time before a missing ping is critical (late, degraded, until then). */
  grace: duration.default(300_000),
  /** A /start without a finish within this long is critical. */
  max_run_time: duration.optional(),
  /** Token for this heartbeat's pings; default: server.heartbeat_token (or VIGIL_HEARTBEAT_TOKEN). */
  token: z.string().min(16, 'token must be at least 16 characters').optional(),
  /** Re-running a heartbeat evaluation cannot change what a job reported, so no retries by default. */
  retries: z.number().int().min(0).max(10).default(0),
});

export type HeartbeatCheck = CheckCommon & z.output<typeof schema>;

export const heartbeatProbe: ProbeDefinition<HeartbeatCheck> = {
  type: 'heartbeat',
  doc: {
    what: 'push checks (dead man\'s switch) for cron jobs and workers',
    thresholds: '— (late → degraded is built in)',
  },
  schema,
  reasons: ['status', 'missing'],
  metrics: [
    { name: 'vigil_heartbeat_last_success_timestamp_seconds', help: 'When the last successful ping arrived (absent before the first).' },
    { name: 'vigil_heartbeat_next_expected_timestamp_seconds', help: 'When the next successful ping is due; late after it, missed after it plus the grace.' },
    { name: 'vigil_heartbeat_grace_seconds', help: 'Configured grace time after the expected time.' },
    { name: 'vigil_heartbeat_last_duration_seconds', help: 'Duration of the last finished run (sent by the job or measured from /start).' },
    { name: 'vigil_heartbeat_last_exit_code', help: 'Exit code of the last finished run (0 for a plain success ping).' },
    { name: 'vigil_heartbeat_running', help: '1 between a /start and the following success or failure.' },
    { name: 'vigil_heartbeat_late_seconds', help: 'Seconds past the expected time without a success; 0 when on time or running.' },
  ],
  thresholdKeys: () => [],
  // The page words these for people ("expected 08:13, 3 min ago", "late 1 min 45 s, grace 3 min").
  pageDetails: ({ samples }) => {
    const v = (key: string) => samples.find((x) => x.key === key)?.value;
    const next = v('next_expected');
    if (next === undefined) return undefined;
    const last = v('last_success');
    return { heartbeat: { next_expected_ms: next * 1000, grace_seconds: v('grace') ?? 0, late_seconds: v('late') ?? 0, running: v('running') === 1, last_success_ms: last === undefined ? null : last * 1000 } };
  },
  // Late makes the check degraded; past the grace the probe itself fails (critical).
  defaultThresholds: (): Record<string, Threshold> => ({ late: { warning: 0, direction: 'above' } }),
  validate: (c) => {
    const problems: Array<[Array<string | number>, string]> = [];
    if ((c.period === undefined) === (c.schedule === undefined)) problems.push([[c.schedule === undefined ? 'period' : 'schedule'], 'set either period (e.g. 1h) or schedule (a cron expression), not both']);
    if (c.period !== undefined && c.period < 1000) problems.push([['period'], 'period must be at least 1s']);
    try {
      new Intl.DateTimeFormat('en', { timeZone: c.timezone });
    } catch {
      problems.push([['timezone'], `unknown time zone "${c.timezone}", expected an IANA name such as Europe/Berlin or UTC`]);
      return problems;
    }
    if (c.schedule !== undefined) {
      const fields = c.schedule.trim().split(/\s+/);
      if (!c.schedule.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
        problems.push([['schedule'], `cron expression has ${fields.length} fields, expected 5 (minute hour day month weekday) or 6 (with seconds first)`]);
      } else {
        try {
          cron().CronExpressionParser.parse(c.schedule, { tz: c.timezone, strict: false }).next();
        } catch (err) {
          problems.push([['schedule'], `invalid cron expression: ${(err as Error).message}`]);
        }
      }
    }
    return problems;
  },
  // Pings arrive at POST /api/v1/heartbeats/<name> (./routes.ts) and are kept in the store.
  stores: { heartbeats: (env) => new HeartbeatStore({ sql: env.sql, log: env.log, report: env.report, legacyFile: path.join(env.storagePath, LEGACY_FILE) }) },
  routes: HEARTBEAT_ROUTES,
  ownToken: (c) => c.token,
  create: (check, env) => {
    const store = env.stores.heartbeats as HeartbeatStore | undefined;
    if (!store) throw new Error('a heartbeat check needs the heartbeat store (the runtime builds it from the database)');
    store.ensure(check.name);
    return {
      run: async () => evaluateHeartbeat(check, store.ensure(check.name), Date.now()),
    };
  },
};

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** Next expected success after `origin`. `fromPing`: origin is a ping, so allow for an early one. */
export function nextExpected(check: Pick<HeartbeatCheck, 'period' | 'schedule' | 'timezone' | 'grace'>, origin: number, fromPing: boolean): number {
  if (check.period !== undefined) return origin + check.period;
  const next = (after: number) => cron().CronExpressionParser.parse(check.schedule!, { currentDate: new Date(after), tz: check.timezone }).next().getTime();
  if (!fromPing) return next(origin);
  // A ping slightly before a slot (clock skew, a very fast job) belongs to that slot: look for
  // the next slot after origin + tolerance, the tolerance being the grace or half the gap.
  const n1 = next(origin);
  const gap = next(n1) - n1;
  return next(origin + Math.min(check.grace, gap / 2));
}

export function evaluateHeartbeat(check: HeartbeatCheck, r: HeartbeatRecord, now: number): ProbeResult {
  const lastFinish = Math.max(r.last_success ?? -Infinity, r.last_fail ?? -Infinity);
  const running = r.last_start !== undefined && r.last_start > lastFinish;
  const due = nextExpected(check, r.last_success ?? r.first_seen, r.last_success !== undefined);
  const runEnds = running && check.max_run_time !== undefined ? r.last_start! + check.max_run_time : undefined;
  const deadline = Math.max(due + check.grace, runEnds ?? -Infinity);
  const late = running || now <= due ? 0 : (now - due) / 1000;

  const samples: Sample[] = [
    { key: 'next_expected', metric: 'vigil_heartbeat_next_expected_timestamp_seconds', value: due / 1000 },
    { key: 'grace', metric: 'vigil_heartbeat_grace_seconds', value: check.grace / 1000 },
    { key: 'running', metric: 'vigil_heartbeat_running', value: running ? 1 : 0 },
    { key: 'late', metric: 'vigil_heartbeat_late_seconds', value: late },
  ];
  if (r.last_success !== undefined) samples.push({ key: 'last_success', metric: 'vigil_heartbeat_last_success_timestamp_seconds', value: r.last_success / 1000 });
  if (r.last_duration !== undefined) samples.push({ key: 'last_duration', metric: 'vigil_heartbeat_last_duration_seconds', value: r.last_duration });
  if (r.last_exit_code !== undefined) samples.push({ key: 'last_exit_code', metric: 'vigil_heartbeat_last_exit_code', value: r.last_exit_code });
  const info = { schedule: check.schedule ? `${check.schedule} (${check.timezone})` : `every ${formatDuration(check.period!)}`, next_expected: iso(due) };

  if (r.last_fail !== undefined && r.last_fail >= (r.last_success ?? -Infinity)) {
    const code = r.last_exit_code !== undefined ? ` with exit code ${r.last_exit_code}` : '';
    const text = r.last_message ? `: ${r.last_message}` : '';
    return { ok: false, reason: 'status', message: `last run failed${code} at ${iso(r.last_fail)}, expected success${text}`, samples, info };
  }
  if (runEnds !== undefined && now > runEnds) {
    return { ok: false, reason: 'timeout', message: `started at ${iso(r.last_start!)} and not finished within max_run_time ${formatDuration(check.max_run_time!)}`, samples, info };
  }
  if (now > deadline) {
    const since = r.last_success !== undefined ? `no success since ${iso(r.last_success)}` : `no success ping yet (watching since ${iso(r.first_seen)})`;
    return { ok: false, reason: 'missing', message: `${since}; expected by ${iso(due)}, grace ${formatDuration(check.grace)} ended ${iso(deadline)}`, samples, info };
  }
  return { ok: true, samples, info };
}
