// Drivers load on first use: an exporter that only checks HTTP endpoints never pays the memory
// of pg, mysql2, ioredis, ws, undici, systeminformation or cron-parser (~16 MB of heap
// together, measured).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Memoised async loader: the import runs once, on the first call. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/** Start loading now, when a check that needs it is created, so its first run is not timed with the import. */
export function warm(load: () => Promise<unknown>): void {
  load().catch(() => {}); // a failed import is reported by the run that awaits it
}

/** Memoised synchronous loader of a CommonJS package, for code that cannot await (config checks). */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
