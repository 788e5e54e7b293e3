// The prom-client-compatible runtime set (opt-in: VIGIL_RUNTIME_METRICS=prom-client): the families,
// label names and types of prom-client's collectDefaultMetrics(), so that dashboards built for it
// (Grafana 11159 "NodeJS Application Dashboard" and its many copies) work for an app under
// vigil/instrument. Rendered as Prometheus text by our own code, read at scrape time.
//
// One deliberate difference: prom-client declares nodejs_active_{handles,requests,resources}_total
// as gauges, which `promtool check metrics` rejects (a gauge must not end in _total). Dashboards
// query those names, so they are kept, typed `untyped` (what the text format offers for a value
// whose type it does not state): promtool accepts it and PromQL treats it as a gauge. The typed
// per-type gauges (nodejs_active_handles{type}, …) carry the same figures.
//
// Event-loop figures cover the shared rolling window (eventloop.ts) instead of "since the last
// scrape", so several scrapers do not reset each other.

import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { eventLoopWindow, type DelayStats } from './eventloop.js';
import { onGc } from './gc.js';
import { LeanHistogram } from './histogram.js';
import { PROM_CLIENT_GC_BUCKETS } from './names.js';

type Type = 'gauge' | 'counter' | 'histogram' | 'untyped';
type Labels = Record<string, string>;

const VERSION = process.version;
const [MAJOR, MINOR, PATCH] = VERSION.slice(1).split('.');

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  return v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
}

/** Counts objects or names by their class/type name (prom-client's grouping of handles and requests). */
function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

const className = (o: unknown): string | undefined => {
  const name = (o as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
};

interface Internals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
}

/** VmRSS, VmSize, VmData of /proc/self/status in bytes (Linux; undefined elsewhere). */
function procStatus(): Record<string, number> | undefined {
  try {
    const out: Record<string, number> = {};
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(VmRSS|VmSize|VmData):\s+(\d+)\s+kB/.exec(line);
      if (m) out[m[1]!] = Number(m[2]) * 1024;
    }
    return out;
  } catch {
    return undefined;
  }
}

function maxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const n = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export class PromClientRuntime {
  readonly gc = new LeanHistogram({
    promName: 'nodejs_gc_duration_seconds',
    otelName: 'nodejs.gc.duration',
    description: 'Garbage collection pauses by kind (major, minor, incremental, weakcb).',
    unit: 's',
    boundaries: PROM_CLIENT_GC_BUCKETS,
  });
  private readonly startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  private readonly maxFds = process.platform === 'linux' ? maxFds() : undefined;
  private lag = 0;
  private stopGc: (() => void) | undefined;
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    eventLoopWindow.start();
    this.stopGc = onGc((kind, seconds) => this.gc.record(kind, () => ({ kind }), seconds));
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    eventLoopWindow.stop();
    this.stopGc?.();
  }

  /** The whole set as Prometheus text 0.0.4, families separated by newlines. */
  render(): string {
    const out: string[] = [];
    // A labelled family with no sample yet still declares itself (as prom-client does).
    const family = (name: string, type: Type, help: string, samples: Array<[Labels, number]>): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${num(value)}`);
    };
    const one = (name: string, type: Type, help: string, value: number | undefined): void => {
      if (value !== undefined && Number.isFinite(value)) family(name, type, help, [[{}, value]]);
    };

    const cpu = process.cpuUsage();
    one('process_cpu_user_seconds_total', 'counter', 'User CPU time used by the process, in seconds.', cpu.user / 1e6);
    one('process_cpu_system_seconds_total', 'counter', 'System CPU time used by the process, in seconds.', cpu.system / 1e6);
    one('process_cpu_seconds_total', 'counter', 'User and system CPU time used by the process, in seconds.', (cpu.user + cpu.system) / 1e6);
    one('process_start_time_seconds', 'gauge', 'Start time of the process, seconds since the Unix epoch.', this.startSeconds);
    const status = process.platform === 'linux' ? procStatus() : undefined;
    one('process_resident_memory_bytes', 'gauge', 'Resident memory of the process, in bytes.', status?.VmRSS ?? process.memoryUsage.rss());
    if (status) {
      one('process_virtual_memory_bytes', 'gauge', 'Virtual memory of the process, in bytes.', status.VmSize);
      one('process_heap_bytes', 'gauge', 'Data segment (heap) of the process, in bytes.', status.VmData);
    }
    if (process.platform === 'linux') {
      let fds: number | undefined;
      try {
        fds = readdirSync('/proc/self/fd').length - 1; // minus the one readdir itself held
      } catch {
        fds = undefined;
      }
      one('process_open_fds', 'gauge', 'Open file descriptors of the process.', fds);
      one('process_max_fds', 'gauge', 'Limit of open file descriptors of the process.', this.maxFds);
    }

    // Event-loop lag: one setImmediate delay, measured now and reported by the next scrape (as
    // prom-client does); the distribution figures come from monitorEventLoopDelay (raw, seconds).
    one('nodejs_eventloop_lag_seconds', 'gauge', 'Event loop lag: the delay of one setImmediate, in seconds.', this.lag);
    const t0 = process.hrtime.bigint();
    setImmediate(() => {
      this.lag = Number(process.hrtime.bigint() - t0) / 1e9;
    });
    const d = eventLoopWindow.delayStats();
    const stat = (s: keyof DelayStats, what: string) =>
      one(`nodejs_eventloop_lag_${s}_seconds`, 'gauge', `${what} event loop delay over the last window, in seconds.`, d?.[s] ?? 0);
    stat('min', 'Minimum');
    stat('max', 'Maximum');
    stat('mean', 'Mean');
    stat('stddev', 'Standard deviation of the');
    stat('p50', '50th percentile');
    stat('p90', '90th percentile');
    stat('p99', '99th percentile');

    const byType = (m: Map<string, number>): Array<[Labels, number]> => [...m].map(([type, n]) => [{ type }, n]);
    const resources = process.getActiveResourcesInfo();
    family('nodejs_active_resources', 'gauge', 'Resources keeping the event loop alive, by type.', byType(countBy(resources, (r) => r)));
    one('nodejs_active_resources_total', 'untyped', 'Resources keeping the event loop alive (a gauge; untyped only because of the _total name dashboards expect).', resources.length);
    const internals = process as unknown as Internals;
    if (typeof internals._getActiveHandles === 'function') {
      const handles = internals._getActiveHandles();
      family('nodejs_active_handles', 'gauge', 'Active libuv handles, by handle class.', byType(countBy(handles, className)));
      one('nodejs_active_handles_total', 'untyped', 'Active libuv handles (a gauge; untyped only because of the _total name dashboards expect).', handles.length);
    }
    if (typeof internals._getActiveRequests === 'function') {
      const requests = internals._getActiveRequests();
      family('nodejs_active_requests', 'gauge', 'Active libuv requests, by request class.', byType(countBy(requests, className)));
      one('nodejs_active_requests_total', 'untyped', 'Active libuv requests (a gauge; untyped only because of the _total name dashboards expect).', requests.length);
    }

    const mem = process.memoryUsage();
    one('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap allocated, in bytes.', mem.heapTotal);
    one('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used, in bytes.', mem.heapUsed);
    one('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript objects, in bytes.', mem.external);
    const spaces = v8.getHeapSpaceStatistics();
    // prom-client's `space` label is the V8 space name without its `_space` suffix.
    const space = (s: v8.HeapSpaceInfo) => ({ space: s.space_name.replace(/_space$/, '') });
    family('nodejs_heap_space_size_total_bytes', 'gauge', 'V8 heap space size, by space, in bytes.', spaces.map((s) => [space(s), s.space_size]));
    family('nodejs_heap_space_size_used_bytes', 'gauge', 'V8 heap space used, by space, in bytes.', spaces.map((s) => [space(s), s.space_used_size]));
    family('nodejs_heap_space_size_available_bytes', 'gauge', 'V8 heap space available, by space, in bytes.', spaces.map((s) => [space(s), s.space_available_size]));
    family('nodejs_version_info', 'gauge', 'Node.js version: always 1.', [[{ version: VERSION, major: MAJOR!, minor: MINOR!, patch: PATCH! }, 1]]);

    out.push('# HELP nodejs_gc_duration_seconds Garbage collection pauses by kind (major, minor, incremental, weakcb), in seconds.');
    out.push('# TYPE nodejs_gc_duration_seconds histogram');
    for (const s of this.gc.snapshot()) {
      if (s.count === 0) continue;
      const kind = `kind="${escapeLabel(String(s.attributes.kind ?? 'other'))}"`;
      let cumulative = 0;
      this.gc.boundaries.forEach((le, i) => {
        cumulative += s.counts[i]!;
        out.push(`nodejs_gc_duration_seconds_bucket{le="${num(le)}",${kind}} ${cumulative}`);
      });
      out.push(`nodejs_gc_duration_seconds_bucket{le="+Inf",${kind}} ${s.count}`);
      out.push(`nodejs_gc_duration_seconds_sum{${kind}} ${num(s.sum)}`);
      out.push(`nodejs_gc_duration_seconds_count{${kind}} ${s.count}`);
    }
    return out.join('\n') + '\n';
  }
}
