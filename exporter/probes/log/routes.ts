// GET /api/v1/logs?check=&q=&since=&until=&before=&after=&limit=: the lines log checks kept,
// newest first. `q` is words that must all appear (FTS5 on SQLite; on PostgreSQL a
// case-insensitive substring per word). `since`/`until` are RFC 3339 times or a duration back
// from now (`15m`); paging by `before=<id>` (the `next_before` of the previous page); a live
// tail polls with `after=<the newest id it has>`.
//
// Access: whoever may read the status page (server.status_page_auth), never less. Log lines can
// hold secrets: they are redacted before they are stored (config/secrets.ts redact(): registered
// secrets, URL passwords, password=/token=/Authorization values), and a deployment whose status
// page is open to everyone should set status_page_auth before keeping lines (docs/probes.md#log).
import { parseDuration } from '../../model/units.js';
import type { KindReply, KindRequest, KindRoute, KindRouteContext } from '../types.js';
import type { LogStore } from './store.js';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const MAX_Q = 500;

type Parsed<T> = T | { error: string };
const isError = (v: unknown): v is { error: string } => typeof v === 'object' && v !== null && 'error' in v;

function one(query: Record<string, unknown>, key: string): Parsed<string | undefined> {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return { error: `${key} may be given once` };
  return v;
}

/** An RFC 3339 time or a duration back from now, as epoch ms. */
function time(query: Record<string, unknown>, key: string, now: number): Parsed<number | undefined> {
  const v = one(query, key);
  if (v === undefined || isError(v)) return v;
  const ago = parseDuration(v);
  if (ago !== undefined) return now - ago;
  if (/^\d{4}-\d\d-\d\dT/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  return { error: `${key} must be an RFC 3339 time (2026-12-03T10:00:00Z) or a duration back from now (15m), got "${v.slice(0, 40)}"` };
}

function integer(query: Record<string, unknown>, key: string, min: number, max: number): Parsed<number | undefined> {
  const v = one(query, key);
  if (v === undefined || isError(v)) return v;
  if (!/^\d{1,15}$/.test(v) || Number(v) < min || Number(v) > max) return { error: `${key} must be an integer from ${min} to ${max}` };
  return Number(v);
}

async function search(req: KindRequest, ctx: KindRouteContext): Promise<KindReply> {
  const now = Date.now();
  const check = one(req.query, 'check');
  const q = one(req.query, 'q');
  const since = time(req.query, 'since', now);
  const until = time(req.query, 'until', now);
  const before = integer(req.query, 'before', 1, Number.MAX_SAFE_INTEGER);
  const after = integer(req.query, 'after', 0, Number.MAX_SAFE_INTEGER);
  const limit = integer(req.query, 'limit', 1, MAX_LIMIT);
  for (const v of [check, q, since, until, before, after, limit]) if (isError(v)) return { status: 400, body: v };
  if (typeof q === 'string' && q.length > MAX_Q) return { status: 400, body: { error: `q is longer than ${MAX_Q} characters` } };
  if (typeof check === 'string' && ctx.check(check)?.type !== 'log') return { status: 404, body: { error: `no log check named "${check.slice(0, 100)}"` } };
  const store = ctx.store('logs') as LogStore | undefined;
  if (!store) return { status: 503, body: { error: 'log search is not available' } };
  let found;
  try {
    found = await store.search({
      check: check as string | undefined, q: q as string | undefined, since: since as number | undefined, until: until as number | undefined,
      before: before as number | undefined, after: after as number | undefined, limit: (limit as number | undefined) ?? DEFAULT_LIMIT,
    });
  } catch (err) {
    return { status: 503, body: { error: `log search failed: ${(err as NodeJS.ErrnoException).code ?? 'database error'}` } };
  }
  return {
    body: {
      lines: found.lines.map((l) => ({ ...l, time: new Date(l.t).toISOString() })),
      ...(found.more ? { next_before: found.lines[found.lines.length - 1]!.id } : {}),
    },
  };
}

export const LOG_ROUTES: KindRoute[] = [
  { method: 'GET', path: '/logs', access: 'status_page', handle: search },
];
