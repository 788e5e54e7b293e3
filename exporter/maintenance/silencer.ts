// One Alertmanager silence held by Vigil (for a maintenance occurrence or an acknowledgement),
// from its start to its end, and the resolves it swallowed.
//
// Alertmanager 0.25 never delivers a resolve that happens while an alert is silenced, and if the
// alert fires again later it is not re-sent either (TOOLING.md §9): the PagerDuty incident stays
// open. So when a silence begins, Vigil notes the alerts it covers (they were firing before it,
// and may have paged); when it ends, Vigil expires it and posts every noted alert that is no
// longer active back to Alertmanager as resolved (endsAt = now). Alertmanager then notifies the
// resolve to each receiver whose notification log still has the alert firing, and to nobody
// else (an alert it never notified has nothing to resolve): its own deduplication decides.
import type { ListedAlert, Matcher, AlertmanagerClient } from '../alerts/silences.js';
import type { PostableAlert } from '../alerts/test-alert.js';
import type { LedgerEntry } from './store.js';

export interface NotedAlert extends PostableAlert {
  fingerprint: string;
}

function noted(a: ListedAlert): NotedAlert {
  return { fingerprint: a.fingerprint, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}) };
}

/** Alerts matching any of the matcher sets, by fingerprint. */
export async function alertsMatching(am: AlertmanagerClient, sets: readonly Matcher[][]): Promise<Map<string, ListedAlert>> {
  const out = new Map<string, ListedAlert>();
  for (const set of sets) for (const a of await am.alerts(set)) out.set(a.fingerprint, a);
  return out;
}

/**
 * Begin: note the alerts the matcher sets cover now (before the silence mutes them), then create
 * one silence per set, ending at `endsAt` (so Alertmanager ends it on time even if Vigil is down).
 */
export async function beginSilence(am: AlertmanagerClient, key: string, sets: readonly Matcher[][], spec: { startsAt: number; endsAt: number; createdBy: string; comment: string }): Promise<LedgerEntry> {
  const covered = await alertsMatching(am, sets);
  const ids: string[] = [];
  try {
    for (const matchers of sets) ids.push(await am.createSilence({ matchers, ...spec }));
  } catch (err) {
    // All or none: a half-made set would leave part of the scope paging.
    await Promise.all(ids.map((id) => am.expireSilence(id).catch(() => {})));
    throw err;
  }
  return { key, silenceIds: ids, alerts: [...covered.values()].map(noted) as PostableAlert[], endsAt: spec.endsAt };
}

/** Move the end of held silences (extend, or shorten). Alertmanager may answer with new ids. */
export async function moveSilenceEnd(am: AlertmanagerClient, entry: LedgerEntry, sets: readonly Matcher[][], spec: { startsAt: number; endsAt: number; createdBy: string; comment: string }): Promise<LedgerEntry> {
  const ids: string[] = [];
  for (let i = 0; i < sets.length; i++) ids.push(await am.createSilence({ matchers: sets[i], ...spec }, entry.silenceIds[i]));
  return { ...entry, silenceIds: ids, endsAt: spec.endsAt };
}

/**
 * End: expire the silences, then post the noted alerts that are no longer active as resolved.
 * Returns how many resolves were sent.
 */
export async function endSilence(am: AlertmanagerClient, entry: LedgerEntry, now: number): Promise<number> {
  for (const id of entry.silenceIds) await am.expireSilence(id);
  const alerts = entry.alerts as NotedAlert[];
  if (!alerts.length) return 0;
  const still = new Set<string>();
  // Only these alerts' own labels are asked about (one query per alert name).
  for (const name of new Set(alerts.map((a) => a.labels.alertname ?? ''))) {
    for (const a of await am.alerts(name ? [{ name: 'alertname', value: name, isRegex: false }] : [])) still.add(a.fingerprint);
  }
  const owed = alerts.filter((a) => !still.has(a.fingerprint));
  const at = new Date(now).toISOString();
  await am.postAlerts(owed.map(({ fingerprint: _f, ...a }) => ({ ...a, endsAt: at })));
  return owed.length;
}
