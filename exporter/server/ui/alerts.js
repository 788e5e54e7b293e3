// The alerts panel: what Alertmanager notified Vigil of (GET api/v1/alerts/board) — the alerts
// firing now and those that ended in the last 24 h, each with its component, a link to its
// check's detail view and to its runbook, the value and threshold its rule measured, and its
// notification history (per receiver, then each notification). An exporter without the board
// falls back to GET api/v1/alerts (firing only, Vigil's or Alertmanager's shape); without either
// the panel stays hidden.
import { h, icon } from './dom.js';
import * as f from './format.js';

const SEVERITY_STATUS = { critical: 'critical', page: 'critical', error: 'critical', warning: 'degraded', info: 'unknown', none: 'unknown' };
const SEVERITY_RANK = { critical: 0, page: 0, error: 0, warning: 1, info: 2, none: 3 };
const POLL_MS = 20_000;
const ABSENT = new Set([404, 405, 501]);
const STATE_WORDS = { resolved: 'Resolved', unnotified: 'No longer notified' };

export class Alerts {
  constructor(section) {
    this.section = section;
    this.list = section.querySelector('#alerts-list');
    this.count = section.querySelector('#alerts-count');
    this.note = section.querySelector('#alerts-note');
    this.present = undefined; // undefined: not asked yet; false: the exporter has no alerts endpoint
    this.source = 'api/v1/alerts/board';
    this.timer = undefined;
    this.soon = undefined;
    this.open = new Set(); // notification histories the reader opened, kept open across refreshes
    document.addEventListener('visibilitychange', () => { if (!document.hidden && this.present) this.refresh(); });
  }

  /** Ask again shortly (a status changed); many changes in a burst cost one request. */
  nudge() {
    if (this.present === false || this.soon) return;
    this.soon = setTimeout(() => { this.soon = undefined; this.refresh(); }, 1500 + Math.random() * 1000);
  }

