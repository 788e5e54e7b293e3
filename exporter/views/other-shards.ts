// The checks of the config that other shards run (--shard.count > 1), with the latest status
// each one left in the shared record: /health and the status page list the whole config on
// every shard, each of those checks marked with the shard that serves it. Without a shared
// record (storage.type: sqlite) or while it does not answer, they are listed with status
// "unknown" and no last run, so a missing check never looks healthy.
import type { ForeignCheck } from '../config/scale.js';
import type { LatestResult } from '../record/foreign.js';
import type { Status } from '../model/status.js';
import { iso } from './format.js';

export interface OtherShardCheck {
  name: string;
  component: string;
  type: string;
  /** "shard 2 of 3". */
  served_by: string;
  status: Status;
  last_run: string | null;
  message: string | null;
}

export interface OtherShards {
  /** This instance: "shard 1 of 3". */
  shard: string;
  /** Where the statuses come from: the shared record, or nowhere (sqlite is this instance's own file; a failed read). */
  source: 'record' | 'unavailable';
  checks: OtherShardCheck[];
}

export function otherShardsView(self: string, foreign: readonly ForeignCheck[], latest: Map<string, LatestResult> | undefined): OtherShards {
  return {
    shard: self,
    source: latest ? 'record' : 'unavailable',
    checks: foreign.map((c) => {
      const r = latest?.get(c.name);
      return { name: c.name, component: c.component, type: c.type, served_by: c.served_by, status: r?.status ?? 'unknown', last_run: r ? iso(r.t) : null, message: r?.message ?? null };
    }),
  };
}
