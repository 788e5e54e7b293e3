// One check in detail, at #/check/<name>: what is wrong now, its response times against the
// thresholds with a status timeline, uptime over 24 h / 7 d / 30 d / 90 d (with the amount of
// data behind each), its incidents with their alerts and notifications, recent events, its
// settings (secrets redacted by the exporter) and "run now" for an operator with the admin token.
// Every part is fetched on its own: a slow or missing one never holds up the others.
import { getJson, incidents as recordIncidents, reportIncidents } from './api.js';
import { barGradient, badge } from './board.js';
import { h, icon, s } from './dom.js';
import * as f from './format.js';
import { errorWords, heartbeatWords, thresholdWords } from './triage.js';

const LETTER = { healthy: 'h', degraded: 'd', critical: 'c', unknown: 'u' };
const WINDOWS = [['24h', '24 h', 86_400], ['7d', '7 d', 604_800], ['30d', '30 d', 2_592_000], ['90d', '90 d', 7_776_000]];
/** The chart's windows (GET api/v1/checks/<name>/series), with the width of one bucket in words. */
const CHART_WINDOWS = [['1h', '1 h', 'minute'], ['24h', '24 h', '15 minutes'], ['7d', '7 d', 'hour'], ['30d', '30 d', '6 hours'], ['90d', '90 d', 'day']];
const SOURCE_WORDS = { record: 'from the record', memory: 'from the recent runs held in memory (the record could not be read)' };
const CHART_W = 600;
const CHART_H = 140;

const section = (title, id, ...body) => h('section', { class: 'd-sec', 'aria-labelledby': id }, h('h3', { id, text: title }), ...body);
const note = (text) => h('p', { class: 'muted small', text });

export class Detail {
  /** @param root the <section id="detail">; `model` the page's model (live). */
  constructor(root, model) {
    this.root = root;
    this.model = model;
    this.name = undefined;
    this.seq = 0;
    this.chartWindow = '24h';
  }

  get isOpen() { return this.name !== undefined; }

  open(name) {
    const seq = ++this.seq;
    this.name = name;
    const c = this.model.checks.get(name);
    this.root.hidden = false;
    if (!c) {
      this.root.replaceChildren(this.back(), h('h2', { id: 'detail-h', text: `No check named ${name}` }),
        note('It may have been removed by a configuration reload.'));
      this.root.focus();
      return;
    }
    const still = () => seq === this.seq;
    this.head = h('div', { class: 'd-head' });
    this.parts = {
      chart: h('div', { class: 'd-chart', 'aria-live': 'polite' }, note('Loading response times…')),
      uptime: h('div', { class: 'd-uptime' }, note('Loading…')),
      incidents: h('div', {}, note('Loading…')),
      events: h('div', {}, note('Loading…')),
      config: h('div', {}, note('Loading…')),
    };
    const run = this.runForm(name);
    this.root.replaceChildren(...[
      this.back(), this.head,
      section(c.timed === false ? 'Status over time' : 'Response time, slowest run per period', 'd-rt-h', this.chartWindows(c, still), this.parts.chart),
      section('Uptime', 'd-up-h', this.parts.uptime),
      c.type === 'log' ? section('Log lines', 'd-log-h', this.parts.logs = h('div', {}, note('Loading…'))) : null,
      section('Incidents', 'd-inc-h', this.parts.incidents),
      section('Recent events', 'd-ev-h', this.parts.events),
      section('Configuration', 'd-cfg-h', this.parts.config),
      section('Run now', 'd-run-h', run),
    ].filter(Boolean));
    this.update(c);
    this.root.focus();
    this.loadChart(c, still);
    this.loadUptime(c, still);
    this.loadIncidents(c, still);
    this.loadEvents(c, still);
    this.loadConfig(c, still);
    // The log viewer (logs.js) is fetched only when a log check is opened.
    if (c.type === 'log') {
      import('./logs.js').then(({ logViewer }) => { if (still()) this.parts.logs.replaceChildren(logViewer(name)); },
        () => { if (still()) this.parts.logs.replaceChildren(note('The log viewer could not be loaded; reload the page.')); });
    }
  }

