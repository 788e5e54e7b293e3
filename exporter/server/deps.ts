// What the routes may use, built once by the app (app.ts) from the runtime: each route file asks
// for the part it needs (`Pick<ServerDeps, ...>`), so a route cannot reach into the rest.
import type { AlertReceiver } from '../alerts/receiver.js';
import type { VigilConfig } from '../config/schema.js';
import type { CheckRecord } from '../record/record.js';
import type { Maintenance } from '../maintenance/manager.js';
import type { Scheduler } from '../engine/scheduler.js';
import type { StateStore } from '../engine/state.js';
import type { StorageDir } from '../engine/storage-dir.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ProbeEnv } from '../probes/types.js';
import type { SelfTelemetry } from '../telemetry/otel.js';
import type { ReadCache } from './read-cache.js';
import type { SseHub } from './sse.js';
import type { OtherShards } from '../views/other-shards.js';

/** `actor`: who asked (route and client address, or the signal), for the record's reload event. */
export type ReloadFn = (actor?: string) => ReloadResult;
/** restart_needed: what a successful reload could not apply (a change of the storage section). */
export type ReloadResult = { ok: true; checks: number; restart_needed?: string[] } | { ok: false; problems: string[] };

export interface ServerDeps {
  state: StateStore;
  /** The running config (it changes on reload); undefined before the first one is applied. */
  config: () => VigilConfig | undefined;
  /** Expensive reads are answered from here (one per exporter, emptied on reload). */
  readCache: ReadCache;
  /** The status page's live feed (one per exporter). */
  hub: SseHub;
  alerts: AlertReceiver;
  scheduler: Pick<Scheduler, 'runNow'>;
  storage: Pick<StorageDir, 'problem'>;
  metrics: Pick<Metrics, 'writeTo'>;
  /** The durable record (vigil.db): its online backup, its reads (events, incidents, the rollups long reports read) and the operator actions it records. */
  record: Pick<CheckRecord, 'backup' | 'read' | 'readEvents' | 'addEvent' | 'periodTotals' | 'dataSince' | 'checkIncidents'>;
  /** Input stores written by HTTP endpoints and read by probes (heartbeats), by name. */
  stores: Record<string, unknown>;
  reload: ReloadFn;
  /** Maintenance windows and acknowledgements (exporter/maintenance/). */
  maintenance: Maintenance;
  otel?: SelfTelemetry;
  /** What GET /probe's one-off probes get (the scheduler's probes get the same). */
  probeEnv: ProbeEnv;
  /** The checks other shards run, with their latest status from the shared record (undefined when not sharded). */
  otherShards: () => Promise<OtherShards | undefined>;
}
