// A long-lived connection (pool, client) that a probe keeps between runs and rebuilds after a
// failure: bounded attempts, a per-attempt connect timeout, and a doubling delay between
// attempts, all inside the run's deadline. Used by the postgres, mysql, sql and redis probes.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { duration } from '../../config/units.js';
import { abortError, errorMessage } from './errors.js';

/** Schema fields shared by every probe that keeps a connection. */
export const connectFields = {
  /** Per-attempt limit for establishing a connection (also capped by the check's timeout). */
  connect_timeout: duration.default(5_000),
  /** Attempts to (re)build the connection within one run before the run fails. */
  connect_attempts: z.number().int().min(1).max(10).default(3),
  /** Delay before the second attempt; doubles for each further attempt. */
  connect_retry_delay: duration.default(1_000),
};

export interface ConnectSettings {
  connect_timeout: number;
  connect_attempts: number;
  connect_retry_delay: number;
}

export interface ReconnectingOptions<T> extends ConnectSettings {
  /** Open and verify a connection. Must give up (and clean up) when `signal` aborts. */
  open(timeoutMs: number, signal: AbortSignal): Promise<T>;
  /** Release a connection; must not throw and must not wait long. */
  destroy(handle: T): Promise<void> | void;
  /** Connections can report that they broke while idle (server restarted). */
  isBroken?(handle: T): boolean;
}

export class Reconnecting<T> {
  private handle?: T;
  private opened = false;
  private closed = false;
  /** Connections built after an earlier one failed or broke (vigil_db_reconnects_total). */
  reconnects = 0;

  constructor(private opts: ReconnectingOptions<T>) {}

  /** The current connection, or a new one (up to connect_attempts tries). Throws the last error. */
  async get(signal: AbortSignal, deadline: number): Promise<T> {
    if (this.handle && this.opts.isBroken?.(this.handle)) this.invalidate();
    if (this.handle) return this.handle;
    if (this.closed) throw new Error('probe closed');
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.opts.connect_attempts; attempt++) {
      if (signal.aborted) throw abortError();
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const timeout = Math.min(this.opts.connect_timeout, remaining);
      const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
      try {
        const handle = await this.race(this.opts.open(timeout, attemptSignal), attemptSignal);
        if (this.closed) {
          await this.opts.destroy(handle);
          throw new Error('probe closed');
        }
        if (this.opened) this.reconnects++;
        this.opened = true;
        this.handle = handle;
        return handle;
      } catch (err) {
        lastErr = err;
        if (signal.aborted) throw err;
      }
      const delay = this.opts.connect_retry_delay * 2 ** (attempt - 1);
      if (attempt === this.opts.connect_attempts || Date.now() + delay >= deadline) {
        return this.fail(lastErr, attempt);
      }
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        throw abortError();
      }
    }
    return this.fail(lastErr ?? abortError(), this.opts.connect_attempts);
  }

  /** Drop the current connection (after a failure); the next get() builds a new one. */
  invalidate(): void {
    const h = this.handle;
    this.handle = undefined;
    if (h !== undefined) {
      this.opened = true;
      void Promise.resolve().then(() => this.opts.destroy(h)).catch(() => {});
    }
  }

  current(): T | undefined {
    return this.handle;
  }

  async close(): Promise<void> {
    this.closed = true;
    const h = this.handle;
    this.handle = undefined;
    if (h !== undefined) await this.opts.destroy(h);
  }

  private fail(err: unknown, attempts: number): never {
    const e = err as { code?: string; name?: string } | undefined;
    const out = new Error(`${errorMessage(err)} (${attempts} connect attempt${attempts === 1 ? '' : 's'})`);
    Object.assign(out, { code: e?.code, cause: err });
    if (e?.name === 'AbortError' || e?.name === 'TimeoutError') out.name = 'TimeoutError';
    throw out;
  }

  /** Settle with `p` or reject on abort; a handle that arrives after the abort is destroyed. */
  private race(p: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        const reason = signal.reason as Error | undefined;
        reject(reason?.name === 'TimeoutError' ? Object.assign(new Error('connect timed out'), { name: 'TimeoutError' }) : abortError());
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (h) => {
          signal.removeEventListener('abort', onAbort);
          if (settled) void Promise.resolve().then(() => this.opts.destroy(h)).catch(() => {});
          else { settled = true; resolve(h); }
        },
        (err) => {
          signal.removeEventListener('abort', onAbort);
          if (!settled) { settled = true; reject(err); }
        },
      );
    });
  }
}