  close() {
    this.seq++;
    this.name = undefined;
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  back() {
    return h('p', { class: 'd-back' }, h('a', { href: '#/', text: '← All checks' }));
  }

  /** The header follows the live feed. */
  update(c, now = Date.now()) {
    if (!this.head || c.name !== this.name) return;
    const lines = [];
    const err = errorWords(c, now);
    if (err) lines.push(h('p', { class: 'd-err', text: err }));
    const thr = thresholdWords(c, now);
    if (thr) lines.push(h('p', { class: 'd-val', text: thr }));
    const facts = [];
    if (c.since) facts.push(`${f.STATUS_LABEL[c.status]} since ${f.when(c.since, now)}`);
    if (c.timed === false) {
      facts.push(c.schedule ? `expected ${c.schedule}` : `expected every ${f.duration(c.period_seconds)}`);
      const hb = heartbeatWords(c, now);
      if (hb) facts.push(hb);
    } else {
      if (c.value) facts.push(c.value);
      if (c.response_time_ms !== null) facts.push(`response ${f.ms(c.response_time_ms)}`);
      facts.push(f.interval(c.interval_seconds));
    }
    if (c.last_run) facts.push(`last run ${f.when(c.last_run, now)}`);
    if (c.status === 'healthy' && c.last_error && c.last_failure) facts.push(`recovered · last error ${f.when(c.last_failure, now)}`);
    this.head.dataset.status = c.status;
    this.head.replaceChildren(
      h('div', { class: 'd-title' }, h('h2', { id: 'detail-h', text: c.name }), badge(c.status)),
      h('p', { class: 'muted', text: [`component ${c.component}`, c.type, c.description].filter(Boolean).join(' · ') }),
      ...lines,
      h('p', { class: 'd-facts', text: facts.join(' · ') }),
    );
  }

  /** The chart's window buttons (1 h … 90 d); the choice stays for the next check opened. */
  chartWindows(c, still) {
    const buttons = CHART_WINDOWS.map(([w, label]) => {
      const b = h('button', { type: 'button', class: 'btn sm', 'aria-pressed': String(w === this.chartWindow), text: label });
      b.addEventListener('click', () => {
        if (!still() || this.chartWindow === w) return;
        this.chartWindow = w;
        for (const x of buttons) x.setAttribute('aria-pressed', String(x === b));
        this.parts.chart.replaceChildren(note('Loading response times…'));
        this.loadChart(c, () => still() && this.chartWindow === w);
      });
      return b;
    });
    return h('div', { class: 'd-win', role: 'group', 'aria-label': 'Chart window' }, ...buttons);
  }

  async loadChart(c, still) {
    const window = this.chartWindow;
    const r = await getJson(`api/v1/checks/${encodeURIComponent(c.name)}/series?window=${window}`);
    const cfg = await this.configOnce(c);
    if (!still()) return;
    if (!r.ok) { this.parts.chart.replaceChildren(note(`Not available: ${r.body?.error ?? r.error ?? `HTTP ${r.status}`}`)); return; }
    const buckets = r.body.buckets ?? [];
    const withData = buckets.filter((b) => b.runs > 0);
    const per = CHART_WINDOWS.find(([w]) => w === window)?.[2] ?? f.duration(r.body.step_seconds);
    if (!withData.length) { this.parts.chart.replaceChildren(note(`No runs in the last ${CHART_WINDOWS.find(([w]) => w === window)?.[1] ?? window}.`)); return; }
    const t = cfg?.thresholds?.response_time;
    const warn = t?.warning !== undefined ? t.warning * 1000 : undefined;
    const crit = t?.critical !== undefined ? t.critical * 1000 : undefined;
    const timeline = h('div', { class: 'd-timeline', role: 'img', 'aria-label': timelineLabel(buckets) });
    timeline.style.backgroundImage = barGradient(buckets.map((b) => (b.worst ? LETTER[b.worst] : '-')));
    timeline.style.setProperty('--buckets', String(buckets.length));
    const range = `${f.when(r.body.from)} to now, one point per ${per}, ${SOURCE_WORDS[r.body.source] ?? ''}`;
    const out = [];
    if (c.timed !== false) {
      const top = Math.max(...withData.map((b) => b.max_response_time_ms ?? 0), (crit ?? warn ?? 0) * 1.1, 1) * 1.08;
      const y = (v) => (CHART_H - (v / top) * CHART_H).toFixed(1);
      const step = CHART_W / buckets.length;
      // A step outline: each period's slowest run across the period's width, down to the axis where
      // the data stops (a lone period still shows as a column, and a gap reads as a gap).
      const runs = [];
      let pts;
      buckets.forEach((b, i) => {
        if (b.max_response_time_ms === null) {
          if (pts) pts.push(`${(i * step).toFixed(1)},${CHART_H}`);
          pts = undefined;
          return;
        }
        if (!pts) runs.push(pts = [`${(i * step).toFixed(1)},${CHART_H}`]);
        const yy = y(b.max_response_time_ms);
        pts.push(`${(i * step).toFixed(1)},${yy}`, `${((i + 1) * step).toFixed(1)},${yy}`);
      });
      if (pts) pts.push(`${CHART_W},${CHART_H}`);
      const lines = [];
      if (warn !== undefined) lines.push(s('line', { class: 'th warn', x1: 0, x2: CHART_W, y1: y(warn), y2: y(warn) }));
      if (crit !== undefined) lines.push(s('line', { class: 'th crit', x1: 0, x2: CHART_W, y1: y(crit), y2: y(crit) }));
      const max = Math.max(...withData.map((b) => b.max_response_time_ms ?? 0));
      out.push(
        h('p', { class: 'd-axis small muted', text: `0 – ${f.ms(top)} · slowest ${f.ms(max)} · ${range}` }),
        s('svg', { class: 'd-rt', viewBox: `0 0 ${CHART_W} ${CHART_H}`, preserveAspectRatio: 'none', role: 'img',
          'aria-label': `Slowest response time per ${per}: at most ${f.ms(max)}${warn !== undefined ? `; warning at ${f.ms(warn)}` : ''}${crit !== undefined ? `; critical at ${f.ms(crit)}` : ''}` },
        ...lines, ...runs.map((p) => s('polyline', { points: p.join(' ') }))),
        h('p', { class: 'd-legend small' },
          h('span', { class: 'lg rt', text: 'slowest run' }),
          warn !== undefined ? h('span', { class: 'lg warn', text: `warning ${f.ms(warn)}` }) : null,
          crit !== undefined ? h('span', { class: 'lg crit', text: `critical ${f.ms(crit)}` }) : null,
          warn === undefined && crit === undefined ? h('span', { class: 'muted', text: 'no response-time threshold' }) : null),
      );
    } else out.push(h('p', { class: 'd-axis small muted', text: range }));
    out.push(timeline);
    this.parts.chart.replaceChildren(...out);
  }

  /**
   * Uptime per window from the record's rollups for this one check (the same series as the chart:
   * a few indexed reads each, whatever the number of checks), so it counts what happened before a
   * restart and beyond the in-memory ring.
   */
  async loadUptime(c, still) {
    const rows = await Promise.all(WINDOWS.map(async ([w, label, seconds]) => {
      const r = await getJson(`api/v1/checks/${encodeURIComponent(c.name)}/series?window=${w}`);
      return { label, seconds, row: r.ok ? r.body : undefined, error: r.ok ? undefined : (r.body?.error ?? r.error ?? `HTTP ${r.status}`) };
    }));
    if (!still()) return;
    this.parts.uptime.replaceChildren(h('dl', { class: 'd-windows' }, ...rows.flatMap(({ label, seconds, row, error }) => {
      let value;
      let sub;
      if (error) { value = '—'; sub = 'not available'; }
      else if (!row || row.availability === null || row.availability === undefined) { value = '—'; sub = 'no data'; }
      else {
        value = f.percent(row.availability);
        const failed = `${row.failures} failed run${row.failures === 1 ? '' : 's'}`;
        // The amount of data behind the figure: 41.7 % of 4 min is not a 30-day availability.
        if (row.observed_seconds === null) sub = `of ${row.runs} recent run${row.runs === 1 ? '' : 's'} in memory`;
        else sub = row.observed_seconds >= seconds * 0.9 ? failed : `of ${f.duration(row.observed_seconds)} of data`;
      }
      return [h('dt', { text: label }), h('dd', {}, h('b', { text: value }), ' ', h('span', { class: 'muted small', text: sub }))];
    })));
  }

  async loadIncidents(c, still) {
    let list;
    let fromRecord = true;
    try {
      list = await recordIncidents({ check: c.name, from: '30d', limit: '20' });
      if (list === undefined) { fromRecord = false; list = await reportIncidents({ check: c.name, from: '24h' }); }
    } catch (err) {
      if (still()) this.parts.incidents.replaceChildren(note(`Not available: ${err.message}`));
      return;
    }
    if (!still()) return;
    if (!list.length) { this.parts.incidents.replaceChildren(note(fromRecord ? 'No incidents in the last 30 days.' : 'No incidents in the last 24 hours.')); return; }
    const ul = h('ul', { class: 'inc-list' }, ...list.slice(0, 20).map((i) => incidentItem(i)));
    this.parts.incidents.replaceChildren(ul);
    // Alerts and notifications of each incident (the record's incident document has them).
    if (!fromRecord) return;
    for (const [k, i] of list.slice(0, 5).entries()) {
      if (i.id === undefined) continue;
      const r = await getJson(`api/v1/incidents/${encodeURIComponent(i.id)}`);
      if (!still()) return;
      if (!r.ok) continue;
      const alerts = r.body.alerts ?? [];
      const notes = r.body.notifications ?? [];
      const li = ul.children[k];
      li.append(h('p', { class: 'small muted inc-alerts', text: alerts.length
        ? `Alerts: ${alerts.map((a) => `${a.alertname} (${a.status}, ${a.notifications ?? 0} notification${a.notifications === 1 ? '' : 's'})`).join(', ')}`
        : 'No alerts.' }));
      if (notes.length) {
        li.append(h('ul', { class: 'small inc-notes' }, ...notes.slice(0, 10).map((n) => h('li', {
          text: `${f.when(n.received_at)} · ${n.receiver ?? 'receiver'} · ${n.status}${n.labels?.alertname ? ` · ${n.labels.alertname}` : ''}`,
        }))));
      }
    }
  }

  async loadEvents(c, still) {
    const r = await getJson(`api/v1/record/events?check=${encodeURIComponent(c.name)}&limit=15`);
    if (!still()) return;
    if (r.ok) {
      const events = r.body.events ?? [];
      this.parts.events.replaceChildren(events.length ? h('ul', { class: 'ev-list' }, ...events.map((e) => h('li', { dataset: { status: e.to ?? 'unknown' } },
        h('span', { class: 'ev-time', text: f.when(e.time) }), ' ',
        h('span', { text: eventWords(e) })))) : note('No events recorded.'));
      return;
    }
    // No record of events in this exporter: the status changes of the last 24 h from the report.
    try {
      const list = await reportIncidents({ check: c.name, from: '24h' });
      if (!still()) return;
      const events = [];
      for (const i of list) {
        if (i.ended_at) events.push({ time: i.ended_at, to: 'healthy', text: `recovered after ${f.duration(i.duration_seconds)}` });
        events.push({ time: i.started_at, to: i.status, text: `became ${i.status}` });
      }
      this.parts.events.replaceChildren(events.length ? h('ul', { class: 'ev-list' }, ...events.slice(0, 15).map((e) => h('li', { dataset: { status: e.to } },
        h('span', { class: 'ev-time', text: f.when(e.time) }), ' ', h('span', { text: e.text })))) : note('No status changes in the last 24 hours.'));
    } catch (err) {
      if (still()) this.parts.events.replaceChildren(note(`Not available: ${err.message}`));
    }
  }

  /** GET api/v1/checks/<name> once per opening (the chart's thresholds and the config section share it). */
  configOnce(c) {
    if (this.cfgFor !== this.seq) {
      this.cfgFor = this.seq;
      this.cfg = getJson(`api/v1/checks/${encodeURIComponent(c.name)}`).then((r) => (r.ok ? r.body : undefined));
    }
    return this.cfg;
  }

  async loadConfig(c, still) {
    const doc = await this.configOnce(c);
    if (!still()) return;
    if (!doc?.config) { this.parts.config.replaceChildren(note('Not available.')); return; }
    const rows = [];
    for (const [k, v] of Object.entries(doc.config)) {
      rows.push(h('dt', { text: k }), h('dd', { text: typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v) }));
    }
    if (Object.keys(doc.labels ?? {}).length) rows.push(h('dt', { text: 'labels' }), h('dd', { text: JSON.stringify(doc.labels) }));
    this.parts.config.replaceChildren(h('dl', { class: 'd-config' }, ...rows));
  }

