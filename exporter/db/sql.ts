// What the record needs from a database, whichever it is: the embedded SQLite file
// (<storage.path>/vigil.db, the default) or a shared PostgreSQL (storage.type: postgres). Both
// answer asynchronously, so the record's code is written once and never holds the event loop
// while a database works. SQL is written once too: `?` placeholders, and the few spellings that
// differ between the two come from `dialect`.
export type SqlValue = number | string | bigint | Buffer | null;

export interface Statement {
  sql: string;
  params?: SqlValue[];
  /**
   * Instead of `params`: `sql` once per row of these columns, the i-th value of each bound to its
   * i-th placeholder (all the same length). Typed arrays of numbers cross to SQLite's worker as one
   * copy each, where rows as arrays would be cloned one by one. One result, counting every row's changes.
   */
  columns?: ReadonlyArray<ArrayLike<SqlValue>>;
}

/**
 * `statements` run by `run`, which knows no columns: a statement of columns goes to it as a
 * statement per row, and comes back as one result with their changes summed.
 */
export async function byRows(statements: Statement[], run: (rows: Statement[]) => Promise<StatementResult[]>): Promise<StatementResult[]> {
  if (!statements.some((st) => st.columns)) return run(statements);
  const spans: number[] = [];
  const rows = statements.flatMap((st) => {
    const columns = st.columns;
    if (!columns) {
      spans.push(1);
      return [st];
    }
    const n = columns[0]?.length ?? 0;
    spans.push(n);
    return Array.from({ length: n }, (_, i): Statement => ({ sql: st.sql, params: columns.map((c) => c[i]) }));
  });
  const results = await run(rows);
  let at = 0;
  return spans.map((n) => {
    const mine = results.slice(at, at += n);
    return mine.length === 1 ? mine[0] : { changes: mine.reduce((sum, r) => sum + r.changes, 0) };
  });
}

export interface StatementResult {
  /** Rows changed by an INSERT/UPDATE/DELETE. */
  changes: number;
  /** Rows of a statement that returns some (SELECT, or RETURNING). */
  rows?: Array<Record<string, unknown>>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface RecordSql {
  readonly dialect: Dialect;
  /** The rows of one query. */
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Statements run in one transaction, all or none, in order; each one's result. */
  transaction(statements: Statement[]): Promise<StatementResult[]>;
  /** A consistent online copy of the whole database into `file` (SQLite only). */
  backup?(file: string): Promise<void>;
  close(): Promise<void>;
}

/** The larger of two values inside one row (SQLite's scalar max, PostgreSQL's greatest). */
export function greatest(dialect: Dialect): string {
  return dialect === 'postgres' ? 'greatest' : 'max';
}

/**
 * `sql` for one of its several users: everything but close(), which leaves the connection open
 * (the owner closes it once every user is done).
 */
export function shared(sql: RecordSql): RecordSql {
  return {
    get dialect() { return sql.dialect; },
    all: (text, params) => sql.all(text, params),
    transaction: (statements) => sql.transaction(statements),
    ...(sql.backup ? { backup: (file: string) => sql.backup!(file) } : {}),
    close: async () => {},
  };
}

/**
 * A database opened at its first statement (`connect` again after a failed open), for users
 * built before the config says which database it is. close() leaves it open, as shared().
 */
export function lazySql(connect: () => Promise<RecordSql>, dialect: () => Dialect): RecordSql {
  return {
    get dialect() { return dialect(); },
    all: async (text, params) => (await connect()).all(text, params),
    transaction: async (statements) => (await connect()).transaction(statements),
    backup: async (file) => {
      const sql = await connect();
      if (!sql.backup) throw new Error('this storage type has no online backup here');
      return sql.backup(file);
    },
    close: async () => {},
  };
}
