// The incident history under the board: from the record (api/v1/incidents) when the exporter has
// it, else the period report's incidents per check. Filterable by window, state and text; each
// incident links to the detail of its checks. Refreshed after status changes (debounced) and
// every minute while the tab is visible.
import { incidents as recordIncidents, reportIncidents } from './api.js';
import { h } from './dom.js';
import { incidentItem } from './detail.js';

const REFRESH_MS = 60_000;

export class IncidentHistory {
  constructor(section) {
    this.section = section;
    this.list = section.querySelector('#inc-list');
    this.note = section.querySelector('#inc-note');
    this.count = section.querySelector('#inc-count');
    this.window = section.querySelector('#inc-window');
    this.state = section.querySelector('#inc-state');
    this.q = section.querySelector('#inc-q');
    this.items = [];
    this.timer = undefined;
    this.soon = undefined;
    this.seq = 0;
    this.window.addEventListener('change', () => this.refresh());
    this.state.addEventListener('change', () => this.render());
    let typing;
    this.q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => this.render(), 120); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) this.refresh(); });
  }

  nudge() {
    if (this.soon) return;
    this.soon = setTimeout(() => { this.soon = undefined; this.refresh(); }, 1500 + Math.random() * 1000);
  }

  async refresh() {
    clearTimeout(this.timer);
    const seq = ++this.seq;
    const from = this.window.value;
    let items;
    let source = 'record';
    try {
      items = await recordIncidents({ from, limit: '200' });
      if (items === undefined) { source = 'report'; items = await reportIncidents({ from }); }
    } catch (err) {
      if (seq !== this.seq) return;
      this.note.textContent = `Incidents unavailable: ${err.message}`;
      this.note.hidden = false;
      this.schedule();
      return;
    }
    if (seq !== this.seq) return;
    this.items = items;
    this.note.hidden = source === 'record';
    this.note.textContent = source === 'record' ? '' : 'From the in-memory history: a stretch of failing runs per check.';
    this.render();
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { if (!document.hidden) this.refresh(); else this.schedule(); }, REFRESH_MS * (0.8 + Math.random() * 0.4));
  }

  render() {
    const state = this.state.value;
    const needle = this.q.value.trim().toLowerCase();
    const shown = this.items.filter((i) => {
      const open = i.state === 'open' || !i.ended_at;
      if (state === 'open' && !open) return false;
      if (state === 'closed' && open) return false;
      if (!needle) return true;
      return [i.title, ...(i.checks ?? []), ...(i.components ?? []), ...(i.root_cause ?? [])].some((t) => String(t ?? '').toLowerCase().includes(needle));
    });
    this.count.textContent = String(shown.length);
    const now = Date.now();
    this.list.replaceChildren(...(shown.length ? shown.slice(0, 100).map((i) => incidentItem(i, now))
      : [h('li', { class: 'inc-empty', text: this.items.length ? 'No incident matches the filter.' : 'No incidents in this window.' })]));
  }
}