  /** "Run now" needs the admin token: asked for here, sent once, never stored. */
  runForm(name) {
    const token = h('input', { type: 'password', id: 'run-token', autocomplete: 'off', required: true });
    const out = h('p', { class: 'small', role: 'status' });
    const button = h('button', { type: 'submit', class: 'btn', text: 'Run now' });
    const form = h('form', { class: 'd-run' },
      h('label', { for: 'run-token', text: 'Admin token' }), token, button, out);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      button.disabled = true;
      out.textContent = 'Running…';
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 60_000);
      try {
        const res = await fetch(`api/v1/checks/${encodeURIComponent(name)}/run`, {
          method: 'POST', headers: { authorization: `Bearer ${token.value}`, accept: 'application/json' }, signal: ctl.signal,
        });
        const body = await res.json().catch(() => ({}));
        if (res.status === 401 || res.status === 403) out.textContent = 'Not allowed: that is not the admin token (server.admin_token).';
        else if (!res.ok) out.textContent = `Could not run it: ${body.error ?? `HTTP ${res.status}`}`;
        else out.textContent = `Ran: ${f.STATUS_LABEL[body.status] ?? body.status}${body.response_time_ms !== null ? ` in ${f.ms(body.response_time_ms)}` : ''}${body.last_error && body.status !== 'healthy' ? ` · ${f.humanTimes(body.last_error)}` : ''}`;
      } catch (err) {
        out.textContent = `Could not run it: ${ctl.signal.aborted ? 'no answer within 60 s' : err.message}`;
      } finally {
        clearTimeout(timer);
        button.disabled = false;
      }
    });
    return form;
  }
}

