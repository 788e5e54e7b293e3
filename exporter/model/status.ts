// The status vocabulary and its order. `unknown` (no run yet) ranks above healthy so that a
// fresh check never makes the whole system look fine, and below degraded so it never pages.
// The order is the rank everywhere: history rings store it, the status bar takes the largest,
// dashboards show it as the 0-3 status code.
export const STATUSES = ['healthy', 'unknown', 'degraded', 'critical'] as const;
export type Status = (typeof STATUSES)[number];

const RANK = Object.fromEntries(STATUSES.map((s, i) => [s, i])) as Record<Status, number>;

/** A status's place in STATUSES: larger is worse. */
export function statusRank(s: Status): number {
  return RANK[s];
}

export function worst(statuses: Iterable<Status>, empty: Status = 'unknown'): Status {
  let out: Status | undefined;
  for (const s of statuses) if (out === undefined || RANK[s] > RANK[out]) out = s;
  return out ?? empty;
}

export function isWorse(a: Status, b: Status): boolean {
  return RANK[a] > RANK[b];
}
