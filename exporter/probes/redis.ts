// Redis: keeps one connection between runs (rebuilt after a failure, bounded attempts), runs PING
// with the check's timeout, reports the server version, and optionally the depth of queues kept
// in Redis: plain lists, streams and sorted sets, and Bull/BullMQ queues (waiting, active,
// failed, delayed, completed) with the number of workers attached to them.
//
// Workers are found by connection name in CLIENT LIST: Bull and BullMQ name each worker's
// blocking connection "<prefix>:<base64(queue name)>" (BullMQ named workers add ":w:<name>").
// Servers that disable CLIENT LIST (some managed offerings) or clients that never set a name
// give no worker figure; `worker_client_name` counts connections whose name matches a regex
// instead, for workers of any kind that name their connection.
import type { Redis } from 'ioredis';
import { lazy, warm } from './support/lazy.js';
import { z } from 'zod';
import { name } from '../config/common.js';
import type { CheckCommon } from '../model/check.js';
import { DB_METRICS, runOnConnection, type DbHandleBase } from './support/dbprobe.js';
import { describeDsn, dsnField, registerDsnSecrets, withPassword } from './support/dsn.js';
import { abortable, errorMessage } from './support/errors.js';
import { pattern, Pattern } from './support/pattern.js';
import { connectFields, Reconnecting } from './support/reconnect.js';
import type { ProbeDefinition } from './types.js';
import type { Sample } from '../model/result.js';

const QUEUE_KINDS = ['list', 'stream', 'zset', 'bullmq'] as const;
type QueueKind = (typeof QUEUE_KINDS)[number];
const BULL_STATES = ['waiting', 'active', 'failed', 'delayed', 'completed'] as const;

const queue = z.strictObject({
  /** The `queue` label and the first part of threshold keys (`<name>.<state>`). */
  name,
  /** list (LLEN), stream (XLEN), zset (ZCARD), or bullmq (Bull 3 and BullMQ key layout). */
  kind: z.enum(QUEUE_KINDS).default('list'),
  /** Redis key for list/stream/zset, queue name for bullmq. Default: `name`. */
  key: z.string().min(1).optional(),
  /** Key prefix of Bull/BullMQ queues. */
  prefix: z.string().min(1).default('bull'),
  /** Count connections whose CLIENT LIST name matches this regex as workers (default for bullmq: the BullMQ naming). */
  worker_client_name: pattern.optional(),
});
type QueueConfig = z.output<typeof queue>;

const schema = z.object({
  /** redis://[user:password@]host:6379[/db] or rediss:// for TLS. */
  dsn: dsnField('redis'),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  queues: z.array(queue).default([]),
  ...connectFields,
});

export type RedisCheck = CheckCommon & z.output<typeof schema>;

function statesOf(kind: QueueKind): string[] {
  return kind === 'bullmq' ? [...BULL_STATES] : ['length'];
}

const wantsWorkers = (q: QueueConfig) => q.kind === 'bullmq' || q.worker_client_name !== undefined;

export const redisProbe: ProbeDefinition<RedisCheck> = {
  type: 'redis',
  doc: {
    what: 'Redis `PING`; version; optional queue depths (lists, streams, sorted sets, Bull/BullMQ) and BullMQ workers',
    thresholds: '`<queue>.<state>`, `<queue>.workers`',
  },
  schema,
  reasons: [],
  metrics: [
    ...DB_METRICS,
    { name: 'vigil_queue_depth', help: 'Jobs or entries in a queue by state (length for plain lists, streams and sorted sets).', labels: ['queue', 'state'] },
    { name: 'vigil_queue_workers', help: 'Worker connections attached to a queue, from CLIENT LIST connection names.', labels: ['queue'] },
  ],
  thresholdKeys: (c) => c.queues.flatMap((q) => [...statesOf(q.kind).map((s) => `${q.name}.${s}`), ...(wantsWorkers(q) ? [`${q.name}.workers`] : [])]),
  validate: (c) => {
    const problems: Array<[Array<string | number>, string]> = [];
    const seen = new Set<string>();
    c.queues.forEach((q, i) => {
      if (seen.has(q.name)) problems.push([['queues', i, 'name'], `duplicate queue name "${q.name}"`]);
      seen.add(q.name);
    });
    return problems;
  },
  targetOf: (c) => describeDsn(c.dsn),
  create: (check, env) => {
    registerDsnSecrets(check.dsn, check.password);
    warm(loadIoredis);
    const target = `redis ${describeDsn(check.dsn)}`;
    const workers = new Map(check.queues.filter(wantsWorkers).map((q) => [q, workerMatcher(q)]));
    const conn = new Reconnecting<RedisHandle>({
      ...check,
      open: (timeout, signal) => openRedis(check, timeout, signal),
      destroy: (h) => h.destroy(),
      isBroken: (h) => h.broken,
    });
    return {
      run: (ctx) => runOnConnection({
        target, conn, ctx,
        work: async (h) => {
          await abortable(h.client.ping(), ctx.signal);
          if (!check.queues.length) return {};
          return queueSamples(h, check.queues, workers, ctx.signal, (msg) => env.log.debug(msg, { check: check.name }));
        },
      }),
      close: () => conn.close(),
    };
  },
};

interface RedisHandle extends DbHandleBase {
  client: Redis;
  destroy(): void;
}

const loadIoredis = lazy(() => import('ioredis'));

