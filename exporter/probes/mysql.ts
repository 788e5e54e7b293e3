// MySQL and MariaDB. `dsn`: mysql://user:password@host:3306/db (mariadb:// is accepted too;
// mysql2 URL parameters such as ?ssl=...). The shared behaviour is in support/sqlserver.ts.
import { sqlServerProbe } from './support/sqlserver.js';

export const mysqlProbe = sqlServerProbe('mysql', {
  what: 'MySQL and MariaDB: `SELECT 1` on a kept pool; version, pool figures, reconnects',
  thresholds: '`response_time`',
});
