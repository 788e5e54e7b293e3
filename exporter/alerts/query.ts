// Queries over the notification log, all pure: what is firing now, filtered history, and the
// lifecycle of each alert (fired at, resolved at, duration). Their CSV is in views/alerts.ts.
import type { AlertStatus, NotificationRecord } from './log.js';

export interface HistoryFilter {
  status?: AlertStatus;
  severity?: string;
  component?: string;
  alertname?: string;
  receiver?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
}

/** One alert occurrence: a fingerprint with one startsAt, from its first notification to its resolve. */
export interface AlertLifecycle {
  fingerprint: string;
  alertname: string;
  severity: string | null;
  component: string | null;
  check: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** When the alert started firing (Alertmanager's startsAt). */
  fired_at: string;
  first_notified_at: string;
  /** endsAt of the resolved notification (its received time when Alertmanager sent none). */
  resolved_at: string | null;
  resolved_notified_at: string | null;
  /**
   * When a firing alert stopped being notified without a resolve: its group's next complete
   * notification left it out (muted by inhibition or a silence, see TOOLING.md §9). null otherwise.
   */
  unnotified_at: string | null;
  /** fired_at to resolved_at (or unnotified_at); for an ongoing alert, fired_at to `now`. */
  duration_seconds: number;
  ongoing: boolean;
  notifications: number;
  receivers: string[];
  last_notified_at: string;
}

const ms = (iso: string) => Date.parse(iso);

function matchesLabels(r: { labels: Record<string, string> }, f: HistoryFilter): boolean {
  if (f.severity !== undefined && r.labels.severity !== f.severity) return false;
  if (f.component !== undefined && r.labels.component !== f.component) return false;
  if (f.alertname !== undefined && r.labels.alertname !== f.alertname) return false;
  return true;
}

/** Notifications matching the filter (time range on received_at), newest first, at most `limit`. */
export function filterNotifications(records: readonly NotificationRecord[], f: HistoryFilter, limit: number): NotificationRecord[] {
  const out: NotificationRecord[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < limit; i--) {
    const r = records[i];
    if (f.status !== undefined && r.status !== f.status) continue;
    if (f.receiver !== undefined && r.receiver !== f.receiver) continue;
    if (!matchesLabels(r, f)) continue;
    const t = ms(r.received_at);
    if (f.from !== undefined && t < f.from) continue;
    if (f.to !== undefined && t > f.to) continue;
    out.push(r);
  }
  return out;
}

// Alertmanager sends a group's complete current list in every notification (unless it truncated
// it: truncatedAlerts > 0). An alert that was in a group and is missing from the group's later
// notification is no longer notified: it was muted (inhibited, silenced) or dropped, and its
// resolve may never come (TOOLING.md §9). So "firing" needs the alert's latest record to be
// firing AND to belong to the latest complete notification of its group.
interface GroupState {
  batch: number;
  received_at: string;
  complete: boolean;
  fingerprints: Set<string>;
}

const groupId = (r: NotificationRecord) => `${r.receiver}\u0000${r.group_key}`;

function latestGroups(records: readonly NotificationRecord[]): Map<string, GroupState> {
  const groups = new Map<string, GroupState>();
  for (const r of records) {
    const id = groupId(r);
    let g = groups.get(id);
    if (!g || g.batch !== r.batch) {
      if (g && g.batch > r.batch) continue; // never happens in an append-only log; be safe
      g = { batch: r.batch, received_at: r.received_at, complete: r.truncated_alerts === 0, fingerprints: new Set() };
      groups.set(id, g);
    }
    g.fingerprints.add(r.fingerprint);
  }
  return groups;
}

/** When the alert of `r` (its latest record) left its group: the received time of the group's later notification without it. */
function leftGroupAt(r: NotificationRecord, groups: Map<string, GroupState>): string | undefined {
  const g = groups.get(groupId(r));
  if (!g || g.batch === r.batch || !g.complete || g.fingerprints.has(r.fingerprint)) return undefined;
  return g.received_at;
}

/**
 * Currently firing: the latest notification per fingerprint, when that one is firing and its group
 * still lists it. Sorted by startsAt, newest first.
 */
export function firingNow(records: readonly NotificationRecord[]): NotificationRecord[] {
  const latest = new Map<string, NotificationRecord>();
  for (const r of records) latest.set(r.fingerprint, r);
  const groups = latestGroups(records);
  return [...latest.values()]
    .filter((r) => r.status === 'firing' && leftGroupAt(r, groups) === undefined)
    .sort((a, b) => ms(b.starts_at) - ms(a.starts_at));
}

/** Lifecycles of every fingerprint+startsAt in the log (oldest records first in, as the log holds them). */
/** The fields that name an alert in every API answer. */
export function alertIdentity(r: NotificationRecord) {
  return {
    fingerprint: r.fingerprint,
    alertname: r.labels.alertname,
    severity: r.labels.severity ?? null,
    component: r.labels.component ?? null,
    check: r.labels.check ?? null,
    labels: r.labels,
    annotations: r.annotations,
  };
}

export function lifecycles(records: readonly NotificationRecord[], now = Date.now()): AlertLifecycle[] {
  const byKey = new Map<string, AlertLifecycle>();
  const lastRecord = new Map<AlertLifecycle, NotificationRecord>();
  for (const r of records) {
    const key = `${r.fingerprint}|${ms(r.starts_at)}`;
    let l = byKey.get(key);
    if (!l) {
      l = {
        ...alertIdentity(r),
        fired_at: r.starts_at,
        first_notified_at: r.received_at,
        resolved_at: null,
        resolved_notified_at: null,
        unnotified_at: null,
        duration_seconds: 0,
        ongoing: true,
        notifications: 0,
        receivers: [],
        last_notified_at: r.received_at,
      };
      byKey.set(key, l);
    }
    l.notifications++;
    l.last_notified_at = r.received_at;
    l.annotations = r.annotations; // the newest wording
    if (!l.receivers.includes(r.receiver)) l.receivers.push(r.receiver);
    lastRecord.set(l, r);
    if (r.status === 'resolved' && l.ongoing) {
      l.ongoing = false;
      l.resolved_at = r.ends_at ?? r.received_at;
      l.resolved_notified_at = r.received_at;
    }
  }
  const out = [...byKey.values()];
  const groups = latestGroups(records);
  for (const l of out) {
    if (l.ongoing) {
      const left = leftGroupAt(lastRecord.get(l)!, groups);
      if (left) {
        l.ongoing = false;
        l.unnotified_at = left;
      }
    }
    const end = l.resolved_at ? ms(l.resolved_at) : l.unnotified_at ? ms(l.unnotified_at) : now;
    l.duration_seconds = Math.max(0, Math.round(end - ms(l.fired_at)) / 1000);
  }
  return out;
}

/** Lifecycles matching the filter: status firing = ongoing, resolved = ended (resolved or no longer notified); [from, to] overlaps the episode. */
export function filterLifecycles(all: AlertLifecycle[], f: HistoryFilter, limit: number, now = Date.now()): AlertLifecycle[] {
  return all
    .filter((l) => {
      if (f.status === 'firing' && !l.ongoing) return false;
      if (f.status === 'resolved' && l.ongoing) return false;
      if (f.receiver !== undefined && !l.receivers.includes(f.receiver)) return false;
      if (!matchesLabels(l, f)) return false;
      const start = ms(l.fired_at);
      const end = l.resolved_at ? ms(l.resolved_at) : l.unnotified_at ? ms(l.unnotified_at) : now;
      if (f.from !== undefined && end < f.from) return false;
      if (f.to !== undefined && start > f.to) return false;
      return true;
    })
    .sort((a, b) => ms(b.fired_at) - ms(a.fired_at))
    .slice(0, limit);
}
