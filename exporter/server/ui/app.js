// Vigil status page: one snapshot (api/v1/status) for the first render, then live diffs
// (api/v1/events). No framework, no build step; every URL is relative so the page also works
// behind a reverse proxy under a sub-path.
import { Board } from './board.js';
import { Detail } from './detail.js';
import { setIcon } from './dom.js';
import * as f from './format.js';
import { IncidentHistory } from './incidents.js';
import { Live } from './live.js';
import { Alerts } from './alerts.js';
import { LongTerm, renderResources } from './panels.js';
import { MaintenancePanel } from './maintenance.js';
import { renderBroken } from './triage.js';
import { renderOtherShards } from './shards.js';

const $ = (id) => document.getElementById(id);
const el = {
  banner: $('banner'), title: $('banner-title'), detail: $('banner-detail'), affected: $('banner-affected'),
  announce: $('announce'), conn: $('conn'), connText: $('conn-text'), theme: $('theme'), q: $('q'),
  statusFilter: $('status-filter'), component: $('component'), empty: $('empty'), board: $('board'),
  tip: $('tip'), alerts: $('alerts'), resources: $('resources'), long: $('long'), favicon: $('favicon'), version: $('foot-version'),
  broken: $('broken'), asof: $('banner-asof'), detailView: $('detail'), overview: $('overview'), incidents: $('incidents'), fold: $('fold'),
};

const model = {
  checks: new Map(),
  components: [],
  overall: null,
  bar: null, // {start, step, count} in ms
  eventId: undefined,
  version: '',
};
const filters = { status: 'all', component: '', q: '' };
const board = new Board(el.board, el.tip);
const alerts = new Alerts(el.alerts);
const longTerm = new LongTerm(el.long);
const detail = new Detail(el.detailView, model);
const incidentHistory = new IncidentHistory(el.incidents);
const maintenance = new MaintenancePanel(el.banner, el.board, () => model.bar, el.broken);
/**
 * The panels above the board are asked for along with the first snapshot and drawn in the same
 * frame as the board, so nothing moves under the reader's eyes once it is painted; a slow
 * answer (Alertmanager down) holds the first render this long at most.
 */
const PANELS_WAIT_MS = 400;
const panelsFirst = Promise.allSettled([alerts.refresh(), maintenance.start()]);
/** When the page last heard from the exporter (snapshot or event): "as of" while disconnected. */
let heardAt = 0;

// ---------------------------------------------------------------- snapshot + live diffs
let resyncing;
let buffered; // updates that arrive while a snapshot is loading
let pendingReset; // a `reset` that arrived while a snapshot was loading
let dirty = new Set();
let componentsDirty = false;
let brokenDirty = false;
let frame = 0;

const seqOf = (id) => {
  const m = /^([0-9a-f]+)\.(\d+)$/.exec(id ?? '');
  return m ? { boot: m[1], seq: Number(m[2]) } : undefined;
};
/** Does a view that is complete up to event `have` include everything up to event `id`? */
const covers = (have, id) => {
  const a = seqOf(have);
  const b = seqOf(id);
  return !!a && !!b && a.boot === b.boot && a.seq >= b.seq;
};

// The first call picks up the request index.html preloads while the modules load (same URL, mode
// and credentials, no extra headers: that is what lets the browser match them). The server sends
// Cache-Control: no-store, so later calls always go to the network.
async function fetchSnapshot() {
  const res = await fetch('api/v1/status');
  if (!res.ok) throw new Error(res.status === 401 ? 'not signed in (status_page_auth)' : `HTTP ${res.status}`);
  return res.json();
}

/** Load a fresh snapshot; diffs arriving meanwhile are replayed on top of it when newer. */
function resync() {
  if (resyncing) return resyncing;
  buffered = [];
  resyncing = (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        const snap = await fetchSnapshot();
        if (!model.eventId) {
          performance.mark('vigil:snapshot');
          await Promise.race([panelsFirst, new Promise((r) => setTimeout(r, PANELS_WAIT_MS))]);
        }
        applySnapshot(snap);
        for (const u of buffered) if (!covers(model.eventId, u.id)) applyUpdate(u.data, u.id);
        return snap;
      } catch (err) {
        showLoadError(err);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      }
    }
  })().finally(() => {
    resyncing = undefined;
    buffered = undefined;
    // The stream (re)connected while we loaded: if the server was already past our snapshot, we
    // missed something in between, so load again (rare: the stream is open now, nothing is lost).
    const reset = pendingReset;
    pendingReset = undefined;
    if (reset && !covers(model.eventId, reset)) resync();
  });
  return resyncing;
}

/** The server says our view may be stale (new connection, expired id, config reload, restart). */
function onReset(id) {
  if (resyncing) pendingReset = id;
  else if (!covers(model.eventId, id)) resync();
}

