// The exporter watching itself: memory and event-loop delay. A stalled event loop delays every
// probe and scrape, so it is the first thing to look at when checks time out together.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { z } from 'zod';
import type { CheckCommon } from '../model/check.js';
import { defaultHeadline, figure } from './support/headline.js';
import type { ProbeDefinition } from './types.js';
import type { ProbeResult } from '../model/result.js';

const schema = z.object({});
export type ProcessCheck = CheckCommon & z.output<typeof schema>;

export const processProbe: ProbeDefinition<ProcessCheck> = {
  type: 'process',
  doc: {
    what: 'the exporter itself: RSS, heap, event-loop delay',
    thresholds: '`resident_memory`, `heap_used` (80 %/95 %), `event_loop_delay` (200 ms/1 s)',
  },
  schema,
  reasons: [],
  metrics: [
    { name: 'vigil_process_resident_memory_bytes', help: 'Resident memory of the Vigil exporter.' },
    { name: 'vigil_process_heap_used_ratio', help: 'V8 heap in use as a ratio of the heap size limit.' },
    { name: 'vigil_process_event_loop_delay_seconds', help: '99th percentile event-loop delay of the exporter since the previous run.' },
  ],
  thresholdKeys: () => ['resident_memory', 'heap_used', 'event_loop_delay'],
  headline: (samples) => figure(samples, 'resident_memory', 'RSS') ?? defaultHeadline(samples),
  defaultThresholds: () => ({
    event_loop_delay: { warning: 0.2, critical: 1, direction: 'above' as const },
    heap_used: { warning: 0.8, critical: 0.95, direction: 'above' as const },
  }),
  create: () => {
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    return {
      run: async (): Promise<ProbeResult> => {
        const p99 = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
        delay.reset();
        const heap = v8.getHeapStatistics();
        return {
          ok: true,
          samples: [
            { key: 'resident_memory', metric: 'vigil_process_resident_memory_bytes', value: process.memoryUsage.rss() },
            { key: 'heap_used', metric: 'vigil_process_heap_used_ratio', value: heap.used_heap_size / heap.heap_size_limit },
            { key: 'event_loop_delay', metric: 'vigil_process_event_loop_delay_seconds', value: p99 },
          ],
        };
      },
      close: () => { delay.disable(); },
    };
  },
};
