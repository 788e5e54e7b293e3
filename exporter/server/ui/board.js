// The component cards and check rows. Built once from a snapshot; afterwards only the rows a diff
// touches are updated in place (text, attributes, one gradient, one polyline), so 500 checks
// updating every second cost a few hundred DOM writes per second at most.
//
// Rows are built lazily (issue 16: 500 rows, ~7 000 elements, took a cold load on a busy 2-core
// box past its 500 ms): every card at once, but before the first paint only the rows the first
// screen can show (worst cards first: every row of a failing card, the top of the first healthy
// cards across); the rest are built in idle time a slice at a time, and the rows of a folded card
// only when it is unfolded. Counts and filters read the model, not the rows, so a
// row not built yet is still counted and filtered.
import { h, icon, s, setIcon, setText } from './dom.js';
import * as f from './format.js';
import { errorWords, heartbeatOf, heartbeatWords, isBroken, thresholdWords } from './triage.js';

const BAR_COLOR = { h: 'var(--healthy)', d: 'var(--degraded)', c: 'var(--critical)', u: 'var(--unknown)', '-': 'var(--nodata)' };
const SPARK_W = 64;
const SPARK_H = 20;
const ERROR_SHOWN_MS = 86_400_000; // a healthy check offers its last error for a day, on demand
const RANK = { critical: 0, degraded: 1, unknown: 2, healthy: 3 };
/** The narrowest a card gets (the board's grid) and the shortest a row is, in CSS pixels. */
const CARD_MIN_PX = 400;
const ROW_MIN_PX = 80;
/** The gap between the board's cards (style.css, .board). */
const GRID_GAP_PX = 16;
/** Rows a slice of idle building adds to a card before it looks at the clock again. */
const ROWS_PER_SLICE = 8;
/** Idle time one slice of lazy row building may take. */
const SLICE_MS = 8;
const idle = (fn) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(fn, { timeout: 200 }) : setTimeout(() => fn({ timeRemaining: () => SLICE_MS }), 16));
const cancelIdle = (id) => (typeof cancelIdleCallback === 'function' ? cancelIdleCallback(id) : clearTimeout(id));

/** Whether check `c` (a model entry) passes the board's filter. */
export function passes(c, compName, { status, component, q }) {
  const needle = q.trim().toLowerCase();
  return (!component || component === compName) && (status === 'all' || c.status === status)
    && (!needle || c.name.toLowerCase().includes(needle) || compName.toLowerCase().includes(needle));
}
/** Cards worst first; equal statuses keep the vigil.yml order. */
export const worstFirst = (components) => components.map((c, i) => ({ c, i }))
  .sort((a, b) => RANK[a.c.status] - RANK[b.c.status] || a.i - b.i).map((x) => x.c);

export function badge(status, cls = 'badge') {
  return h('span', { class: cls, dataset: { status } }, icon(status), h('span', { text: f.STATUS_LABEL[status] ?? status }));
}

function setBadge(el, status) {
  if (el.dataset.status === status) return;
  el.dataset.status = status;
  setIcon(el.firstElementChild, status);
  el.lastElementChild.textContent = f.STATUS_LABEL[status] ?? status;
}

/** Runs of equal buckets as hard colour stops; the gaps between bars come from one CSS mask. */
export function barGradient(letters) {
  const n = letters.length;
  const parts = [];
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && letters[j] === letters[i]) j++;
    parts.push(`${BAR_COLOR[letters[i]] ?? BAR_COLOR['-']} ${((i / n) * 100).toFixed(3)}% ${((j / n) * 100).toFixed(3)}%`);
    i = j;
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