function applySnapshot(snap) {
  const first = !model.eventId;
  model.version = snap.version;
  model.eventId = snap.event_id;
  model.bar = { start: Date.parse(snap.bar.start), step: snap.bar.step_seconds * 1000, count: snap.bar.count };
  model.checks = new Map(snap.checks.map((c) => [c.name, { ...c, bar: [...c.bar], bar_maintenance: c.bar_maintenance ?? c.bar_runs.map(() => 0) }]));
  model.components = snap.components;
  model.overall = snap.overall;
  heardAt = Date.now();
  dirty.clear();
  componentsDirty = false;
  // Folded cards are folded before they are built: their rows wait until they are unfolded.
  board.render(model, fold ? new Set([...board.collapsed, ...model.components.filter((c) => c.status === 'healthy').map((c) => c.name)]) : board.collapsed);
  renderBroken(el.broken, model);
  route();
  renderResources(el.resources, model.checks);
  renderOtherShards(el.board, snap.other_shards);
  renderBanner();
  renderFilterOptions();
  applyFilter();
  el.version.textContent = `Vigil ${snap.version}`;
  if (!first) alerts.refresh(); // the first was asked for with the snapshot
  if (!first) incidentHistory.refresh(); // the first waits for the first frame (start, below)
}

function applyUpdate(data, id) {
  if (id) model.eventId = id;
  heardAt = Date.now();
  let statusChanged = false;
  for (const d of data.checks ?? []) {
    const c = model.checks.get(d.name);
    if (!c) { resync(); return; } // a check we don't know: the config changed
    if (d.last_run && d.last_run !== c.last_run && d.response_time_ms !== null) {
      c.spark.push(d.response_time_ms);
      if (c.spark.length > 30) c.spark.shift();
    }
    const { bucket, ...diff } = d;
    if (bucket) putBucket(c, bucket);
    if (c.status !== d.status) statusChanged = true;
    Object.assign(c, diff);
    dirty.add(c);
  }
  if (data.overall) model.overall = data.overall;
  if (data.components) {
    model.components = data.components;
    componentsDirty = true;
  }
  if (statusChanged || data.components) { alerts.nudge(); incidentHistory.nudge(); brokenDirty = true; }
  schedule();
}

/**
 * The server sends the whole bar bucket a run landed in (bucketing is defined once, on the
 * server): put it in place, sliding the bars first when it is a new bucket.
 */
function putBucket(c, bucket) {
  if (bucket.step_seconds * 1000 !== model.bar.step) return; // another layout than ours: the next snapshot has it
  let i = Math.round((Date.parse(bucket.start) - model.bar.start) / model.bar.step);
  if (i >= model.bar.count) {
    shiftBars(i - model.bar.count + 1);
    i = model.bar.count - 1;
  }
  if (i < 0) return;
  c.bar[i] = bucket.letter;
  c.bar_runs[i] = bucket.runs;
  c.bar_up[i] = bucket.up;
  c.bar_maintenance[i] = bucket.maintenance ?? 0;
}

/** Time moved past the last bucket: slide every bar left. */
function shiftBars(k) {
  k = Math.min(k, model.bar.count);
  model.bar.start += k * model.bar.step;
  for (const c of model.checks.values()) {
    c.bar.splice(0, k);
    c.bar_runs.splice(0, k);
    c.bar_up.splice(0, k);
    c.bar_maintenance.splice(0, k);
    for (let j = 0; j < k; j++) { c.bar.push('-'); c.bar_runs.push(0); c.bar_up.push(0); c.bar_maintenance.push(0); }
    dirty.add(c);
  }
  schedule();
}

function schedule() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const now = Date.now();
    let system = false;
    const touched = new Set();
    for (const c of dirty) {
      board.updateRow(c, now);
      if (c.type === 'system') system = true;
      touched.add(c.component);
      if (detail.name === c.name) detail.update(c, now);
    }
    dirty = new Set();
    if (componentsDirty) {
      board.updateComponents(model.components);
      board.reorder(model.components);
      if (fold) board.collapseHealthy(true);
      componentsDirty = false;
      renderBanner();
      applyFilter();
    } else {
      // A card lists its own failing checks: a check of it changed even if its status did not.
      for (const comp of model.components) if (touched.has(comp.name)) board.updateCard(comp);
      if (filters.status !== 'all') applyFilter();
    }
    if (brokenDirty || dirty.size || touched.size) { renderBroken(el.broken, model, now); brokenDirty = false; }
    if (system) renderResources(el.resources, model.checks);
  });
}

