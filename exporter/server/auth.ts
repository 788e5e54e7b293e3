// Tokens for endpoints that change state. Compared in constant time; never logged.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';

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

/** Require `Authorization: Bearer <token>`. With no token configured the endpoint is disabled (403). */
export function requireToken(getToken: () => string | undefined, what = 'admin') {
  return async (ctx: Context, next: Next) => {
    const expected = getToken();
    if (!expected) {
      ctx.status = 403;
      ctx.body = { error: `${what} token not configured: set server.${what}_token in the config or VIGIL_${what.toUpperCase()}_TOKEN` };
      return;
    }
    if (!tokenMatches(bearer(ctx), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer');
      ctx.body = { error: 'missing or wrong bearer token' };
      return;
    }
    await next();
  };
}
