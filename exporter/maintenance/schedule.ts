// When a maintenance window is on, and what it covers. Pure: the time is handed in, so tests
// drive it. A window is one-off (start, end) or recurring (each start a cron occurrence in its
// time zone, lasting `duration`); an occurrence is one concrete [start, end).
import { cronParser, type MaintenanceScope, type MaintenanceWindowConfig } from '../config/maintenance.js';

export interface MaintenanceWindow {
  /** The config's name, or the API's generated id (mw-…). */
  id: string;
  title: string;
  source: 'config' | 'api';
  scope: MaintenanceScope;
  /** One-off. */
  start?: number;
  end?: number;
  /** Recurring. */
  schedule?: string;
  duration?: number;
  timezone?: string;
  /** API windows: who created it, why, and when it was ended early or last changed. */
  createdBy?: string;
  comment?: string;
}

export interface Occurrence {
  window: MaintenanceWindow;
  start: number;
  end: number;
  /** Names this occurrence: window id and start. */
  key: string;
}

/** Occurrences listed for one period at most (a `* * * * *` schedule over 90 days would be 130 000). */
export const MAX_OCCURRENCES = 5000;

export function fromConfig(w: MaintenanceWindowConfig): MaintenanceWindow {
  return {
    id: w.name, title: w.title ?? w.name, source: 'config', scope: w.scope,
    ...(w.schedule !== undefined ? { schedule: w.schedule, duration: w.duration, timezone: w.timezone } : { start: w.start, end: w.end }),
  };
}

const occurrence = (w: MaintenanceWindow, start: number, end: number): Occurrence => ({ window: w, start, end, key: `${w.id}@${start}` });

/** Starts of `w`'s schedule after `after` (exclusive), ascending, while before `until`. */
function* cronStarts(w: MaintenanceWindow, after: number, until: number): Generator<number> {
  const it = cronParser().parse(w.schedule!, { currentDate: new Date(after), tz: w.timezone ?? 'UTC', strict: false });
  for (let i = 0; i < MAX_OCCURRENCES; i++) {
    const t = it.next().getTime();
    if (t >= until) return;
    yield t;
  }
}

/** The occurrence of `w` on at `now` (start <= now < end), the latest-starting one if several overlap. */
export function activeAt(w: MaintenanceWindow, now: number): Occurrence | undefined {
  if (w.schedule === undefined) return w.start! <= now && now < w.end! ? occurrence(w, w.start!, w.end!) : undefined;
  const start = cronParser().parse(w.schedule, { currentDate: new Date(now + 1), tz: w.timezone ?? 'UTC', strict: false }).prev().getTime();
  return now < start + w.duration! ? occurrence(w, start, start + w.duration!) : undefined;
}

/** The next occurrence of `w` starting after `now`, if any. */
export function nextAfter(w: MaintenanceWindow, now: number): Occurrence | undefined {
  if (w.schedule === undefined) return w.start! > now ? occurrence(w, w.start!, w.end!) : undefined;
  const start = cronParser().parse(w.schedule, { currentDate: new Date(now), tz: w.timezone ?? 'UTC', strict: false }).next().getTime();
  return occurrence(w, start, start + w.duration!);
}

/** Occurrences of `w` overlapping [from, to), ascending (at most MAX_OCCURRENCES). */
export function occurrencesBetween(w: MaintenanceWindow, from: number, to: number): Occurrence[] {
  if (w.schedule === undefined) return w.start! < to && w.end! > from ? [occurrence(w, w.start!, w.end!)] : [];
  const out: Occurrence[] = [];
  for (const start of cronStarts(w, from - w.duration! - 1, to)) {
    if (start + w.duration! > from) out.push(occurrence(w, start, start + w.duration!));
  }
  return out;
}

/** What a scope needs of a check. */
export interface ScopedCheck {
  name: string;
  component: string;
  labels: Record<string, string>;
}

/** Whether `c` is in `scope`: named, its component named, or carrying every label of it. */
export function inScope(scope: MaintenanceScope, c: ScopedCheck): boolean {
  if (scope.checks.includes(c.name) || scope.components.includes(c.component)) return true;
  const labels = Object.entries(scope.labels);
  return labels.length > 0 && labels.every(([k, v]) => c.labels[k] === v);
}

/** Intervals sorted and merged where they overlap or touch. */
export function mergeIntervals(list: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = list.filter(([a, b]) => b > a).map(([a, b]) => [a, b] as [number, number]).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