  async refresh() {
    clearTimeout(this.timer);
    let res;
    try {
      res = await fetch(this.source, { cache: 'no-store', headers: { accept: 'application/json' } });
      if (ABSENT.has(res.status) && this.source.endsWith('/board')) {
        this.source = 'api/v1/alerts'; // an exporter from before the board
        res = await fetch(this.source, { cache: 'no-store', headers: { accept: 'application/json' } });
      }
    } catch {
      this.problem('Could not reach the exporter to refresh alerts.');
      return this.schedule();
    }
    if (ABSENT.has(res.status)) {
      this.present = false;
      this.section.hidden = true;
      return; // no receiver in this exporter: don't keep asking (a reconnect after a restart asks again)
    }
    if (!res.ok) {
      this.problem(`Alerts unavailable (HTTP ${res.status}).`);
      return this.schedule();
    }
    let body;
    try { body = await res.json(); } catch { body = {}; }
    this.present = true;
    this.note.hidden = true;
    this.render(boardOf(body));
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.present === false) return;
    this.timer = setTimeout(() => { if (!document.hidden) this.refresh(); else this.schedule(); }, POLL_MS * (0.8 + Math.random() * 0.4));
  }

  problem(text) {
    if (!this.present) return;
    this.note.textContent = text;
    this.note.hidden = false;
  }

  render(board, now = Date.now()) {
    const firing = board.alerts.filter((a) => a.state === 'firing');
    const ended = board.alerts.filter((a) => a.state !== 'firing');
    this.section.hidden = false;
    this.count.textContent = String(firing.length);
    this.count.setAttribute('aria-label', `${firing.length} firing`);
    const items = [];
    if (!firing.length) items.push(h('li', { class: 'alerts-empty' }, 'No alerts firing.'));
    items.push(...firing.map((a) => this.item(a, now, board)));
    if (ended.length) {
      const hours = Math.max(1, Math.round((board.window_seconds ?? 86_400) / 3600));
      const span = hours < 48 ? `${hours} h` : f.duration(hours * 3600);
      items.push(h('li', { class: 'alerts-sep' }, h('h3', { text: `Ended in the last ${span}` })));
      items.push(...ended.map((a) => this.item(a, now, board)));
    }
    this.list.replaceChildren(...items);
    const notes = [];
    if (board.truncated) notes.push('Only the most recent alerts are listed.');
    if (board.alertmanager?.error) notes.push(`Delivery details unavailable: ${board.alertmanager.error}.`);
    if (notes.length) this.problem(notes.join(' '));
  }

  item(a, now, board) {
    const sev = String(a.severity ?? 'none');
    const status = a.state === 'firing' ? SEVERITY_STATUS[sev] ?? 'unknown' : 'healthy';
    const word = a.state === 'firing' ? sev[0].toUpperCase() + sev.slice(1) : STATE_WORDS[a.state] ?? 'Ended';
    const where = [];
    if (a.component) where.push(h('span', { text: a.component }));
    if (a.check) {
      where.push(isCheckLink(a.check_url)
        ? h('a', { href: a.check_url, text: a.check, 'aria-label': `Check ${a.check}: details` })
        : h('span', { text: a.check }));
    }
    const when = a.state === 'firing'
      ? a.fired_at ? `since ${f.ago(a.fired_at, now)}` : null
      : `${a.state === 'resolved' ? 'resolved' : 'muted'} ${f.ago(a.resolved_at ?? a.unnotified_at, now)}, after ${f.duration(a.duration_seconds)}`;
    const meta = h('span', { class: 'alert-meta' }, ...join([...where, when ? h('span', { text: when }) : null].filter(Boolean), ' · '));
    const vt = [a.value ? `Value: ${a.value}` : null, a.threshold ? `Threshold: ${a.threshold}` : null].filter(Boolean).join(' · ');
    return h('li', { class: 'alert', dataset: { status, state: a.state, fingerprint: a.fingerprint ?? '' } },
      h('span', { class: 'badge sm', dataset: { status } }, icon(a.state === 'firing' ? status : 'healthy'), h('span', { text: word })),
      h('span', { class: 'alert-name', text: a.alertname ?? 'alert' }),
      a.summary ? h('span', { class: 'alert-sum', text: a.summary }) : null,
      meta,
      vt ? h('span', { class: 'alert-vt', text: vt }) : null,
      isWebLink(a.runbook_url) ? h('span', { class: 'alert-links' },
        h('a', { href: a.runbook_url, rel: 'noopener noreferrer', target: '_blank', text: 'Runbook', 'aria-label': `Runbook for ${a.alertname}` })) : null,
      a.notifications ? this.history(a, now, board) : null);
  }

  /** The notification history, folded: per receiver, then each notification (newest first). */
  history(a, now, board) {
    const key = `${a.fingerprint}|${a.fired_at}`;
    const n = a.notifications_total ?? a.notifications.length;
    const details = h('details', { class: 'alert-hist' },
      h('summary', { text: `Notifications (${n})` }),
      h('table', { class: 'alert-deliv' },
        h('caption', { class: 'sr-only', text: `Deliveries of ${a.alertname} per receiver` }),
        h('thead', {}, h('tr', {}, ...['Receiver', 'Sent', 'Last'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, ...(a.deliveries ?? []).map((d) => h('tr', {},
          h('th', { scope: 'row', text: d.receiver }),
          h('td', { text: `${d.firing} firing, ${d.resolved} resolved` }),
          h('td', { text: `${d.last_status} ${f.when(d.last_at, now)}` }))))),
      h('ol', { class: 'alert-notes' }, ...a.notifications.map((x) => h('li', { dataset: { status: x.status } },
        h('time', { datetime: x.at, text: f.when(x.at, now) }), ` ${x.status} → ${x.receiver}`))),
      n > a.notifications.length ? h('p', { class: 'muted small', text: `The newest ${a.notifications.length} of ${n}.` }) : null,
      a.routing ? routing(a, board?.alertmanager, now) : null);
    if (this.open.has(key)) details.open = true;
    details.addEventListener('toggle', () => { if (details.open) this.open.add(key); else this.open.delete(key); });
    return details;
  }
}

/**
 * Where Alertmanager routes the alert and how each integration of those receivers delivers:
 * Alertmanager counts per integration (all alerts, since it started), so the figures say so.
 */
function routing(a, am, now) {
  const r = a.routing;
  const state = r.state === 'suppressed'
    ? `suppressed (${[r.silenced_by.length ? 'silenced' : null, r.inhibited_by.length ? 'inhibited' : null].filter(Boolean).join(', ') || 'muted'})`
    : r.state;
  const rows = r.receivers.flatMap((rc) => (rc.integrations.length ? rc.integrations : [null]).map((i) => {
    const failing = i && (i.notifications_failed > 0 || i.requests_failed > 0);
    return h('tr', { dataset: { integration: i?.integration ?? '', failing: failing ? 'true' : 'false' } },
      h('th', { scope: 'row', text: rc.receiver }),
      h('td', { text: i?.integration ?? '—' }),
      h('td', { text: i ? `${i.notifications} sent` : '—' }),
      h('td', { dataset: { status: failing ? 'degraded' : 'healthy' } }, i
        ? (failing ? [icon('degraded'), `${i.notifications_failed} failed, ${i.requests_failed} of ${i.requests} attempts failed`] : `none failed (${i.requests} attempts)`)
        : '—'));
  }));
  return h('div', { class: 'alert-am' },
    h('p', { class: 'small', text: `In Alertmanager: ${state}${am?.read_at ? `, as of ${f.when(am.read_at, now)}` : ''}.` }),
    h('table', { class: 'alert-deliv' },
      h('caption', { class: 'small muted', text: 'Delivery per integration: Alertmanager\'s counts for all alerts since it started' }),
      h('thead', {}, h('tr', {}, ...['Receiver', 'Integration', 'Sent', 'Failures'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows)));
}

// The exporter only sends these shapes; checked again here so a link is never javascript: or data:.
const isCheckLink = (u) => typeof u === 'string' && u.startsWith('#/check/');
const isWebLink = (u) => typeof u === 'string' && /^https?:\/\//i.test(u);

function join(parts, sep) {
  const out = [];
  parts.forEach((p, i) => { if (i) out.push(sep); out.push(p); });
  return out;
}

/** The board's shape from either answer: the board itself, or a list of firing alerts (Vigil's or Alertmanager's). */
export function boardOf(body) {
  if (Array.isArray(body?.alerts) && typeof body?.window_seconds === 'number') return body;
  const list = Array.isArray(body) ? body : Array.isArray(body?.alerts) ? body.alerts : [];
  const alerts = list
    .filter((a) => (a.status?.state ?? a.status ?? 'firing') !== 'resolved')
    .map((a) => {
      const l = { ...(a.labels ?? {}) };
      for (const k of ['alertname', 'severity', 'component', 'check']) if (l[k] === undefined && a[k] != null) l[k] = a[k];
      return {
        fingerprint: a.fingerprint, alertname: l.alertname, severity: l.severity ?? null, component: l.component ?? null, check: l.check ?? null,
        check_url: null, runbook_url: null, summary: a.annotations?.summary ?? null, state: 'firing', fired_at: a.startsAt ?? a.starts_at ?? null,
      };
    })
    .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || String(a.fired_at ?? '').localeCompare(String(b.fired_at ?? '')));
  return { window_seconds: 0, alerts };
}
