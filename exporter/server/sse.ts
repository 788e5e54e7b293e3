// Server-Sent Events for the status page: one hub per exporter (the Runtime's, handed to the
// routes that need it) fans out diffs to every open page. Results are coalesced per check over
// a short window, each message is serialised ONCE into a Buffer and the same Buffer is written
// to every client; a client whose socket buffer backs up
// is dropped (it reconnects and catches up). While no page is open a message only records which
// checks changed, and is serialised if a page reconnects asking for it.
//
// Streams are a shared resource: one client address (an IPv6 /64) may hold a few (429 past
// that), all together at most maxClients (503); a stream whose socket accepts nothing for the
// idle timeout is closed, and every stream ends after its lifetime with a `bye` event, so a
// client that vanished without a FIN cannot hold its place for ever.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CheckState, StateStore } from '../engine/state.js';
import { barEnd, barSpec } from '../views/bar.js';
import { checkUpdate, componentViews, overallView, type PlannedOf } from '../views/status.js';

export interface SseOptions {
  /** Results of one check arriving within this window are sent once, with the latest state. Default 250 ms. */
  coalesceMs?: number;
  /** A comment line is sent this often so proxies keep idle connections open. Default 15 s. */
  heartbeatMs?: number;
  /** A client with more than this many bytes queued in its socket is disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Messages kept for replay to a client reconnecting with Last-Event-ID. Default 256… */
  backlog?: number;
  /** …and at most this many bytes of them. Default 4 MiB. */
  backlogBytes?: number;
  /** Open connections allowed at once; more get 503 with Retry-After. Default 1000. */
  maxClients?: number;
  /** Open connections allowed per client address (IPv6: per /64); more get 429 with Retry-After. Default 8. */
  maxClientsPerAddress?: number;
  /** A client whose socket has accepted none of the bytes queued for it for this long is dropped. Default 60 s. */
  idleTimeoutMs?: number;
  /** A stream is ended after this long, minus up to 10 % (spread), and the page reconnects. Default 1 h. */
  maxLifetimeMs?: number;
  /** Client reconnect delay advertised with `retry:`. Default 2000 ms. */
  retryMs?: number;
}

interface Client {
  res: ServerResponse;
  /** Who holds the stream, for the per-client cap: the remote address, IPv6 cut to its /64. */
  address: string;
  /** When the stream is ended (its lifetime). */
  endsAt: number;
  /** Since when bytes have sat unaccepted in its socket (undefined: none queued at the last look). */
  stalledSince?: number;
}

/** The client a connection counts against: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64). */
export function clientKey(address: string | undefined): string {
  if (!address) return '?';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1];
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * A published message. With a page open it is serialised once (`buf`) and written to every
 * client. With none open only what changed is kept (`checks`, `rollup`) and serialised from
 * the current state if a page reconnects asking for it: a diff carries the latest state of
 * what changed, so the replay is as correct and fresher — and 1 000 results a second cost
 * nothing while nobody watches.
 */
interface BacklogEntry {
  seq: number;
  event: string;
  buf?: Buffer;
  checks?: string[];
  rollup?: boolean;
  data?: unknown;
  size: number;
}

export interface HubStats {
  clients: number;
  messages: number;
  dropped: number;
  bytesSerialized: number;
  /** Streams refused by the global or the per-client cap. */
  refused: number;
  /** Streams closed because their socket accepted nothing for idleTimeoutMs. */
  idleClosed: number;
  /** Streams ended at their maximum lifetime. */
  lifetimeClosed: number;
}

export class SseHub {
  /** Changes with every exporter start, so an id from a previous process is never replayed. */
  readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private clients = new Set<Client>();
  /**
   * Checks with a result since the last flush, in order, and per check the flush it was last
   * queued for: a Map cleared at every flush grew its table again four times a second, tables
   * that lived long enough to reach old space.
   */
  private pending: string[] = [];
  private queuedFor = new Map<string, number>();
  private flushes = 0;
  private rollupChanged = false;
  private flushTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private backlog: BacklogEntry[] = [];
  private backlogSize = 0;
  private readonly o: Required<SseOptions>;
  private readonly onResult = (s: CheckState, previous: string) => this.queue(s, previous);
  private readonly onConfig = () => this.reset();
  private perAddress = new Map<string, number>();
  readonly stats: HubStats = { clients: 0, messages: 0, dropped: 0, bytesSerialized: 0, refused: 0, idleClosed: 0, lifetimeClosed: 0 };

  /** Maintenance time per check over a range, for the bar buckets in updates (set once the maintenance layer is up). */
  planned?: (from: number, to: number) => PlannedOf | undefined;

