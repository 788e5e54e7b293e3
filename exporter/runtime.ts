// Wires config -> scheduler -> probes -> state -> outputs, and owns reloads: a new config is
// fully validated before anything changes; a bad one leaves the running config in place.
import path from 'node:path';
import { AlertReceiver } from './alerts/receiver.js';
import type { VigilConfig } from './config/schema.js';
import { parseConfig, loadConfigFile } from './config/load.js';
import { DEFAULT_CONFIG_YAML } from './config/default.js';
import { ConfigError } from './config/errors.js';
import { HeartbeatStore } from './engine/heartbeats.js';
import { Scheduler } from './engine/scheduler.js';
import { StorageDir } from './engine/storage-dir.js';
import { StateStore } from './engine/state.js';
import type { Logger } from './log.js';
import { readCacheOf, type ReadCache } from './server/read-cache.js';
import { SseHub } from './server/sse.js';
import { Metrics } from './telemetry/metrics.js';

export interface RuntimeOptions {
  configFile?: string;
  storagePath: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

export class Runtime {
  readonly state = new StateStore();
  readonly metrics = new Metrics(this.state);
  readonly scheduler: Scheduler;
  /** Input stores written by HTTP endpoints and read by probes (heartbeats), by name. */
  readonly stores: Record<string, unknown> = {};
  /** Alertmanager webhook receiver and its durable notification log (<storage.path>/alert-notifications.jsonl). */
  readonly alerts: AlertReceiver;
  /** --storage.path: its lock (taken by the CLI) and whether it takes writes (/-/ready, metrics). */
  readonly storage: StorageDir;
  /** Expensive reads (status snapshot, /health, reports) are answered from here; emptied on reload. */
  readonly readCache: ReadCache = readCacheOf(this.state);
  /** The status page's live feed: one per exporter, handed to the routes that serve it. */
  readonly hub = new SseHub(this.state);
  config!: VigilConfig;

  constructor(readonly opts: RuntimeOptions) {
    this.storage = new StorageDir(opts.storagePath, opts.log, this.metrics.registry);
    this.stores.heartbeats = new HeartbeatStore(path.join(path.resolve(opts.storagePath), 'heartbeats.json'), opts.log, { report: this.storage });
    this.scheduler = new Scheduler({
      state: this.state,
      env: { log: opts.log, storagePath: path.resolve(opts.storagePath), stores: this.stores },
      log: opts.log,
      concurrency: 256,
      jitter: 1,
    });
    this.alerts = new AlertReceiver({ storagePath: opts.storagePath, registry: this.metrics.registry, log: opts.log, report: this.storage });
  }

  /** Read and validate the config (file or built-in). Throws ConfigError listing every problem. */
  loadConfig(): VigilConfig {
    return this.opts.configFile
      ? loadConfigFile(this.opts.configFile, { env: this.opts.env })
      : parseConfig(DEFAULT_CONFIG_YAML, '<built-in default config>', { env: this.opts.env });
  }

  apply(cfg: VigilConfig): void {
    const unchanged = this.scheduler.unchangedIn(cfg.checks);
    this.config = cfg;
    this.state.applyConfig(cfg, unchanged);
    this.metrics.applyConfig(cfg);
    this.scheduler.update(cfg.checks, cfg.scheduler, unchanged);
    this.metrics.configReloaded(true);
  }

  start(): void {
    this.storage.start();
    this.alerts.open();
    this.scheduler.start();
  }

  /** Reload from disk. On failure the running config stays and the problems are returned. */
  reload(): { ok: true; checks: number } | { ok: false; problems: string[] } {
    let cfg: VigilConfig;
    try {
      cfg = this.loadConfig();
    } catch (err) {
      this.metrics.configReloaded(false);
      const problems = err instanceof ConfigError ? err.message.split('\n') : [String((err as Error).message ?? err)];
      this.opts.log.error('config reload failed, keeping the running config', { problems });
      return { ok: false, problems };
    }
    this.apply(cfg);
    this.opts.log.info('config reloaded', { checks: cfg.checks.length, components: cfg.components.length });
    return { ok: true, checks: cfg.checks.length };
  }

  async stop(): Promise<void> {
    this.hub.close();
    await this.scheduler.stop();
    await (this.stores.heartbeats as HeartbeatStore).flush().catch(() => {});
    await this.alerts.close();
    this.storage.stop();
  }
}
