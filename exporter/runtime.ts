// Wires config -> scheduler -> probes -> state -> outputs, and owns reloads: a new config is
// fully validated before anything changes; a bad one leaves the running config in place.
import path from 'node:path';
import { AlertReceiver } from './alerts/receiver.js';
import type { StorageConfig, VigilConfig } from './config/schema.js';
import { parseConfig, loadConfigFile } from './config/load.js';
import type { SpliceBase } from './config/yaml-splice.js';
import { DEFAULT_CONFIG_YAML } from './config/default.js';
import { ConfigError } from './config/errors.js';
import { describeShard, ownsCheck, shardOf, type ForeignCheck, type ScaleOptions } from './config/scale.js';
import { Scheduler } from './engine/scheduler.js';
import { StorageDir } from './engine/storage-dir.js';
import { connectRecord, describeStorage, sameStorage } from './db/open.js';
import { StateStore, lateAfterMs, type CheckState } from './engine/state.js';
import type { Logger } from './log.js';
import { PROBE_KINDS } from './probes/index.js';
import { CheckRecord, recordRetentionOf } from './record/record.js';
import { latestResults } from './record/foreign.js';
import { otherShardsView, type OtherShards } from './views/other-shards.js';
import { lazySql, shared, type RecordSql } from './db/sql.js';
import { registerRecordMetrics } from './record/metrics.js';
import { estimateRecordBytes } from './record/size.js';
import { ComponentWatch, resultValues, type RecordEvent } from './record/events.js';
import type { Status } from './model/status.js';
import { Maintenance } from './maintenance/manager.js';
import type { KindStore, ProbeEnv } from './probes/types.js';
import { readCacheOf, type ReadCache } from './server/read-cache.js';
import { SseHub } from './server/sse.js';
import { Metrics } from './telemetry/metrics.js';

export interface RuntimeOptions {
  configFile?: string;
  storagePath: string;
  log: Logger;
  /** Whole record backups kept (--storage.backup.keep). */
  backupKeep?: number;
  env?: NodeJS.ProcessEnv;
  /** The maintenance clock (tests drive it); Date.now by default. */
  now?: () => number;
  /** Maintenance tick period, ms (default 5 s; 0: only on demand). */
  maintenanceTickMs?: number;
  /** --shard.count/--shard.index/--location: which checks of the config are this instance's, and where it probes from. */
  scale?: ScaleOptions;
}

export class Runtime {
  readonly state = new StateStore();
  readonly metrics = new Metrics(this.state);
  readonly scheduler: Scheduler;
  /** The stores the kinds declare (heartbeats: written by an endpoint, read by the probe), by name. */
  readonly stores: Record<string, KindStore> = {};
  /** Alertmanager webhook receiver and its durable notification log (the database's notifications table). */
  readonly alerts: AlertReceiver;
  /** --storage.path: its lock (taken by the CLI) and whether it takes writes (/-/ready, metrics). */
  readonly storage: StorageDir;
  /** The durable record of results and status changes (<storage.path>/vigil.db), fed from the state's results. */
  readonly record: CheckRecord;
  /** Expensive reads (status snapshot, /health, reports) are answered from here; emptied on reload. */
  readonly readCache: ReadCache = readCacheOf(this.state);
  /** The status page's live feed: one per exporter, handed to the routes that serve it. */
  readonly hub = new SseHub(this.state);
  /** Maintenance windows and acknowledgements, with the Alertmanager silences they hold. */
  readonly maintenance: Maintenance;
  config!: VigilConfig;
  /** The config's checks that other shards run (empty unless --shard.count > 1). */
  foreignChecks: ForeignCheck[] = [];
  /** What probes get: the scheduler's, and GET /probe's one-off runs. */
  readonly probeEnv: ProbeEnv;
  /** The last good parse of the config file: a reload that edits one check parses that check alone. */
  private readonly configSplice: { base?: SpliceBase } = {};
  /** The storage section the record was opened with: a reload that changes it takes effect at the next start. */
  private storageInUse?: StorageConfig;
  /** Components' statuses as last recorded: a check's change that changes one is a component event too. */
  private components = new ComponentWatch();
  /**
   * The database (SQLite in --storage.path, worked by one worker thread, or a PostgreSQL pool),
   * opened at its first use and shared by the record, the heartbeat store and the alert log.
   * They see it through shared()/lazySql(), whose close() leaves it open: the runtime closes it
   * after them. An open that failed (read-only disk) is tried again by the next use.
   */
  private connection?: Promise<RecordSql>;

