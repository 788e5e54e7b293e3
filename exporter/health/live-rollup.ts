// The rollup (health/rollup.ts) kept current as checks change status, instead of recomputed
// from every check after each change. A recompute is O(checks): when 10 000 checks went from
// unknown to healthy at start-up, each change recomputed it for the record's component events,
// 10^8 steps that kept a fresh exporter from answering /-/ready for minutes.
//
// Per component it counts its checks by status, so a check's change is O(1). Only the change
// of a component to or from critical that other components depend on moves impacted_by lists:
// that one marks the rollup for a full recompute at its next read (rare: one per such
// component per incident).
import { rollup, type Rollup, type RollupComponent } from './rollup.js';
import { STATUSES, statusRank, type Status } from '../model/status.js';

type Counts = number[];

function worstOf(counts: Counts): Status {
  for (let i = counts.length - 1; i >= 0; i--) if (counts[i] > 0) return STATUSES[i];
  return 'unknown';
}

export interface RollupCheck {
  name: string;
  component: string;
  status: Status;
}

export class LiveRollup {
  private components: RollupComponent[] = [];
  private current?: Rollup;
  /** component -> its checks counted by status rank. */
  private counts = new Map<string, Counts>();
  /** Components with checks, counted by their status (the overall status is the worst of these). */
  private overall: Counts = STATUSES.map(() => 0);
  /** Components some other component depends on. */
  private depended = new Set<string>();

  constructor(private readonly checks: () => RollupCheck[]) {}

  /** A new config: components and checks as they are now. */
  configure(components: RollupComponent[]): void {
    this.components = components;
    this.depended = new Set(components.flatMap((c) => c.depends_on));
    this.current = undefined;
  }

  /** The rollup as of now (the same object until a component's status changes). */
  get(): Rollup {
    if (!this.current) this.rebuild();
    return this.current!;
  }

  /** A check of `component` went from `from` to `to`. */
  change(component: string, from: Status, to: Status): void {
    if (from === to || !this.current) return;
    const counts = this.counts.get(component);
    const entry = this.current.components.get(component);
    if (!counts || !entry) {
      this.current = undefined;
      return;
    }
    counts[statusRank(from)]--;
    counts[statusRank(to)]++;
    const status = worstOf(counts);
    if (status === entry.status) return;
    if ((status === 'critical' || entry.status === 'critical') && this.depended.has(component)) {
      this.current = undefined; // impacted_by lists of its dependents move
      return;
    }
    // Nobody's impacted_by names this component, and its own depends on its dependencies only.
    this.current.components.set(component, { ...entry, status });
    if (entry.checks.length) {
      this.overall[statusRank(entry.status)]--;
      this.overall[statusRank(status)]++;
      this.current.status = worstOf(this.overall);
    }
  }

  private rebuild(): void {
    const checks = this.checks();
    const r = rollup(this.components, checks);
    this.counts = new Map([...r.components.keys()].map((name) => [name, STATUSES.map(() => 0)]));
    for (const c of checks) this.counts.get(c.component)![statusRank(c.status)]++;
    this.overall = STATUSES.map(() => 0);
    for (const c of r.components.values()) if (c.checks.length) this.overall[statusRank(c.status)]++;
    this.current = r;
  }
}
