// Database client durations: ioredis 6 and recent mysql2 3.x (3.24 here) publish diagnostics tracing
// channels; pg publishes nothing, so Client.prototype.query/connect are wrapped when pg loads.

import dc from 'node:diagnostics_channel';
import type { Attributes } from '@opentelemetry/api';
import { LeanHistogram } from './histogram.js';
import { LabelGuard, OTHER } from './labels.js';
import { requestMatcher, type LoadPatch } from './load-hook.js';
import { DB_CLIENT_DURATION } from './names.js';

const kStart = Symbol('vigil.db.start');
const kPatched = Symbol.for('vigil.instrument.patched');

const SQL_OPERATIONS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'REPLACE', 'WITH', 'BEGIN', 'START', 'COMMIT', 'ROLLBACK',
  'SAVEPOINT', 'RELEASE', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'SET', 'SHOW', 'EXPLAIN', 'ANALYZE', 'VACUUM', 'COPY',
  'CALL', 'DO', 'LISTEN', 'NOTIFY', 'UNLISTEN', 'GRANT', 'REVOKE', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'DECLARE',
  'FETCH', 'CLOSE', 'LOCK', 'USE', 'DESCRIBE', 'REFRESH', 'CLUSTER', 'REINDEX', 'DISCARD', 'RESET', 'COMMENT',
]);

