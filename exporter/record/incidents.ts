// Incidents, derived from the status events as they arrive. An incident is a stretch of time in
// which checks of one connected part of the dependency map are failing (degraded or critical):
// it opens with the first failing check, takes in every check and component of that part that
// fails or changes while it is open, and ends when none of its checks is failing any more.
// Unrelated parts of the map (no dependency path between them) have incidents of their own.
// The root cause is the failing component none of whose own dependencies (transitively) failed
// in the same incident: a failing dependency is the cause for the components that depend on it.
//
// Stored, not computed on read: each incident is one row, upserted (by its key) in the same
// transaction as the events that change it, so listing 90 days reads incident rows by index
// instead of replaying every status change; and the open ones are loaded back at start, so an
// outage that spans a restart stays one incident.
import { isWorse, type Status } from '../model/status.js';
import type { RollupComponent } from '../health/rollup.js';
import type { Incident as PeriodIncident } from '../health/report-period.js';
import type { RecordSql, Statement } from '../db/sql.js';
import type { RecordEvent } from './events.js';

export interface Incident {
  /** Unique and stable from the start: `<started_at>:<first failing check>` (the row's upsert key). */
  key: string;
  startedAt: number;
  endedAt?: number;
  /** The worst status reached. */
  status: Status;
  /** Every check and component involved, in order of first appearance. */
  checks: string[];
  components: string[];
  /** Failing components nothing else failing in this incident explains. */
  rootCause: string[];
  /** Checks failing now (empty once ended). */
  failing: string[];
  /** The first failing check and what it said. */
  title: string;
  /** Status events taken in. */
  events: number;
}

/** A check's incident in a period report: from the ring (runs counted), or one of the record's stored incidents (its id; runs not counted). */
export interface ReportIncident extends Omit<PeriodIncident, 'runs'> {
  runs: number | null;
  /** The record's incident (GET /api/v1/incidents/<id>). */
  id?: number;
}

export const isFailing = (s: Status | undefined): boolean => s === 'degraded' || s === 'critical';

/** The dependency map as incidents need it: each component's group (connected part) and its dependencies. */
export class DependencyMap {
  private group = new Map<string, string>();
  private deps = new Map<string, string[]>();

  constructor(components: readonly RollupComponent[] = []) {
    // Union-find over the undirected edges: a group is named by one of its members.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let r = x;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
      parent.set(x, r);
      return r;
    };
    for (const c of components) {
      if (!parent.has(c.name)) parent.set(c.name, c.name);
      this.deps.set(c.name, [...c.depends_on]);
      for (const d of c.depends_on) {
        if (!parent.has(d)) parent.set(d, d);
        const a = find(c.name), b = find(d);
        if (a !== b) parent.set(a, b);
      }
    }
    for (const name of parent.keys()) this.group.set(name, find(name));
  }

  groupOf(component: string): string {
    return this.group.get(component) ?? component;
  }

  /** Everything `component` depends on, transitively. */
  dependenciesOf(component: string): Set<string> {
    const seen = new Set<string>();
    const stack = [...(this.deps.get(component) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(this.deps.get(n) ?? []));
    }
    return seen;
  }
}

/** Failing components of an incident that depend on no other of them: its root cause. */
export function rootCauses(failed: Iterable<string>, map: DependencyMap): string[] {
  const set = new Set(failed);
  return [...set].filter((c) => ![...map.dependenciesOf(c)].some((d) => d !== c && set.has(d))).sort();
}

/**
 * The open incidents and the failing components seen in each; `apply` takes one status event.
 * Pure bookkeeping (no I/O): the record feeds it events as they are queued, tests feed it lists.
 */
export class IncidentTracker {
  readonly open: Incident[] = [];
  /** Components that were failing at some point of each open incident (by key). */
  private failedComponents = new Map<string, Set<string>>();
  /** Each check's component, as its events said. */
  private componentOf = new Map<string, string>();

  constructor(public map: DependencyMap = new DependencyMap()) {}

  /** Resume incidents that were open before a restart. */
  resume(incidents: Incident[]): void {
    for (const i of incidents) {
      this.open.push(i);
      // Which components failed is not stored; the root causes are the ones that matter later.
      this.failedComponents.set(i.key, new Set(i.rootCause));
    }
  }

  /**
   * One event in; the incidents it changed out (opened, grown, ended). Only status events of
   * checks open and end incidents; component changes join the open incident of their group.
   */
  apply(e: RecordEvent): Incident[] {
    if (e.kind === 'check_status' && e.check) return this.applyCheck(e, e.check);
    if (e.kind === 'component_status' && e.component) {
      const inc = this.openFor(e.component);
      if (!inc) return [];
      inc.events++;
      addOnce(inc.components, e.component);
      if (isFailing(e.to)) this.markFailed(inc, e.component);
      return [inc];
    }
    return [];
  }

  private applyCheck(e: RecordEvent, check: string): Incident[] {
    const component = e.component ?? this.componentOf.get(check) ?? check;
    this.componentOf.set(check, component);
    let inc = this.open.find((i) => i.failing.includes(check));
    // A check that was not failing and still is not (unknown -> healthy) changes no incident.
    if (!inc && !isFailing(e.to)) return [];
    inc ??= this.openFor(component);
    if (!inc) {
      inc = {
        key: `${e.t}:${check}`, startedAt: e.t, status: e.to!, checks: [], components: [], rootCause: [], failing: [],
        title: `${check} ${e.to}${e.message ? `: ${e.message}` : ''}`.slice(0, 300), events: 0,
      };
      this.open.push(inc);
      this.failedComponents.set(inc.key, new Set());
    }
    inc.events++;
    addOnce(inc.checks, check);
    addOnce(inc.components, component);
    if (isFailing(e.to)) {
      addOnce(inc.failing, check);
      if (isWorse(e.to!, inc.status)) inc.status = e.to!;
      this.markFailed(inc, component);
    } else {
      inc.failing = inc.failing.filter((c) => c !== check);
    }
    if (!inc.failing.length) {
      inc.endedAt = e.t;
      this.open.splice(this.open.indexOf(inc), 1);
      this.failedComponents.delete(inc.key);
    }
    return [inc];
  }

