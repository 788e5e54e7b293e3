// Check statuses -> component statuses -> overall, plus "impacted by" along depends_on. Pure.
import { worst, type Status } from './status.js';

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

  const deps = new Map(components.map((c) => [c.name, c.depends_on]));
  const reach = (start: string): string[] => {
    const seen = new Set<string>();
    const stack = [...(deps.get(start) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n) || n === start) continue;
      seen.add(n);
      stack.push(...(deps.get(n) ?? []));
    }
    return [...seen];
  };
  const out = new Map<string, ComponentRollup>();
  for (const [name, e] of byComponent) {
    const critical = reach(name).filter((d) => status.get(d) === 'critical');
    const isRoot = (d: string) => !reach(d).some((x) => status.get(x) === 'critical');
    const roots = critical.filter(isRoot).sort();
    const others = critical.filter((d) => !isRoot(d)).sort();
    out.set(name, { status: status.get(name)!, checks: e.names, impacted_by: [...roots, ...others] });
  }
  // Components with no checks of their own (declared only to group dependencies) say nothing
  // about the system: they stay `unknown` themselves but don't hold the overall status there.
  return { status: worst([...out.values()].filter((c) => c.checks.length).map((c) => c.status)), components: out };
}
