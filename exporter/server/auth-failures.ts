// Failed authentications: counted, logged without flooding, and slowed down per client.
//
// Each failure is a metric increment. The log gets the first failure of a client in each
// 10 s period at once (remote address, method, path, kind — never what was presented), the
// rest as one aggregated line per client when the period ends, so 400 guesses are a handful of
// lines. A client that presented wrong credentials more than `free` times is answered 429 with
// Retry-After for 1 s, then 2 s, 4 s … up to `maxBackoffMs` per further failure, without its
// credentials being looked at (a guess answered during back-off would tell right from wrong).
// Clients are keyed by IPv4 address or IPv6 /64 (one host owns a /64); the table is bounded.
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../log.js';

export type AuthKind = 'basic' | 'status_page' | 'admin' | 'webhook' | 'heartbeat';
export const AUTH_KINDS: readonly AuthKind[] = ['basic', 'status_page', 'admin', 'webhook', 'heartbeat'];

export interface AuthFailureOptions {
  log: Logger;
  onFailure?: (kind: AuthKind) => void;
  onThrottled?: () => void;
  /** Wrong credentials a client may present before back-off starts. Default 10. */
  free?: number;
  /** Longest back-off. Default 5 min. */
  maxBackoffMs?: number;
  /** A client's count is forgotten this long after its last failure. Default 15 min. */
  forgetMs?: number;
  /** Clients tracked at once; the least recently failing is dropped first. Default 10 000. */
  maxClients?: number;
  /** Aggregation period of the log. Default 10 s. */
  logPeriodMs?: number;
  /** Clients logged individually per period; the rest are summed in one line. Default 20. */
  maxLogLines?: number;
  now?: () => number;
}

interface ClientState {
  failures: number;
  last: number;
  blockedUntil: number;
}

interface Pending {
  failures: number;
  throttled: number;
  kinds: Set<AuthKind>;
  lastPath: string;
}

export interface FailedRequest {
  ip: string;
  method: string;
  path: string;
}

export class AuthFailures {
  private readonly clients = new Map<string, ClientState>();
  private readonly pending = new Map<string, Pending>();
  private logged = new Set<string>();
  private loggedBlocks = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly free: number;
  private readonly maxBackoffMs: number;
  private readonly forgetMs: number;
  private readonly maxClients: number;
  private readonly logPeriodMs: number;
  private readonly maxLogLines: number;
  private readonly now: () => number;

  constructor(private readonly opts: AuthFailureOptions) {
    this.free = opts.free ?? 10;
    this.maxBackoffMs = opts.maxBackoffMs ?? 300_000;
    this.forgetMs = opts.forgetMs ?? 900_000;
    this.maxClients = opts.maxClients ?? 10_000;
    this.logPeriodMs = opts.logPeriodMs ?? 10_000;
    this.maxLogLines = opts.maxLogLines ?? 20;
    this.now = opts.now ?? Date.now;
  }

  /** Milliseconds this client must still wait, 0 if it may try. */
  blockedFor(ip: string): number {
    const c = this.clients.get(clientKey(ip));
    return c ? Math.max(0, c.blockedUntil - this.now()) : 0;
  }

  /**
   * A request whose credentials were missing (`presented` false: logged and counted, but it
   * guessed nothing, so no back-off) or wrong.
   */
  failed(req: FailedRequest, kind: AuthKind, presented: boolean): void {
    this.opts.onFailure?.(kind);
    const key = clientKey(req.ip);
    let backoffMs = 0;
    let failures = 0;
    if (presented) {
      const now = this.now();
      const prev = this.clients.get(key);
      const c = prev && now - prev.last < this.forgetMs ? prev : { failures: 0, last: now, blockedUntil: 0 };
      c.failures++;
      c.last = now;
      if (c.failures > this.free) {
        backoffMs = Math.min(1000 * 2 ** Math.min(c.failures - this.free - 1, 30), this.maxBackoffMs);
        c.blockedUntil = now + backoffMs;
      }
      failures = c.failures;
      this.clients.delete(key); // re-insert: the Map's order is least recently failing first
      this.clients.set(key, c);
      if (this.clients.size > this.maxClients) this.clients.delete(this.clients.keys().next().value!);
    }
    const fields = { remote: key, method: req.method, path: printable(req.path), kind, credentials: presented ? 'wrong' : 'missing' };
    // A client's first failure and each step of its back-off are told at once (within the
    // per-period budget); everything else is summed per client until the period ends.
    if (backoffMs) this.logNow(this.loggedBlocks, key, 'client throttled after repeated authentication failures', { ...fields, failures, retry_after_seconds: Math.ceil(backoffMs / 1000) }, kind, req.path);
    else this.logNow(this.logged, key, 'authentication failed', fields, kind, req.path);
  }

  /** A request refused with 429 during back-off. */
  throttled(req: FailedRequest): void {
    this.opts.onThrottled?.();
    const p = this.pendingFor(clientKey(req.ip));
    p.throttled++;
    p.lastPath = req.path;
  }

  /** Flush what is pending and stop the timer (shutdown, tests). */
  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private logNow(seen: Set<string>, key: string, msg: string, fields: Record<string, unknown>, kind: AuthKind, path: string): void {
    this.schedule();
    if (!seen.has(key) && seen.size < this.maxLogLines) {
      seen.add(key);
      this.opts.log.warn(msg, fields);
      return;
    }
    const p = this.pendingFor(key);
    p.failures++;
    p.kinds.add(kind);
    p.lastPath = path;
  }

  private pendingFor(key: string): Pending {
    this.schedule();
    let p = this.pending.get(key);
    if (!p) {
      // Bounded like the client table: past the cap, new clients only add to the summary line.
      if (this.pending.size >= this.maxClients) key = '(others)';
      p = this.pending.get(key) ?? { failures: 0, throttled: 0, kinds: new Set(), lastPath: '' };
      this.pending.set(key, p);
    }
    return p;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.logPeriodMs);
    this.timer.unref();
  }

  private flush(): void {
    const period = this.logPeriodMs / 1000;
    let i = 0;
    let restClients = 0;
    let restFailures = 0;
    let restThrottled = 0;
    for (const [key, p] of this.pending) {
      if (i++ < this.maxLogLines) {
        this.opts.log.warn('authentication failures (aggregated)', {
          remote: key, failures: p.failures, throttled: p.throttled, kinds: [...p.kinds].join(','), last_path: printable(p.lastPath), period_seconds: period,
        });
      } else {
        restClients++;
        restFailures += p.failures;
        restThrottled += p.throttled;
      }
    }
    if (restClients) this.opts.log.warn('authentication failures (aggregated)', { remote: `${restClients} more clients`, failures: restFailures, throttled: restThrottled, period_seconds: period });
    this.pending.clear();
    this.logged = new Set();
    this.loggedBlocks = new Set();
  }
}

/** Paths are attacker-chosen: keep log lines short and printable. */
function printable(p: string): string {
  const s = p.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** IPv4 address, or the /64 of an IPv6 address (a single host usually owns a whole /64). */
export function clientKey(ip: string): string {
  const addr = ip.replace(/%.*$/, '');
  if (addr.toLowerCase().startsWith('::ffff:') && isIPv4(addr.slice(7))) return addr.slice(7);
  if (!isIPv6(addr)) return addr;
  const groups = (s: string) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const [head, tail] = addr.split('::');
  const h = groups(head);
  const all = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - groups(tail).length)).fill('0'), ...groups(tail)];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
