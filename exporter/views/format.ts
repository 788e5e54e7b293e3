// How every view writes times, durations and ratios, so /health, the status page, the history
// and the reports spell the same value the same way.

/** Epoch ms as RFC 3339 (UTC), null when absent. */
export const iso = (t: number | null | undefined): string | null => (t === undefined || t === null ? null : new Date(t).toISOString());

/** Seconds as milliseconds to 0.1 ms: response times everywhere. */
export const ms = (seconds: number): number => Math.round(seconds * 1e4) / 10;

/** A ratio as a percentage to 0.001, null when absent (report CSV). */
export const percent = (ratio: number | null): number | null => (ratio === null ? null : Math.round(ratio * 1e5) / 1e3);

/** Epoch ms as a compact UTC stamp for file names: 20261120T104500. */
export const fileStamp = (t: number): string => new Date(t).toISOString().replace(/[-:]/g, '').slice(0, 15);