// ---------------------------------------------------------------- banner, title, favicon
const TITLES = {
  healthy: () => 'All systems operational',
  degraded: (n) => `Degraded performance in ${n} component${n === 1 ? '' : 's'}`,
  critical: (n) => `Outage in ${n} component${n === 1 ? '' : 's'}`,
  unknown: () => 'Waiting for the first results',
};
const FAVICON_COLOR = { healthy: '#1f8a3e', degraded: '#c28a00', critical: '#d1242f', unknown: '#8a939d' };
let lastOverall;

function renderBanner() {
  const o = model.overall;
  if (!o) return;
  const affected = model.components.filter((c) => c.status === o.status && o.status !== 'healthy');
  el.banner.dataset.status = o.status;
  setIcon(el.banner.querySelector('.banner-ic'), o.status);
  el.title.textContent = TITLES[o.status](affected.length);
  const n = o.checks_by_status;
  el.detail.textContent = `${o.checks_total} checks: ${n.healthy} healthy · ${n.degraded} degraded · ${n.critical} critical · ${n.unknown} unknown`;
  el.affected.hidden = !affected.length || o.status === 'unknown';
  if (!el.affected.hidden) {
    const links = [];
    affected.forEach((c, i) => {
      if (i) links.push(', ');
      const a = document.createElement('a');
      a.href = `#comp-${c.name}`;
      a.textContent = c.name;
      links.push(a);
    });
    el.affected.replaceChildren(`${f.STATUS_LABEL[o.status]}: `, ...links);
  }
  for (const s of ['all', 'critical', 'degraded', 'healthy', 'unknown']) {
    const b = el.statusFilter.querySelector(`[data-count="${s}"]`);
    b.textContent = String(s === 'all' ? o.checks_total : n[s]);
  }
  document.title = `${f.STATUS_LABEL[o.status]} · Vigil status`;
  if (o.status !== lastOverall) {
    if (lastOverall !== undefined) el.announce.textContent = `Overall status is now ${f.STATUS_LABEL[o.status]}. ${el.title.textContent}.`;
    lastOverall = o.status;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="${FAVICON_COLOR[o.status]}"/><path d="M3.5 12.5h4l2-5 3.5 10 2.5-7 1.5 2h3.5" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
    el.favicon.href = `data:image/svg+xml,${encodeURIComponent(svg)}`;
  }
}

function showLoadError(err) {
  el.banner.dataset.status = 'unknown';
  el.title.textContent = 'Cannot load the status';
  el.detail.textContent = `${err.message ?? err}. Retrying…`;
}

// ---------------------------------------------------------------- connection indicator
let countdown;
let wasLive = false;
function setConn(state, detail) {
  clearInterval(countdown);
  el.conn.dataset.state = state;
  // Disconnected: everything on the page is as old as the last thing heard; say so and grey it.
  const stale = state === 'reconnecting' || state === 'offline';
  document.body.classList.toggle('stale', stale);
  el.asof.hidden = !stale || !heardAt;
  if (stale && heardAt) el.asof.textContent = `Not live: showing the status as of ${f.clockSeconds(heardAt)}.`;
  // Screen readers hear transitions only (the countdown below would be read out every second).
  if (state === 'live' && !wasLive && lastOverall !== undefined) el.announce.textContent = 'Live updates connected.';
  if (state !== 'live' && state !== 'connecting' && wasLive) el.announce.textContent = 'Live updates lost, reconnecting.';
  if (state === 'live' || state === 'reconnecting' || state === 'offline') wasLive = state === 'live';
  if (state === 'live') el.connText.textContent = 'Live';
  if (state === 'live') longTerm.start(); // once the feed is up: slow figures never delay it
  else if (state === 'connecting') el.connText.textContent = 'Connecting…';
  else {
    const word = state === 'offline' ? 'Offline' : 'Reconnecting';
    const paint = () => {
      const s = Math.max(0, Math.ceil((detail.at - Date.now()) / 1000));
      el.connText.textContent = s > 0 ? `${word} · retry in ${s} s` : `${word}…`;
    };
    paint();
    countdown = setInterval(paint, 1000);
  }
}

const live = new Live('api/v1/events', {
  onState: (state, d) => setConn(state, d),
  onEvent(type, data, id) {
    if (type === 'reset') onReset(id);
    else if (type === 'update') {
      if (buffered) buffered.push({ id, data });
      else applyUpdate(data, id);
    }
  },
});

// ---------------------------------------------------------------- filters (kept in the URL)
function readFilters() {
  const p = new URLSearchParams(location.search);
  filters.status = ['critical', 'degraded', 'healthy', 'unknown'].includes(p.get('status')) ? p.get('status') : 'all';
  filters.component = p.get('component') ?? '';
  filters.q = p.get('q') ?? '';
  el.q.value = filters.q;
  el.statusFilter.querySelector(`input[value="${filters.status}"]`).checked = true;
}

