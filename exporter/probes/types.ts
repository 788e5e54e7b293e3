// The contract every probe kind implements. blackbox_exporter's prober/ is the model: a probe
// does its protocol and returns data; the runner (engine/runner.ts) owns timeouts, retries,
// duration, probe_success and error containment. A kind is one file (or one folder for a big
// kind) holding everything about it; probes/index.ts lists them.
import type { CheckKind } from '../config/kinds.js';
import type { Logger } from '../log.js';
import type { CheckCommon, Threshold } from '../model/check.js';
import type { CheckResult, FailureReason, ProbeResult, Sample } from '../model/result.js';
import type { Status } from '../model/status.js';
import type { WriteReporter } from '../model/storage.js';
import type { RecordSql } from '../db/sql.js';

/**
 * What a probe keeps for its own, more precise message to win over the runner's generic
 * timeout: a probe that times a phase itself stops that long before the deadline.
 */
export const PROBE_MARGIN_MS = 100;

export interface ProbeRunContext {
  /** Aborted when the check's timeout elapses or the exporter stops. */
  readonly signal: AbortSignal;
  /** Whether the run was aborted (as signal.aborted, without making the signal). */
  readonly aborted: boolean;
  /**
   * Call `fn` when the run is aborted (at once when it already is); the function returned
   * unregisters it. The same moment as the signal's 'abort', for a probe that needs no
   * AbortSignal: the signal is made only when a probe reads it.
   */
  onAbort(fn: () => void): () => void;
  /** Epoch ms by which the run must finish. */
  deadline: number;
  /** Milliseconds left before the deadline less `margin` (default PROBE_MARGIN_MS), at least 1. */
  remaining(margin?: number): number;
  attempt: number;
  log: Logger;
}

export interface Probe {
  run(ctx: ProbeRunContext): Promise<ProbeResult>;
  /** Release pooled connections etc. Called when the check is removed, changed or the exporter stops. */
  close?(): Promise<void> | void;
}

/** Services a probe may use (they flow into probes, never the other way). */
export interface ProbeEnv {
  log: Logger;
  /** Directory for durable probe state (heartbeats). */
  storagePath: string;
  /** The stores the kinds declared (ProbeDefinition.stores), built once by the runtime, by name. */
  stores: Record<string, unknown>;
}

/** What docs/probes.md says about a kind (docs/generate.ts writes its probe table from these). */
export interface ProbeDoc {
  /** What a check of this kind checks, one line. */
  what: string;
  /** Its threshold keys and their defaults, one line (`response_time` is implied for every kind). */
  thresholds: string;
}

/** What a kind's store is built from. */
export interface StoreEnv {
  /** --storage.path, resolved. */
  storagePath: string;
  log: Logger;
  /** Told about every durable write (vigil_storage_write_errors_total, /-/ready). */
  report?: WriteReporter;
  /** The database (shared by the record and every store): SQLite in --storage.path, or PostgreSQL. */
  sql: RecordSql;
}

/** A store a kind needs beside its probes (input written by an endpoint, read by the probe). */
export interface KindStore {
  /** Read what is stored (and import files of earlier versions); awaited before probing starts. */
  open?(): Promise<void>;
  /** Wait for pending writes; called when the exporter stops. */
  flush?(): Promise<void>;
}

/** Facts about a check the status page shows beside its headline (the system kind's resources). */
export interface PageDetailsInput {
  samples: Sample[];
  thresholds: Record<string, Threshold>;
}

/**
 * An HTTP endpoint a kind adds (the heartbeat kind's pings), mounted under /api/v1 by the server
 * (server/routes/kinds.ts) with the access it names. The handler sees the request through
 * KindRequest, never the HTTP framework, and refuses with RequestError (model/request.ts).
 */
export interface KindRoute {
  method: 'GET' | 'POST';
  /** Under /api/v1, in @koa/router syntax (`/heartbeats/:name/start`). */
  path: string;
  /**
   * public: anyone; status_page: whoever may read the status page (server.status_page_auth);
   * heartbeat: the check's own token (KindDefinition.ownToken), else the server's heartbeat token.
   */
  access: 'public' | 'status_page' | 'heartbeat';
  handle(req: KindRequest, ctx: KindRouteContext): Promise<KindReply> | KindReply;
}

export interface KindRequest {
  /** Path parameters (`name`). */
  params: Record<string, string>;
  query: Record<string, unknown>;
  contentType: string;
  /** The body, refused (413) past `maxBytes`. */
  body(maxBytes: number): Promise<Buffer>;
}

export interface KindReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** What a kind's endpoint may do with the running exporter. */
export interface KindRouteContext {
  /** The check's kind and status, or undefined for no such check. */
  check(name: string): { type: string; status: Status } | undefined;
  /** Run a check now (it re-reads what the endpoint stored); the in-flight run if one is. */
  runNow(name: string): Promise<CheckResult> | undefined;
  /** A store the kinds declared (ProbeDefinition.stores), by name. */
  store(name: string): unknown;
}

export interface ProbeDefinition<C extends CheckCommon = any> extends CheckKind<C> {
  doc: ProbeDoc;
  /**
   * The reasons this kind fails with besides the ones every kind can (COMMON_REASONS: the
   * runner's timeout and invalid_result, and what classifyError makes of a thrown error).
   */
  reasons: readonly FailureReason[];
  /** A short figure for the status page's check row ("HTTP 200", "CPU 12 %"); default: defaultHeadline(). */
  headline?(samples: Sample[]): string | null;
  /** Structured facts for the page's check panel, shown as `resources` (system: CPU, memory, disks). */
  pageDetails?(input: PageDetailsInput): unknown;
  /** Stores this kind's probes share, by name; built once at start (see ProbeEnv.stores). */
  stores?: Record<string, (env: StoreEnv) => KindStore>;
  /** Endpoints this kind adds (heartbeat pings). */
  routes?: KindRoute[];
  /** The check's own token for its `heartbeat` endpoints, when it sets one. */
  ownToken?(check: C): string | undefined;
  create(check: C, env: ProbeEnv): Probe;
}

/** Reasons any kind can fail with: the runner's own, and what classifyError() makes of an error. */
export const COMMON_REASONS: readonly FailureReason[] = ['timeout', 'invalid_result', 'error', 'dns', 'connect', 'tls', 'auth'];
