// Check statuses -> component statuses -> overall, plus "impacted by" along depends_on. Pure.
import { worst, type Status } from '../model/status.js';

export interface RollupComponent {
  name: string;
  depends_on: string[];
}

export interface ComponentRollup {
  status: Status;
  checks: string[];
  /** Critical components this one depends on (transitively), root causes first. */
  impacted_by: string[];
}

export interface Rollup {
  status: Status;
  components: Map<string, ComponentRollup>;
}

export function rollup(components: RollupComponent[], checks: Array<{ name: string; component: string; status: Status }>): Rollup {
  const byComponent = new Map<string, { statuses: Status[]; names: string[] }>();
  for (const c of components) byComponent.set(c.name, { statuses: [], names: [] });
  for (const check of checks) {
    const entry = byComponent.get(check.component) ?? { statuses: [], names: [] };
    entry.statuses.push(check.status);
    entry.names.push(check.name);
    byComponent.set(check.component, entry);
  }
  const status = new Map<string, Status>();
  for (const [name, e] of byComponent) status.set(name, worst(e.statuses));

  // impacted_by: for each critical component k, everyone that depends on k (transitively) is
  // impacted by it: one walk up the reverse edges per critical component, O(critical x edges).
  // (Asking every component what it reaches, and every critical one found whether it is a root,
  // was cubic in the depth of the graph: a 400-deep chain took 16 s, on the scrape path.)
  const dependents = new Map<string, string[]>();
  for (const c of components) {
    for (const d of c.depends_on) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(c.name);
    }
  }
  const impacted = new Map<string, string[]>();
  for (const [k, st] of status) {
    if (st !== 'critical') continue;
    const seen = new Set<string>([k]);
    const stack = [...(dependents.get(k) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      let list = impacted.get(n);
      if (!list) impacted.set(n, (list = []));
      list.push(k);
      for (const up of dependents.get(n) ?? []) stack.push(up);
    }
  }
  // A root cause is a critical component that no critical component of its own impacts.
  const isRoot = (d: string) => !impacted.get(d)?.length;
  const out = new Map<string, ComponentRollup>();
  for (const [name, e] of byComponent) {
    const critical = impacted.get(name) ?? [];
    const roots = critical.filter(isRoot).sort();
    const others = critical.filter((d) => !isRoot(d)).sort();
    out.set(name, { status: status.get(name)!, checks: e.names, impacted_by: [...roots, ...others] });
  }
  // Components with no checks of their own (declared only to group dependencies) say nothing
  // about the system: they stay `unknown` themselves but don't hold the overall status there.
  return { status: worst([...out.values()].filter((c) => c.checks.length).map((c) => c.status)), components: out };
}
