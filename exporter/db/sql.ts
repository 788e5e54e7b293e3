// What the record needs from a database, whichever it is: the embedded SQLite file
// (<storage.path>/vigil.db, the default) or a shared PostgreSQL (storage.type: postgres). Both
// answer asynchronously, so the record's code is written once and never holds the event loop
// while a database works. SQL is written once too: `?` placeholders, and the few spellings that
// differ between the two come from `dialect`.
export type SqlValue = number | string | bigint | Buffer | null;

export interface Statement {
  sql: string;
  params?: SqlValue[];
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
