// The record's own gauges in the exporter's registry: how big vigil.db is on disk (with its WAL,
// which holds the newest writes until a checkpoint) and when a write to it last succeeded, so
// "the record stopped being written" and "the disk fills up" can be alerted on. Both are read
// at scrape time: two stat() calls, no query.
import { statSync } from 'node:fs';
import client from 'prom-client';
import { RECORD_FILE } from '../db/schema.js';

export const STORAGE_BYTES_METRIC = 'vigil_storage_bytes';
export const LAST_WRITE_METRIC = 'vigil_storage_last_successful_write_timestamp_seconds';

/** What the gauges read from the record (CheckRecord is one). */
export interface RecordStats {
  /** Path of vigil.db. */
  readonly file: string;
  /** Epoch ms of the last successful write; undefined before the first. */
  readonly lastWriteAt?: number;
  /** The record is on a database server (storage.type: postgres): there is no vigil.db to measure. */
  readonly onServer?: boolean;
}

export function registerRecordMetrics(registry: client.Registry, record: RecordStats): void {
  new client.Gauge({
    name: STORAGE_BYTES_METRIC,
    help: 'Size on disk of a file in --storage.path in bytes (vigil.db: the database and its write-ahead log).',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      // A PostgreSQL record's size is the server's to report (postgres_exporter: pg_database_size_bytes).
      if (record.onServer) this.remove({ file: RECORD_FILE });
      else this.set({ file: RECORD_FILE }, sizeOf(record.file) + sizeOf(`${record.file}-wal`));
    },
  });
  new client.Gauge({
    name: LAST_WRITE_METRIC,
    help: 'When a write to a store in --storage.path last succeeded (record: check results to vigil.db); absent before the first.',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      if (record.lastWriteAt !== undefined) this.set({ store: 'record' }, record.lastWriteAt / 1000);
    },
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // not created yet (or moved aside): nothing on disk
  }
}
