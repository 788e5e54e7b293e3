// Caps on what one read may ask for: its cost grows with them (a status snapshot is checks x
// buckets). A request past a cap gets a 400 naming the parameter and the limit.
import { formatDuration } from '../model/units.js';
import { HttpError } from './body.js';

/** Bar buckets in one status snapshot (5-minute buckets over 24 h). */
export const MAX_STATUS_BUCKETS = 288;
/** Buckets of one check's history (1-minute buckets over 24 h). */
export const MAX_HISTORY_BUCKETS = 1440;
/** A time range (report, check history, alert history) may span this much… */
export const MAX_RANGE_MS = 31 * 86_400_000;

/** …or `retention` (history.retention) when that is longer: all the data held can always be asked for. */
export function checkRange(names: [string, string], from: number, to: number, retention = 0): void {
  const max = Math.max(MAX_RANGE_MS, retention);
  if (to - from <= max) return;
  const why = !retention ? '' : retention > MAX_RANGE_MS ? ' (history.retention)' : ' (or history.retention when longer)';
  throw new HttpError(400, `${names[0]}, ${names[1]}: the range may span at most ${formatDuration(max)}${why}, got ${formatDuration(Math.round((to - from) / 1000) * 1000)}`);
}