  private database(): Promise<RecordSql> {
    if (!this.connection) {
      const storagePath = path.resolve(this.opts.storagePath);
      // A SQLite worker that died lost what it held: counted like a failed flush of the record.
      const opening = connectRecord(this.storageInUse ?? this.config.storage, storagePath, this.opts.log, Date.now(), { onWorkerFailure: () => this.storage.countWriteError('record') });
      this.connection = opening;
      opening.catch(() => { if (this.connection === opening) this.connection = undefined; });
    }
    return this.connection;
  }

  constructor(readonly opts: RuntimeOptions) {
    this.metrics.setLocation(opts.scale?.location);
    if (opts.scale) this.metrics.setShard(opts.scale.shardIndex, opts.scale.shardCount);
    this.storage = new StorageDir(opts.storagePath, opts.log, this.metrics.registry);
    const storagePath = path.resolve(opts.storagePath);
    const sql = lazySql(() => this.database(), () => (this.storageInUse ?? this.config?.storage)?.type === 'postgres' ? 'postgres' : 'sqlite');
    for (const kind of PROBE_KINDS) {
      for (const [name, make] of Object.entries(kind.stores ?? {})) this.stores[name] = make({ storagePath, log: opts.log, report: this.storage, sql });
    }
    // Concurrency and jitter come with the first config (scheduler section of vigil.yml).
    this.probeEnv = { log: opts.log, storagePath, stores: this.stores };
    this.scheduler = new Scheduler({ state: this.state, env: this.probeEnv, log: opts.log });
    this.record = new CheckRecord({ dir: storagePath, log: opts.log, report: this.storage, backupKeep: opts.backupKeep, connect: async () => shared(await this.database()) });
    registerRecordMetrics(this.metrics.registry, this.record);
    this.state.on('result', (s, previous) => this.toRecord(s, previous));
    this.alerts = new AlertReceiver({ storagePath: opts.storagePath, registry: this.metrics.registry, log: opts.log, report: this.storage, sql });
    this.maintenance = new Maintenance({
      log: opts.log, sql, registry: this.metrics.registry, now: opts.now, tickMs: opts.maintenanceTickMs,
      addEvent: (e) => this.record.addEvent(e),
      checks: () => this.state.list().map((s) => ({ name: s.config.name, component: s.config.component, labels: s.config.labels })),
      openIncidentKeys: () => new Set(this.record.incidents.tracker.open.map((i) => i.key)),
    });
    this.hub.planned = (from, to) => this.maintenance.plannedBars(from, to);
  }

  /** Read and validate the config (file or built-in). Throws ConfigError listing every problem. */
  loadConfig(): VigilConfig {
    return this.opts.configFile
      ? loadConfigFile(this.opts.configFile, { kinds: PROBE_KINDS, env: this.opts.env, splice: this.configSplice })
      : parseConfig(DEFAULT_CONFIG_YAML, '<built-in default config>', { kinds: PROBE_KINDS, env: this.opts.env });
  }