  /** Checks no longer configured (a reload removed them) stop holding their incidents open. */
  forget(checks: Set<string>, t: number): Incident[] {
    const changed: Incident[] = [];
    for (const inc of [...this.open]) {
      const left = inc.failing.filter((c) => !checks.has(c));
      if (left.length === inc.failing.length) continue;
      inc.failing = left;
      if (!left.length) {
        inc.endedAt = t;
        this.open.splice(this.open.indexOf(inc), 1);
        this.failedComponents.delete(inc.key);
      }
      changed.push(inc);
    }
    return changed;
  }

  private openFor(component: string): Incident | undefined {
    const g = this.map.groupOf(component);
    return this.open.find((i) => i.components.some((c) => this.map.groupOf(c) === g));
  }

  private markFailed(inc: Incident, component: string): void {
    const failed = this.failedComponents.get(inc.key) ?? new Set<string>();
    failed.add(component);
    this.failedComponents.set(inc.key, failed);
    inc.rootCause = rootCauses(failed, this.map);
  }
}

function addOnce(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}

/** Events in (time order), incidents out (oldest first): the derivation, in one call. */
export function deriveIncidents(events: readonly RecordEvent[], components: readonly RollupComponent[] = [], open: Incident[] = []): Incident[] {
  const tracker = new IncidentTracker(new DependencyMap(components));
  tracker.resume(open.map((i) => ({ ...i, checks: [...i.checks], components: [...i.components], failing: [...i.failing], rootCause: [...i.rootCause] })));
  const all = new Map<string, Incident>(tracker.open.map((i) => [i.key, i]));
  for (const e of events) for (const i of tracker.apply(e)) all.set(i.key, i);
  return [...all.values()].sort((a, b) => a.startedAt - b.startedAt);
}

/** The statements that store `inc` (upsert by key, members added once). */
export function incidentUpsert(inc: Incident): Statement[] {
  const out: Statement[] = [{
    sql: `INSERT INTO incidents (key, started_at, ended_at, status, checks, components, root_cause, failing, title, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET ended_at = excluded.ended_at, status = excluded.status, checks = excluded.checks, components = excluded.components,
        root_cause = excluded.root_cause, failing = excluded.failing, events = excluded.events`,
    params: [inc.key, inc.startedAt, inc.endedAt ?? null, inc.status, JSON.stringify(inc.checks), JSON.stringify(inc.components),
      JSON.stringify(inc.rootCause), JSON.stringify(inc.failing), inc.title, inc.events],
  }];
  // Typed: PostgreSQL cannot infer a parameter's type in a SELECT list.
  const member = 'INSERT INTO incident_members (incident_id, kind, name) SELECT id, CAST(? AS TEXT), CAST(? AS TEXT) FROM incidents WHERE key = ? ON CONFLICT DO NOTHING';
  for (const c of inc.checks) out.push({ sql: member, params: ['check', c, inc.key] });
  for (const c of inc.components) out.push({ sql: member, params: ['component', c, inc.key] });
  return out;
}

/** A stored incident row as an Incident (and its id). */
export function incidentOf(row: Record<string, unknown>): Incident & { id: number } {
  const list = (v: unknown) => JSON.parse(String(v ?? '[]')) as string[];
  return {
    id: Number(row.id), key: String(row.key), startedAt: Number(row.started_at), endedAt: row.ended_at === null || row.ended_at === undefined ? undefined : Number(row.ended_at),
    status: row.status as Status, checks: list(row.checks), components: list(row.components), rootCause: list(row.root_cause),
    failing: list(row.failing), title: String(row.title ?? ''), events: Number(row.events),
  };
}

/**
 * The tracker with its writes: incidents changed since the last successful flush are kept as
 * dirty until a flush commits them (a failed flush writes them again next time).
 */
export class IncidentBook {
  readonly tracker = new IncidentTracker();
  private dirty = new Map<string, Incident>();

  configure(components: readonly RollupComponent[]): void {
    this.tracker.map = new DependencyMap(components);
  }

  observe(e: RecordEvent): void {
    for (const i of this.tracker.apply(e)) this.dirty.set(i.key, i);
  }

  forget(checks: Set<string>, t: number): void {
    for (const i of this.tracker.forget(checks, t)) this.dirty.set(i.key, i);
  }

  /** Open incidents from the database (at start, before any event). */
  async load(sql: RecordSql): Promise<void> {
    if (this.tracker.open.length) return;
    const rows = await sql.all('SELECT * FROM incidents WHERE ended_at IS NULL ORDER BY started_at');
    this.tracker.resume(rows.map(incidentOf).map(({ id: _id, ...i }) => i));
  }

  /** What the next flush writes, and a callback for when it is committed. */
  pending(): { statements: Statement[]; committed: () => void } {
    const snapshot = [...this.dirty.values()].map((i) => ({ ...i, checks: [...i.checks], components: [...i.components], failing: [...i.failing], rootCause: [...i.rootCause] }));
    const versions = new Map(snapshot.map((i) => [i.key, JSON.stringify(i)]));
    return {
      statements: snapshot.flatMap(incidentUpsert),
      committed: () => {
        for (const [key, v] of versions) if (this.dirty.has(key) && JSON.stringify(this.dirty.get(key)) === v) this.dirty.delete(key);
      },
    };
  }

  get size(): number {
    return this.dirty.size;
  }
}
