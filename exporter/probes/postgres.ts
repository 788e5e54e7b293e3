// PostgreSQL. `dsn`: postgres://user:password@host:5432/db?sslmode=require (libpq-style
// parameters as pg supports them). The shared behaviour is in support/sqlserver.ts.
import { sqlServerProbe } from './support/sqlserver.js';

export const postgresProbe = sqlServerProbe('postgres', {
  what: 'PostgreSQL: `SELECT 1` on a kept pool; version, pool figures, reconnects',
  thresholds: '`response_time`',
});
