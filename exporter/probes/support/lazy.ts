// Drivers load on first use: an exporter that only checks HTTP endpoints never pays the memory
// of pg, mysql2, ioredis, ws, undici or systeminformation (~15 MB of heap together, measured).

/** Memoised async loader: the import runs once, on the first call. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
