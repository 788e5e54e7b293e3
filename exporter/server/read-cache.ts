// Expensive public reads (status snapshot, /health, reports, alert history) are answered from a
// short-lived cache keyed by the normalised request: identical requests within `ttlMs` get the
// same bytes, concurrent identical requests share one computation, and only `maxConcurrent`
// different computations run at once. Past that a request waits (at most `maxWaitMs`, at most
// `maxQueued` of them), is answered from a recent older copy, or gets 503 with Retry-After.
// So N clients asking cost about one computation per distinct request per second, however big N.
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Context } from 'koa';
import type { StateStore } from '../engine/state.js';

const gzip = promisify(gzipCb);

export interface ReadCacheOptions {
  /** An answer is served to identical requests for this long. Default 1000 ms. */
  ttlMs?: number;
  /** When every computation slot is taken, an answer up to this old is served instead of a 503. Default 30 s. */
  staleMs?: number;
  /** Computations (cache misses) running at once. Default 2. */
  maxConcurrent?: number;
  /** Misses waiting for a slot; more get 503 at once. Default 32. */
  maxQueued?: number;
  /** How long a miss waits for a slot before it gets 503. Default 5000 ms. */
  maxWaitMs?: number;
  /** Bytes of answers kept (identity plus gzip). Default 64 MiB. */
  maxBytes?: number;
  /** Answers larger than this are also kept gzipped, for clients that accept it. Default 32 KiB. */
  gzipAbove?: number;
  /** Seconds in the Retry-After of a 503. Default 1. */
  retryAfterSeconds?: number;
}

/** What a computation produces: the response, before encoding. */
export interface Answer {
  status?: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

interface Entry {
  status: number;
  type: string;
  body: Buffer;
  gzip?: Buffer;
  headers: Record<string, string>;
  createdAt: number;
  size: number;
}

export class BusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('busy: too many expensive reads at once, retry shortly');
  }
}

export interface ReadCacheStats {
  hits: number;
  shared: number;
  computed: number;
  stale: number;
  rejected: number;
}

export class ReadCache {
  private readonly o: Required<ReadCacheOptions>;
  private entries = new Map<string, Entry>();
  private bytes = 0;
  private inflight = new Map<string, Promise<Entry>>();
  private active = 0;
  /** Bumped by clear(): a computation that began before it is not stored (it may show the old data). */
  private generation = 0;
  private queue: Array<{ go: () => void; timer: NodeJS.Timeout }> = [];
  readonly stats: ReadCacheStats = { hits: 0, shared: 0, computed: 0, stale: 0, rejected: 0 };

  constructor(opts: ReadCacheOptions = {}) {
    this.o = {
      ttlMs: 1000, staleMs: 30_000, maxConcurrent: 1, maxQueued: 32, maxWaitMs: 5000, maxBytes: 64 << 20, gzipAbove: 32 * 1024, retryAfterSeconds: 1, ...opts,
    };
  }

  /** The answer for `key`: cached, shared with an identical request in flight, or computed. Throws BusyError. */
  async get(key: string, compute: () => Promise<Answer> | Answer): Promise<{ entry: Entry; age: number }> {
    const now = Date.now();
    const cached = this.entries.get(key);
    if (cached && now - cached.createdAt < this.o.ttlMs) {
      this.stats.hits++;
      return { entry: cached, age: now - cached.createdAt };
    }
    let running = this.inflight.get(key);
    if (running) this.stats.shared++;
    else {
      running = this.compute(key, compute);
      this.inflight.set(key, running);
      const forget = () => { if (this.inflight.get(key) === running) this.inflight.delete(key); };
      running.then(forget, forget);
    }
    try {
      const entry = await running;
      return { entry, age: Date.now() - entry.createdAt };
    } catch (err) {
      // No slot: a recent older answer beats a 503 (a load balancer reads 503 on /health as "down").
      const old = this.entries.get(key);
      if (err instanceof BusyError && old && Date.now() - old.createdAt < this.o.staleMs) {
        this.stats.stale++;
        return { entry: old, age: Date.now() - old.createdAt };
      }
      if (err instanceof BusyError) this.stats.rejected++;
      throw err;
    }
  }

  /** Forget the answers whose key starts with `prefix` (all of them without one): what they show changed. */
  clear(prefix = ''): void {
    this.generation++;
    for (const k of this.inflight.keys()) if (k.startsWith(prefix)) this.inflight.delete(k);
    for (const [k, e] of this.entries) {
      if (!k.startsWith(prefix)) continue;
      this.entries.delete(k);
      this.bytes -= e.size;
    }
  }

  private async compute(key: string, compute: () => Promise<Answer> | Answer): Promise<Entry> {
    await this.acquire();
    const generation = this.generation;
    try {
      const a = await compute();
      const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
      // zlib runs on the thread pool: the event loop only waits for the result.
      const zipped = body.length > this.o.gzipAbove ? await gzip(body, { level: 1 }) : undefined;
      const entry: Entry = { status: a.status ?? 200, type: a.type, body, gzip: zipped, headers: a.headers ?? {}, createdAt: Date.now(), size: body.length + (zipped?.length ?? 0) };
      this.stats.computed++;
      if (generation === this.generation) this.store(key, entry);
      return entry;
    } finally {
      this.release();
    }
  }

  private store(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.size;
    }
    if (entry.size > this.o.maxBytes / 2) return; // served to its waiters, not kept
    const now = Date.now();
    // Oldest first (Map order is insertion order): drop what is past serving, then what doesn't fit.
    for (const [k, e] of this.entries) {
      if (now - e.createdAt < this.o.staleMs && this.bytes + entry.size <= this.o.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.size;
    }
    this.entries.set(key, entry);
    this.bytes += entry.size;
  }

  private acquire(): Promise<void> {
    if (this.active < this.o.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.o.maxQueued) return Promise.reject(new BusyError(this.o.retryAfterSeconds));
    return new Promise((resolve, reject) => {
      const waiter = {
        go: () => { clearTimeout(waiter.timer); resolve(); },
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(new BusyError(this.o.retryAfterSeconds));
        }, this.o.maxWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next.go(); // the slot passes straight on
    else this.active--;
  }
}

/** A read cache that empties itself on every config reload of `state` (build one per exporter and pass it in). */
export function readCacheOf(state: StateStore, opts?: ReadCacheOptions): ReadCache {
  const cache = new ReadCache(opts);
  state.on('config', () => cache.clear());
  return cache;
}

/**
 * Answer `ctx` from the cache: `key` must name everything the answer depends on (route and
 * normalised, validated parameters; validate before calling, so a bad request costs nothing).
 */
export async function respondCached(ctx: Context, cache: ReadCache, key: string, compute: () => Promise<Answer> | Answer): Promise<void> {
  let got;
  try {
    got = await cache.get(key, compute);
  } catch (err) {
    if (!(err instanceof BusyError)) throw err;
    ctx.status = 503;
    ctx.set('Retry-After', String(err.retryAfterSeconds));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.message };
    return;
  }
  const { entry, age } = got;
  ctx.status = entry.status;
  for (const [k, v] of Object.entries(entry.headers)) ctx.set(k, v);
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Age', String(Math.floor(age / 1000)));
  ctx.type = entry.type;
  if (entry.gzip) {
    ctx.set('Vary', 'Accept-Encoding');
    if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = entry.gzip;
      return;
    }
  }
  ctx.body = entry.body;
}
