// How the durable stores report their writes to whoever watches the storage directory
// (vigil_storage_write_errors_total, /-/ready).

/** Label values of vigil_storage_write_errors_total: the stores, and the periodic writability check. */
export type StorageWriter = 'heartbeats' | 'alert_log' | 'record' | 'write_check';
export const STORAGE_WRITERS: readonly StorageWriter[] = ['heartbeats', 'alert_log', 'record', 'write_check'];

/** What a store tells the directory about each write it makes. */
export interface WriteReporter {
  writeSucceeded(store: StorageWriter): void;
  writeFailed(store: StorageWriter, err: unknown): void;
}

/**
 * Counts failed writes that acknowledge nothing (the record's batched results): counted, but
 * they do not make the directory "not ready" (the writability check does that for a bad disk).
 */
export interface WriteErrorCounter {
  countWriteError(store: StorageWriter): void;
}
