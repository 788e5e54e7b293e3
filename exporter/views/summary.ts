// What is broken now, in the order an operator should read it, and the status page's first
// screen rendered on the server (so the page says something without JavaScript, and before the
// scripts run). The page's scripts (ui/triage.js) order the same way: root causes first (a
// check whose component no critical dependency impacts), then critical before degraded, then the
// longest failing first.
import type { StateStore } from '../engine/state.js';
import type { Status } from '../model/status.js';
import { componentViews } from './status.js';

export interface BrokenCheck {
  name: string;
  component: string;
  status: Status;
  since: number | undefined;
  error: string | null;
  /** Critical components this check's component depends on: empty for a root cause. */
  impacted_by: string[];
}

const RANK: Record<Status, number> = { critical: 0, degraded: 1, unknown: 2, healthy: 3 };

/** Every critical or degraded check, root causes first. */
export function brokenNow(state: StateStore): BrokenCheck[] {
  const rollup = state.rollup();
  const out: BrokenCheck[] = [];
  for (const s of state.list()) {
    if (s.status !== 'critical' && s.status !== 'degraded') continue;
    out.push({
      name: s.config.name, component: s.config.component, status: s.status, since: s.since, error: s.lastError ?? null,
      impacted_by: rollup.components.get(s.config.component)?.impacted_by ?? [],
    });
  }
  return out.sort((a, b) => Number(a.impacted_by.length > 0) - Number(b.impacted_by.length > 0)
    || RANK[a.status] - RANK[b.status] || (a.since ?? 0) - (b.since ?? 0) || a.name.localeCompare(b.name));
}

const ISO_RE = /\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z\b/g;

/** RFC 3339 stamps inside a message (a heartbeat's "no success since …") as a clock time. */
export function humanTimes(text: string): string {
  return text.replace(ISO_RE, (_m, _day: string, time: string) => `${time} UTC`);
}

/** "3 min", "1 h 5 min", "2 d 4 h": one unit style for every duration on the page. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 && s < 600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 60)} min`;
  if (s < 86400) return Math.floor((s % 3600) / 60) ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : `${Math.floor(s / 3600)} h`;
  return Math.floor((s % 86400) / 3600) ? `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h` : `${Math.floor(s / 86400)} d`;
}

/** "08:10 UTC": the server writes clock times in UTC (the page's scripts rewrite them in the reader's zone). */
const utcClock = (t: number) => `${new Date(t).toISOString().slice(11, 16)} UTC`;

const escapeHtml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const OVERALL_TITLE: Record<Status, (n: number) => string> = {
  healthy: () => 'All systems operational',
  degraded: (n) => `Degraded performance in ${n} component${n === 1 ? '' : 's'}`,
  critical: (n) => `Outage in ${n} component${n === 1 ? '' : 's'}`,
  unknown: () => 'Waiting for the first results',
};

export interface ServerSummary {
  status: Status;
  title: string;
  detail: string;
  /** <li> items of the broken-now list, escaped. */
  brokenHtml: string;
  brokenCount: number;
  /** The banner's "Critical: a, b" line with links to the components, '' when it is hidden. */
  affectedHtml: string;
  /** The banner's planned-work line (a <p>), '' when no failing component is in maintenance. */
  plannedHtml: string;
  /** Every failing component is in maintenance: the banner says "Planned maintenance". */
  allPlanned: boolean;
}

/** A maintenance window on now, as the banner names it. */
export interface PlannedNow {
  title: string;
  end: number;
  components: readonly string[];
}


/**
 * The banner and the broken-now list as HTML text (escaped), for index.html's placeholders.
 * Times are clock times, not "3 min ago", so the page (and its ETag) only changes with the state.
 */
export function serverSummary(state: StateStore, planned: readonly PlannedNow[] = []): ServerSummary {
  const rollup = state.rollup();
  const checks = state.list();
  const counts: Record<Status, number> = { healthy: 0, degraded: 0, critical: 0, unknown: 0 };
  for (const s of checks) counts[s.status]++;
  const affected = [...rollup.components.values()].filter((c) => c.status === rollup.status && c.checks.length).length;
  const broken = brokenNow(state);
  const label = (s: Status) => s[0].toUpperCase() + s.slice(1);
  const items = broken.map((b) => {
    const since = b.since === undefined ? '' : ` · since ${utcClock(b.since)}`;
    const cause = b.impacted_by.length ? ` · impacted by ${b.impacted_by.join(', ')}` : '';
    const error = b.error ? `<span class="b-err">${escapeHtml(humanTimes(b.error))}</span>` : '';
    return `<li class="b-item" data-status="${b.status}" data-name="${escapeHtml(b.name)}"><span class="b-head"><span class="badge sm" data-status="${b.status}"><span>${label(b.status)}</span></span> `
      + `<a class="b-name" href="#/check/${encodeURIComponent(b.name)}">${escapeHtml(b.name)}</a> <span class="b-comp">${escapeHtml(b.component)}${escapeHtml(cause)}${since}</span></span>${error}</li>`;
  });
  // The lines the page's scripts put in the banner (ui/app.js renderBanner, ui/maintenance.js
  // decorateBanner), written here too: the first render then moves nothing already painted.
  const worst = rollup.status;
  const views = componentViews(state);
  const affectedNames = worst === 'healthy' || worst === 'unknown' ? [] : views.filter((c) => c.status === worst).map((c) => c.name);
  const affectedHtml = affectedNames.length
    ? `${label(worst)}: ${affectedNames.map((n) => `<a href="#comp-${escapeHtml(n)}">${escapeHtml(n)}</a>`).join(', ')}`
    : '';
  const on = new Map<string, PlannedNow>();
  for (const w of planned) for (const c of w.components) if (!on.has(c)) on.set(c, w);
  const failing = views.filter((c) => c.status === 'critical' || c.status === 'degraded').map((c) => c.name);
  const inWindow = failing.filter((c) => on.has(c));
  const plannedHtml = inWindow.length
    ? `<p class="banner-maint">${escapeHtml(`Planned maintenance: ${inWindow.map((c) => `${c} (${on.get(c)!.title}, until ${utcClock(on.get(c)!.end)})`).join(', ')}`)}</p>`
    : '';
  const allPlanned = inWindow.length > 0 && inWindow.length === failing.length;
  return {
    status: rollup.status,
    title: allPlanned ? 'Planned maintenance' : OVERALL_TITLE[rollup.status](affected),
    detail: `${checks.length} checks: ${counts.healthy} healthy · ${counts.degraded} degraded · ${counts.critical} critical · ${counts.unknown} unknown`,
    brokenHtml: items.join('\n'),
    brokenCount: broken.length,
    affectedHtml,
    plannedHtml,
    allPlanned,
  };
}