/** First keyword of a SQL statement (comments and parentheses skipped), upper-case; `_OTHER` if unknown. */
export function sqlOperation(text: unknown): string {
  if (typeof text !== 'string') return '_OTHER';
  const m = /^(?:\s|\(|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/.exec(text);
  const op = m?.[1]?.toUpperCase();
  return op !== undefined && SQL_OPERATIONS.has(op) ? op : '_OTHER';
}

const errorTypes = new LabelGuard('db error_type', 50, (v) => /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(v));

/** A bounded error type: a system/driver code in capitals (ECONNREFUSED, ER_…) or the error's class name. */
export function dbErrorType(error: unknown): string {
  if (!error || typeof error !== 'object') return '_OTHER';
  const e = error as { code?: unknown; name?: unknown; constructor?: { name?: unknown } };
  let candidate: string | undefined;
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(e.code)) candidate = e.code;
  else if (typeof e.constructor?.name === 'string' && e.constructor.name !== 'Error' && e.constructor.name !== 'Object') candidate = e.constructor.name;
  else if (typeof e.name === 'string') candidate = e.name;
  if (!candidate) return '_OTHER';
  const v = errorTypes.fold(candidate);
  return v === OTHER ? '_OTHER' : v;
}

export class DbRecorder {
  readonly histogram = new LeanHistogram(DB_CLIENT_DURATION);
  private readonly redisCommands = new LabelGuard('redis db_operation_name', 100, (v) => /^[A-Z][A-Z0-9_.|-]{0,31}$/.test(v));
  private readonly unsubscribers: Array<() => void> = [];

  record(system: string, operation: string, seconds: number, error: unknown): void {
    const errorType = error === undefined || error === null ? '' : dbErrorType(error);
    const key = `${system}\u0001${operation}\u0001${errorType}`;
    this.histogram.record(
      key,
      () => {
        const a: Attributes = { 'db.system.name': system, 'db.operation.name': operation };
        if (errorType) a['error.type'] = errorType;
        return a;
      },
      seconds,
    );
  }

  /** ioredis 6: tracing channel `ioredis:command` (context: {command, args, …}). */
  subscribeIoredis(): void {
    this.traced('ioredis:command', 'redis', (ctx) => {
      const name = typeof ctx.command === 'string' ? ctx.command.toUpperCase() : '';
      const v = this.redisCommands.fold(name);
      return v === OTHER ? '_OTHER' : v;
    });
    this.traced('ioredis:batch', 'redis', (ctx) => (ctx.batchMode === 'MULTI' ? 'MULTI' : 'PIPELINE'));
  }

  /** mysql2 (recent 3.x): tracing channels `mysql2:query` and `mysql2:execute` (context: {query, …}). */
  subscribeMysql2(): void {
    this.traced('mysql2:query', 'mysql', (ctx) => sqlOperation(ctx.query));
    this.traced('mysql2:execute', 'mysql', (ctx) => sqlOperation(ctx.query));
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  private traced(channel: string, system: string, operation: (ctx: Record<string, unknown>) => string): void {
    if (typeof dc.tracingChannel !== 'function') return;
    const tc = dc.tracingChannel(channel);
    const handlers = {
      start: (ctx: unknown) => {
        (ctx as Record<symbol, number>)[kStart] = performance.now();
      },
      asyncEnd: (ctx: unknown) => {
        const c = ctx as Record<string | symbol, unknown>;
        const t0 = c[kStart] as number | undefined;
        if (t0 === undefined) return;
        c[kStart] = undefined;
        this.record(system, operation(c as Record<string, unknown>), (performance.now() - t0) / 1000, c.error);
      },
      // A synchronous throw publishes `error` then `end`, and no asyncEnd (an async failure has no
      // error yet at `end`; a callback called synchronously already cleared kStart).
      end: (ctx: unknown) => {
        const c = ctx as Record<string | symbol, unknown>;
        const t0 = c[kStart] as number | undefined;
        if (c.error === undefined || t0 === undefined) return;
        c[kStart] = undefined;
        this.record(system, operation(c as Record<string, unknown>), (performance.now() - t0) / 1000, c.error);
      },
    };
    tc.subscribe(handlers as unknown as Parameters<typeof tc.subscribe>[0]);
    this.unsubscribers.push(() => tc.unsubscribe(handlers as unknown as Parameters<typeof tc.unsubscribe>[0]));
  }

  /** pg: wraps Client.prototype.query and connect when `pg` is loaded. */
  pgPatch(): LoadPatch {
    const rec = this;
    return {
      matches: requestMatcher('pg', 'lib/index.js'),
      patch(exports) {
        const Client = (exports as { Client?: { prototype?: Record<string | symbol, unknown> } } | null)?.Client;
        const proto = Client?.prototype;
        if (!proto || typeof proto.query !== 'function' || typeof proto.connect !== 'function' || proto[kPatched]) return;
        proto[kPatched] = true;
        proto.query = wrapPgQuery(proto.query as PgFn, rec);
        proto.connect = wrapPgConnect(proto.connect as PgFn, rec);
      },
    };
  }
}

type PgFn = (this: unknown, ...args: unknown[]) => unknown;
type Callback = (err: unknown, ...rest: unknown[]) => unknown;

function isThenable(v: unknown): v is Promise<unknown> {
  return !!v && typeof (v as { then?: unknown }).then === 'function';
}

function wrapPgQuery(original: PgFn, rec: DbRecorder): PgFn {
  return function query(this: unknown, ...args: unknown[]) {
    const config = args[0];
    // Streams and cursors (submittables) report through their own events; not measured.
    if (config && typeof (config as { submit?: unknown }).submit === 'function') return original.apply(this, args);
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    const op = sqlOperation(text);
    const t0 = performance.now();
    const done = (err: unknown) => rec.record('postgresql', op, (performance.now() - t0) / 1000, err ?? undefined);
    let cbIndex = -1;
    if (typeof args[1] === 'function') cbIndex = 1;
    else if (typeof args[2] === 'function') cbIndex = 2;
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as Callback;
      args[cbIndex] = function (this: unknown, err: unknown, ...rest: unknown[]) {
        done(err);
        return cb.call(this, err, ...rest);
      };
    } else if (config && typeof config === 'object' && typeof (config as { callback?: unknown }).callback === 'function') {
      const c = config as { callback: Callback };
      const cb = c.callback;
      c.callback = function (this: unknown, err: unknown, ...rest: unknown[]) {
        done(err);
        return cb.call(this, err, ...rest);
      };
    }
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (err) {
      done(err);
      throw err;
    }
    if (cbIndex < 0 && isThenable(result)) result.then(() => done(undefined), done);
    return result;
  };
}

function wrapPgConnect(original: PgFn, rec: DbRecorder): PgFn {
  return function connect(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const done = (err: unknown) => rec.record('postgresql', 'connect', (performance.now() - t0) / 1000, err ?? undefined);
    if (typeof args[0] === 'function') {
      const cb = args[0] as Callback;
      args[0] = function (this: unknown, err: unknown, ...rest: unknown[]) {
        done(err);
        return cb.call(this, err, ...rest);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (isThenable(result)) result.then(() => done(undefined), done);
    return result;
  };
}
