// The heartbeat kind's endpoints: jobs POST /api/v1/heartbeats/<name> (success), /<name>/start
// and /<name>/fail, with an optional run duration, exit code and short message as a JSON or form
// body or query parameters. A token is required (the `heartbeat` access, checked by the server's
// guard): the check's own `token`, else the server's `heartbeat_token` (or VIGIL_HEARTBEAT_TOKEN),
// as a bearer token or `?token=`. The server mounts these (server/routes/kinds.ts).
//
// GET is refused (405) on purpose: link previews (Slack, Teams, mail scanners) and prefetchers
// follow URLs they see, and a pasted ping URL with ?token= would record a success that never
// happened. curl in a crontab posts just as easily: `curl -fsS -X POST …`.
import { RequestError } from '../../model/request.js';
import type { KindReply, KindRequest, KindRoute, KindRouteContext } from '../types.js';
import type { HeartbeatEvent, HeartbeatStore, PingData } from './store.js';

const MAX_BODY = 16 * 1024;
const MAX_MESSAGE = 500;

function ping(event: HeartbeatEvent) {
  return async (req: KindRequest, ctx: KindRouteContext): Promise<KindReply> => {
    const name = req.params.name;
    if (ctx.check(name)?.type !== 'heartbeat') return { status: 404, body: { error: `no heartbeat check named "${name}"` } };
    const data = parsePingData(req.query, (await req.body(MAX_BODY)).toString('utf8'), req.contentType);
    const kind: HeartbeatEvent = event === 'success' && data.exit_code !== undefined && data.exit_code !== 0 ? 'fail' : event;
    const at = Date.now();
    let record;
    try {
      record = await (ctx.store('heartbeats') as HeartbeatStore).ping(name, kind, data, at);
    } catch (err) {
      // Not on disk, so not recorded at all (the page does not show it): the job should retry.
      throw new RequestError(503, `the ping was not recorded: the storage write failed (${(err as NodeJS.ErrnoException).code ?? 'error'}); retry later`);
    }
    // Re-evaluate at once so status (and alerts) follow the ping. A run that was already in
    // flight started before the ping, so it doesn't count: run again after it.
    let result = await withTimeout(ctx.runNow(name), 5_000);
    if (result && result.startedAt <= at) result = await withTimeout(ctx.runNow(name), 5_000);
    return {
      body: {
        check: name,
        event: kind,
        received_at: new Date(at).toISOString(),
        status: ctx.check(name)?.status ?? 'unknown',
        ...(record.last_duration !== undefined && kind !== 'start' ? { duration_seconds: record.last_duration } : {}),
        ...(record.last_exit_code !== undefined && kind !== 'start' ? { exit_code: record.last_exit_code } : {}),
      },
    };
  };
}

// A refusal that reveals nothing: no token needed to be told to use POST.
const refuseGet = (): KindReply => ({
  status: 405,
  headers: { Allow: 'POST' },
  body: { error: 'heartbeats are recorded with POST (GET is refused so that link previews cannot record pings), e.g. curl -fsS -X POST -H "Authorization: Bearer $TOKEN" <this URL>' },
});

export const HEARTBEAT_ROUTES: KindRoute[] = [
  { method: 'POST', path: '/heartbeats/:name', access: 'heartbeat', handle: ping('success') },
  { method: 'POST', path: '/heartbeats/:name/start', access: 'heartbeat', handle: ping('start') },
  { method: 'POST', path: '/heartbeats/:name/fail', access: 'heartbeat', handle: ping('fail') },
  { method: 'GET', path: '/heartbeats/:name', access: 'public', handle: refuseGet },
  { method: 'GET', path: '/heartbeats/:name/start', access: 'public', handle: refuseGet },
  { method: 'GET', path: '/heartbeats/:name/fail', access: 'public', handle: refuseGet },
];

function withTimeout<T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!p) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, () => { clearTimeout(timer); resolve(undefined); });
  });
}

const PING_FIELDS = ['duration_seconds', 'exit_code', 'message'] as const;

/**
 * The fields of a ping from its query and body. Only the known keys are read, and only as a
 * string or number: a JSON body is arbitrary input, and converting an object or array to a
 * number or string runs its `toString`/`valueOf` (a JSON `{"toString": 1}` throws, an array
 * nested a few thousand deep overflows the stack) — both were 500s.
 */
export function parsePingData(query: Record<string, unknown>, raw: string, type: string): PingData {
  const fields: Record<string, string | number | boolean> = {};
  for (const k of PING_FIELDS) if (typeof query[k] === 'string') fields[k] = query[k];
  if (raw.trim()) {
    if (/json/i.test(type) || (!type && /^\s*\{/.test(raw))) {
      let doc: unknown;
      try {
        doc = JSON.parse(raw);
      } catch (err) {
        throw new RequestError(400, `malformed JSON: ${(err as Error).message}`);
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new RequestError(400, 'expected a JSON object such as {"duration_seconds": 12.5, "exit_code": 0}');
      for (const k of PING_FIELDS) {
        if (!Object.hasOwn(doc, k)) continue;
        const v = (doc as Record<string, unknown>)[k];
        if (v === null) continue;
        if (typeof v !== 'string' && typeof v !== 'number' && !(k === 'message' && typeof v === 'boolean')) {
          throw new RequestError(400, `${k} must be ${k === 'message' ? 'a string' : 'a number'}, got a JSON ${Array.isArray(v) ? 'array' : typeof v}`);
        }
        fields[k] = v;
      }
    } else if (/x-www-form-urlencoded/i.test(type)) {
      const form = new URLSearchParams(raw);
      for (const k of PING_FIELDS) if (form.has(k)) fields[k] = form.getAll(k).at(-1)!;
    } else {
      fields.message = raw;
    }
  }
  const out: PingData = {};
  const shown = (v: unknown) => JSON.stringify(typeof v === 'string' && v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (fields.duration_seconds !== undefined && fields.duration_seconds !== '') {
    const d = Number(fields.duration_seconds);
    if (!Number.isFinite(d) || d < 0) throw new RequestError(400, `duration_seconds must be a non-negative number of seconds, got ${shown(fields.duration_seconds)}`);
    out.duration_seconds = d;
  }
  if (fields.exit_code !== undefined && fields.exit_code !== '') {
    const c = Number(fields.exit_code);
    if (!Number.isInteger(c) || c < -255 || c > 255) throw new RequestError(400, `exit_code must be an integer, got ${shown(fields.exit_code)}`);
    out.exit_code = c;
  }
  if (fields.message !== undefined) out.message = String(fields.message).trim().slice(0, MAX_MESSAGE) || undefined;
  return out;
}