async function openRedis(check: RedisCheck, timeoutMs: number, signal: AbortSignal): Promise<RedisHandle> {
  const { Redis: RedisClient } = await loadIoredis();
  const client = new RedisClient(withPassword(check.dsn, check.password, check.username), {
    lazyConnect: true,
    connectTimeout: Math.max(1, Math.floor(timeoutMs)),
    commandTimeout: check.timeout,
    // Vigil decides when to reconnect (Reconnecting): no silent retries, no queueing while down.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResubscribe: false,
    connectionName: 'vigil',
  });
  const handle: RedisHandle = {
    client,
    version: 'unknown',
    broken: false,
    figures: () => ({
      total: client.status === 'ready' ? 1 : 0,
      idle: client.status === 'ready' && (client as unknown as { commandQueue: { length: number } }).commandQueue.length === 0 ? 1 : 0,
      waiting: (client as unknown as { offlineQueue?: { length: number } }).offlineQueue?.length ?? 0,
    }),
    destroy: () => client.disconnect(),
  };
  // Errors surface through the failing command; during connect the event carries the real
  // cause (WRONGPASS, ECONNREFUSED) while connect() itself only says "Connection is closed".
  let lastError: Error | undefined;
  client.on('error', (err: Error) => { lastError = err; });
  client.on('end', () => { handle.broken = true; });
  const kill = () => client.disconnect();
  signal.addEventListener('abort', kill, { once: true });
  try {
    await abortable(client.connect(), signal);
    const info = await abortable(client.info('server'), signal);
    (handle as { version: string }).version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (err) {
    client.disconnect();
    throw lastError && /Connection is closed/.test((err as Error).message) ? lastError : err;
  } finally {
    signal.removeEventListener('abort', kill);
  }
  return handle;
}

async function queueSamples(h: RedisHandle, queues: QueueConfig[], workers: Map<QueueConfig, (clientName: string) => boolean>, signal: AbortSignal, debug: (m: string) => void)
  : Promise<{ samples: Sample[]; failure?: { reason: 'invalid_result'; message: string } }> {
  const samples: Sample[] = [];
  const pipe = h.client.pipeline();
  const plan: Array<{ q: QueueConfig; state: string; keys: Array<{ key: string; cmd: 'llen' | 'xlen' | 'zcard' }> }> = [];
  for (const q of queues) {
    const key = q.key ?? q.name;
    if (q.kind === 'bullmq') {
      const k = (suffix: string) => `${q.prefix}:${key}:${suffix}`;
      plan.push(
        { q, state: 'waiting', keys: [{ key: k('wait'), cmd: 'llen' }, { key: k('paused'), cmd: 'llen' }, { key: k('prioritized'), cmd: 'zcard' }] },
        { q, state: 'active', keys: [{ key: k('active'), cmd: 'llen' }] },
        { q, state: 'failed', keys: [{ key: k('failed'), cmd: 'zcard' }] },
        { q, state: 'delayed', keys: [{ key: k('delayed'), cmd: 'zcard' }] },
        { q, state: 'completed', keys: [{ key: k('completed'), cmd: 'zcard' }] },
      );
    } else {
      plan.push({ q, state: 'length', keys: [{ key, cmd: q.kind === 'list' ? 'llen' : q.kind === 'stream' ? 'xlen' : 'zcard' }] });
    }
  }
  for (const p of plan) for (const k of p.keys) pipe[k.cmd](k.key);
  const results = (await abortable(pipe.exec(), signal)) ?? [];
  let i = 0;
  for (const p of plan) {
    let total = 0;
    for (const k of p.keys) {
      const [err, value] = results[i++] ?? [new Error('no reply'), null];
      if (err) {
        if (/WRONGTYPE/.test(err.message)) {
          return { samples, failure: { reason: 'invalid_result', message: `queue ${p.q.name}: key ${k.key} holds another type, expected ${k.cmd === 'llen' ? 'a list' : k.cmd === 'xlen' ? 'a stream' : 'a sorted set'}` } };
        }
        throw err;
      }
      total += Number(value);
    }
    samples.push({ key: `${p.q.name}.${p.state}`, metric: 'vigil_queue_depth', value: total, labels: { queue: p.q.name, state: p.state } });
  }

  if (workers.size) {
    let names: string[] | undefined;
    try {
      const list = String(await abortable(h.client.call('CLIENT', 'LIST'), signal));
      names = list.split('\n').map((line) => / name=(\S*)/.exec(line)?.[1] ?? '').filter(Boolean);
    } catch (err) {
      debug(`CLIENT LIST unavailable, no worker counts: ${errorMessage(err)}`);
    }
    if (names) {
      for (const [q, match] of workers) {
        samples.push({ key: `${q.name}.workers`, metric: 'vigil_queue_workers', value: names.filter(match).length, labels: { queue: q.name } });
      }
    }
  }
  return { samples };
}

/** BullMQ's own rule (Queue.getWorkers): "<prefix>:<base64 name>" or "<prefix>:<base64 name>:w:<worker name>". */
export function workerMatcher(q: Pick<QueueConfig, 'name' | 'key' | 'prefix' | 'worker_client_name'>): (clientName: string) => boolean {
  if (q.worker_client_name) {
    const re = Pattern.compile(q.worker_client_name);
    return (n) => re.test(n);
  }
  const base = `${q.prefix}:${Buffer.from(q.key ?? q.name).toString('base64')}`;
  return (n) => n === base || n.startsWith(`${base}:w:`);
}
