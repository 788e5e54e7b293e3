// The top-level vigil.yml schema. Check entries are validated per type in load.ts, against the
// schema their probe module owns, so each problem points at the exact key.
import { z } from 'zod';
import { defaultsSchema, name, type CheckCommon, type Defaults } from './common.js';
import { duration } from './units.js';

export const componentSchema = z.strictObject({
  name,
  description: z.string().max(500).optional(),
  depends_on: z.array(name).default([]),
});
export type Component = z.output<typeof componentSchema>;

export const serverSchema = z.strictObject({
  /** Token for endpoints that change state (reload, manual runs, test alerts). Unset: those endpoints answer 403. */
  admin_token: z.string().min(16, 'admin_token must be at least 16 characters').optional(),
  /** Protects the status page and read-only JSON with basic auth or a bearer token. Off by default: monitoring must reach it. */
  status_page_auth: z.strictObject({
    username: z.string().optional(),
    password: z.string().optional(),
    token: z.string().optional(),
  }).optional(),
  /** Alertmanager base URL used by POST /api/v1/alerts/test. */
  alertmanager_url: z.url().optional(),
  /** Bearer token Alertmanager presents to POST /api/v1/alerts/webhook. */
  webhook_token: z.string().min(16).optional(),
  /** Token jobs present to POST /api/v1/heartbeats/<name> (a check's own `token` wins). Also VIGIL_HEARTBEAT_TOKEN. */
  heartbeat_token: z.string().min(16, 'heartbeat_token must be at least 16 characters').optional(),
}).default({});

export const schedulerSchema = z.strictObject({
  /** Probe runs in flight at once; more wait in a queue. */
  concurrency: z.number().int().min(1).max(10_000).default(256),
  /** Spread of a check's first run, as a fraction of its interval, so checks don't fire in lockstep. */
  jitter: z.number().min(0).max(1).default(1),
}).default({ concurrency: 256, jitter: 1 });

export const historySchema = z.strictObject({
  /** How far back per-check history goes. */
  retention: duration.default(86_400_000),
  /** Upper bound of points per check, whatever its interval (memory cap: ~13 bytes a point). */
  max_points: z.number().int().min(10).max(1_000_000).default(8_640),
}).default({ retention: 86_400_000, max_points: 8_640 });

export const topLevelSchema = z.strictObject({
  defaults: defaultsSchema.default({ interval: 30_000, timeout: 10_000, retries: 2, retry_delay: 1_000 }),
  server: serverSchema,
  scheduler: schedulerSchema,
  history: historySchema,
  components: z.array(componentSchema).default([]),
  // Entries are checked one by one against their type's schema (see load.ts).
  checks: z.array(z.record(z.string(), z.unknown())).default([]),
});

export interface VigilConfig {
  file: string;
  defaults: Defaults;
  server: z.output<typeof serverSchema>;
  scheduler: z.output<typeof schedulerSchema>;
  history: z.output<typeof historySchema>;
  components: Component[];
  checks: CheckCommon[];
}