function timelineLabel(buckets) {
  const bad = buckets.filter((b) => b.worst === 'critical' || b.worst === 'degraded').length;
  const data = buckets.filter((b) => b.runs > 0).length;
  return data ? `Status over time: ${bad} of ${data} periods with problems` : 'Status over time: no data';
}

function eventWords(e) {
  if (e.kind === 'check_status') return `${e.from ?? '—'} → ${e.to}${e.message ? `: ${f.humanTimes(e.message)}` : ''}`;
  if (e.kind === 'manual_run') return `run by hand${e.actor ? ` (${e.actor})` : ''}: ${e.to ?? ''}`;
  return `${e.kind.replaceAll('_', ' ')}${e.message ? `: ${f.humanTimes(e.message)}` : ''}`;
}

/** One incident, linking to the checks it involved. */
export function incidentItem(i, now = Date.now()) {
  const open = i.state === 'open' || !i.ended_at;
  const status = i.status ?? 'critical';
  const dur = open ? `ongoing for ${f.duration((now - Date.parse(i.started_at)) / 1000)}` : `lasted ${f.duration(i.duration_seconds)}`;
  const links = [];
  (i.checks ?? []).slice(0, 8).forEach((n, k) => {
    if (k) links.push(', ');
    links.push(h('a', { href: `#/check/${encodeURIComponent(n)}`, text: n }));
  });
  return h('li', { class: 'inc', dataset: { status, state: open ? 'open' : 'closed' } },
    h('span', { class: 'badge sm', dataset: { status } }, icon(status), h('span', { text: open ? 'Ongoing' : f.STATUS_LABEL[status] ?? status })),
    h('span', { class: 'inc-title', text: i.title ?? `${(i.checks ?? []).join(', ')} ${status}` }),
    h('span', { class: 'inc-meta' }, `${f.when(i.started_at, now)} · ${dur}`,
      i.root_cause?.length ? ` · root cause ${i.root_cause.join(', ')}` : '', links.length ? ' · ' : '', ...links));
}
