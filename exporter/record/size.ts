// What the record will weigh once full for a config: raw rows for history.raw_retention, a
// minute rollup per check and minute, an hour rollup per check and hour and a day rollup per
// check and day, each for its tier's retention (docs/record.md has the table). A check that runs
// every few minutes still has a minute row each minute: its status time fills them. The bytes
// per row were measured on the real write path (`npm run bench -- storage`: 500 checks at 10 s,
// a 2-minute outage per check every ~11 h, response times spread over ±40 %), B-tree pages
// included. Logged at start, so an operator sees the cost of a 1 s interval before the disk does.
// Raw results and minute rows outlive their retention by up to a round of retention (pruneRoundMs).
import { pruneRoundMs, type RecordRetention } from './record.js';

export const RAW_ROW_BYTES = 24;
export const ROLLUP_ROW_BYTES = 45;
/** An hour row with its response-time sketch (a wider spread of response times takes more). */
export const HOUR_ROW_BYTES = 68;
export const DAY_ROW_BYTES = 93;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function estimateRecordBytes(checks: ReadonlyArray<{ interval: number; enabled?: boolean }>, retention: RecordRetention): number {
  let bytes = 0;
  const round = pruneRoundMs(retention);
  for (const c of checks) {
    if (c.enabled === false) continue;
    bytes += Math.ceil((retention.rawMs + round) / c.interval) * RAW_ROW_BYTES;
    bytes += Math.ceil(((retention.minuteMs ?? retention.rollupMs) + round) / MINUTE_MS) * ROLLUP_ROW_BYTES;
    bytes += Math.ceil((retention.hourMs ?? retention.rollupMs) / HOUR_MS) * HOUR_ROW_BYTES;
    bytes += Math.ceil(retention.rollupMs / DAY_MS) * DAY_ROW_BYTES;
  }
  return bytes;
}
