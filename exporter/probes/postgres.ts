// PostgreSQL. `dsn`: postgres://user:password@host:5432/db?sslmode=require (libpq-style
// parameters as pg supports them). The shared behaviour is in support/sqlserver.ts.
import { sqlServerProbe } from './support/sqlserver.js';

export const postgresProbe = sqlServerProbe('postgres');