  constructor(private state: StateStore, opts: SseOptions = {}) {
    this.o = {
      coalesceMs: 250, heartbeatMs: 15_000, maxBufferedBytes: 1 << 20, backlog: 256, backlogBytes: 4 << 20, maxClients: 1000, retryMs: 2000,
      maxClientsPerAddress: 8, idleTimeoutMs: 60_000, maxLifetimeMs: 3_600_000, ...opts,
    };
    state.on('result', this.onResult);
    state.on('config', this.onConfig);
  }

  /** Id of the newest message: a snapshot taken now is complete up to here. */
  lastEventId(): string {
    return `${this.boot}.${this.seq}`;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Change the limits (a config reload); open streams keep their lifetime until their next check. */
  configure(limits: Pick<SseOptions, 'maxClients' | 'maxClientsPerAddress' | 'idleTimeoutMs' | 'maxLifetimeMs'>): void {
    for (const [k, v] of Object.entries(limits)) if (v !== undefined) (this.o as unknown as Record<string, number>)[k] = v;
  }

  /** Why a stream for `req` would be refused now (global cap: 503; per-client cap: 429), or undefined. */
  refusal(req: IncomingMessage): { status: number; retryAfterSeconds: number; error: string } | undefined {
    if (this.clients.size >= this.o.maxClients) {
      this.stats.refused++;
      return { status: 503, retryAfterSeconds: 10, error: `too many event streams open (${this.o.maxClients})` };
    }
    if ((this.perAddress.get(clientKey(req.socket.remoteAddress)) ?? 0) >= this.o.maxClientsPerAddress) {
      // One client must not take every stream there is: the other viewers keep theirs.
      this.stats.refused++;
      return { status: 429, retryAfterSeconds: 10, error: `too many event streams open from this address (${this.o.maxClientsPerAddress}, server.events.max_streams_per_client)` };
    }
    return undefined;
  }

  /**
   * Take over a response as an event stream. `lastEventId` (Last-Event-ID header or ?since=)
   * replays what the client missed when it is still in the backlog; otherwise the client is told
   * to reload its snapshot (`event: reset`).
   */
  attach(req: IncomingMessage, res: ServerResponse, lastEventId?: string): void {
    const address = clientKey(req.socket.remoteAddress);
    const refused = this.refusal(req);
    if (refused) {
      res.writeHead(refused.status, { 'Content-Type': 'application/json', 'Retry-After': String(refused.retryAfterSeconds) });
      res.end(JSON.stringify({ error: refused.error }));
      return;
    }
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 30_000);
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: don't buffer the stream
    });
    // Lifetimes are spread over the last 10 %, so pages opened together don't all reconnect together.
    const client: Client = { res, address, endsAt: Date.now() + this.o.maxLifetimeMs * (0.9 + Math.random() * 0.1) };
    this.clients.add(client);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.stats.clients = this.clients.size;
    const gone = () => this.remove(client);
    res.once('close', gone);
    res.once('error', gone);

    let intro = `retry: ${this.o.retryMs}\n`;
    const missed = this.missedSince(lastEventId);
    if (missed === undefined) intro += `id: ${this.lastEventId()}\nevent: reset\ndata: {"reason":"${lastEventId ? 'unknown or expired event id' : 'new connection'}"}\n\n`;
    else intro += `id: ${this.lastEventId()}\nevent: hello\ndata: {"replayed":${missed.length}}\n\n`;
    res.write(intro);
    for (const m of missed ?? []) res.write(m.buf ?? this.serialize(m));
    this.armHeartbeat();
  }

  /** Close every stream and stop listening (tests, shutdown). */
  close(): void {
    this.state.off('result', this.onResult);
    this.state.off('config', this.onConfig);
    clearTimeout(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.perAddress.clear();
  }

  private missedSince(id?: string): BacklogEntry[] | undefined {
    if (!id) return undefined;
    const m = /^([0-9a-f]+)\.(\d+)$/.exec(id.trim());
    if (!m || m[1] !== this.boot) return undefined;
    const seq = Number(m[2]);
    if (seq > this.seq) return undefined;
    if (seq === this.seq) return [];
    const oldest = this.backlog[0]?.seq ?? this.seq + 1;
    if (seq + 1 < oldest) return undefined; // some were already dropped from the backlog
    return this.backlog.filter((b) => b.seq > seq);
  }

  private queue(s: CheckState, previous: string): void {
    const name = s.config.name;
    if (this.queuedFor.get(name) !== this.flushes) {
      this.queuedFor.set(name, this.flushes);
      this.pending.push(name);
    }
    if (s.status !== previous) this.rollupChanged = true;
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.o.coalesceMs);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (!this.pending.length) return;
    // Published even with nobody connected: a page that took a snapshot a moment ago connects
    // with its id and gets the gap replayed from the backlog.
    const checks = this.pending;
    const rollup = this.rollupChanged;
    this.pending = [];
    this.flushes++;
    this.rollupChanged = false;
    this.publish({ seq: 0, event: 'update', checks, rollup, size: checks.length * 8 });
  }

  /** The `update` payload for checks that changed, from the state as it is now (bar buckets included). */
  private updateData(names: string[], rollup: boolean): Record<string, unknown> {
    const checks = [];
    const now = Date.now();
    // The bucket of a run in a maintenance window counts it apart (in no availability).
    const spec = barSpec(now);
    const planned = this.planned?.(spec.start, barEnd(spec));
    for (const name of names) {
      const s = this.state.get(name);
      if (s) checks.push(checkUpdate(s, now, planned));
    }
    const data: Record<string, unknown> = { checks };
    if (rollup) {
      data.overall = overallView(this.state);
      data.components = componentViews(this.state);
    }
    return data;
  }

  private serialize(m: BacklogEntry): Buffer {
    const data = m.checks ? this.updateData(m.checks, !!m.rollup) : m.data;
    const buf = Buffer.from(`id: ${this.boot}.${m.seq}\nevent: ${m.event}\ndata: ${JSON.stringify(data)}\n\n`);
    this.stats.bytesSerialized += buf.length;
    return buf;
  }

  /** Config reloaded: checks may have appeared or gone, so every page reloads its snapshot. */
  private reset(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = [];
    // Removed checks leave the map here.
    this.queuedFor.clear();
    this.flushes++;
    this.rollupChanged = false;
    this.publish({ seq: 0, event: 'reset', data: { reason: 'configuration reloaded' }, size: 64 });
  }

  private publish(m: BacklogEntry): void {
    m.seq = ++this.seq;
    this.stats.messages++;
    if (this.clients.size) {
      m.buf = this.serialize(m);
      m.size = m.buf.length;
      m.checks = undefined; // the bytes are the record now; replay sends exactly what was sent
      m.data = undefined;
    }
    this.backlog.push(m);
    this.backlogSize += m.size;
    while (this.backlog.length > this.o.backlog || (this.backlogSize > this.o.backlogBytes && this.backlog.length > 1)) {
      this.backlogSize -= this.backlog.shift()!.size;
    }
    if (m.buf) this.broadcast(m.buf);
  }

  private broadcast(chunk: Buffer | string): void {
    for (const c of this.clients) {
      if (c.res.writableLength > this.o.maxBufferedBytes) {
        // A slow reader: queueing more only grows memory. It reconnects and replays or resets.
        this.stats.dropped++;
        this.remove(c);
        c.res.destroy();
        continue;
      }
      c.res.write(chunk);
    }
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer) return;
    // A comment keeps proxies from timing the stream out; the named event lets the page notice a dead connection.
    const beat = Buffer.from(': keep-alive\nevent: ping\ndata: {}\n\n');
    // Limits are looked at on every tick; ticks come often enough to hold the idle timeout to about a quarter.
    const tick = Math.max(10, Math.min(this.o.heartbeatMs, this.o.idleTimeoutMs / 4));
    let sinceBeat = 0;
    this.heartbeatTimer = setInterval(() => {
      if (!this.clients.size) {
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = undefined;
        return;
      }
      this.sweep(Date.now());
      sinceBeat += tick;
      if (sinceBeat >= this.o.heartbeatMs) {
        sinceBeat = 0;
        this.broadcast(beat);
      }
    }, tick);
    this.heartbeatTimer.unref();
  }

  /** End streams past their lifetime; drop those whose socket has accepted nothing for the idle timeout. */
  private sweep(now: number): void {
    for (const c of this.clients) {
      if (c.res.writableLength === 0) c.stalledSince = undefined;
      else if (c.stalledSince === undefined) c.stalledSince = now;
      else if (now - c.stalledSince >= this.o.idleTimeoutMs) {
        // Gone without a FIN, or not reading: its bytes would only pile up.
        this.stats.idleClosed++;
        this.remove(c);
        c.res.destroy();
        continue;
      }
      if (now >= c.endsAt) {
        // Told why, so the page reconnects at once (resuming from its last id) instead of backing off.
        this.stats.lifetimeClosed++;
        this.remove(c);
        c.res.end('event: bye\ndata: {"reason":"stream lifetime reached, reconnect"}\n\n');
      }
    }
  }

  private remove(c: Client): void {
    if (!this.clients.delete(c)) return;
    const n = (this.perAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
    this.stats.clients = this.clients.size;
  }
}
