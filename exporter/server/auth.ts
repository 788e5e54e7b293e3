// Who may call what. Every route declares its Access in the route table (route-table.ts); the
// guard built here is that route's first middleware. Tokens are compared in constant time and
// never logged; failures go to AuthFailures (log, metric, per-client back-off).
//
// How the layers compose:
// - The web config's basic_auth_users (--web.config.file), when set, guards every route except
//   those that need a token of their own (admin, webhook, heartbeat): there the token is the
//   credential, and it travels as `Authorization: Bearer`, the header basic auth would use —
//   Alertmanager and cron jobs can send one or the other, not both. A basic-auth user can
//   never do what a token allows.
// - server.status_page_auth, when set, additionally guards the page, its assets and the
//   read-only JSON. With basic_auth_users also set, both must pass: use the same user in both,
//   or the page token's cookie (`/?token=` once) beside the basic-auth login.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { VigilConfig } from '../config/schema.js';
import type { StateStore } from '../engine/state.js';
import { getProbeDefinition } from '../probes/index.js';
import type { AuthFailures, AuthKind } from './auth-failures.js';
import type { Access } from './route-table.js';

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearer(ctx: Context): string | undefined {
  const h = ctx.get('authorization');
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1].trim();
}

export function tokenMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Basic …` decoded, if well formed. */
export function basicCredentials(ctx: Context): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(ctx.get('authorization'));
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export interface StatusPageAuth {
  username?: string;
  password?: string;
  token?: string;
}

/** Every secret the routes check, each resolved in one place: the config first, then the environment. */
export interface Credentials {
  admin(): string | undefined;
  webhook(): string | undefined;
  /** The check's own `token` if it has one, else the server's heartbeat token. */
  heartbeat(check?: string): string | undefined;
  statusPage(): StatusPageAuth | undefined;
}

/** Where the secrets come from: the running config, the checks (a heartbeat's own token), the environment. */
export interface CredentialSources {
  config: () => VigilConfig | undefined;
  state: Pick<StateStore, 'get'>;
  env?: NodeJS.ProcessEnv;
}

export function credentialsFor({ config, state: states, env: given }: CredentialSources): Credentials {
  const env = (name: string) => given?.[name] ?? process.env[name];
  return {
    admin: () => config()?.server.admin_token ?? env('VIGIL_ADMIN_TOKEN'),
    webhook: () => config()?.server.webhook_token ?? env('VIGIL_WEBHOOK_TOKEN'),
    heartbeat: (check) => {
      const state = check === undefined ? undefined : states.get(check);
      const own = state && getProbeDefinition(state.config.type)?.ownToken?.(state.config);
      return own ?? config()?.server.heartbeat_token ?? env('VIGIL_HEARTBEAT_TOKEN');
    },
    statusPage: () => config()?.server.status_page_auth,
  };
}

/** The web config's basic_auth_users, as the guard needs them (see web-config.ts). */
export interface BasicAuthUsers {
  /** 'busy': too many uncached verifications running; the client should retry shortly. */
  verify(user: string, password: string): Promise<boolean | 'busy'>;
}

export interface GuardOptions {
  credentials: Credentials;
  failures: AuthFailures;
  /** The current web config's users; undefined when basic auth is off. */
  basicAuth?: () => BasicAuthUsers | undefined;
}

type Outcome = 'ok' | 'missing' | 'wrong' | 'unconfigured' | 'done' | 'busy';

const STATUS_COOKIE = 'vigil_status';
const statusCookieValue = (token: string) => createHash('sha256').update(`vigil-status-page:${token}`).digest('base64url');

const TOKEN_NAMES = {
  admin: 'admin token not configured: set server.admin_token in the config or VIGIL_ADMIN_TOKEN',
  webhook: 'webhook token not configured: set server.webhook_token in the config or VIGIL_WEBHOOK_TOKEN',
  heartbeat: 'heartbeat token not configured: set token on the check, server.heartbeat_token, or VIGIL_HEARTBEAT_TOKEN',
} as const;

/** Builds each route's guard (route-table.ts) and the one for paths no route matches. */
export function createGuard(opts: GuardOptions): { forRoute(access: Access): Middleware; unmatched: Middleware } {
  const { credentials, failures } = opts;
  const req = (ctx: Context) => ({ ip: ctx.ip, method: ctx.method, path: ctx.path });

  const throttle = (ctx: Context): boolean => {
    const wait = failures.blockedFor(ctx.ip);
    if (!wait) return false;
    failures.throttled(req(ctx));
    ctx.status = 429;
    ctx.set('Retry-After', String(Math.ceil(wait / 1000)));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'too many failed authentication attempts from this address; retry later' };
    return true;
  };

  const basic = async (ctx: Context, users: BasicAuthUsers): Promise<Outcome> => {
    const c = basicCredentials(ctx);
    if (!c) return 'missing';
    const r = await users.verify(c.user, c.password);
    return r === 'busy' ? 'busy' : r ? 'ok' : 'wrong';
  };

  const deny = (ctx: Context, kind: AuthKind, outcome: Outcome, challenge: string, body: unknown) => {
    failures.failed(req(ctx), kind, outcome === 'wrong');
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('WWW-Authenticate', challenge);
    ctx.body = body;
  };
  const BASIC_CHALLENGE = 'Basic realm="Vigil", charset="UTF-8"';
  const denyBasic = (ctx: Context, outcome: Outcome) => {
    if (outcome !== 'busy') return deny(ctx, 'basic', outcome, BASIC_CHALLENGE, { error: 'authentication required' });
    ctx.status = 503;
    ctx.set('Retry-After', '1');
    ctx.body = { error: 'too many logins being verified at once; retry shortly' };
  };

  const token = (ctx: Context, access: 'admin' | 'webhook' | 'heartbeat'): Outcome => {
    let accepted: Array<string | undefined>;
    let given = bearer(ctx);
    if (access === 'admin') accepted = [credentials.admin()];
    else if (access === 'webhook') accepted = [credentials.webhook(), credentials.admin()];
    else {
      accepted = [credentials.heartbeat((ctx.params as Record<string, string> | undefined)?.name)];
      // Cron lines often cannot set headers; a ping URL may carry the token instead.
      given ??= typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
    }
    const expected = accepted.filter((t): t is string => !!t);
    if (!expected.length) return 'unconfigured';
    if (!given) return 'missing';
    // Compare against every token (no early exit) so timing does not tell which one is configured.
    return expected.map((t) => tokenMatches(given, t)).includes(true) ? 'ok' : 'wrong';
  };

  const statusPage = (ctx: Context, auth: StatusPageAuth): Outcome => {
    let presented = false;
    if (auth.token) {
      const b = bearer(ctx);
      const cookie = ctx.cookies.get(STATUS_COOKIE);
      presented ||= !!b || !!cookie;
      if (tokenMatches(b, auth.token) || tokenMatches(cookie, statusCookieValue(auth.token))) return 'ok';
      // Opening /?token=… once stores a cookie (HttpOnly, SameSite=Strict) so the page, its
      // fetches and its EventSource work; the token then leaves the address bar.
      const q = ctx.query.token;
      if (ctx.path === '/' && typeof q === 'string') {
        presented = true;
        if (tokenMatches(q, auth.token)) {
          ctx.cookies.set(STATUS_COOKIE, statusCookieValue(auth.token), { httpOnly: true, sameSite: 'strict', path: '/', overwrite: true, secure: ctx.secure });
          ctx.set('Cache-Control', 'no-store');
          ctx.set('Referrer-Policy', 'no-referrer');
          ctx.redirect('./');
          ctx.status = 303;
          return 'done';
        }
      }
    }
    if (auth.username !== undefined && auth.password !== undefined) {
      const c = basicCredentials(ctx);
      if (c) {
        presented = true;
        // Both compared, always, so timing doesn't tell which one was wrong.
        const userOk = tokenMatches(c.user, auth.username);
        const passOk = tokenMatches(c.password, auth.password);
        if (userOk && passOk) return 'ok';
      }
    }
    return presented ? 'wrong' : 'missing';
  };

  const denyStatusPage = (ctx: Context, auth: StatusPageAuth, outcome: Outcome) => {
    const hasBasic = auth.username !== undefined && auth.password !== undefined;
    const challenge = hasBasic ? 'Basic realm="Vigil status page", charset="UTF-8"' : 'Bearer realm="Vigil status page"';
    deny(ctx, 'status_page', outcome, challenge, { error: 'authentication required (server.status_page_auth)' });
    if (ctx.path === '/' && !hasBasic) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = '<!doctype html><meta charset="utf-8"><title>Vigil: sign in</title><p>This status page needs a token: open <code>/?token=&lt;token&gt;</code> once (a cookie keeps it), or send <code>Authorization: Bearer &lt;token&gt;</code>.</p>';
    }
  };

  const forRoute = (access: Access): Middleware => async (ctx: Context, next: Next) => {
    const users = opts.basicAuth?.();
    const page = access === 'status_page' ? credentials.statusPage() : undefined;
    if (access === 'public' && !users) return next();
    if (access === 'status_page' && !users && !page) return next();
    if (throttle(ctx)) return;

    if (access === 'admin' || access === 'webhook' || access === 'heartbeat') {
      const outcome = token(ctx, access);
      if (outcome === 'unconfigured') {
        ctx.status = 403;
        ctx.body = { error: TOKEN_NAMES[access] };
        return;
      }
      if (outcome !== 'ok') {
        const what = access === 'heartbeat' ? 'heartbeat token' : 'bearer token';
        deny(ctx, access, outcome, 'Bearer', { error: `missing or wrong ${what}` });
        return;
      }
      return next();
    }
    if (users) {
      const outcome = await basic(ctx, users);
      if (outcome !== 'ok') return denyBasic(ctx, outcome);
    }
    if (page) {
      const outcome = statusPage(ctx, page);
      if (outcome === 'done') return;
      if (outcome !== 'ok') return denyStatusPage(ctx, page, outcome);
    }
    return next();
  };

  /** No route matched: with basic auth on, say 401 before 404 (as exporter-toolkit does). */
  const unmatched: Middleware = async (ctx: Context, next: Next) => {
    const users = opts.basicAuth?.();
    if (users && !ctx.matched?.length) {
      if (throttle(ctx)) return;
      const outcome = await basic(ctx, users);
      if (outcome !== 'ok') return denyBasic(ctx, outcome);
    }
    return next();
  };

  return { forRoute, unmatched };
}
