// Garbage-collection pauses from one PerformanceObserver, handed to every runtime set that wants
// them (the OpenTelemetry set and the prom-client-compatible one each keep their own histogram).

import { PerformanceObserver, constants } from 'node:perf_hooks';

/** v8js.gc.type values (and prom-client's `kind`): the same four words. */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export type GcListener = (kind: string, seconds: number) => void;

const listeners = new Set<GcListener>();
let observer: PerformanceObserver | undefined;

/** Calls `fn` for every GC pause until the returned function is called. */
export function onGc(fn: GcListener): () => void {
  listeners.add(fn);
  if (!observer) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        for (const l of listeners) l(kind, entry.duration / 1000);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0 && observer) {
      observer.disconnect();
      observer = undefined;
    }
  };
}