function writeFilters() {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries({ status: filters.status === 'all' ? '' : filters.status, component: filters.component, q: filters.q.trim() })) {
    if (v) p.set(k, v); else p.delete(k);
  }
  const qs = p.toString();
  history.replaceState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
}

function renderFilterOptions() {
  const names = model.components.map((c) => c.name);
  const current = [...el.component.options].slice(1).map((o) => o.value);
  if (names.join('\n') !== current.join('\n')) {
    el.component.replaceChildren(new Option('All components', ''), ...names.map((n) => new Option(n, n)));
  }
  el.component.value = names.includes(filters.component) ? filters.component : '';
}

function applyFilter() {
  filters.q = el.q.value; // a pending (debounced) search applies too
  const shown = board.applyFilter(filters);
  el.empty.hidden = shown > 0 || model.checks.size === 0;
}

let typing;
el.q.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => { filters.q = el.q.value; applyFilter(); writeFilters(); }, 120);
});
el.statusFilter.addEventListener('change', (e) => { filters.status = e.target.value; applyFilter(); writeFilters(); });
el.component.addEventListener('change', () => { filters.component = el.component.value; applyFilter(); writeFilters(); });

// ---------------------------------------------------------------- theme toggle (remembered)
const systemDark = matchMedia('(prefers-color-scheme: dark)');
const currentTheme = () => document.documentElement.dataset.theme ?? (systemDark.matches ? 'dark' : 'light');
function paintThemeButton() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  const label = `Use ${next} theme`;
  el.theme.setAttribute('aria-label', label);
  el.theme.title = label;
  setIcon(el.theme.querySelector('svg'), next === 'dark' ? 'moon' : 'sun');
}
el.theme.addEventListener('click', () => {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try { localStorage.setItem('vigil-theme', next); } catch { /* private mode */ }
  paintThemeButton();
});
systemDark.addEventListener('change', paintThemeButton);
paintThemeButton();

// ---------------------------------------------------------------- clock: relative times, bar slide
setInterval(() => {
  if (document.hidden || !model.bar) return;
  const now = Date.now();
  const i = Math.floor((now - model.bar.start) / model.bar.step);
  if (i >= model.bar.count) shiftBars(i - model.bar.count + 1);
  board.tick(now);
  renderBroken(el.broken, model, now);
  const c = detail.name && model.checks.get(detail.name);
  if (c) detail.update(c, now);
}, 5000);

// ---------------------------------------------------------------- fold healthy components
let fold = false;
try { fold = sessionStorage.getItem('vigil-fold') === '1'; } catch { /* storage disabled */ }
function paintFold() {
  el.fold.setAttribute('aria-pressed', String(fold));
  el.fold.textContent = fold ? 'Unfold healthy components' : 'Fold healthy components';
}
el.fold.addEventListener('click', () => {
  fold = !fold;
  try { sessionStorage.setItem('vigil-fold', fold ? '1' : '0'); } catch { /* storage disabled */ }
  board.collapseHealthy(fold);
  paintFold();
});
paintFold();

// ---------------------------------------------------------------- #/check/<name>: the detail view
function route() {
  const m = /^#\/check\/(.+)$/.exec(location.hash);
  if (m && model.eventId) {
    let name;
    try { name = decodeURIComponent(m[1]); } catch { name = m[1]; }
    el.overview.hidden = true;
    el.broken.classList.add('in-detail');
    if (detail.name !== name) detail.open(name);
  } else if (detail.isOpen || !m) {
    const was = detail.name;
    if (detail.isOpen) detail.close();
    el.overview.hidden = false;
    el.broken.classList.remove('in-detail');
    // Back on the overview: put the focus back on the row the detail was opened from.
    if (was) document.querySelector(`.check[data-name="${CSS.escape(was)}"] .name`)?.focus({ preventScroll: false });
  }
}
addEventListener('hashchange', route);

// ---------------------------------------------------------------- start
readFilters();
performance.mark('vigil:start');
// Snapshot first, then the stream from the snapshot's event id: the server replays whatever
// changed in between (or says `reset` if that is too old, and we load again).
resync().then(() => {
  performance.mark('vigil:rendered');
  document.documentElement.dataset.ready = 'true';
  // The stream and the incident history (below the board) start once the first screen is on
  // screen: their requests, answers and rendering would otherwise compete with that frame. The
  // stream resumes from the snapshot's event id, so nothing is missed meanwhile.
  afterFirstFrame(() => {
    performance.mark('vigil:painted');
    live.start(model.eventId);
    incidentHistory.refresh();
  });
});

/** `fn` once the frame showing what was just rendered is drawn; at once in a hidden tab (no frames). */
function afterFirstFrame(fn) {
  if (document.hidden) fn();
  else requestAnimationFrame(() => setTimeout(fn));
}
