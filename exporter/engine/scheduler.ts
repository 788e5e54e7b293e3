// Runs every check on its own interval, off the scrape path. First runs are spread over the
// interval (jitter) so a thousand checks don't fire in the same millisecond; a semaphore bounds
// how many run at once; a check never overlaps itself (a slow run delays its next one).
import { isDeepStrictEqual } from 'node:util';
import type { CheckCommon } from '../config/common.js';
import type { Logger } from '../log.js';
import { getProbeDefinition } from '../probes/index.js';
import type { Probe, ProbeEnv } from '../probes/types.js';
import { runCheck } from './runner.js';
import type { CheckResult, StateStore } from './state.js';

interface Entry {
  check: CheckCommon;
  probe: Probe;
  timer?: NodeJS.Timeout;
  running?: Promise<CheckResult>;
  stop: AbortController;
}

export interface SchedulerOptions {
  state: StateStore;
  env: ProbeEnv;
  log: Logger;
  concurrency: number;
  jitter: number;
}

export class Scheduler {
  private entries = new Map<string, Entry>();
  private active = 0;
  private waiting: Array<() => void> = [];
  private started = false;

  constructor(private opts: SchedulerOptions) {}

  /** Names of checks whose config is identical in `checks`: their state and timers survive. */
  unchangedIn(checks: CheckCommon[]): Set<string> {
    const out = new Set<string>();
    for (const c of checks) {
      const e = this.entries.get(c.name);
      if (e && isDeepStrictEqual(e.check, c)) out.add(c.name);
    }
    return out;
  }

  /** Replace the set of checks. Unchanged checks keep running untouched. */
  update(checks: CheckCommon[], tuning: { concurrency?: number; jitter?: number } = {}, unchanged = this.unchangedIn(checks)): void {
    this.opts.concurrency = tuning.concurrency ?? this.opts.concurrency;
    this.opts.jitter = tuning.jitter ?? this.opts.jitter;
    const wanted = new Map(checks.filter((c) => c.enabled).map((c) => [c.name, c]));
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name) || !unchanged.has(name)) this.remove(name, entry);
    }
    for (const check of wanted.values()) {
      if (this.entries.has(check.name)) continue;
      const def = getProbeDefinition(check.type)!;
      const entry: Entry = { check, probe: def.create(check, this.opts.env), stop: new AbortController() };
      this.entries.set(check.name, entry);
      if (this.started) this.arm(entry, this.firstDelay(check));
    }
  }

  start(): void {
    this.started = true;
    for (const entry of this.entries.values()) this.arm(entry, this.firstDelay(entry.check));
  }

  async stop(): Promise<void> {
    this.started = false;
    const running = [...this.entries.values()].map((e) => e.running).filter(Boolean);
    for (const [name, entry] of this.entries) this.remove(name, entry);
    await Promise.allSettled(running);
  }

  /** Run a check now (manual run). If it is already running, that run's result is returned. */
  runNow(name: string): Promise<CheckResult> | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    return entry.running ?? this.execute(entry);
  }

  inFlight(): number {
    return this.active;
  }

  queued(): number {
    return this.waiting.length;
  }

  // First runs land within two seconds so a fresh start shows real status quickly; after that
  // each delay is stretched by up to ±5 % so checks that started together drift apart.
  private firstDelay(check: CheckCommon): number {
    return Math.floor(Math.random() * Math.min(check.interval, 2_000) * this.opts.jitter);
  }

  private nextDelay(check: CheckCommon, elapsed: number): number {
    const spread = 1 + (Math.random() - 0.5) * 0.1 * this.opts.jitter;
    return Math.max(0, check.interval * spread - elapsed);
  }

  private arm(entry: Entry, delay: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      const startedAt = Date.now();
      void this.execute(entry).finally(() => {
        if (!this.started || this.entries.get(entry.check.name) !== entry) return;
        const elapsed = Date.now() - startedAt;
        this.arm(entry, this.nextDelay(entry.check, elapsed));
      });
    }, delay);
    entry.timer.unref?.();
  }

  private execute(entry: Entry): Promise<CheckResult> {
    if (entry.running) return entry.running;
    const run = (async () => {
      await this.acquire();
      try {
        const result = await runCheck(entry.check, entry.probe, { signal: entry.stop.signal, log: this.opts.log });
        if (this.entries.get(entry.check.name) === entry) this.opts.state.record(result);
        return result;
      } finally {
        this.release();
      }
    })();
    entry.running = run;
    void run.catch((err) => this.opts.log.error('check run failed unexpectedly', { check: entry.check.name, error: err }))
      .finally(() => { if (entry.running === run) entry.running = undefined; });
    return run;
  }

  private remove(name: string, entry: Entry): void {
    clearTimeout(entry.timer);
    entry.stop.abort();
    this.entries.delete(name);
    const close = async () => {
      await entry.running?.catch(() => {});
      await entry.probe.close?.();
    };
    close().catch((err) => this.opts.log.warn('closing probe failed', { check: name, error: err }));
  }

  private acquire(): Promise<void> {
    if (this.active < this.opts.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => { this.active++; resolve(); }));
  }

  private release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next();
  }
}
