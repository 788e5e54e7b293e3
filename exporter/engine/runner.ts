// Runs one check to completion: attempts with a hard timeout each, retries with a delay,
// containment of probes that throw, hang or return garbage, then threshold evaluation.
// Everything every probe shares lives here, once (blackbox's prober.go does the same).
import { performance } from 'node:perf_hooks';
import type { CheckCommon } from '../model/check.js';
import { redact } from '../config/secrets.js';
import { evaluate, summarize } from '../health/evaluate.js';
import type { Logger } from '../log.js';
import { roundMicros } from '../model/units.js';
import { classifyError, errorMessage } from '../probes/support/errors.js';
import { FAILURE_REASONS, type CheckResult, type ProbeResult, type Sample } from '../model/result.js';
import type { MetricSpec } from '../model/metric.js';
import { PROBE_MARGIN_MS, type Probe, type ProbeRunContext } from '../probes/types.js';

export interface RunOptions {
  /** Aborts everything (exporter stopping, check removed). */
  signal?: AbortSignal;
  /** The same for the scheduler, without an AbortController of its own per run (see RunStop). */
  stop?: RunStop;
  log: Logger;
  /** The scheduler's concurrency slot: given back while waiting between attempts, taken again to retry. */
  slot?: { acquire(): Promise<void>; release(): void };
  /**
   * The families the check's kind declared, with their labels (declaredFamilies()). A sample of
   * any other family, or with other labels, fails the run as invalid_result: the metrics layer
   * would have nowhere to put it, and dropping it quietly hid a kind's mistake.
   */
  families?: DeclaredFamilies;
}

/** family -> its labels, in the order the spec lists them. */
export type DeclaredFamilies = ReadonlyMap<string, readonly string[]>;

const declaredCache = new WeakMap<{ metrics: MetricSpec[] }, DeclaredFamilies>();

/**
 * Stops a run in flight: the attempt running is aborted and no other starts. The scheduler makes
 * one per run; an AbortController in its place was one more EventTarget per run (~1.4 KB
 * allocated) and a listener added to and removed from it by every attempt.
 */
export class RunStop {
  stopped = false;
  /** Aborts the attempt running, or ends the wait before a retry. */
  current?: () => void;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.current?.();
  }
}

const stopped = (opts: RunOptions): boolean => opts.signal?.aborted === true || opts.stop?.stopped === true;

/** The delay before a retry; over early when the run is stopped. */
function retryDelay(ms: number, opts: RunOptions): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', done);
      if (opts.stop) opts.stop.current = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    opts.signal?.addEventListener('abort', done, { once: true });
    if (opts.stop) opts.stop.current = done;
  });
}

/** The families a kind declares, for RunOptions.families (built once per kind). */
export function declaredFamilies(kind: { metrics: MetricSpec[] }): DeclaredFamilies {
  let out = declaredCache.get(kind);
  if (!out) declaredCache.set(kind, (out = new Map(kind.metrics.map((m) => [m.name, m.labels ?? []]))));
  return out;
}

export async function runCheck(check: CheckCommon, probe: Probe, opts: RunOptions): Promise<CheckResult> {
  const startedAt = Date.now();
  let attempt = 0;
  let result: ProbeResult;
  let duration: number;
  for (;;) {
    attempt++;
    ({ result, duration } = await attemptOnce(check, probe, attempt, opts));
    if (result.ok || attempt > check.retries || stopped(opts)) break;
    opts.log.debug('attempt failed, retrying', { check: check.name, attempt, reason: result.reason, error: result.message });
    // A retry delay is idle time: holding a slot through it starved other checks of slots.
    opts.slot?.release();
    await retryDelay(check.retry_delay, opts);
    if (stopped(opts)) break;
    await opts.slot?.acquire();
    if (stopped(opts)) break;
  }
  // sanitize() gave this run its own array, so appending is safe.
  const samples = result.samples;
  samples.push({ key: 'response_time', metric: 'probe_duration_seconds', value: duration });
  const verdict = evaluate({ ok: result.ok, reason: result.reason, samples }, check.thresholds, check.on_failure);
  const message = summarize(result.ok ? undefined : redact(result.message ?? result.reason ?? 'failed'), verdict.violations);
  return {
    check: check.name,
    ok: result.ok,
    reason: result.ok ? undefined : result.reason ?? 'error',
    message: message && redact(message),
    status: verdict.status,
    violations: verdict.violations,
    duration,
    samples,
    info: result.info,
    attempts: attempt,
    startedAt,
    finishedAt: Date.now(),
  };
}

