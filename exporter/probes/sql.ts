// SQL values: named read-only queries that return a number (queue depth, pending payouts, the age
// of the newest row), exported as vigil_sql_value{name} and compared to thresholds keyed by name.
// Read-only is enforced by the database, not by looking at the SQL: every query runs in a
// READ ONLY transaction on a read-only session, one statement per query (extended protocol on
// PostgreSQL, multipleStatements off on MySQL), and the transaction is always rolled back.
import { z } from 'zod';
import { name } from '../config/common.js';
import type { CheckCommon } from '../model/check.js';
import { DB_METRICS, runOnConnection } from './support/dbprobe.js';
import { describeDsn, dsnField, dsnKind, registerDsnSecrets } from './support/dsn.js';
import { errorMessage } from './support/errors.js';
import { connectFields, Reconnecting } from './support/reconnect.js';
import { classifyDbError, isConnectionError, openSql, warmSqlDriver, type SqlDriverKind, type SqlHandle } from './support/sqldb.js';
import type { ProbeDefinition } from './types.js';
import type { Sample } from '../model/result.js';
import { namedValueProblems } from './support/named.js';

const EMPTY_MODES = ['fail', 'ok', 'value'] as const;

const query = z.strictObject({
  /** Label value of vigil_sql_value and the threshold key. */
  name,
  /** One statement returning one row; its first column is the value. */
  query: z.string().min(1),
  /** No row, or NULL: fail the check (default), skip the value (ok), or use empty_value (value). */
  on_empty: z.enum(EMPTY_MODES).default('fail'),
  empty_value: z.number().default(0),
});

const schema = z.object({
  /** postgres or mysql (MySQL and MariaDB); default: from the DSN's scheme. */
  driver: z.enum(['postgres', 'mysql']).optional(),
  dsn: dsnField('postgres', 'mysql'),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  pool_size: z.number().int().min(1).max(10).default(1),
  queries: z.array(query).min(1),
  ...connectFields,
});

export type SqlCheck = CheckCommon & z.output<typeof schema>;

export const sqlProbe: ProbeDefinition<SqlCheck> = {
  type: 'sql',
  doc: {
    what: 'named read-only queries returning numbers (PostgreSQL or MySQL/MariaDB)',
    thresholds: 'the query names',
  },
  schema,
  reasons: ['missing'],
  metrics: [
    { name: 'vigil_sql_value', help: 'Value returned by a named read-only SQL query.', labels: ['name'] },
    ...DB_METRICS,
  ],
  thresholdKeys: (c) => c.queries.map((q) => q.name),
  validate: (c) => {
    const problems = namedValueProblems(c.queries, 'queries', 'query');
    const kind = dsnKind(c.dsn);
    if (c.driver && kind && kind !== c.driver) problems.push([['driver'], `driver ${c.driver} does not match the DSN's scheme (${kind})`]);
    return problems;
  },
  targetOf: (c) => describeDsn(c.dsn),
  create: (check, env) => {
    registerDsnSecrets(check.dsn, check.password);
    const driver: SqlDriverKind = check.driver ?? (dsnKind(check.dsn) === 'mysql' ? 'mysql' : 'postgres');
    warmSqlDriver(driver);
    const target = `${driver} ${describeDsn(check.dsn)}`;
    const conn = new Reconnecting<SqlHandle>({
      ...check,
      open: (timeout, signal) => openSql(driver, {
        dsn: check.dsn, password: check.password, username: check.username, poolSize: check.pool_size, readOnlySession: true,
        onIdleError: (err) => env.log.debug('idle connection failed', { check: check.name, error: err.message }),
      }, timeout, signal),
      destroy: (h) => h.destroy(),
      isBroken: (h) => h.broken,
    });
    return {
      run: (ctx) => runOnConnection({
        target, conn, ctx,
        work: async (h, remaining) => {
          const samples: Sample[] = [];
          for (const q of check.queries) {
            let row: unknown[] | undefined;
            try {
              row = await h.readOnlyQuery(q.query, remaining(), ctx.signal);
            } catch (err) {
              if (isConnectionError(err)) throw err;
              return { samples, failure: { reason: classifyDbError(err), message: `${target}: query ${q.name} failed: ${errorMessage(err)}` } };
            }
            const value = toNumber(row?.[0]);
            if (value === undefined) {
              const seen = row === undefined ? 'no row' : `${describe(row[0])}`;
              if (row !== undefined && row[0] !== null) {
                return { samples, failure: { reason: 'invalid_result', message: `${target}: query ${q.name} returned ${seen}, expected a number` } };
              }
              if (q.on_empty === 'ok') continue;
              if (q.on_empty === 'fail') return { samples, failure: { reason: 'missing', message: `${target}: query ${q.name} returned ${seen}, expected a number (set on_empty: ok or value to allow that)` } };
              samples.push(sqlSample(q.name, q.empty_value));
              continue;
            }
            samples.push(sqlSample(q.name, value));
          }
          return { samples };
        },
      }),
      close: () => conn.close(),
    };
  },
};

const sqlSample = (n: string, value: number): Sample => ({ key: n, metric: 'vigil_sql_value', value, labels: { name: n } });

/** numbers, bigint/numeric strings, booleans, dates (as unix seconds); anything else is not a number. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime() / 1000;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `"${v.slice(0, 40)}" (text)`;
  return `${typeof v}`;
}