function sparkPoints(values) {
  if (values.length < 2) return { line: '', area: '' };
  const max = Math.max(...values) * 1.1 || 1;
  const step = SPARK_W / (values.length - 1);
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(SPARK_H - (v / max) * (SPARK_H - 1)).toFixed(1)}`);
  return { line: pts.join(' '), area: `0,${SPARK_H} ${pts.join(' ')} ${SPARK_W},${SPARK_H}` };
}

export class Board {
  constructor(root, tip) {
    this.root = root;
    this.tip = tip;
    this.rows = new Map(); // check name -> row refs
    this.cards = new Map(); // component name -> card refs
    this.bar = null; // {start, step, count}
    this.model = null;
    this.pinned = false; // a tapped bar keeps its tooltip until the next tap elsewhere
    this.collapsed = new Set();
    this.filters = { status: 'all', component: '', q: '' };
    this.lazy = []; // cards whose rows are not built yet, in build order
    this.idleId = undefined;
    this.complete = false; // every unfolded card's rows are built
    root.addEventListener('pointermove', (e) => { if (!this.pinned || e.pointerType === 'mouse') this.onPointer(e); });
    root.addEventListener('pointerdown', (e) => {
      this.pinned = e.pointerType !== 'mouse' && !!e.target.closest?.('.bar');
      this.onPointer(e);
    });
    root.addEventListener('pointerleave', () => { if (!this.pinned) this.hideTip(); });
    document.addEventListener('pointerdown', (e) => { if (this.pinned && !root.contains(e.target)) { this.pinned = false; this.hideTip(); } });
    addEventListener('scroll', () => { if (!this.pinned) this.hideTip(); }, { passive: true });
    // A click on a row (not on its link, bar or buttons) opens the check's detail, like its name.
    root.addEventListener('click', (e) => {
      const row = e.target.closest?.('.check');
      if (!row || e.target.closest('a, button, summary, details, .bar')) return;
      location.hash = `#/check/${encodeURIComponent(row.dataset.name)}`;
    });
  }

  /**
   * Full rebuild from the model (first load, resync): every card, every row of a failing card,
   * and of the first healthy cards across the board as many rows as the window can show of them
   * (firstScreen); the others follow in idle time (buildLater).
   * `collapsed`: fold these components from the start (their rows wait until unfolded).
   */
  render(model, collapsed = this.collapsed) {
    this.model = model;
    this.bar = model.bar;
    this.root.style.setProperty('--buckets', String(model.bar.count));
    this.root.classList.toggle('many', model.checks.size > 120);
    this.rows.clear();
    this.cards.clear();
    this.collapsed = new Set(collapsed);
    this.lazy = [];
    if (this.idleId !== undefined) cancelIdle(this.idleId);
    this.idleId = undefined;
    const frag = document.createDocumentFragment();
    const first = this.firstScreen();
    let cardsAcross = first.cardsAcross;
    const rowsDown = first.rowsDown;
    for (const comp of worstFirst(model.components)) {
      const card = this.buildCard(comp);
      if (this.collapsed.has(comp.name)) card.lazy = true;
      else if (comp.status !== 'healthy') this.buildRows(card);
      else {
        if (cardsAcross > 0) { cardsAcross--; this.buildRows(card, rowsDown); }
        if (card.lazy) this.lazy.push(card);
      }
      this.updateCard(comp);
      frag.append(card.el);
    }
    this.root.replaceChildren(frag);
    this.complete = false;
    this.buildLater();
  }

  /**
   * How many cards the first row of the board holds, and how many of their rows can be on screen:
   * what the first render builds before it paints (the rest follow in idle time). Rows cost most
   * of that render, so it builds no more than the window can show.
   */
  firstScreen() {
    // Empty (the first load), the board is measured by laying out only the page above it; full
    // (a resync), measuring would lay out every row, so it is estimated from the window.
    if (this.root.firstChild) return { cardsAcross: Math.max(1, Math.ceil(innerWidth / CARD_MIN_PX)), rowsDown: Math.ceil(innerHeight / ROW_MIN_PX) + 1 };
    const box = this.root.getBoundingClientRect();
    return {
      cardsAcross: Math.max(1, Math.floor((box.width + GRID_GAP_PX) / (CARD_MIN_PX + GRID_GAP_PX))),
      rowsDown: Math.max(0, Math.ceil((innerHeight - Math.max(0, box.top)) / ROW_MIN_PX)),
    };
  }

  /**
   * Build the card's next rows, `max` at most (from the model as it is now, filtered as the board
   * is), after those already built; `card.lazy` stays set while some are left.
   */
  buildRows(card, max = Infinity) {
    const checks = card.comp.checks;
    const frag = document.createDocumentFragment();
    let n = 0;
    while (card.next < checks.length && n < max) {
      const c = this.model.checks.get(checks[card.next++]);
      if (!c) continue;
      const row = this.buildRow(c);
      row.el.hidden = !passes(c, card.comp.name, this.filters);
      frag.append(row.el);
      this.updateRow(c);
      n++;
    }
    card.list.append(frag);
    card.lazy = card.next < checks.length;
  }

  /** Build the remaining rows in idle slices; marks `vigil:complete` when every unfolded card has its rows. */
  buildLater() {
    if (this.idleId !== undefined) return;
    const step = (deadline) => {
      this.idleId = undefined;
      const t0 = performance.now();
      while (this.lazy.length && (deadline.timeRemaining() > 1 || performance.now() - t0 < SLICE_MS / 2)) {
        const card = this.lazy[0];
        if (card.lazy && !this.collapsed.has(card.comp.name) && this.cards.get(card.comp.name) === card) this.buildRows(card, ROWS_PER_SLICE);
        if (!card.lazy || this.collapsed.has(card.comp.name) || this.cards.get(card.comp.name) !== card) this.lazy.shift();
        if (performance.now() - t0 > SLICE_MS) break;
      }
      if (this.lazy.length) this.idleId = idle(step);
      else if (!this.complete) {
        this.complete = true;
        performance.mark('vigil:complete');
        this.root.dispatchEvent(new Event('vigil:complete'));
      }
    };
    this.idleId = idle(step);
  }

  /** Rows of `name`'s card, built now if they were waiting (a detail, a link or a filter needs them). */
  ensureRows(compName) {
    const card = this.cards.get(compName);
    if (card?.lazy) this.buildRows(card);
  }

  buildCard(comp) {
    const id = `comp-${comp.name}`;
    const title = h('h2', { id: `${id}-h`, text: comp.name });
    const status = badge(comp.status);
    const meta = h('p', { class: 'card-meta' });
    const own = h('p', { class: 'own', hidden: true });
    const impact = h('p', { class: 'impact', hidden: true });
    const list = h('ul', { class: 'checks', id: `${id}-list`, 'aria-label': `Checks of ${comp.name}` });
    const toggleText = h('span');
    const toggle = h('button', { class: 'collapse', type: 'button', 'aria-controls': `${id}-list`, 'aria-expanded': 'true' }, toggleText);
    toggle.addEventListener('click', () => this.setCollapsed(comp.name, !this.collapsed.has(comp.name)));
    const el = h('article', { class: 'card', id, 'aria-labelledby': `${id}-h`, dataset: { status: comp.status, component: comp.name } },
      h('div', { class: 'card-h' }, title, status, toggle), meta, own, impact, list);
    // `next`: index in comp.checks of the first row not built yet (rows are built in order).
    const refs = { el, comp, status, meta, own, impact, list, toggle, toggleText, impactKey: '', ownKey: '', lazy: true, next: 0 };
    this.cards.set(comp.name, refs);
    return refs;
  }

  /** Fold a card to its header (healthy components need no reading); remembered for the tab. */
  setCollapsed(name, collapsed) {
    const r = this.cards.get(name);
    if (!r) return;
    const unfolding = !collapsed && this.collapsed.has(name);
    if (collapsed) this.collapsed.add(name); else this.collapsed.delete(name);
    if (unfolding && r.lazy) this.buildRows(r); // folded rows are built when first shown
    r.list.hidden = collapsed;
    r.el.classList.toggle('folded', collapsed);
    r.toggle.setAttribute('aria-expanded', String(!collapsed));
    const n = r.comp.checks.length;
    setText(r.toggleText, collapsed ? `Show ${n} check${n === 1 ? '' : 's'}` : 'Hide checks');
  }

  /** Fold (or unfold) every healthy card at once. */
  collapseHealthy(collapsed) {
    for (const [name, r] of this.cards) if (r.el.dataset.status === 'healthy' || !collapsed) this.setCollapsed(name, collapsed);
  }

  updateCard(comp) {
    const r = this.cards.get(comp.name);
    if (!r) return;
    r.comp = comp;
    // A card turning unhealthy shows its rows at once (the others keep waiting for idle time).
    if (r.lazy && comp.status !== 'healthy' && !this.collapsed.has(comp.name)) this.buildRows(r);
    r.el.dataset.status = comp.status;
    setBadge(r.status, comp.status);
    const n = comp.checks.length;
    const parts = [comp.description, `${n} check${n === 1 ? '' : 's'}`, comp.depends_on?.length ? `depends on ${comp.depends_on.join(', ')}` : null];
    setText(r.meta, parts.filter(Boolean).join(' · '));
    if (!r.toggleText.textContent) this.setCollapsed(comp.name, this.collapsed.has(comp.name));
    // The component's own failing checks, apart from what it depends on: a component is only
    // ever non-healthy through its own checks, so a healthy one shows no impact line at all.
    const failing = comp.checks.filter((c) => { const m = this.model?.checks.get(c); return m && isBroken(m); });
    const ownKey = comp.status === 'healthy' ? '' : failing.join(',');
    if (ownKey !== r.ownKey) {
      r.ownKey = ownKey;
      r.own.hidden = !ownKey;
      if (ownKey) {
        const links = [];
        failing.forEach((c, i) => {
          if (i) links.push(', ');
          links.push(h('a', { href: `#/check/${encodeURIComponent(c)}`, text: c }));
        });
        r.own.replaceChildren(icon(comp.status), h('span', {}, 'Failing here: ', ...links));
      }
    }
    const key = comp.status === 'healthy' ? '' : (comp.impacted_by ?? []).join(',');
    if (key !== r.impactKey) {
      r.impactKey = key;
      r.impact.hidden = !key;
      if (key) {
        const links = [];
        comp.impacted_by.forEach((d, i) => {
          if (i) links.push(', ');
          links.push(h('a', { href: `#comp-${d}`, text: d }));
        });
        r.impact.replaceChildren(icon('link'), h('span', {}, 'Impacted by ', ...links));
      }
    }
  }

  /** Keep the cards worst first as statuses change (moving elements keeps their state). */
  reorder(components) {
    const order = worstFirst(components).map((c) => this.cards.get(c.name)?.el).filter(Boolean);
    const now = [...this.root.children];
    if (order.every((el, i) => now[i] === el)) return;
    this.root.append(...order);
  }

  // A row is ~13 elements; the error line is only built for checks that have one.
  buildRow(c) {
    const st = badge(c.status, 'badge sm');
    const name = h('a', { class: 'name', href: `#/check/${encodeURIComponent(c.name)}`, text: c.name, title: c.description ?? undefined });
    const rt = h('span', { class: 'rt' });
    const area = s('polygon', { class: 'area' });
    const line = s('polyline');
    const spark = s('svg', { class: 'spark', viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' }, area, line);
    const meta = h('span', { class: 'meta' });
    const bar = h('div', { class: 'bar', role: 'img' });
    const avail = h('span', { class: 'avail' });
    const el = h('li', { class: 'check', dataset: { status: c.status, name: c.name, component: c.component } },
      st, name, rt, spark, meta, bar, avail);
    if (c.timed === false) { rt.hidden = true; spark.setAttribute('hidden', ''); el.classList.add('untimed'); }
    const refs = { el, st, rt, line, area, spark, meta, bar, avail, err: undefined, errText: undefined, errTime: undefined, rec: undefined, recText: undefined, barLetters: '' };
    this.rows.set(c.name, refs);
    return refs;
  }

  errorLine(r) {
    if (!r.err) {
      r.errText = h('span', { class: 'err-text' });
      r.errVal = h('span', { class: 'err-val' });
      r.errTime = h('span', { class: 'err-time' });
      r.err = h('p', { class: 'err' }, icon('info'), h('span', {}, r.errText, r.errVal, ' ', r.errTime));
      r.el.append(r.err);
    }
    return r.err;
  }

  /** "recovered" on a healthy row: the last error only when asked for (a disclosure). */
  recoveredLine(r) {
    if (!r.rec) {
      r.recText = h('span', { class: 'rec-text' });
      r.rec = h('details', { class: 'recovered' }, h('summary', { text: 'recovered' }), r.recText);
      r.el.append(r.rec);
    }
    return r.rec;
  }

  /** Bring one row up to date with its model entry. */
  updateRow(c, now = Date.now()) {
    const r = this.rows.get(c.name);
    if (!r) return;
    if (r.el.dataset.status !== c.status) r.el.dataset.status = c.status;
    setBadge(r.st, c.status);
    if (c.timed !== false) {
      setText(r.rt, f.ms(c.response_time_ms));
      const { line, area } = sparkPoints(c.spark);
      r.line.setAttribute('points', line);
      r.area.setAttribute('points', area);
    }
    this.updateMeta(c, now);
    this.updateBar(c);
    this.updateError(c, now);
  }

  /** A failing row says what is wrong and since when; a healthy one only offers its last error. */
  updateError(c, now = Date.now()) {
    const r = this.rows.get(c.name);
    const failedAt = c.last_failure ? Date.parse(c.last_failure) : 0;
    const words = c.status === 'healthy' ? '' : errorWords(c, now);
    if (!words) {
      if (r.err) r.err.hidden = true;
    } else {
      this.errorLine(r).hidden = false;
      setText(r.errText, words);
      const thr = thresholdWords(c, now);
      setText(r.errVal, thr ? ` · ${thr}` : '');
      setText(r.errTime, c.since ? `· since ${f.when(c.since, now)}` : '');
    }
    const recovered = c.status === 'healthy' && !!c.last_error && now - failedAt < ERROR_SHOWN_MS;
    if (!recovered) {
      if (r.rec) r.rec.hidden = true;
    } else {
      this.recoveredLine(r).hidden = false;
      setText(r.recText, `last error ${f.when(c.last_failure, now)}: ${f.humanTimes(c.last_error, now)}`);
    }
  }

  updateMeta(c, now = Date.now()) {
    const r = this.rows.get(c.name);
    const parts = [];
    const hb = heartbeatOf(c);
    if (hb || c.period_seconds !== null && c.period_seconds !== undefined || c.schedule) {
      // A push check: its period (or schedule) and when the next ping is due; the evaluation
      // interval and the evaluation's own duration mean nothing to a reader.
      parts.push(c.schedule ? `expected ${c.schedule}` : `expected every ${f.duration(c.period_seconds)}`);
      if (hb && !(c.status !== 'healthy' && hb.late_seconds > 0)) parts.push(heartbeatWords(c, now));
      if (hb?.last_success_ms) parts.push(`last ping ${f.when(hb.last_success_ms, now)}`);
    } else {
      if (c.value) parts.push(c.value);
      parts.push(f.interval(c.interval_seconds));
    }
    const last = c.last_run ? Date.parse(c.last_run) : undefined;
    // `late` is the server's verdict (no run for two intervals plus the run's time budget); the
    // local test covers a page whose event stream stopped.
    const stale = last !== undefined && (c.late || now - last > Math.max(3 * c.interval_seconds * 1000, 30_000));
    const key = parts.join(' · ') + (stale ? `|${f.ago(last, now)}` : '');
    if (r.metaKey === key) return;
    r.metaKey = key;
    r.meta.replaceChildren(parts.join(' · '));
    if (stale) r.meta.append(' · ', h('span', { class: 'stale', text: `no result since ${f.ago(last, now)}` }));
  }

  updateBar(c) {
    const r = this.rows.get(c.name);
    const letters = c.bar.join('');
    if (letters !== r.barLetters) {
      r.barLetters = letters;
      r.bar.style.backgroundImage = barGradient(c.bar);
    }
    let bad = 0;
    let data = 0;
    for (const l of c.bar) { if (l !== '-') data++; if (l === 'c' || l === 'd') bad++; }
    const hours = Math.round((this.bar.count * this.bar.step) / 3600_000);
    const availability = availabilityOf(c);
    // How much data the figure stands on: 41.7 % of four minutes is not a 24-hour availability.
    const covered = coveredSeconds(c, this.bar);
    const partial = availability !== null && covered < this.bar.count * this.bar.step / 1000 * 0.9;
    setText(r.avail, partial ? `${f.percent(availability)} of ${f.duration(covered)}` : f.percent(availability));
    r.avail.classList.toggle('partial', partial);
    const label = data
      ? `Last ${hours} hours: ${f.percent(availability)} of runs up${partial ? ` over ${f.duration(covered)} of data` : ''}; ${bad} of ${data} periods with problems`
      : `Last ${hours} hours: no data yet`;
    if (r.bar.getAttribute('aria-label') !== label) r.bar.setAttribute('aria-label', label);
  }

  updateComponents(components) {
    for (const comp of components) this.updateCard(comp);
  }

  /** Re-check relative times and staleness (called every few seconds). */
  tick(now = Date.now()) {
    if (!this.model) return;
    for (const c of this.model.checks.values()) {
      const r = this.rows.get(c.name);
      if (!r) continue;
      this.updateMeta(c, now);
      if ((r.err && !r.err.hidden) || (r.rec && !r.rec.hidden)) this.updateError(c, now);
    }
  }

  /**
   * Show only checks that pass the filter; hide cards left empty. Returns the number shown. The
   * model decides (rows not built yet count too); built rows are shown or hidden to match.
   */
  applyFilter(filters) {
    this.filters = { ...filters };
    let shown = 0;
    for (const [compName, card] of this.cards) {
      let inCard = 0;
      for (const name of card.comp.checks) {
        const c = this.model.checks.get(name);
        if (!c) continue;
        const ok = passes(c, compName, filters);
        const row = this.rows.get(name);
        if (row && row.el.hidden === ok) row.el.hidden = !ok;
        if (ok) inCard++;
      }
      if (card.el.hidden !== (inCard === 0)) card.el.hidden = inCard === 0;
      shown += inCard;
    }
    return shown;
  }

  // ---- tooltip over the availability bar ----
  onPointer(e) {
    const bar = e.target.closest?.('.bar');
    if (!bar) return this.hideTip();
    const row = bar.closest('.check');
    const c = this.model?.checks.get(row.dataset.name);
    if (!c) return;
    const rect = bar.getBoundingClientRect();
    const n = c.bar.length;
    const i = Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - rect.left) / rect.width) * n)));
    const start = this.bar.start + i * this.bar.step;
    const end = Math.min(start + this.bar.step, Date.now());
    const letter = c.bar[i];
    const status = f.LETTER_STATUS[letter];
    const runs = c.bar_runs[i];
    const planned = c.bar_maintenance?.[i] ?? 0;
    const up = runs ? Math.floor((c.bar_up[i] / runs) * 1000) / 10 : 0;
    const counted = runs ? `${up} % of ${runs} run${runs === 1 ? '' : 's'} up` : '';
    const inMaintenance = planned ? `${planned} run${planned === 1 ? '' : 's'} in maintenance (not counted)` : '';
    this.tip.replaceChildren(
      h('b', { text: `${f.dayClock(start)} – ${f.clock(end)}` }), h('br'),
      status ? `${f.STATUS_LABEL[status]} at worst · ${[counted, inMaintenance].filter(Boolean).join(' · ')}` : 'No data',
    );
    this.tip.hidden = false;
    const tw = this.tip.offsetWidth;
    const x = Math.min(innerWidth - tw - 8, Math.max(8, e.clientX - tw / 2));
    const y = rect.top - this.tip.offsetHeight - 8;
    this.tip.style.left = `${x}px`;
    this.tip.style.top = `${y < 60 ? rect.bottom + 8 : y}px`;
  }

  hideTip() {
    if (!this.tip.hidden) this.tip.hidden = true;
  }
}

/** Seconds of the bar covered by runs (each run stands for one interval), at most the bar. */
export function coveredSeconds(c, bar) {
  let runs = 0;
  for (const n of c.bar_runs) runs += n;
  return Math.min(runs * c.interval_seconds, (bar.count * bar.step) / 1000);
}

/** Up runs / runs over the bar, null with no runs (runs in maintenance windows are not in bar_runs: the server counts them apart). */
export function availabilityOf(c) {
  let runs = 0;
  let up = 0;
  for (let i = 0; i < c.bar_runs.length; i++) { runs += c.bar_runs[i]; up += c.bar_up[i]; }
  return runs ? up / runs : null;
}
