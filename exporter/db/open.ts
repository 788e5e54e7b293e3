// The record's database as the config's storage section names it: the embedded SQLite file
// under --storage.path (the default, no setup) or a shared PostgreSQL server.
import type { StorageConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { describePostgres, openPostgresRecord } from './postgres.js';
import type { RecordSql } from './sql.js';
import { openSqliteRecord, type SqliteOptions } from './sqlite.js';
import { RECORD_FILE } from './schema.js';

export type StorageChoice = Pick<StorageConfig, 'type' | 'dsn'> & Partial<Pick<StorageConfig, 'connect_timeout' | 'statement_timeout' | 'pool_size'>>;

export function connectRecord(storage: StorageChoice, dir: string, log: Logger, now = Date.now(), sqlite: Partial<SqliteOptions> = {}): Promise<RecordSql> {
  if (storage.type === 'postgres') {
    return openPostgresRecord({ dsn: storage.dsn!, log, connectTimeoutMs: storage.connect_timeout, statementTimeoutMs: storage.statement_timeout, poolSize: storage.pool_size });
  }
  return openSqliteRecord(dir, log, now, sqlite);
}

/** Where the record is, for log lines: the file, or the server as host:port/database (no credentials). */
export function describeStorage(storage: StorageChoice, dir: string): string {
  return storage.type === 'postgres' ? `postgres ${describePostgres(storage.dsn!)}` : `${dir}/${RECORD_FILE}`;
}

/** Whether a reload changes where the record is (which only a restart applies). */
export function sameStorage(a: StorageChoice, b: StorageChoice): boolean {
  return a.type === b.type && (a.dsn ?? '') === (b.dsn ?? '');
}
