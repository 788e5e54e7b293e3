// `vigil/api`: the app's own signals, recorded on the OpenTelemetry meter `vigil` (the global
// MeterProvider that `vigil/instrument` installs; without it every call is a cheap no-op).
//
//   recordDelivery({ channel: 'email', outcome: 'delivered', attempt: 1, durationMs: 120 })
//   await trackJob('nightly-report', async () => { ... })
//
// Label values are bounded by design (see labels.ts and docs/instrumentation.md): a channel, job
// or reason that looks unbounded, or one past the per-label limit, is recorded as "other".
// Nothing here throws into the app: bad input is folded, or dropped with a one-time warning.

import { metrics, type Counter, type Gauge, type Histogram, type UpDownCounter } from '@opentelemetry/api';
import { LabelGuard, warnOnce } from './labels.js';
import { API_METER, API_METRICS, ATTEMPT_BUCKETS, DELIVERY_BUCKETS, JOB_BUCKETS } from './names.js';

export type DeliveryOutcome = 'delivered' | 'failed' | 'retried' | 'dropped';
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'failed', 'retried', 'dropped'];

export interface Delivery {
  /** Bounded name of the channel: `email`, `sms`, `webhook`, `pagerduty`, … (at most 32 distinct). */
  channel: string;
  /**
   * `delivered`: accepted by the provider; `failed`: gave up after the last attempt;
   * `retried`: this attempt failed and another one follows; `dropped`: not sent on purpose
   * (expired, unsubscribed, rate-limited, invalid address).
   */
  outcome: DeliveryOutcome;
  /** Bounded failure reason (`timeout`, `http_5xx`, `bounce`, …; at most 32 distinct); not an error message. */
  reason?: string;
  /** 1 for the first attempt. Recorded in the attempts histogram for final outcomes (not `retried`). */
  attempt: number;
  /** Duration of this attempt in milliseconds. */
  durationMs: number;
}

interface Instruments {
  deliveries: Counter;
  deliveryDuration: Histogram;
  deliveryAttempts: Histogram;
  deliveryFailures: Counter;
  jobRuns: Counter;
  jobDuration: Histogram;
  jobLastSuccess: Gauge;
  jobInProgress: UpDownCounter;
}

let instruments: Instruments | undefined;
let instrumentsProvider: unknown;

/** The instruments, or undefined while no MeterProvider is installed (OTEL_SDK_DISABLED, no preload). */
function get(): Instruments | undefined {
  // Created lazily, and again if the global MeterProvider changed (e.g. set after this module loaded).
  const provider = metrics.getMeterProvider();
  if (instruments && instrumentsProvider === provider) return instruments;
  if ((provider as { constructor?: { name?: string } }).constructor?.name === 'NoopMeterProvider') return undefined;
  const meter = metrics.getMeter(API_METER);
  instrumentsProvider = provider;
  instruments = {
    deliveries: meter.createCounter(API_METRICS.deliveries, {
      description: 'Outbound message deliveries by channel and outcome (each attempt counts once).',
    }),
    deliveryDuration: meter.createHistogram(API_METRICS.deliveryDuration, {
      description: 'Duration of one delivery attempt.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DELIVERY_BUCKETS] },
    }),
    deliveryAttempts: meter.createHistogram(API_METRICS.deliveryAttempts, {
      description: 'Attempts a message took to reach a final outcome (delivered, failed or dropped).',
      advice: { explicitBucketBoundaries: [...ATTEMPT_BUCKETS] },
    }),
    deliveryFailures: meter.createCounter(API_METRICS.deliveryFailures, {
      description: 'Failed, retried and dropped delivery attempts by channel and bounded reason.',
    }),
    jobRuns: meter.createCounter(API_METRICS.jobRuns, { description: 'Completed job runs by outcome (success, failure).' }),
    jobDuration: meter.createHistogram(API_METRICS.jobDuration, {
      description: 'Duration of job runs.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...JOB_BUCKETS] },
    }),
    jobLastSuccess: meter.createGauge(API_METRICS.jobLastSuccess, {
      description: 'End of the last successful run, seconds since the Unix epoch.',
      unit: 's',
    }),
    jobInProgress: meter.createUpDownCounter(API_METRICS.jobInProgress, { description: 'Runs of the job in progress now.' }),
  };
  seenChannels.clear();
  seenJobs.clear();
  return instruments;
}

