// The status page: GET / (HTML, no-cache + ETag) and its assets under /ui/<version>/<file>
// (versioned by content hash, cached for a year, immutable). Plain files from exporter/server/ui,
// read once at start-up from the source folder, which works both under tsx and from dist/ (tsc
// does not copy non-TS files). Also the optional status_page_auth gate for the page and JSON.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Runtime } from '../../runtime.js';
import { bearer, tokenMatches } from '../auth.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// Everything the page needs comes from this origin: no CDN, no web fonts, no inline script.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  type: string;
}

/** The ui/ folder: next to this module's source, or found by walking up from dist/ to the package root. */
export function findUiDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  const direct = path.resolve(from, '../ui');
  if (existsSync(path.join(direct, 'index.html'))) return direct;
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'exporter/server/ui');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`status page assets (exporter/server/ui) not found above ${from}`);
  }
}

function asset(body: Buffer, type: string): Asset {
  const etag = `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const compressible = /^(text|application\/json|image\/svg)/.test(type) && body.length > 512;
  return { body, type, etag, gzip: compressible ? gzipSync(body, { level: 9 }) : undefined };
}

/** Load every asset once; the version is a hash of all of them, so any change busts every cache. */
export function loadAssets(dir = findUiDir()): { version: string; index: Asset; files: Map<string, Asset> } {
  const files = new Map<string, Asset>();
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const type = TYPES[path.extname(name)];
    if (!type || name === 'index.html') continue;
    const body = readFileSync(path.join(dir, name));
    hash.update(name).update(body);
    files.set(name, asset(body, type));
  }
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  hash.update(html);
  const version = hash.digest('hex').slice(0, 12);
  return { version, files, index: asset(Buffer.from(html.replaceAll('%VERSION%', version)), TYPES['.html']) };
}

function send(ctx: Context, a: Asset, cacheControl: string): void {
  ctx.status = 200;
  ctx.set('ETag', a.etag);
  ctx.set('Cache-Control', cacheControl);
  ctx.set('Vary', 'Accept-Encoding');
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = a.type;
  if (a.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = a.gzip;
  } else ctx.body = a.body;
}

export function uiRoutes(runtime: Runtime): Router {
  const router = new Router();
  const { version, index, files } = loadAssets();
  const shared = () => (runtime.config?.server.status_page_auth ? 'private' : 'public');

  router.get('/', (ctx) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    send(ctx, index, 'no-cache');
  });
  router.get('/ui/:version/:file', (ctx) => {
    const a = files.get(ctx.params.file);
    if (!a) {
      ctx.status = 404;
      ctx.body = { error: `no asset "${ctx.params.file}"` };
      return;
    }
    // A page from before an upgrade asks for an old version: serve today's file, but don't let it stick.
    send(ctx, a, ctx.params.version === version ? `${shared()}, max-age=31536000, immutable` : 'no-cache');
  });
  router.get('/favicon.ico', (ctx) => {
    const a = files.get('favicon.svg');
    if (a) send(ctx, a, `${shared()}, max-age=86400`);
  });
  return router;
}

// ---------------------------------------------------------------------------------------------
// server.status_page_auth: basic auth ({username, password}) and/or a token ({token}) for the
// page, its assets and every GET under /api/v1. /metrics, /health*, /-/* never need it (monitoring
// must reach them); endpoints that change state keep their own tokens.

const COOKIE = 'vigil_status';
const cookieValue = (token: string) => createHash('sha256').update(`vigil-status-page:${token}`).digest('base64url');

export function isStatusPagePath(p: string): boolean {
  return p === '/' || p === '/index.html' || p === '/favicon.ico' || p.startsWith('/ui/') || p.startsWith('/api/v1/');
}

export function statusPageAuth(runtime: Runtime) {
  return async (ctx: Context, next: Next) => {
    const auth = runtime.config?.server.status_page_auth;
    if (!auth || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || !isStatusPagePath(ctx.path)) return next();
    const basic = auth.username !== undefined && auth.password !== undefined;
    const header = ctx.get('authorization');

    if (auth.token) {
      if (tokenMatches(bearer(ctx), auth.token) || tokenMatches(ctx.cookies.get(COOKIE), cookieValue(auth.token))) return next();
      // Opening /?token=… once stores a cookie (HttpOnly, SameSite=Strict) so the page, its
      // fetches and its EventSource work; the token then leaves the address bar.
      const q = ctx.query.token;
      if (ctx.path === '/' && typeof q === 'string' && tokenMatches(q, auth.token)) {
        ctx.cookies.set(COOKIE, cookieValue(auth.token), { httpOnly: true, sameSite: 'strict', path: '/', overwrite: true, secure: ctx.secure });
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Referrer-Policy', 'no-referrer');
        ctx.redirect('./');
        ctx.status = 303;
        return;
      }
    }
    if (basic) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (m) {
        const decoded = Buffer.from(m[1], 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        // Both compared, always, so timing doesn't tell which one was wrong.
        const userOk = tokenMatches(decoded.slice(0, i), auth.username);
        const passOk = tokenMatches(decoded.slice(i + 1), auth.password);
        if (i >= 0 && userOk && passOk) return next();
      }
    }
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('WWW-Authenticate', basic ? 'Basic realm="Vigil status page", charset="UTF-8"' : 'Bearer realm="Vigil status page"');
    if (ctx.path === '/' && !basic) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = '<!doctype html><meta charset="utf-8"><title>Vigil: sign in</title><p>This status page needs a token: open <code>/?token=&lt;token&gt;</code> once (a cookie keeps it), or send <code>Authorization: Bearer &lt;token&gt;</code>.</p>';
    } else {
      ctx.body = { error: 'authentication required (server.status_page_auth)' };
    }
  };
}
