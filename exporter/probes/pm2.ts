// PM2 processes: status, restarts, CPU, memory and uptime of processes chosen by name or glob,
// read from the PM2 daemon over its RPC socket (see support/pm2rpc.ts for why not pm2.connect).
// A restart since the window began makes the check degraded; more restarts than the critical
// level inside `restart_window` make it critical, which catches a crash loop that PM2 keeps
// reporting as "online". A daemon that is not running is a critical result, never an exception.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { CheckCommon, Threshold } from '../model/check.js';
import { duration } from '../config/units.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { Pattern } from './support/pattern.js';
import { defaultPm2Home, pm2Call, Pm2DaemonMissing } from './support/pm2rpc.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';

export const PM2_STATES = ['online', 'stopping', 'stopped', 'launching', 'errored', 'one-launch-status', 'waiting restart'] as const;

const schema = z.object({
  /** PM2 home of the daemon to ask. Default: $PM2_HOME, else ~/.pm2 (of the user running Vigil). */
  pm2_home: z.string().min(1).optional(),
  /** Process names or glob patterns (* and ?). Each entry must match at least min_instances processes. */
  processes: z.array(z.string().min(1)).min(1),
  min_instances: z.number().int().min(0).default(1),
  /**
   * Statuses that count as running; others fail the check (add stopped / one-launch-status for
   * cron-style apps). A failing status is looked at again 400 ms later before it counts, so the
   * instant a crashed process is "stopped" before PM2 restarts it does not flap the check.
   */
  allowed_status: z.array(z.enum(PM2_STATES)).min(1).default(['online', 'launching']),
  /** Restarts are counted over this sliding window (threshold key restarts_in_window). */
  restart_window: duration.default(600_000),
});

export type Pm2Check = CheckCommon & z.output<typeof schema>;

interface Pm2Proc {
  name?: string;
  pid?: number;
  pm_id?: number;
  monit?: { cpu?: number; memory?: number };
  pm2_env?: { status?: string; restart_time?: number; pm_uptime?: number; NODE_APP_INSTANCE?: number | string; pmx_module?: boolean };
}

export const pm2Probe: ProbeDefinition<Pm2Check> = {
  type: 'pm2',
  doc: {
    what: 'PM2 processes by name or glob: status, restarts, CPU, memory, uptime',
    thresholds: '`restarts_in_window` (warning 0, critical 2), `cpu`, `memory`, `uptime`',
  },
  schema,
  reasons: ['protocol', 'missing', 'status'],
  metrics: [
    { name: 'vigil_pm2_process_up', help: '1 if the PM2 process is online.', labels: ['process'] },
    { name: 'vigil_pm2_process_status', help: 'PM2 status of the process: 1 for the current state, 0 for the others.', labels: ['process', 'state'] },
    { name: 'vigil_pm2_process_restarts_total', help: 'Restarts of the process as counted by PM2.', labels: ['process'], type: 'counter' },
    { name: 'vigil_pm2_process_recent_restarts', help: 'Restarts of the process seen within the check\'s restart_window.', labels: ['process'] },
    { name: 'vigil_pm2_process_cpu_ratio', help: 'CPU used by the process as a ratio of one core (can exceed 1).', labels: ['process'] },
    { name: 'vigil_pm2_process_memory_bytes', help: 'Resident memory of the process.', labels: ['process'] },
    { name: 'vigil_pm2_process_uptime_seconds', help: 'Seconds since the process was (re)started; 0 when not online.', labels: ['process'] },
  ],
  thresholdKeys: () => ['restarts_in_window', 'cpu', 'memory', 'uptime'],
  // Any restart in the window degrades; a third one (more than 2) is a crash loop.
  defaultThresholds: (): Record<string, Threshold> => ({ restarts_in_window: { warning: 0, critical: 2, direction: 'above' } }),
  create: (check) => {
    const home = check.pm2_home ?? defaultPm2Home();
    const history = new Map<string, Array<{ t: number; restarts: number }>>();
    // Globs run on RE2 (a backtracking `^.*a.*a.*a…$` is polynomial in the name), compiled once.
    const globs = check.processes.map((entry) => Pattern.glob(entry));
    return { run: (ctx) => probePm2(check, globs, home, history, ctx) };
  },
};


/** A crashed process passes through "stopped" for a moment before PM2 restarts it: look again after this long before calling a status a failure. */
const CONFIRM_MS = 400;

