// The top-level vigil.yml schema. Check entries are validated per type in load.ts, against the
// schema their probe module owns, so each problem points at the exact key.
import { z } from 'zod';
import { defaultsSchema, name, type Defaults } from './common.js';
import type { CheckCommon } from '../model/check.js';
import { duration } from './units.js';
import { allowEntry } from './probe-targets.js';
import { maintenanceWindowSchema, type MaintenanceWindowConfig } from './maintenance.js';

export const componentSchema = z.strictObject({
  name,
  description: z.string().max(500).optional(),
  depends_on: z.array(name).default([]),
});
export type Component = z.output<typeof componentSchema>;

export const eventsSchema = z.strictObject({
  /** Streams open at once, all clients together; more get 503. */
  max_streams: z.number().int().min(1).max(100_000).default(1000),
  /** Streams one client address (an IPv6 /64) may hold; more get 429. Raise it behind a reverse proxy, where every viewer has the proxy's address. */
  max_streams_per_client: z.number().int().min(1).max(100_000).default(8),
  /** A stream whose socket has accepted none of what was queued for this long is closed. */
  idle_timeout: duration.pipe(z.number().min(1000, 'idle_timeout must be at least 1s')).default(60_000),
  /** A stream is closed after this long (±10 %); the page reconnects at once and replays what it missed. */
  max_lifetime: duration.pipe(z.number().min(10_000, 'max_lifetime must be at least 10s')).default(3_600_000),
}).prefault({});

/** GET /probe?module=&target= (blackbox_exporter's endpoint). */
export const probeEndpointSchema = z.strictObject({
  /** Targets a caller may probe (see probe-targets.ts). None: /probe refuses every target. */
  allowed_targets: z.array(allowEntry).max(10_000).default([]),
  /** Probes /probe runs at once; more get 503 (Prometheus retries at the next scrape). */
  max_concurrent: z.number().int().min(1).max(10_000).default(32),
  /** Taken off X-Prometheus-Scrape-Timeout-Seconds so the answer arrives before Prometheus gives up (blackbox's --timeout-offset). */
  timeout_offset: duration.default(500),
}).prefault({});

export const serverSchema = z.strictObject({
  /** Token for endpoints that change state (reload, manual runs, test alerts). Unset: those endpoints answer 403. */
  admin_token: z.string().min(16, 'admin_token must be at least 16 characters').optional(),
  /** Protects the status page and read-only JSON with basic auth or a bearer token. Off by default: monitoring must reach it. */
  status_page_auth: z.strictObject({
    username: z.string().optional(),
    password: z.string().optional(),
    token: z.string().optional(),
  }).optional(),
  /** Alertmanager base URL: POST /api/v1/alerts/test, and the silences of maintenance windows and acknowledgements. */
  alertmanager_url: z.url().optional(),
  /** Bound on each request to alertmanager_url (silences, alerts). */
  alertmanager_timeout: duration.pipe(z.number().min(100, 'alertmanager_timeout must be at least 100ms').max(60_000, 'alertmanager_timeout must be at most 60s')).default(5_000),
  /** Bearer token Alertmanager presents to POST /api/v1/alerts/webhook. */
  webhook_token: z.string().min(16).optional(),
  /** Token jobs present to POST /api/v1/heartbeats/<name> (a check's own `token` wins). Also VIGIL_HEARTBEAT_TOKEN. */
  heartbeat_token: z.string().min(16, 'heartbeat_token must be at least 16 characters').optional(),
  /** The status page's live feed, GET /api/v1/events (Server-Sent Events). */
  events: eventsSchema,
  probe: probeEndpointSchema,
}).prefault({});

export const schedulerSchema = z.strictObject({
  /** Probe runs in flight at once; more wait in a queue. */
  concurrency: z.number().int().min(1).max(10_000).default(256),
  /** Spread of a check's first run, as a fraction of its interval, so checks don't fire in lockstep. */
  jitter: z.number().min(0).max(1).default(1),
}).prefault({});

/** What /metrics serves for each check (telemetry/series-sets.ts). */
export const metricsSchema = z.strictObject({
  /** `full`: every family of the check's kind; `lean`: without per-run detail (HTTP phases, response, resolver, TLS detail): about half the series. */
  series: z.enum(['full', 'lean']).default('full'),
}).prefault({});

