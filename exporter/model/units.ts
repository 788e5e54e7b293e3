// Units as Vigil exports them: durations in seconds (milliseconds in config), sizes in bytes,
// ratios 0-1; their parsing from vigil.yml's human forms, and their human forms for pages and
// messages.

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

/** '500ms' | '15s' | '5m' | '1h30m' -> milliseconds, or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const parts = text.trim().match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g);
  if (!parts || parts.join('') !== text.trim()) return undefined;
  let total = 0;
  for (const part of parts) {
    const m = DURATION_RE.exec(part)!;
    total += Number(m[1]) * DURATION_MS[m[2]];
  }
  return total;
}

export function formatDuration(ms: number): string {
  if (ms % 86400e3 === 0 && ms > 0) return `${ms / 86400e3}d`;
  if (ms % 3600e3 === 0 && ms > 0) return `${ms / 3600e3}h`;
  if (ms % 60e3 === 0 && ms > 0) return `${ms / 60e3}m`;
  if (ms % 1e3 === 0 && ms > 0) return `${ms / 1e3}s`;
  return `${ms}ms`;
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/;
const SIZE: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};

export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  return m ? Number(m[1]) * SIZE[m[2]] : undefined;
}

/** Bytes as written in vigil.yml: 1048576 -> "1MiB", 1000 -> "1000B". */
export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    if (bytes > 0 && bytes % SIZE[unit] === 0) return `${bytes / SIZE[unit]}${unit}`;
  }
  return `${bytes}B`;
}

/**
 * Durations as exported: seconds, rounded to the microsecond. performance.now() differences
 * carry float noise past that (0.00024130200000035983), which only lengthens every scrape.
 */
export function roundMicros(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** Human form of a value in its metric's base unit: seconds, bytes, ratios. */
export function formatValue(metric: string, v: number): string {
  if (metric.endsWith('_seconds') && !metric.includes('timestamp')) {
    const a = Math.abs(v);
    if (a >= 86400) return `${+(v / 86400).toFixed(1)} d`;
    if (a >= 3600) return `${+(v / 3600).toFixed(1)} h`;
    if (a >= 1) return `${+v.toFixed(2)} s`;
    return `${+(v * 1000).toFixed(1)} ms`;
  }
  if (metric.endsWith('_ratio')) return `${+(v * 100).toFixed(1)} %`;
  if (metric.endsWith('_bytes')) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    let x = v;
    while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return `${+x.toFixed(1)} ${units[i]}`;
  }
  return String(+v.toFixed(3));
}
