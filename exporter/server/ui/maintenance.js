// Maintenance windows and acknowledgements on the status page (docs/maintenance.md): a banner of
// the windows on now and coming up, "Maintenance" on the components they cover, their time marked
// on the 24 h bars, the open acknowledgements, and forms to acknowledge an alert or incident, or
// end a window, for an operator with the admin token (asked for each time, never stored).
// Reads api/v1/maintenance every 30 s; the board is only decorated, never re-rendered.
import { h, setText } from './dom.js';
import { getJson } from './api.js';

const POLL_MS = 30_000;
const TIMEOUT_MS = 10_000;

const time = (iso) => new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

async function send(path, body, token) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(path, {
      method: 'POST', signal: ctl.signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    let answer;
    try { answer = await res.json(); } catch { answer = undefined; }
    if (res.status === 401 || res.status === 403) return 'Not allowed: that is not the admin token (server.admin_token).';
    if (!res.ok) return answer?.error ?? `HTTP ${res.status}`;
    return '';
  } catch (err) {
    return ctl.signal.aborted ? 'No answer in time.' : String(err.message ?? err);
  } finally {
    clearTimeout(timer);
  }
}

export class MaintenancePanel {
  /**
   * @param {HTMLElement} banner the status banner (its planned-work note)
   * @param {HTMLElement} board the components board, decorated in place
   * @param {() => ({start: number, step: number, count: number} | null)} bar the bars' layout
   * @param {HTMLElement} [place] the element the panel goes after (the banner by default)
   */
  constructor(banner, board, bar, place = banner) {
    this.board = board;
    this.bar = bar;
    this.doc = null;
    /** Whether any bar carries a maintenance mark (see decorate). */
    this.marked = false;
    this.list = h('div', { class: 'mw-list' });
    this.acks = h('ul', { class: 'mw-acks' });
    this.form = h('details', { class: 'mw-act' });
    this.root = h('section', { id: 'maintenance', class: 'panel mw', hidden: true, 'aria-labelledby': 'mw-h' },
      h('h2', { id: 'mw-h', class: 'panel-h', text: 'Maintenance and acknowledgements' }), this.list, this.acks, this.form);
    // Below what the server rendered (banner, broken list): shown with the board's first render,
    // it pushes nothing already painted down.
    place.after(this.root);
    this.buildForm();
    // Cards and rows the board adds later get their marks too.
    let queued = false;
    const observer = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; this.decorate(); });
    });
    observer.observe(board, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-status'] });
    this.banner = banner;
    // The app re-renders the banner on every change: the planned-work note is put back each time.
    observer.observe(banner, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['data-status'] });
  }

  /** Start polling; resolves when the first answer is in (the page renders the board with it). */
  start() {
    const first = this.refresh();
    first.finally(() => {
      const tick = () => this.refresh().finally(() => { this.timer = setTimeout(tick, POLL_MS); });
      this.timer = setTimeout(tick, POLL_MS);
    });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) this.refresh(); });
    return first;
  }

  async refresh() {
    const r = await getJson('api/v1/maintenance');
    if (!r.ok || !r.body) return; // an exporter without the route, or not reachable now: nothing to show
    this.doc = r.body;
    this.render();
    this.decorate();
  }

  render() {
    const d = this.doc;
    this.list.replaceChildren(
      ...d.active.map((w) => h('p', { class: 'mw-on' },
        h('strong', { text: `Maintenance: ${w.title}` }),
        ` until ${time(w.end)} — ${w.components.join(', ') || 'no component'} (${w.checks.length} check${w.checks.length === 1 ? '' : 's'})`,
        w.source === 'api' ? h('button', { class: 'btn mw-end', type: 'button', dataset: { id: w.id }, text: 'End now', onclick: () => this.endWindow(w.id) }) : null)),
      ...d.upcoming.slice(0, 3).map((w) => h('p', { class: 'mw-next muted small', text: `Planned: ${w.title}, ${time(w.start)} – ${clock(w.end)}` })),
    );
    this.acks.replaceChildren(...d.acknowledgements.map((a) => h('li', { class: 'mw-ack' },
      h('strong', { text: `${a.by} acknowledged ` }),
      a.target.kind === 'alert' ? `${a.target.labels.alertname ?? 'an alert'}${a.target.labels.check ? ` of ${a.target.labels.check}` : ''}` : `incident ${a.target.id} (${a.target.title})`,
      ` at ${time(a.created_at)}, ${a.until === 'resolved' ? 'until resolved' : `until ${time(a.until)}`}`,
      a.comment ? h('span', { class: 'muted', text: ` — ${a.comment}` }) : null,
      h('button', { class: 'btn', type: 'button', text: 'End', onclick: () => this.endAck(a.id) }))));
    this.root.hidden = false; // the acknowledge form is always useful
  }

  /** "Maintenance" on the covered components, the windows of the last 24 h on the bars. */
  decorate() {
    const d = this.doc;
    if (!d) return;
    const on = new Map();
    for (const w of d.active) for (const c of w.components) on.set(c, w);
    for (const card of this.board.querySelectorAll('.card[data-component]')) {
      const w = on.get(card.dataset.component);
      let pill = card.querySelector('.mw-pill');
      if (w) {
        card.dataset.maintenance = 'true';
        if (!pill) {
          pill = h('span', { class: 'mw-pill' });
          card.querySelector('.card-h')?.insertBefore(pill, card.querySelector('.card-h .collapse'));
        }
        setText(pill, `Maintenance until ${clock(w.end)}`);
        pill.title = w.title;
      } else {
        delete card.dataset.maintenance;
        pill?.remove();
      }
    }
    this.decorateBanner(on);
    const bar = this.bar();
    const byCheck = new Map();
    for (const w of d.recent ?? []) for (const c of w.checks) (byCheck.get(c) ?? byCheck.set(c, []).get(c)).push(w);
    // No window in the bars' 24 h and none drawn before: nothing to add or take off. (This runs
    // after every batch of rows the board builds; a pass over 500 rows each time was ~17 ms of
    // a cold load for a page with no maintenance at all.)
    if (!byCheck.size && !this.marked) return;
    this.marked = byCheck.size > 0;
    for (const row of this.board.querySelectorAll('.check[data-name]')) {
      const el = row.querySelector('.bar');
      if (!el) continue;
      const windows = bar ? byCheck.get(row.dataset.name) ?? [] : [];
      const key = windows.map((w) => `${w.start}/${w.end}`).join(' ');
      if (el.dataset.mw === key) continue;
      el.dataset.mw = key;
      for (const m of el.querySelectorAll('.mw-mark')) m.remove();
      const span = bar ? bar.count * bar.step : 0;
      for (const w of windows) {
        const from = Math.max(Date.parse(w.start), bar.start);
        const to = Math.min(Date.parse(w.end), bar.start + span);
        if (to <= from) continue;
        const mark = h('span', { class: 'mw-mark', title: `Maintenance: ${w.title}` });
        mark.style.left = `${((from - bar.start) / span) * 100}%`;
        mark.style.width = `${((to - from) / span) * 100}%`;
        el.append(mark);
      }
    }
  }

  /**
   * The status banner: which failing components are planned work; when every one is, the banner
   * is blue and says "Planned maintenance" instead of an outage (the words stay on the cards).
   */
  decorateBanner(on) {
    const b = this.banner;
    if (!b?.classList.contains('banner')) return;
    // Until the board is drawn the server's own note (index.html) stands: removing it now would
    // move the page, and putting it back with the board move it again.
    if (!this.board.querySelector('.card[data-component]')) return;
    const failing = [...this.board.querySelectorAll('.card[data-component]')].filter((c) => c.dataset.status === 'critical' || c.dataset.status === 'degraded').map((c) => c.dataset.component);
    const planned = failing.filter((c) => on.has(c));
    const all = planned.length > 0 && planned.length === failing.length;
    let note = b.querySelector('.banner-maint');
    if (planned.length) {
      if (!note) {
        note = h('p', { class: 'banner-maint' });
        b.querySelector('.banner-text')?.append(note);
      }
      setText(note, `Planned maintenance: ${planned.map((c) => `${c} (${on.get(c).title}, until ${clock(on.get(c).end)})`).join(', ')}`);
    } else note?.remove();
    if (all) {
      if (b.dataset.planned !== 'true') b.dataset.planned = 'true';
      const title = b.querySelector('h1');
      if (title && title.textContent !== 'Planned maintenance') title.textContent = 'Planned maintenance';
    } else if (b.dataset.planned) delete b.dataset.planned;
  }

  /** Name and admin token, asked each time. */
  credentials(note) {
    const by = window.prompt(`${note}\nYour name (kept in the record):`);
    if (!by) return undefined;
    const token = window.prompt('Admin token (server.admin_token):');
    return token ? { by, token } : undefined;
  }

  async endWindow(id) {
    const c = this.credentials('End this maintenance window now.');
    if (!c) return;
    const err = await send(`api/v1/maintenance/${encodeURIComponent(id)}/end`, { by: c.by }, c.token);
    if (err) window.alert(err);
    this.refresh();
  }

  async endAck(id) {
    const c = this.credentials('End this acknowledgement (the alert may page again).');
    if (!c) return;
    const err = await send(`api/v1/acknowledgements/${encodeURIComponent(id)}/end`, { by: c.by }, c.token);
    if (err) window.alert(err);
    this.refresh();
  }

  /** Acknowledge a firing alert or an open incident: who, comment, for how long, admin token. */
  buildForm() {
    const what = h('select', { id: 'mw-what', required: true });
    const by = h('input', { id: 'mw-by', required: true, maxlength: '100', autocomplete: 'name' });
    const note = h('input', { id: 'mw-comment', maxlength: '1000' });
    const dur = h('select', { id: 'mw-dur' },
      h('option', { value: '', text: 'until resolved' }), h('option', { value: '30m', text: '30 minutes' }),
      h('option', { value: '2h', text: '2 hours' }), h('option', { value: '1d', text: '1 day' }));
    const token = h('input', { id: 'mw-token', type: 'password', autocomplete: 'off', required: true });
    const out = h('p', { class: 'small', role: 'status' });
    const button = h('button', { class: 'btn', type: 'submit', text: 'Acknowledge' });
    const form = h('form', { class: 'mw-form' },
      h('label', { for: 'mw-what', text: 'Alert or incident' }), what,
      h('label', { for: 'mw-by', text: 'Your name' }), by,
      h('label', { for: 'mw-comment', text: 'Comment' }), note,
      h('label', { for: 'mw-dur', text: 'For' }), dur,
      h('label', { for: 'mw-token', text: 'Admin token' }), token, button, out);
    this.form.replaceChildren(h('summary', { text: 'Acknowledge an alert or incident' }), form);
    this.form.addEventListener('toggle', async () => {
      if (!this.form.open) return;
      const [alerts, incidents] = await Promise.all([getJson('api/v1/alerts'), getJson('api/v1/incidents?state=open&limit=50')]);
      const options = [
        ...(alerts.body?.alerts ?? []).map((a) => h('option', { value: `alert:${a.fingerprint}`, text: `Alert ${a.alertname}${a.check ? ` — ${a.check}` : ''}${a.severity ? ` (${a.severity})` : ''}` })),
        ...(incidents.body?.incidents ?? []).map((i) => h('option', { value: `incident:${i.id}`, text: `Incident ${i.id} — ${i.title}` })),
      ];
      what.replaceChildren(...(options.length ? options : [h('option', { value: '', text: 'nothing is firing' })]));
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const [kind, id] = what.value.split(':');
      if (!id) return;
      button.disabled = true;
      const body = { by: by.value, ...(note.value ? { comment: note.value } : {}), ...(dur.value ? { duration: dur.value } : {}), ...(kind === 'alert' ? { alert: id } : { incident: Number(id) }) };
      const err = await send('api/v1/acknowledgements', body, token.value);
      token.value = '';
      button.disabled = false;
      out.textContent = err || 'Acknowledged: its pages are silenced.';
      this.refresh();
    });
  }
}
