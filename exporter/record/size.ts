// What the record will weigh once full for a config: raw rows for history.raw_retention plus
// one minute rollup per check and minute for the rollup retention. The bytes per row were
// measured on the real write path (500 checks at 10 s, 5 % failing with a message): 26 bytes a
// raw result, 45 a minute rollup, B-tree pages included. Logged at start, so an operator sees
// the cost of a 1 s interval before the disk does.
export const RAW_ROW_BYTES = 26;
export const ROLLUP_ROW_BYTES = 45;
const MINUTE_MS = 60_000;

export function estimateRecordBytes(checks: ReadonlyArray<{ interval: number; enabled?: boolean }>, retention: { rawMs: number; rollupMs: number }): number {
  let bytes = 0;
  for (const c of checks) {
    if (c.enabled === false) continue;
    bytes += Math.ceil(retention.rawMs / c.interval) * RAW_ROW_BYTES;
    bytes += Math.ceil(retention.rollupMs / Math.max(MINUTE_MS, c.interval)) * ROLLUP_ROW_BYTES;
  }
  return bytes;
}
