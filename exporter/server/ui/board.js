// The component cards and check rows. Built once from a snapshot; afterwards only the rows a diff
// touches are updated in place (text, attributes, one gradient, one polyline), so 500 checks
// updating every second cost a few hundred DOM writes per second at most.
import { h, icon, s, setIcon, setText } from './dom.js';
import * as f from './format.js';

const BAR_COLOR = { h: 'var(--healthy)', d: 'var(--degraded)', c: 'var(--critical)', u: 'var(--unknown)', '-': 'var(--nodata)' };
const SPARK_W = 64;
const SPARK_H = 20;
const ERROR_SHOWN_MS = 86_400_000; // a healthy check shows its last error for a day

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
    root.addEventListener('pointermove', (e) => this.onPointer(e));
    root.addEventListener('pointerdown', (e) => this.onPointer(e));
    root.addEventListener('pointerleave', () => this.hideTip());
    addEventListener('scroll', () => this.hideTip(), { passive: true });
  }

  /** Full rebuild from the model (first load, resync). */
  render(model) {
    this.model = model;
    this.bar = model.bar;
    this.root.style.setProperty('--buckets', String(model.bar.count));
    this.root.classList.toggle('many', model.checks.size > 120);
    this.rows.clear();
    this.cards.clear();
    const frag = document.createDocumentFragment();
    for (const comp of model.components) {
      const card = this.buildCard(comp);
      for (const name of comp.checks) {
        const c = model.checks.get(name);
        if (!c) continue;
        const row = this.buildRow(c);
        card.list.append(row.el);
        this.updateRow(c);
      }
      this.updateCard(comp);
      frag.append(card.el);
    }
    this.root.replaceChildren(frag);
  }

  buildCard(comp) {
    const id = `comp-${comp.name}`;
    const title = h('h2', { id: `${id}-h`, text: comp.name });
    const status = badge(comp.status);
    const meta = h('p', { class: 'card-meta' });
    const impact = h('p', { class: 'impact', hidden: true });
    const list = h('ul', { class: 'checks', 'aria-label': `Checks of ${comp.name}` });
    const el = h('article', { class: 'card', id, 'aria-labelledby': `${id}-h`, dataset: { status: comp.status, component: comp.name } },
      h('div', { class: 'card-h' }, title, status), meta, impact, list);
    const refs = { el, status, meta, impact, list, impactKey: '' };
    this.cards.set(comp.name, refs);
    return refs;
  }

  updateCard(comp) {
    const r = this.cards.get(comp.name);
    if (!r) return;
    r.el.dataset.status = comp.status;
    setBadge(r.status, comp.status);
    const n = comp.checks.length;
    const parts = [comp.description, `${n} check${n === 1 ? '' : 's'}`, comp.depends_on?.length ? `depends on ${comp.depends_on.join(', ')}` : null];
    setText(r.meta, parts.filter(Boolean).join(' · '));
    const key = (comp.impacted_by ?? []).join(',');
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

  // A row is ~13 elements; the error line is only built for checks that have one.
  buildRow(c) {
    const st = badge(c.status, 'badge sm');
    const name = h('span', { class: 'name', text: c.name, title: c.description ?? undefined });
    const rt = h('span', { class: 'rt' });
    const area = s('polygon', { class: 'area' });
    const line = s('polyline');
    const spark = s('svg', { class: 'spark', viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' }, area, line);
    const meta = h('span', { class: 'meta' });
    const bar = h('div', { class: 'bar', role: 'img' });
    const avail = h('span', { class: 'avail' });
    const el = h('li', { class: 'check', dataset: { status: c.status, name: c.name, component: c.component } },
      st, name, rt, spark, meta, bar, avail);
    const refs = { el, st, rt, line, area, spark, meta, bar, avail, err: undefined, errText: undefined, errTime: undefined, barLetters: '' };
    this.rows.set(c.name, refs);
    return refs;
  }

  errorLine(r) {
    if (!r.err) {
      r.errText = h('span', { class: 'err-text' });
      r.errTime = h('time');
      r.err = h('p', { class: 'err' }, icon('info'), h('span', {}, r.errText, ' ', r.errTime));
      r.el.append(r.err);
    }
    return r.err;
  }

  /** Bring one row up to date with its model entry. */
  updateRow(c, now = Date.now()) {
    const r = this.rows.get(c.name);
    if (!r) return;
    if (r.el.dataset.status !== c.status) r.el.dataset.status = c.status;
    setBadge(r.st, c.status);
    setText(r.rt, f.ms(c.response_time_ms));
    const { line, area } = sparkPoints(c.spark);
    r.line.setAttribute('points', line);
    r.area.setAttribute('points', area);
    this.updateMeta(c, now);
    this.updateBar(c);
    const failedAt = c.last_failure ? Date.parse(c.last_failure) : 0;
    const showErr = !!c.last_error && (c.status !== 'healthy' || now - failedAt < ERROR_SHOWN_MS);
    if (!showErr) {
      if (r.err) r.err.hidden = true;
    } else {
      this.errorLine(r).hidden = false;
      setText(r.errText, c.last_error);
      if (c.last_failure) {
        r.errTime.dateTime = c.last_failure;
        r.errTime.dataset.t = c.last_failure;
        setText(r.errTime, `· ${f.ago(c.last_failure, now)}`);
      }
    }
  }

  updateMeta(c, now = Date.now()) {
    const r = this.rows.get(c.name);
    const parts = [];
    if (c.value) parts.push(c.value);
    parts.push(f.interval(c.interval_seconds));
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
    setText(r.avail, f.percent(availability));
    const label = data
      ? `Last ${hours} hours: ${f.percent(availability)} of runs up; ${bad} of ${data} periods with problems`
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
      if (r.err && !r.err.hidden && c.last_failure) setText(r.errTime, `· ${f.ago(c.last_failure, now)}`);
    }
  }

  /** Show only checks that pass the filter; hide cards left empty. Returns the number shown. */
  applyFilter({ status, component, q }) {
    const needle = q.trim().toLowerCase();
    let shown = 0;
    for (const [compName, card] of this.cards) {
      let inCard = 0;
      const compOk = !component || component === compName;
      for (const row of card.list.children) {
        const d = row.dataset;
        const ok = compOk && (status === 'all' || d.status === status)
          && (!needle || d.name.toLowerCase().includes(needle) || compName.toLowerCase().includes(needle));
        if (row.hidden === ok) row.hidden = !ok;
        if (ok) inCard++;
      }
      card.el.hidden = inCard === 0;
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
    const up = runs ? Math.floor((c.bar_up[i] / runs) * 1000) / 10 : 0;
    this.tip.replaceChildren(
      h('b', { text: `${f.dayClock(start)} – ${f.clock(end)}` }), h('br'),
      status ? `${f.STATUS_LABEL[status]} at worst · ${up} % of ${runs} run${runs === 1 ? '' : 's'} up` : 'No data',
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

/** Up runs / runs over the bar, null with no runs. */
export function availabilityOf(c) {
  let runs = 0;
  let up = 0;
  for (let i = 0; i < c.bar_runs.length; i++) { runs += c.bar_runs[i]; up += c.bar_up[i]; }
  return runs ? up / runs : null;
}
