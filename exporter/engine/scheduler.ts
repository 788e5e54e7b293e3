// Runs every check on its own interval, off the scrape path. First runs are spread over the
// interval (jitter) so a thousand checks don't fire in the same millisecond; a semaphore bounds
// how many run at once; a check never overlaps itself (a slow run delays its next one).
//
// Fairness: a check whose last run held its slot for SLOW_RUN_MS or more, or timed out, is
// "slow". Slow checks together may hold at most three quarters of the slots, so a dead
// dependency behind hundreds of checks (each holding a slot for its full timeout) cannot take
// them all: the last quarter is always free for the others, and a 1 s canary keeps its
// interval. Waiters are served first come, first served among those allowed a slot.
import { isDeepStrictEqual } from 'node:util';
import type { CheckCommon } from '../model/check.js';
import type { Logger } from '../log.js';
import { getProbeDefinition } from '../probes/index.js';
import type { Probe, ProbeEnv } from '../probes/types.js';
import { declaredFamilies, runCheck, RunStop, type DeclaredFamilies } from './runner.js';
import type { CheckResult } from '../model/result.js';
import type { StateStore } from './state.js';

interface Entry {
  check: CheckCommon;
  probe: Probe;
  /** The families (and their labels) the check's kind declared: the only samples it may give. */
  families: DeclaredFamilies;
  /** When the next scheduled run is due (epoch ms); meaningful while queued. */
  due: number;
  /** In the due-queue. */
  queued: boolean;
  running?: Promise<CheckResult>;
  /**
   * Stops the run in flight; made per run. One AbortController kept per check was its
   * EventTarget and two maps — ~0.7 KB for each of 10 000 checks — and every attempt added and
   * removed a listener on it, reallocating the maps of an object in old space.
   */
  stop?: RunStop;
  /** Taken out of the schedule (reload, stop): a run that has not started must not. */
  removed: boolean;
  /** The last run held its slot for SLOW_RUN_MS or more, or timed out: it waits in the slow lane. */
  slow: boolean;
}

interface Waiter {
  seq: number;
  grant: () => void;
}

export interface SchedulerOptions {
  state: StateStore;
  env: ProbeEnv;
  log: Logger;
  /** Probe runs in flight at once and the spread of first runs: set by update() from the config's scheduler section until given here. */
  concurrency?: number;
  jitter?: number;
}

/** Runs due within this many ms of each other share one timer wake-up. */
const TICK_MS = 5;
/** A run holding its slot this long (or timing out) puts its check in the slow lane. */
export const SLOW_RUN_MS = 1_000;
/** First runs a second at most, once there are more checks than two seconds of them (see firstDelay). */
export const START_RATE = 1_000;
/** How often overdue checks are looked for (see StateStore.markLate). */
const LATE_SWEEP_MS = 1_000;

/** Slots slow checks may hold together: all but a quarter (at least one) of them. */
export function slowLaneCap(concurrency: number): number {
  return concurrency < 2 ? concurrency : concurrency - Math.max(1, Math.floor(concurrency / 4));
}

/** The span (ms) over which the first runs of `checks` checks are spread, for one of `interval` ms. */
export function firstRunWindow(checks: number, interval: number): number {
  return Math.min(interval, Math.max(2_000, (checks / START_RATE) * 1000));
}

