// The status vocabulary and its order. `unknown` (no run yet) ranks above healthy so that a
// fresh check never makes the whole system look fine, and below degraded so it never pages.
export const STATUSES = ['healthy', 'unknown', 'degraded', 'critical'] as const;
export type Status = (typeof STATUSES)[number];

const RANK: Record<Status, number> = { healthy: 0, unknown: 1, degraded: 2, critical: 3 };

export function worst(statuses: Iterable<Status>, empty: Status = 'unknown'): Status {
  let out: Status | undefined;
  for (const s of statuses) if (out === undefined || RANK[s] > RANK[out]) out = s;
  return out ?? empty;
}

export function isWorse(a: Status, b: Status): boolean {
  return RANK[a] > RANK[b];
}