const channels = new LabelGuard('recordDelivery channel', 32);
const reasons = new LabelGuard('recordDelivery reason', 32);
const jobs = new LabelGuard('trackJob name', 100);
const seenChannels = new Set<string>();
const seenJobs = new Set<string>();

/** Records one delivery attempt of an outbound notification. Never throws. */
export function recordDelivery(d: Delivery): void {
  try {
    if (!d || typeof d !== 'object') {
      warnOnce('recordDelivery:arg', 'recordDelivery: expected an object {channel, outcome, attempt, durationMs}; call ignored');
      return;
    }
    if (!DELIVERY_OUTCOMES.includes(d.outcome)) {
      warnOnce('recordDelivery:outcome', `recordDelivery: outcome must be one of ${DELIVERY_OUTCOMES.join(', ')}; call ignored`);
      return;
    }
    const i = get();
    if (!i) return;
    const channel = channels.fold(d.channel);
    if (!seenChannels.has(channel)) {
      // Zero series for every outcome, so that rate()/increase() work from the first failure on.
      seenChannels.add(channel);
      for (const outcome of DELIVERY_OUTCOMES) i.deliveries.add(0, { channel, outcome });
    }
    const attrs = { channel, outcome: d.outcome };
    i.deliveries.add(1, attrs);
    if (typeof d.durationMs === 'number' && Number.isFinite(d.durationMs) && d.durationMs >= 0) {
      i.deliveryDuration.record(d.durationMs / 1000, attrs);
    }
    if (d.outcome !== 'retried') {
      const attempt = typeof d.attempt === 'number' && Number.isFinite(d.attempt) && d.attempt >= 1 ? Math.floor(d.attempt) : 1;
      i.deliveryAttempts.record(attempt, { channel });
    }
    if (d.outcome !== 'delivered') {
      const reason = d.reason === undefined || d.reason === '' ? 'unknown' : reasons.fold(d.reason);
      i.deliveryFailures.add(1, { channel, outcome: d.outcome, reason });
    }
  } catch {
    // Recording must never break a delivery.
  }
}

/**
 * Runs a scheduled job or agent and records it: runs by outcome, duration, last success and
 * in-progress count. Returns (or rejects with) what `fn` returns (or throws).
 */
export async function trackJob<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  let job = 'other';
  let i: Instruments | undefined;
  try {
    i = get();
    if (i) job = jobs.fold(name);
    if (i && !seenJobs.has(job)) {
      seenJobs.add(job);
      i.jobRuns.add(0, { job, outcome: 'success' });
      i.jobRuns.add(0, { job, outcome: 'failure' });
    }
    i?.jobInProgress.add(1, { job });
  } catch {
    i = undefined;
  }
  const t0 = performance.now();
  let ok = false;
  try {
    const result = await fn();
    ok = true;
    return result;
  } finally {
    if (i) {
      try {
        const attrs = { job };
        i.jobInProgress.add(-1, attrs);
        i.jobDuration.record((performance.now() - t0) / 1000, attrs);
        i.jobRuns.add(1, { job, outcome: ok ? 'success' : 'failure' });
        if (ok) i.jobLastSuccess.record(Date.now() / 1000, attrs);
      } catch {
        // never mask the job's own result
      }
    }
  }
}

const kRoute = Symbol.for('vigil.instrument.route');

/**
 * Sets http.route for a request handled without a router we recognise (koa + @koa/router and
 * express are automatic). `route` must be a template (`/users/:id`), never the raw URL.
 */
export function setHttpRoute(req: object, route: string): void {
  if (req && typeof req === 'object' && typeof route === 'string') (req as Record<symbol, unknown>)[kRoute] = route;
}
