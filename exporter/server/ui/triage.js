// What an operator reads first: every failing check, root causes first (by the dependency map),
// each with its error in words, its value against its threshold and since when. The same order
// as the server's views/summary.ts (the no-JS summary): a check whose component no critical
// dependency impacts comes first, then critical before degraded, then the longest failing.
import { h, icon } from './dom.js';
import * as f from './format.js';

const RANK = { critical: 0, degraded: 1, unknown: 2, healthy: 3 };

export const isBroken = (c) => c.status === 'critical' || c.status === 'degraded';

/** The failing checks in reading order, each with the component's impacted_by. */
export function brokenNow(model) {
  const comps = new Map(model.components.map((c) => [c.name, c]));
  const out = [];
  for (const c of model.checks.values()) {
    if (!isBroken(c)) continue;
    out.push({ c, impactedBy: comps.get(c.component)?.impacted_by ?? [] });
  }
  return out.sort((a, b) => Number(a.impactedBy.length > 0) - Number(b.impactedBy.length > 0)
    || RANK[a.c.status] - RANK[b.c.status]
    || (a.c.since ? Date.parse(a.c.since) : 0) - (b.c.since ? Date.parse(b.c.since) : 0)
    || a.c.name.localeCompare(b.c.name));
}

/** A heartbeat's facts (the kind's pageDetails), or undefined for other checks. */
export const heartbeatOf = (c) => c.resources?.heartbeat;

/** "late 1 min 45 s, grace 3 min" / "expected 08:13, in 25 s" for a push check. */
export function heartbeatWords(c, now = Date.now()) {
  const hb = heartbeatOf(c);
  if (!hb) return '';
  if (hb.running) return 'running now';
  if (hb.late_seconds > 0) {
    const late = Math.max(hb.late_seconds, (now - hb.next_expected_ms) / 1000);
    return `late ${f.duration(late)}, grace ${f.duration(hb.grace_seconds)} · expected ${f.when(hb.next_expected_ms, now)}`;
  }
  return `next expected ${f.when(hb.next_expected_ms, now)}`;
}

/**
 * The error in words: the probe's own message (times in it made local and relative), or, when
 * the run itself worked and a threshold made it fail, the values against their thresholds.
 */
export function errorWords(c, now = Date.now()) {
  if (!isBroken(c) && c.status !== 'unknown') return '';
  const hb = heartbeatOf(c);
  if (!c.reason && c.violations?.length) {
    return c.violations.map((v) => (v.key === 'late' && hb ? heartbeatWords(c, now) : f.violation(v))).join('; ');
  }
  return c.last_error ? f.humanTimes(c.last_error, now) : '';
}

/** Values against thresholds for a check that failed for another reason too (a run error). */
export function thresholdWords(c, now = Date.now()) {
  if (!c.reason || !c.violations?.length) return '';
  const hb = heartbeatOf(c);
  return c.violations.map((v) => (v.key === 'late' && hb ? heartbeatWords(c, now) : f.violation(v))).join('; ');
}

function badgeEl(status) {
  return h('span', { class: 'badge sm', dataset: { status } }, icon(status), h('span', { text: f.STATUS_LABEL[status] }));
}

/** Render the broken-now strip; returns the number of failing checks. */
export function renderBroken(section, model, now = Date.now()) {
  const list = section.querySelector('#broken-list');
  const items = brokenNow(model);
  const roots = new Set();
  for (const comp of model.components) for (const d of comp.impacted_by ?? []) roots.add(d);
  section.hidden = items.length === 0;
  section.querySelector('#broken-count').textContent = String(items.length);
  list.replaceChildren(...items.map(({ c, impactedBy }) => {
    const where = [c.component];
    if (impactedBy.length) where.push(`impacted by ${impactedBy.join(', ')}`);
    else if (roots.has(c.component)) where.push('root cause');
    if (c.since) where.push(`since ${f.when(c.since, now)}`);
    const err = errorWords(c, now);
    const thr = thresholdWords(c, now);
    return h('li', { class: 'b-item', dataset: { status: c.status, name: c.name } },
      h('span', { class: 'b-head' }, badgeEl(c.status), ' ',
        h('a', { class: 'b-name', href: `#/check/${encodeURIComponent(c.name)}`, text: c.name }), ' ',
        h('span', { class: 'b-comp', text: where.join(' · ') })),
      err ? h('span', { class: 'b-err', text: err }) : null,
      thr ? h('span', { class: 'b-val', text: thr }) : null);
  }));
  return items.length;
}
