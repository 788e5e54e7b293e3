// What the postgres and mysql probe types share: keep a small pool between runs and run
// `SELECT 1` on it with the check's timeout; report the server version, pool figures and
// reconnects. A pool that fails is rebuilt (bounded attempts and backoff), so a restarted server
// shows as recovered on the next run. Each type stays its own module and only names its driver.
import { z } from 'zod';
import type { CheckCommon } from '../../model/check.js';
import type { ProbeDefinition, ProbeDoc } from '../types.js';
import { DB_METRICS, runOnConnection } from './dbprobe.js';
import { describeDsn, dsnField, registerDsnSecrets } from './dsn.js';
import { connectFields, Reconnecting } from './reconnect.js';
import { openSql, warmSqlDriver, type SqlHandle } from './sqldb.js';

function schemaFor(driver: 'postgres' | 'mysql') {
  return z.object({
    dsn: dsnField(driver),
    /** Overrides the user in the DSN. */
    username: z.string().min(1).optional(),
    /** Overrides the password in the DSN; use password_file or ${ENV} to keep it out of the file. */
    password: z.string().optional(),
    /** Connections the probe keeps open (it needs one; more only matter for pool-figure dashboards). */
    pool_size: z.number().int().min(1).max(10).default(1),
    ...connectFields,
  });
}

export type SqlServerCheck = CheckCommon & z.output<ReturnType<typeof schemaFor>>;

export function sqlServerProbe(driver: 'postgres' | 'mysql', doc: ProbeDoc): ProbeDefinition<SqlServerCheck> {
  return {
    type: driver,
    doc,
    schema: schemaFor(driver),
    reasons: [],
    metrics: DB_METRICS,
    thresholdKeys: () => [],
    targetOf: (c) => describeDsn(c.dsn),
    create: (check, env) => {
      registerDsnSecrets(check.dsn, check.password);
      warmSqlDriver(driver);
      const target = `${driver} ${describeDsn(check.dsn)}`;
      const conn = new Reconnecting<SqlHandle>({
        ...check,
        open: (timeout, signal) => openSql(driver, {
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
}