export class Scheduler {
  private entries = new Map<string, Entry>();
  private active = 0;
  private slowActive = 0;
  private waitSeq = 0;
  private waitingFast: Waiter[] = [];
  private waitingSlow: Waiter[] = [];
  private lateTimer?: NodeJS.Timeout;
  private started = false;
  // One timer for the earliest due run, over a binary min-heap of entries by `due`, instead of
  // a timer per check: a thousand timers with jittered delays each allocated a Timeout that
  // lived a whole interval (and so was promoted to the old space) and churned Node's per-delay
  // timer lists.
  private heap: Entry[] = [];
  private timer?: NodeJS.Timeout;
  private timerDue = Infinity;
  private readonly onTimer = () => this.fire();

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
    this.dispatch(); // a larger concurrency frees slots for whoever waits
    const wanted = new Map(checks.filter((c) => c.enabled).map((c) => [c.name, c]));
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name) || !unchanged.has(name)) this.remove(name, entry);
    }
    for (const check of wanted.values()) {
      if (this.entries.has(check.name)) continue;
      const def = getProbeDefinition(check.type)!;
      const entry: Entry = { check, probe: def.create(check, this.opts.env), families: declaredFamilies(def), due: 0, queued: false, removed: false, slow: false };
      this.entries.set(check.name, entry);
      if (this.started) this.schedule(entry, this.firstDelay(check));
    }
  }

  start(): void {
    this.started = true;
    for (const entry of this.entries.values()) this.schedule(entry, this.firstDelay(entry.check));
    this.lateTimer = setInterval(() => this.opts.state.markLate(Date.now()), LATE_SWEEP_MS);
    this.lateTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.lateTimer);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    const running = [...this.entries.values()].map((e) => e.running).filter(Boolean);
    for (const [name, entry] of this.entries) this.remove(name, entry);
    this.heap = [];
    await Promise.allSettled(running);
  }

  /** Run a check now (manual run). If it is already running, that run's result is returned. */
  runNow(name: string): Promise<CheckResult> | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    return this.execute(entry);
  }

  inFlight(): number {
    return this.active;
  }

  queued(): number {
    return this.waitingFast.length + this.waitingSlow.length;
  }

  /** Slots held by checks in the slow lane (for tests and self-telemetry). */
  slowInFlight(): number {
    return this.slowActive;
  }

  // First runs land within two seconds so a fresh start shows real status quickly, or within
  // as many milliseconds as there are checks (at most START_RATE first runs a second) once
  // that is longer: 10 000 first runs in 2 s were five times the steady rate of 10 000 checks
  // at 10 s, more than two cores probe, so they timed out and a fresh exporter reported its
  // own overload as failing checks. After that each delay is stretched by up to ±5 % so
  // checks that started together drift apart.
  private firstDelay(check: CheckCommon): number {
    return Math.floor(Math.random() * firstRunWindow(this.entries.size, check.interval) * (this.opts.jitter ?? 1));
  }

  private nextDelay(check: CheckCommon, elapsed: number): number {
    const spread = 1 + (Math.random() - 0.5) * 0.1 * (this.opts.jitter ?? 1);
    return Math.max(0, check.interval * spread - elapsed);
  }

  private schedule(entry: Entry, delay: number): void {
    if (entry.queued) return; // its due time is already in the heap
    entry.due = Date.now() + delay;
    entry.queued = true;
    this.push(entry);
    this.armTimer();
  }

  /** Keep the one timer pointed at the earliest due run. */
  private armTimer(): void {
    const next = this.heap[0];
    if (!next || !this.started) return;
    if (this.timer && this.timerDue <= next.due) return;
    clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = setTimeout(this.onTimer, Math.max(0, next.due - Date.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const horizon = Date.now() + TICK_MS;
    while (this.heap.length && this.heap[0].due <= horizon) {
      const entry = this.pop();
      entry.queued = false;
      if (this.entries.get(entry.check.name) === entry) void this.cycle(entry);
    }
    this.armTimer();
  }

  /** One scheduled run, then the next one is queued. */
  private async cycle(entry: Entry): Promise<void> {
    const startedAt = Date.now();
    await this.execute(entry).catch(() => {});
    if (!this.started || this.entries.get(entry.check.name) !== entry) return;
    this.schedule(entry, this.nextDelay(entry.check, Date.now() - startedAt));
  }

  private execute(entry: Entry): Promise<CheckResult> {
    return entry.running ??= this.runOnce(entry);
  }

  private async runOnce(entry: Entry): Promise<CheckResult> {
    // The lane is fixed for the whole run, so release() gives back exactly what acquire() took.
    const slow = entry.slow;
    const stop = new RunStop();
    if (entry.removed) stop.stop();
    entry.stop = stop;
    let held = false;
    const slot = {
      acquire: async () => {
        if (held) return;
        await this.acquire(slow);
        held = true;
      },
      release: () => {
        if (!held) return;
        held = false;
        this.release(slow);
      },
    };
    await slot.acquire();
    try {
      const result = await runCheck(entry.check, entry.probe, { stop, log: this.opts.log, slot, families: entry.families });
      entry.slow = result.reason === 'timeout' || result.duration * 1000 >= SLOW_RUN_MS;
      if (this.entries.get(entry.check.name) === entry) this.opts.state.record(result);
      return result;
    } catch (err) {
      this.opts.log.error('check run failed unexpectedly', { check: entry.check.name, error: err });
      throw err;
    } finally {
      entry.running = undefined;
      entry.stop = undefined;
      slot.release();
    }
  }

  private push(entry: Entry): void {
    const h = this.heap;
    let i = h.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].due <= entry.due) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1].due < h[l].due ? l + 1 : l;
        if (h[c].due >= last.due) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  // A removed entry may stay in the heap until it comes due; fire() skips it.
  private remove(name: string, entry: Entry): void {
    entry.removed = true;
    entry.stop?.stop();
    this.entries.delete(name);
    const close = async () => {
      await entry.running?.catch(() => {});
      await entry.probe.close?.();
    };
    close().catch((err) => this.opts.log.warn('closing probe failed', { check: name, error: err }));
  }

  private mayTake(slow: boolean): boolean {
    const concurrency = this.opts.concurrency ?? 0; // none before the first config
    return this.active < concurrency && (!slow || this.slowActive < slowLaneCap(concurrency));
  }

  private take(slow: boolean): void {
    this.active++;
    if (slow) this.slowActive++;
  }

  private acquire(slow: boolean): Promise<void> {
    const lane = slow ? this.waitingSlow : this.waitingFast;
    // Nobody may overtake a waiter of its own lane.
    if (!lane.length && this.mayTake(slow)) {
      this.take(slow);
      return Promise.resolve();
    }
    return new Promise((resolve) => lane.push({ seq: this.waitSeq++, grant: () => { this.take(slow); resolve(); } }));
  }

  private release(slow: boolean): void {
    this.active--;
    if (slow) this.slowActive--;
    this.dispatch();
  }

  /** Hand free slots to waiters, oldest first among those allowed one (a slow one only under its cap). */
  private dispatch(): void {
    for (;;) {
      const fast = this.waitingFast[0];
      const slow = this.mayTake(true) ? this.waitingSlow[0] : undefined;
      if (!this.mayTake(false) || (!fast && !slow)) return;
      if (fast && (!slow || fast.seq < slow.seq)) this.waitingFast.shift()!.grant();
      else this.waitingSlow.shift()!.grant();
    }
  }
}