export const historySchema = z.strictObject({
  /**
   * How far back per-check history goes: the record keeps its day rollups and status changes this
   * long (minute rollups a day, hour rollups 30 days at most), reports and the status page read
   * it; in memory each check keeps only its newest history.max_points runs and its status bar's
   * 24 h one slot a minute.
   */
  retention: duration.default(90 * 86_400_000),
  /** How long the record (<storage.path>/vigil.db) keeps every result; older ones live on as minute rollups. */
  raw_retention: duration.default(172_800_000),
  /**
   * Runs per check held in memory, whatever its interval (9 bytes a point; 13 while they span
   * more than 49 days): the sparkline, the live page and reports over windows they cover; longer
   * windows are read from the record.
   * The status bar's 24 h is kept apart, one slot a minute (2.9 KB a check).
   */
  max_points: z.number().int().min(10).max(1_000_000).default(300),
  /** Prometheus (or Thanos, Mimir, VictoriaMetrics: its query API) that scrapes Vigil: long windows (GET /api/v1/trends) are read from its recording rules. Unset: from the record. */
  prometheus_url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  /** Bound on each query to prometheus_url; past it the record answers. */
  prometheus_timeout: duration.pipe(z.number().min(100, 'prometheus_timeout must be at least 100ms').max(60_000, 'prometheus_timeout must be at most 60s')).default(5_000),
  /** Label matchers that pick this Vigil's series there, e.g. location="eu" (default: every series of the recording rules, which carry no job or instance). */
  prometheus_selector: z.string().max(1000).regex(/^\s*(?:[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\\n]|\\.)*"\s*(?:,\s*|$))*$/, 'expected label matchers such as job="vigil", instance=~"vigil-.*"').optional(),
}).prefault({});

/** A PostgreSQL connection URL; the message never shows the value (it holds a password). */
const postgresDsn = z.string().min(1).refine((s) => {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'expected a connection URL starting with postgres:// or postgresql:// (the value is not shown: it may contain a password)');

export const storageSchema = z.strictObject({
  /** Where the record lives: the embedded SQLite file under --storage.path, or a PostgreSQL server several instances share. Changing it needs a restart. */
  type: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** The PostgreSQL connection URL; write `dsn_file: <path>` (a file holding it) so it stays out of vigil.yml. */
  dsn: postgresDsn.optional(),
  /** Bound on opening a PostgreSQL connection. */
  connect_timeout: duration.pipe(z.number().min(100, 'connect_timeout must be at least 100ms').max(60_000, 'connect_timeout must be at most 60s')).default(5_000),
  /** Bound on each PostgreSQL statement (the server cancels it after this long). */
  statement_timeout: duration.pipe(z.number().min(100, 'statement_timeout must be at least 100ms').max(300_000, 'statement_timeout must be at most 5m')).default(10_000),
  /** PostgreSQL connections at most. */
  pool_size: z.number().int().min(1).max(20).default(3),
}).superRefine((s, ctx) => {
  if (s.type === 'postgres' && s.dsn === undefined) ctx.addIssue({ code: 'custom', path: ['type'], message: 'storage.type postgres needs dsn_file (a file holding the postgres:// connection URL)' });
  if (s.type === 'sqlite' && s.dsn !== undefined) ctx.addIssue({ code: 'custom', path: ['dsn'], message: 'dsn is only used with storage.type: postgres' });
}).prefault({});

export type StorageConfig = z.output<typeof storageSchema>;

export const topLevelSchema = z.strictObject({
  defaults: defaultsSchema.prefault({}),
  server: serverSchema,
  scheduler: schedulerSchema,
  metrics: metricsSchema,
  history: historySchema,
  storage: storageSchema,
  components: z.array(componentSchema).default([]),
  /** Planned work (config/maintenance.ts): silenced, shown on the page, left out of availability. */
  maintenance: z.array(maintenanceWindowSchema).max(1000).default([]),
  // Entries are checked one by one against their type's schema (see load.ts).
  checks: z.array(z.record(z.string(), z.unknown())).default([]),
  /** Probe settings GET /probe runs against the target it is given, by name (blackbox's modules). */
  modules: z.record(name, z.record(z.string(), z.unknown())).default({}),
});

/** A module as the loader checked it: its fields with secrets resolved, the target still to come. */
export interface ProbeModule {
  name: string;
  type: string;
  fields: Record<string, unknown>;
}

export interface VigilConfig {
  file: string;
  defaults: Defaults;
  server: z.output<typeof serverSchema>;
  scheduler: z.output<typeof schedulerSchema>;
  metrics: z.output<typeof metricsSchema>;
  history: z.output<typeof historySchema>;
  storage: StorageConfig;
  components: Component[];
  checks: CheckCommon[];
  maintenance: MaintenanceWindowConfig[];
  modules: Record<string, ProbeModule>;
}
