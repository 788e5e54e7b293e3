// What the postgres, mysql and redis probes share: the metric families, a run that reuses the
// kept connection, retries once on a fresh one when the kept one turns out to be dead (the
// server restarted between runs), and reports server version, pool figures and reconnects.
import { errorMessage } from './errors.js';
import type { Reconnecting } from './reconnect.js';
import { classifyDbError, isConnectionError, type PoolFigures } from './sqldb.js';
import type { MetricSpec } from '../../model/metric.js';
import type { ProbeResult, Sample } from '../../model/result.js';
import type { ProbeRunContext } from '../types.js';

export const DB_METRICS: MetricSpec[] = [
  { name: 'vigil_db_server_info', help: 'Server version of the database, as a label; always 1.', labels: ['version'] },
  { name: 'vigil_db_pool_connections', help: "Connections in the probe's own pool by state.", labels: ['state'] },
  { name: 'vigil_db_reconnects_total', help: 'Connections the probe rebuilt after a failure or a server restart.', type: 'counter' },
];

export interface DbHandleBase {
  readonly version: string;
  broken: boolean;
  figures(): PoolFigures;
}

export function dbSamples(handle: DbHandleBase | undefined, reconnects: number): Sample[] {
  const f = handle?.figures() ?? { total: 0, idle: 0, waiting: 0 };
  const out: Sample[] = [
    { key: 'pool_total', metric: 'vigil_db_pool_connections', value: f.total, labels: { state: 'total' } },
    { key: 'pool_idle', metric: 'vigil_db_pool_connections', value: f.idle, labels: { state: 'idle' } },
    { key: 'pool_waiting', metric: 'vigil_db_pool_connections', value: f.waiting, labels: { state: 'waiting' } },
    { key: 'reconnects', metric: 'vigil_db_reconnects_total', value: reconnects },
  ];
  if (handle) out.push({ key: 'server_info', metric: 'vigil_db_server_info', value: 1, labels: { version: handle.version } });
  return out;
}

export interface DbRunOptions<H extends DbHandleBase> {
  /** "postgres 127.0.0.1:5432/app" */
  target: string;
  conn: Reconnecting<H>;
  ctx: ProbeRunContext;
  /** The work of one run on a connection (ping, queries). Returns extra samples. */
  work(handle: H, remainingMs: () => number): Promise<{ samples?: Sample[]; failure?: Omit<ProbeResult, 'samples' | 'ok'> }>;
  /** Errors of `work` that are not about the connection (a bad query) are reported by this. */
  describe?(err: unknown): string | undefined;
}

export async function runOnConnection<H extends DbHandleBase>(opts: DbRunOptions<H>): Promise<ProbeResult> {
  const { conn, ctx, target } = opts;
  // The probe's own, more precise message must win over the runner's generic timeout.
  const deadline = Date.now() + ctx.remaining();
  const remaining = () => ctx.remaining();
  let handle: H | undefined;
  let phase = 'connect';
  try {
    const kept = conn.current() !== undefined;
    handle = await conn.get(ctx.signal, deadline);
    phase = 'query';
    let out;
    try {
      out = await opts.work(handle, remaining);
    } catch (err) {
      if (!isConnectionError(err) || ctx.signal.aborted) throw err;
      conn.invalidate();
      if (!kept) throw err;
      // The kept connection died since the last run (server restart): one more try on a new one.
      phase = 'connect';
      handle = await conn.get(ctx.signal, deadline);
      phase = 'query';
      out = await opts.work(handle, remaining);
    }
    const samples = [...dbSamples(handle, conn.reconnects), ...(out.samples ?? [])];
    if (out.failure) return { ok: false, ...out.failure, samples };
    return { ok: true, samples, info: { server_version: handle.version } };
  } catch (err) {
    if (isConnectionError(err)) conn.invalidate();
    const detail = (phase === 'query' && opts.describe?.(err)) || errorMessage(err);
    return {
      ok: false,
      reason: classifyDbError(err),
      message: `${target}: ${phase === 'connect' && !/^connect/i.test(detail) ? 'connect: ' : ''}${detail}`,
      samples: dbSamples(conn.current(), conn.reconnects),
    };
  }
}