async function probePm2(check: Pm2Check, globs: Pattern[], home: string, history: Map<string, Array<{ t: number; restarts: number }>>, ctx: ProbeRunContext, confirm = true): Promise<ProbeResult> {
  let list: Pm2Proc[];
  try {
    const data = await pm2Call(home, 'getMonitorData', [{}], ctx.signal);
    if (!Array.isArray(data)) return { ok: false, reason: 'protocol', message: `PM2 daemon (pm2_home ${home}) answered getMonitorData with ${typeof data}, expected a list`, samples: [] };
    list = data as Pm2Proc[];
  } catch (err) {
    if (err instanceof Pm2DaemonMissing) return { ok: false, reason: 'connect', message: err.message, samples: [] };
    return { ok: false, reason: classifyError(err), message: `PM2 daemon (pm2_home ${home}): ${errorMessage(err)}`, samples: [] };
  }
  list = list.filter((p) => !p.pm2_env?.pmx_module);
  if (confirm && ctx.remaining(0) > CONFIRM_MS * 2
    && list.some((p) => globs.some((g) => g.test(p.name ?? '')) && !(check.allowed_status as string[]).includes(p.pm2_env?.status ?? 'unknown'))) {
    try {
      await sleep(CONFIRM_MS, undefined, { signal: ctx.signal });
    } catch {
      throw abortError();
    }
    return probePm2(check, globs, home, history, ctx, false);
  }

  const now = Date.now();
  const problems: string[] = [];
  let reason: ProbeResult['reason'];
  const chosen = new Map<number | string, Pm2Proc>();
  for (const [i, entry] of check.processes.entries()) {
    const matches = list.filter((p) => globs[i].test(p.name ?? ''));
    for (const p of matches) chosen.set(p.pm_id ?? `${p.name}`, p);
    if (matches.length < check.min_instances) {
      const kind = /[*?]/.test(entry) ? `pattern "${entry}" matches` : `process "${entry}" has`;
      problems.push(`${kind} ${matches.length} process${matches.length === 1 ? '' : 'es'}, expected at least ${check.min_instances}`);
      reason ??= 'missing';
    }
  }
  const byName = new Map<string, number>();
  for (const p of chosen.values()) byName.set(p.name ?? '', (byName.get(p.name ?? '') ?? 0) + 1);

  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const p of chosen.values()) {
    const env = p.pm2_env ?? {};
    const label = (byName.get(p.name ?? '') ?? 0) > 1 ? `${p.name}:${env.NODE_APP_INSTANCE ?? p.pm_id}` : `${p.name}`;
    seen.add(label);
    const labels = { process: label };
    const status = env.status ?? 'unknown';
    const online = status === 'online';
    const restarts = Number(env.restart_time ?? 0);
    samples.push({ key: 'up', metric: 'vigil_pm2_process_up', value: online ? 1 : 0, labels });
    for (const state of PM2_STATES) samples.push({ key: 'status', metric: 'vigil_pm2_process_status', value: state === status ? 1 : 0, labels: { ...labels, state } });
    samples.push({ key: 'restarts', metric: 'vigil_pm2_process_restarts_total', value: restarts, labels });
    samples.push({ key: 'restarts_in_window', metric: 'vigil_pm2_process_recent_restarts', value: recentRestarts(history, label, restarts, now, check.restart_window), labels });
    samples.push({ key: 'cpu', metric: 'vigil_pm2_process_cpu_ratio', value: Number(p.monit?.cpu ?? 0) / 100, labels });
    samples.push({ key: 'memory', metric: 'vigil_pm2_process_memory_bytes', value: Number(p.monit?.memory ?? 0), labels });
    samples.push({ key: 'uptime', metric: 'vigil_pm2_process_uptime_seconds', value: online && env.pm_uptime ? Math.max(0, (now - env.pm_uptime) / 1000) : 0, labels });
    if (!(check.allowed_status as string[]).includes(status)) {
      problems.push(`${label}: status ${status}, expected ${check.allowed_status.join(' or ')}`);
      reason ??= 'status';
    }
  }
  for (const key of history.keys()) if (!seen.has(key)) history.delete(key);

  if (problems.length) return { ok: false, reason: reason ?? 'status', message: problems.join('; '), samples };
  return { ok: true, samples };
}

/** Restarts within the window, from the restart counter seen on earlier runs (a counter reset counts as restarts from 0). */
function recentRestarts(history: Map<string, Array<{ t: number; restarts: number }>>, key: string, restarts: number, now: number, window: number): number {
  // Only changes are kept: a point is the first run that saw a value.
  const points = history.get(key) ?? [];
  if (!points.length || points[points.length - 1].restarts !== restarts) points.push({ t: now, restarts });
  // Keep the newest point at or before the window start as the baseline, drop older ones.
  while (points.length > 1 && points[1].t <= now - window) points.shift();
  history.set(key, points);
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const d = points[i].restarts - points[i - 1].restarts;
    total += d >= 0 ? d : points[i].restarts;
  }
  return total;
}
