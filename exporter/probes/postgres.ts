// PostgreSQL: keeps a small pool between runs and runs `SELECT 1` on it with the check's timeout;
// reports the server version, pool figures and reconnects. A pool that fails is rebuilt
// (bounded attempts and backoff), so a restarted server shows as recovered on the next run.
import { z } from 'zod';
import type { CheckCommon } from '../config/common.js';
import { DB_METRICS, runOnConnection } from './support/dbprobe.js';
import { describeDsn, dsnField, registerDsnSecrets } from './support/dsn.js';
import { connectFields, Reconnecting } from './support/reconnect.js';
import { openSql, type SqlHandle } from './support/sqldb.js';
import type { ProbeDefinition } from './types.js';

const schema = z.object({
  /** postgres://user:password@host:5432/db?sslmode=require (libpq-style parameters as pg supports them). */
  dsn: dsnField('postgres'),
  /** Overrides the user in the DSN. */
  username: z.string().min(1).optional(),
  /** Overrides the password in the DSN; use password_file or ${ENV} to keep it out of the file. */
  password: z.string().optional(),
  /** Connections the probe keeps open (it needs one; more only matter for pool-figure dashboards). */
  pool_size: z.number().int().min(1).max(10).default(1),
  ...connectFields,
});

export type PostgresCheck = CheckCommon & z.output<typeof schema>;

export const postgresProbe: ProbeDefinition<PostgresCheck> = {
  type: 'postgres',
  schema,
  metrics: DB_METRICS,
  thresholdKeys: () => [],
  create: (check, env) => {
    registerDsnSecrets(check.dsn, check.password);
    const target = `postgres ${describeDsn(check.dsn)}`;
    const conn = new Reconnecting<SqlHandle>({
      ...check,
      open: (timeout, signal) => openSql('postgres', {
        dsn: check.dsn, password: check.password, username: check.username, poolSize: check.pool_size, readOnlySession: false,
        onIdleError: (err) => env.log.debug('idle connection failed', { check: check.name, error: err.message }),
      }, timeout, signal),
      destroy: (h) => h.destroy(),
      isBroken: (h) => h.broken,
    });
    return {
      run: (ctx) => runOnConnection({ target, conn, ctx, work: async (h, remaining) => { await h.ping(remaining(), ctx.signal); return {}; } }),
      close: () => conn.close(),
    };
  },
};