  /**
   * The checks other shards run, with their latest status from the shared record (undefined
   * when not sharded). Only a PostgreSQL record is shared; a read slower than 2 s or failing
   * leaves them listed as unknown.
   */
  async otherShards(): Promise<OtherShards | undefined> {
    const scale = this.opts.scale;
    if (!scale || scale.shardCount <= 1) return undefined;
    const foreign = this.foreignChecks;
    const self = describeShard(scale.shardIndex, scale.shardCount)!;
    if (!foreign.length || (this.storageInUse ?? this.config.storage).type !== 'postgres') return otherShardsView(self, foreign, undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const latest = await Promise.race([
      this.record.read((sql) => latestResults(sql, foreign.map((c) => c.name))),
      new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), 2_000); }),
    ]).catch((err) => {
      this.opts.log.warn('cannot read the other shards\' checks from the record', { error: err });
      return undefined;
    }).finally(() => clearTimeout(timer));
    return otherShardsView(self, foreign, latest);
  }

  /** This shard's share of a config: its checks; the others' are kept apart as foreignChecks. */
  private ownShare(cfg: VigilConfig): VigilConfig {
    const scale = this.opts.scale;
    if (!scale || scale.shardCount <= 1) {
      this.foreignChecks = [];
      return cfg;
    }
    const own: VigilConfig['checks'] = [];
    const foreign: ForeignCheck[] = [];
    for (const c of cfg.checks) {
      if (ownsCheck(scale, c.name)) { own.push(c); continue; }
      const shard = shardOf(c.name, scale.shardCount);
      foreign.push({ name: c.name, component: c.component, type: c.type, shard, served_by: describeShard(shard, scale.shardCount)! });
    }
    this.foreignChecks = foreign;
    return { ...cfg, checks: own };
  }

  apply(full: VigilConfig): void {
    const cfg = this.ownShare(full);
    this.alerts.log.configure(cfg.history.retention);
    const note = this.storageChange(cfg);
    if (note) this.opts.log.warn(`config reload: ${note}`);
    this.storageInUse ??= cfg.storage;
    const unchanged = this.scheduler.unchangedIn(cfg.checks);
    // Sets, not a search of the new list per old check: that was 10^8 steps for 10 000 checks.
    const names = new Set(cfg.checks.map((c) => c.name));
    const removed = new Set((this.config?.checks ?? []).map((c) => c.name).filter((n) => !names.has(n)));
    this.config = cfg;
    this.state.applyConfig(cfg, unchanged);
    // A reload's own changes (checks added, removed, reset) are told by its reload event, not as status changes.
    this.components.reset(this.state.rollup());
    this.record.incidents.configure(cfg.components);
    if (removed.size) this.record.incidents.forget(removed, Date.now());
    this.metrics.applyConfig(cfg, unchanged);
    this.record.configure(recordRetentionOf(cfg.history));
    this.scheduler.update(cfg.checks, cfg.scheduler, unchanged);
    this.maintenance.configure({ windows: cfg.maintenance, alertmanagerUrl: cfg.server.alertmanager_url, alertmanagerTimeout: cfg.server.alertmanager_timeout, retention: cfg.history.retention });
    this.metrics.configReloaded(true);
  }

  /** What a reload to `cfg` cannot apply: a change of the record's storage needs a restart. */
  private storageChange(cfg: VigilConfig): string | undefined {
    if (!this.storageInUse || sameStorage(this.storageInUse, cfg.storage)) return undefined;
    const dir = path.resolve(this.opts.storagePath);
    return `the storage section changed (${describeStorage(cfg.storage, dir)}); that needs a restart: the record stays in ${describeStorage(this.storageInUse, dir)} until then`;
  }

  /** Restore what the record remembers, then start probing (the first run sees the restored state). */
  async start(): Promise<void> {
    this.storage.start();
    // What the stores hold is read (and old files imported) before any probe runs or request is served.
    await Promise.all([
      this.alerts.open(),
      ...Object.values(this.stores).map((s) => s.open?.().catch((err) => this.opts.log.error('cannot read a store from the database (retried with its next write)', { error: err }))),
    ]);
    await this.restoreFromRecord();
    this.record.start();
    this.scheduler.start();
    await this.maintenance.start();
  }

  /** Each check's status, since, last error and history as the record has them (before any run). */
  private async restoreFromRecord(): Promise<void> {
    const { retention, max_points } = this.config.history;
    const started = performance.now();
    const restored = await this.record.restore(this.state.list().map((s) => s.config.name), Date.now() - retention, max_points, (name, r) => this.state.restore(name, r));
    // The restored statuses are the baseline: the first run that finds the same is no change.
    this.components.reset(this.state.rollup());
    // An incident left open by checks the config no longer has would never end.
    const configured = new Set(this.config.checks.map((c) => c.name));
    const gone = new Set(this.record.incidents.tracker.open.flatMap((i) => i.failing).filter((n) => !configured.has(n)));
    if (gone.size) this.record.incidents.forget(gone, Date.now());
    if (restored.size) this.opts.log.info('record: restored the last state of checks', { checks: restored.size, duration_ms: Math.round(performance.now() - started) });
    const bytes = estimateRecordBytes(this.config.checks, recordRetentionOf(this.config.history));
    this.opts.log.info('record: expected size once full', { storage: describeStorage(this.storageInUse!, path.resolve(this.opts.storagePath)), megabytes: Math.round(bytes / 1e5) / 10 });
  }

  /** A run's result (and a status change, run or late mark) goes to the record. */
  private toRecord(s: CheckState, previous: Status): void {
    const result = s.late ? undefined : s.last;
    if (result) this.record.addResult(result, lateAfterMs(s.config));
    if (s.status === previous) return;
    const t = result?.finishedAt ?? Date.now();
    const reason = result ? result.reason : 'late';
    this.record.addEvent({
      t, kind: 'check_status', check: s.config.name, component: s.config.component, from: previous, to: s.status,
      reason, message: result ? result.message : 'no run completed in time', data: result ? resultValues(result) : undefined,
    });
    for (const e of this.components.changes(this.state.rollup(), t, { check: s.config.name, component: s.config.component, status: s.status, reason })) this.record.addEvent(e);
  }

  /** An operator's action (manual run, test alert, …) into the record. */
  recordAction(e: Omit<RecordEvent, 't'> & { t?: number }): void {
    this.record.addEvent({ t: Date.now(), ...e });
  }

  /** Reload from disk. On failure the running config stays and the problems are returned. `actor`: who asked (the record's reload event). */
  reload(actor = 'unknown'): { ok: true; checks: number; restart_needed?: string[] } | { ok: false; problems: string[] } {
    let cfg: VigilConfig;
    try {
      cfg = this.loadConfig();
    } catch (err) {
      this.metrics.configReloaded(false);
      const problems = err instanceof ConfigError ? err.message.split('\n') : [String((err as Error).message ?? err)];
      this.opts.log.error('config reload failed, keeping the running config', { problems });
      this.recordAction({ kind: 'reload', reason: 'failed', message: `config reload failed (${problems.length} problems), keeping the running config`, data: { problems: problems.slice(0, 20) }, actor });
      return { ok: false, problems };
    }
    const note = this.storageChange(cfg);
    const before = new Set(this.config.checks.map((c) => c.name));
    this.apply(cfg);
    // This shard's checks from here on (all of them when not sharded).
    cfg = this.config;
    this.opts.log.info('config reloaded', { checks: cfg.checks.length, components: cfg.components.length });
    const added = cfg.checks.map((c) => c.name).filter((n) => !before.has(n));
    const after = new Set(cfg.checks.map((c) => c.name));
    const removed = [...before].filter((n) => !after.has(n));
    this.recordAction({
      kind: 'reload', reason: 'ok', message: `config reloaded: ${cfg.checks.length} checks, ${cfg.components.length} components`,
      data: { checks: cfg.checks.length, components: cfg.components.length, added: added.slice(0, 100), removed: removed.slice(0, 100), ...(note ? { restart_needed: [note] } : {}) }, actor,
    });
    return note ? { ok: true, checks: cfg.checks.length, restart_needed: [note] } : { ok: true, checks: cfg.checks.length };
  }

  async stop(): Promise<void> {
    this.hub.close();
    await this.maintenance.stop();
    await this.scheduler.stop();
    await Promise.all(Object.values(this.stores).map((s) => s.flush?.().catch(() => {})));
    await this.alerts.close();
    await this.record.stop();
    const db = await this.connection?.catch(() => undefined);
    await db?.close().catch((err) => this.opts.log.warn('storage: closing the database failed', { error: err }));
    this.storage.stop();
  }
}
