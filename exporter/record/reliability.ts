// MTTR and MTBF per check and component, from their status changes. Failing means degraded or
// critical (as for incidents); a failure is a change from not failing to failing, a repair the
// change back.
// - MTTR (mean time to repair): the mean length of the failures that were repaired in the
//   window. A failure that began before the window counts from the window's start (or from the
//   change that began it, when the record holds it: the windows are computed from one read of the
//   longest one).
// - MTBF (mean time between failures): the time in the window not spent failing, divided by the
//   failures that began in the window.
// Both are null when there is nothing to average (no repair, no failure).
import type { Status } from '../model/status.js';
import { isFailing } from './incidents.js';

export const RELIABILITY_WINDOWS: ReadonlyArray<[name: string, ms: number]> = [
  ['24h', 86_400_000], ['7d', 7 * 86_400_000], ['30d', 30 * 86_400_000], ['90d', 90 * 86_400_000],
];

export interface Transition {
  t: number;
  from?: Status | null;
  to?: Status | null;
}

export interface Reliability {
  failures: number;
  repairs: number;
  downtime_seconds: number;
  mttr_seconds: number | null;
  mtbf_seconds: number | null;
}

/**
 * One subject over [from, to]: `transitions` are its status changes in time order (any may lie
 * before `from`: the last of those says its status when the window opens); `current` is its
 * status now, used when no change says anything.
 */
export function reliabilityOf(transitions: readonly Transition[], current: Status | undefined, from: number, to: number): Reliability {
  const before = transitions.filter((x) => x.t < from);
  const inside = transitions.filter((x) => x.t >= from && x.t <= to);
  const startStatus = before.length ? before[before.length - 1].to : inside.length ? inside[0].from : current;
  let failingSince: number | undefined;
  if (isFailing(startStatus ?? undefined)) {
    // When the record holds the change that began it, the repair counts from there.
    let began = from;
    for (let i = before.length - 1; i >= 0 && isFailing(before[i].to ?? undefined); i--) began = before[i].t;
    failingSince = began;
  }
  let failures = 0;
  let repairs = 0;
  let repairTime = 0;
  let downtime = 0;
  for (const x of inside) {
    const failing = isFailing(x.to ?? undefined);
    if (failing && failingSince === undefined) {
      failures++;
      failingSince = x.t;
    } else if (!failing && failingSince !== undefined) {
      repairs++;
      repairTime += x.t - failingSince;
      downtime += x.t - Math.max(failingSince, from);
      failingSince = undefined;
    }
  }
  if (failingSince !== undefined) downtime += to - Math.max(failingSince, from);
  const up = Math.max(0, to - from - downtime);
  return {
    failures,
    repairs,
    downtime_seconds: downtime / 1000,
    mttr_seconds: repairs ? repairTime / repairs / 1000 : null,
    mtbf_seconds: failures ? up / failures / 1000 : null,
  };
}

/** Every window of RELIABILITY_WINDOWS for one subject. */
export function reliabilityWindows(transitions: readonly Transition[], current: Status | undefined, now: number): Record<string, Reliability> {
  return Object.fromEntries(RELIABILITY_WINDOWS.map(([name, ms]) => [name, reliabilityOf(transitions, current, now - ms, now)]));
}
