// The log viewer of a `type: log` check, in its detail view: search the lines the probe kept
// (GET api/v1/logs?check=&q=&since=, newest first, "older" pages by before=<id>) and a live tail
// that polls with after=<the newest id shown>. Lines are redacted by the exporter before they are
// stored; here they are only ever text, never markup. The tail stops by itself once the detail
// view is closed (its element leaves the page) and pauses while the tab is hidden.
import { getJson } from './api.js';
import { h } from './dom.js';
import * as f from './format.js';

const PAGE = 100;
const TAIL_MS = 2_000;
/** Lines kept on screen; the oldest go first. */
const MAX_SHOWN = 500;
const SINCE = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['', 'Everything kept']];
let seq = 0;

export function logViewer(check) {
  const id = `logv-${++seq}`;
  const q = h('input', { type: 'search', id: `${id}-q`, name: 'q', autocomplete: 'off', spellcheck: 'false', maxlength: '500', placeholder: 'Words to find' });
  const since = h('select', { id: `${id}-since`, name: 'since' }, ...SINCE.map(([v, t]) => h('option', { value: v, text: t, selected: v === '24h' })));
  const tail = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'false', text: 'Live tail' });
  const status = h('p', { class: 'muted small logv-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ol', { class: 'logv-lines', 'aria-label': `Log lines of ${check}` });
  const older = h('button', { type: 'button', class: 'btn logv-older', text: 'Older lines', hidden: true });
  const form = h('form', { class: 'logv-form', role: 'search', 'aria-label': `Search the log lines of ${check}` },
    h('label', { for: q.id, text: 'Search' }), q,
    h('label', { for: since.id, text: 'Since' }), since,
    h('button', { type: 'submit', class: 'btn', text: 'Search' }), tail);
  const root = h('div', { class: 'logv' }, form, status, list, older);

  const state = { newest: 0, oldestBefore: undefined, timer: undefined, tailing: false, run: 0 };
  const params = (extra) => {
    const p = new URLSearchParams({ check, limit: String(PAGE), ...extra });
    if (q.value.trim()) p.set('q', q.value.trim());
    if (since.value && !('after' in extra)) p.set('since', since.value);
    return p;
  };

  async function search() {
    const run = ++state.run;
    status.textContent = 'Searching…';
    const r = await getJson(`api/v1/logs?${params({})}`);
    if (run !== state.run) return;
    if (!r.ok) { status.textContent = `Search failed: ${r.body?.error ?? r.error ?? `HTTP ${r.status}`}`; return; }
    const lines = r.body.lines ?? [];
    list.replaceChildren(...lines.map(lineItem));
    state.newest = lines.length ? lines[0].id : state.newest;
    state.oldestBefore = r.body.next_before;
    older.hidden = state.oldestBefore === undefined;
    status.textContent = lines.length ? `${lines.length}${r.body.next_before !== undefined ? '+' : ''} matching line${lines.length === 1 ? '' : 's'}, newest first.` : 'No matching lines.';
  }

  async function loadOlder() {
    if (state.oldestBefore === undefined) return;
    const r = await getJson(`api/v1/logs?${params({ before: String(state.oldestBefore) })}`);
    if (!r.ok) { status.textContent = `Could not load older lines: ${r.body?.error ?? r.error ?? `HTTP ${r.status}`}`; return; }
    list.append(...(r.body.lines ?? []).map(lineItem));
    state.oldestBefore = r.body.next_before;
    older.hidden = state.oldestBefore === undefined;
  }

  async function poll() {
    state.timer = undefined;
    if (!state.tailing || !root.isConnected) { state.tailing = false; return; }
    if (!document.hidden) {
      const r = await getJson(`api/v1/logs?${params({ after: String(state.newest) })}`);
      if (!state.tailing || !root.isConnected) return;
      if (r.ok) {
        const lines = r.body.lines ?? [];
        if (lines.length) {
          state.newest = Math.max(state.newest, lines[0].id);
          list.prepend(...lines.map(lineItem));
          while (list.childElementCount > MAX_SHOWN) list.lastElementChild.remove();
          status.textContent = `${lines.length} new line${lines.length === 1 ? '' : 's'} at ${f.clockSeconds(Date.now())}.`;
        }
      } else {
        status.textContent = `Live tail paused: ${r.body?.error ?? r.error ?? `HTTP ${r.status}`}. Retrying…`;
      }
    }
    state.timer = setTimeout(poll, TAIL_MS);
  }

  function setTail(on) {
    state.tailing = on;
    tail.setAttribute('aria-pressed', String(on));
    tail.textContent = on ? 'Stop live tail' : 'Live tail';
    clearTimeout(state.timer);
    state.timer = undefined;
    if (on) {
      status.textContent = 'Live tail on: new matching lines appear at the top.';
      state.timer = setTimeout(poll, 0);
    } else {
      status.textContent = 'Live tail stopped.';
    }
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
  since.addEventListener('change', () => search());
  older.addEventListener('click', () => loadOlder());
  tail.addEventListener('click', () => setTail(!state.tailing));
  search();
  return root;
}

function lineItem(l) {
  const file = String(l.file ?? '').split('/').pop();
  return h('li', { class: 'logv-line', dataset: { id: String(l.id) } },
    h('span', { class: 'logv-meta' },
      h('time', { datetime: l.time, text: f.dateClock(l.time) }),
      file ? h('span', { text: file, title: l.file }) : null,
      ...(l.patterns ?? []).map((p) => h('span', { class: 'logv-pat', text: p }))),
    h('code', { class: 'logv-text', text: l.line + (l.truncated ? ' …' : '') }));
}