async function attemptOnce(check: CheckCommon, probe: Probe, attempt: number, opts: RunOptions): Promise<{ result: ProbeResult; duration: number }> {
  // A run that waited for a slot while its check was removed (or the exporter stopped) must not
  // start a probe: 'abort' never fires for an already aborted signal, so it would hold its slot
  // for its whole timeout, and stop() waits for it.
  if (stopped(opts)) return { result: { ok: false, reason: 'timeout', message: 'check stopped before it ran', samples: [] }, duration: 0 };
  const ctx = new AttemptContext(Date.now() + check.timeout, attempt, opts.log);
  const onStop = () => ctx.abort();
  opts.signal?.addEventListener('abort', onStop, { once: true });
  if (opts.stop) opts.stop.current = onStop;
  let timer: NodeJS.Timeout | undefined;
  // The race guarantees the timeout even for a probe that ignores its signal and never settles.
  const timedOut = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      ctx.abort();
      resolve({ ok: false, reason: 'timeout', message: `timed out after ${check.timeout / 1000}s`, samples: [] });
    }, check.timeout);
  });
  const t0 = performance.now();
  let result: ProbeResult;
  try {
    const running = Promise.resolve()
      .then(() => probe.run(ctx))
      .then((r) => sanitize(r, opts.families), (err: unknown): ProbeResult => {
        if (ctx.aborted) return { ok: false, reason: 'timeout', message: `timed out after ${check.timeout / 1000}s`, samples: [] };
        return { ok: false, reason: classifyError(err), message: errorMessage(err), samples: [] };
      });
    result = await Promise.race([running, timedOut]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onStop);
    if (opts.stop) opts.stop.current = undefined;
  }
  return { result, duration: roundMicros((performance.now() - t0) / 1000) };
}

/**
 * What an attempt gives its probe. The AbortSignal is made when a probe first reads it: the
 * http probe, the one that runs a thousand times a second, uses onAbort() instead, and an
 * AbortController with a listener added and removed was ~2 KB allocated and ~3 % of the main
 * thread per run.
 */
class AttemptContext implements ProbeRunContext {
  aborted = false;
  private controller?: AbortController;
  private hooks?: Array<() => void>;

  constructor(readonly deadline: number, readonly attempt: number, readonly log: Logger) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  remaining(margin = PROBE_MARGIN_MS): number {
    return Math.max(1, this.deadline - margin - Date.now());
  }

  onAbort(fn: () => void): () => void {
    if (this.aborted) {
      fn();
      return () => {};
    }
    (this.hooks ??= []).push(fn);
    return () => {
      const i = this.hooks?.indexOf(fn) ?? -1;
      if (i >= 0) this.hooks!.splice(i, 1);
    };
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
    const hooks = this.hooks;
    this.hooks = undefined;
    for (const fn of hooks ?? []) fn();
  }
}

const REASONS = new Set<string>(FAILURE_REASONS);

/** A sample whose family or labels its kind did not declare, described; undefined when it is declared. */
function undeclared(s: Sample, families: DeclaredFamilies): string | undefined {
  const labels = families.get(s.metric);
  if (!labels) return `family ${s.metric}`;
  for (const k in s.labels) if (!labels.includes(k)) return `label ${k} of ${s.metric}`;
  return undefined;
}

/** A probe's return value is untrusted: anything malformed becomes a failed run, not a crash. */
function sanitize(value: unknown, families?: DeclaredFamilies): ProbeResult {
  const r = value as ProbeResult;
  if (!r || typeof r !== 'object' || typeof r.ok !== 'boolean' || !Array.isArray(r.samples)) {
    return { ok: false, reason: 'invalid_result', message: 'probe returned an invalid result', samples: [] };
  }
  const samples: Sample[] = [];
  for (const s of r.samples) {
    if (!s || typeof s.key !== 'string' || typeof s.metric !== 'string' || typeof s.value !== 'number' || Number.isNaN(s.value)) continue;
    const wrong = families && undeclared(s, families);
    if (wrong) return { ok: false, reason: 'invalid_result', message: `probe returned a sample of an undeclared ${wrong} (key ${s.key})`, samples: [] };
    samples.push(s);
  }
  const reason = r.ok ? undefined : REASONS.has(r.reason as string) ? r.reason : 'error';
  return { ok: r.ok, reason, message: typeof r.message === 'string' ? r.message.slice(0, 1000) : undefined, samples, info: r.info };
}
