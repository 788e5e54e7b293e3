// The side panels beside the alerts (alerts.js): system resources (from the `system` checks'
// latest samples) and long-term availability (GET api/v1/trends: Prometheus' recording rules when the exporter reads
// them, the record otherwise; the panel says which).
import { h, icon } from './dom.js';
import * as f from './format.js';

function levelOf(value, t) {
  if (value === undefined || value === null) return 'unknown';
  if (t?.critical !== undefined && value >= t.critical) return 'critical';
  if (t?.warning !== undefined && value >= t.warning) return 'degraded';
  return 'healthy';
}

function meterRow(label, ratio, threshold, sub) {
  const status = levelOf(ratio, threshold);
  const pct = ratio === undefined ? undefined : Math.max(0, Math.min(100, ratio * 100));
  const fill = h('span');
  if (pct !== undefined) fill.style.width = `${pct.toFixed(1)}%`;
  const text = pct === undefined ? '—' : `${pct.toFixed(pct < 10 ? 1 : 0)} %`;
  const note = status === 'critical' ? ' (critical)' : status === 'degraded' ? ' (warning)' : '';
  return h('div', { class: 'meter-row', dataset: { status } },
    h('span', { class: 'meter-label' }, status === 'healthy' || status === 'unknown' ? null : icon(status), label),
    h('span', { class: 'meter-val', text: text + note }),
    h('div', {
      class: 'meter', role: 'meter', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100',
      'aria-valuenow': pct === undefined ? undefined : pct.toFixed(1), 'aria-valuetext': text + note,
    }, fill),
    sub ? h('span', { class: 'sub', text: sub }) : null);
}

/** Render the resources panel from the model's system checks, grouped by component (host). */
export function renderResources(section, checks) {
  const body = section.querySelector('#res-body');
  const byHost = new Map();
  for (const c of checks.values()) {
    if (c.type !== 'system' || !c.resources) continue;
    const g = byHost.get(c.component) ?? { disks: [], t: {} };
    const r = c.resources;
    for (const k of ['cpu', 'memory', 'memory_used_bytes', 'memory_total_bytes', 'load1']) if (r[k] !== undefined) g[k] = r[k];
    g.disks.push(...r.disks);
    Object.assign(g.t, r.thresholds);
    byHost.set(c.component, g);
  }
  const groups = [...byHost].filter(([, g]) => g.cpu !== undefined || g.memory !== undefined || g.disks.length);
  section.hidden = groups.length === 0;
  if (!groups.length) return;
  body.replaceChildren(...groups.map(([host, g]) => {
    const rows = [];
    if (g.cpu !== undefined) rows.push(meterRow('CPU', g.cpu, g.t.cpu_utilization, g.load1 !== undefined ? `load ${g.load1.toFixed(2)}` : null));
    if (g.memory !== undefined) {
      rows.push(meterRow('Memory', g.memory, g.t.memory_used,
        g.memory_total_bytes ? `${f.bytes(g.memory_used_bytes)} of ${f.bytes(g.memory_total_bytes)}` : null));
    }
    for (const d of g.disks) {
      rows.push(meterRow(`Disk ${d.mount}`, d.used, g.t.disk_used, d.size_bytes ? `${f.bytes(d.used_bytes)} of ${f.bytes(d.size_bytes)}` : null));
    }
    return h('div', { class: 'res-host' }, groups.length > 1 || host !== 'host' ? h('h3', { text: host }) : null, h('div', { class: 'meters' }, rows));
  }));
}

const LONG_WINDOWS = ['7d', '30d', '90d'];
const LONG_POLL_MS = 5 * 60_000;
/** Checks listed in the long-term panel: the lowest 30-day availability first. */
const LONG_ROWS = 8;
const SOURCE_TEXT = { prometheus: 'from Prometheus (the availability recording rules, as in Grafana)', record: 'from Vigil\'s record', memory: 'from Vigil\'s recent history', mixed: 'from Prometheus and Vigil\'s record' };

export class LongTerm {
  constructor(section) {
    this.section = section;
    this.body = section.querySelector('#long-body');
    this.note = section.querySelector('#long-note');
    this.timer = undefined;
    this.present = undefined;
  }

  /** First load, a little after the page is live (snapshot, feed, alerts first): these figures change slowly. */
  start() {
    if (this.present !== undefined || this.timer) return;
    this.timer = setTimeout(() => this.refresh(), 2_000 + Math.random() * 1_000);
  }

  async refresh() {
    clearTimeout(this.timer);
    let docs;
    try {
      // One at a time: a browser opens at most 6 connections to a host and the live feed holds one.
      docs = [];
      for (const w of LONG_WINDOWS) {
        const res = await fetch(`api/v1/trends?window=${w}&buckets=1`, { headers: { accept: 'application/json' } });
        if (res.status === 404) throw Object.assign(new Error('absent'), { absent: true });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        docs.push(await res.json());
      }
    } catch (err) {
      if (err.absent) { this.present = false; this.section.hidden = true; return; }
      this.schedule();
      return;
    }
    this.present = true;
    this.render(docs);
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.present === false) return;
    this.timer = setTimeout(() => { if (!document.hidden) this.refresh(); else this.schedule(); }, LONG_POLL_MS * (0.8 + Math.random() * 0.4));
  }

  render(docs) {
    const byName = new Map();
    docs.forEach((d, i) => {
      for (const c of d.checks ?? []) {
        const row = byName.get(c.name) ?? { name: c.name, component: c.component, values: [] };
        row.values[i] = c.availability;
        byName.set(c.name, row);
      }
    });
    const rows = [...byName.values()].filter((r) => r.values.some((v) => v !== null && v !== undefined));
    this.section.hidden = rows.length === 0;
    if (!rows.length) return;
    const rank = (r) => r.values[1] ?? r.values[0] ?? r.values[2] ?? 1;
    rows.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    const shown = rows.slice(0, LONG_ROWS);
    const sources = [...new Set(docs.map((d) => d.source))];
    const failed = docs.find((d) => d.prometheus && !d.prometheus.answered);
    this.note.textContent = `${shown.length < rows.length ? `The ${shown.length} lowest of ${rows.length} checks, ` : ''}${SOURCE_TEXT[sources.length === 1 ? sources[0] : 'mixed'] ?? ''}${failed ? ' (Prometheus did not answer)' : ''}.`;
    this.body.replaceChildren(h('table', { class: 'long' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Check' }), ...LONG_WINDOWS.map((w) => h('th', { scope: 'col', text: w.replace('d', ' days') })))),
      h('tbody', {}, ...shown.map((r) => h('tr', {},
        h('th', { scope: 'row', text: r.name, title: r.component }),
        ...LONG_WINDOWS.map((_w, i) => h('td', { text: f.percent(r.values[i] ?? null, 2) })))))));
  }
}
