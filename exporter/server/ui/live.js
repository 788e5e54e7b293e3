// The live feed: EventSource on api/v1/events with our own reconnection. On any error the source
// is closed and reopened after an exponential, jittered delay (1 s, 2 s, 4 s … 30 s), resuming
// from the last event id (?since=), so a restart of the exporter or a flaky network never turns
// many open pages into a polling storm. A watchdog reconnects when even the 15 s ping stops.
// A 429 (this address holds too many streams) or 503 (the server holds too many) is an error
// like any other: the back-off retries later.
//
// Back within 2 s of the exporter: EventSource cannot tell "exporter down" from "stream
// refused", so after an error the page asks the tiny -/healthy. No answer: the exporter is down,
// and the page asks again every 0.3–0.6 s (jittered; a refused connection costs the exporter
// nothing, it is not there) and reconnects as soon as it answers. An answer:
// the exporter is up but refused or dropped the stream, and the exponential back-off applies.
const MIN_DELAY = 1000;
const MAX_DELAY = 30_000;
const SILENCE = 45_000;
const PROBE_EVERY = 600;
const PROBE_TIMEOUT = 1500;

export class Live {
  /**
   * @param {string} url         event stream URL (relative to the page)
   * @param {object} handlers    onEvent(type, data, id), onState(state, detail)
   */
  constructor(url, handlers) {
    this.url = url;
    this.h = handlers;
    this.lastId = undefined;
    this.attempt = 0;
    this.es = undefined;
    this.retryTimer = undefined;
    this.watchdog = undefined;
    this.retryAt = 0;
    addEventListener('online', () => { if (!this.es) this.connect(); });
  }

  start(lastId) {
    this.lastId = lastId;
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.close();
    const u = new URL(this.url, document.baseURI);
    if (this.lastId) u.searchParams.set('since', this.lastId);
    const es = new EventSource(u);
    this.es = es;
    const handle = (type) => (e) => {
      if (this.es !== es) return;
      if (e.lastEventId) this.lastId = e.lastEventId;
      if (type === 'hello') this.refusals = 0; // the server took the stream
      this.kick();
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      this.h.onEvent(type, data, e.lastEventId);
    };
    for (const type of ['hello', 'reset', 'update']) es.addEventListener(type, handle(type));
    es.addEventListener('ping', () => { if (this.es === es) this.kick(); });
    // The server ends every stream after server.events.max_lifetime and says so first: reconnect
    // at once, resuming from the last id, without showing the page as reconnecting.
    es.addEventListener('bye', () => { if (this.es === es) this.connect(); });
    es.onopen = () => {
      if (this.es !== es) return;
      this.attempt = 0;
      this.downSince = undefined;
      this.kick();
      this.h.onState('live');
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.retry();
    };
    if (this.attempt === 0) this.h.onState('connecting');
  }

  /** Something arrived: the stream is alive. */
  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.retry(), SILENCE);
  }

  retry() {
    this.close();
    clearTimeout(this.retryTimer);
    this.attempt++;
    this.downSince ??= Date.now();
    this.h.onState(Date.now() - this.downSince > 60_000 ? 'offline' : 'reconnecting', { at: Date.now() + PROBE_EVERY });
    this.probe(this.attempt);
  }

  /** Is the exporter answering at all? Down: ask again shortly. Up: back off, then reopen the stream. */
  async probe(attempt) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT);
    let up = false;
    try {
      const res = await fetch(new URL('-/healthy', document.baseURI), { cache: 'no-store', signal: ctl.signal });
      up = res.status < 500;
    } catch { /* down, or the network is */ }
    clearTimeout(timer);
    if (this.es || attempt !== this.attempt) return; // connected or retried meanwhile
    if (!up) {
      const delay = Math.round(PROBE_EVERY * (0.5 + Math.random() * 0.5));
      this.retryAt = Date.now() + delay;
      this.h.onState(Date.now() - this.downSince > 60_000 ? 'offline' : 'reconnecting', { at: this.retryAt });
      this.retryTimer = setTimeout(() => this.probe(attempt), delay);
      return;
    }
    // Up: the first reconnection after an outage is immediate; repeated refusals back off.
    this.refusals = (this.refusals ?? 0) + 1;
    const base = this.refusals === 1 ? 0 : Math.min(MAX_DELAY, MIN_DELAY * 2 ** (this.refusals - 2));
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.retryAt = Date.now() + delay;
    if (delay) this.h.onState(this.refusals > 6 ? 'offline' : 'reconnecting', { at: this.retryAt });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  close() {
    clearTimeout(this.watchdog);
    if (this.es) {
      this.es.onerror = null;
      this.es.close();
      this.es = undefined;
    }
  }
}
