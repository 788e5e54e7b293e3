// The status page: GET / (HTML, no-cache + ETag) and its assets under /ui/<version>/<file>
// (versioned by content hash, cached for a year, immutable). Plain files from exporter/server/ui,
// read once at start-up from the source folder, which works both under tsx and from dist/ (tsc
// does not copy non-TS files). server.status_page_auth guards them (auth.ts).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Context } from 'koa';
import { serverSummary } from '../../views/summary.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';
import { statusAnswer } from './history.js';

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

/** The stylesheet the page links: every .css file in one (style.css first), so the first paint waits for one request, not four. */
export const PAGE_CSS = 'page.css';
/** The page's entry module. */
const ENTRY = 'app.js';

/** Load every asset once; the version is a hash of all of them, so any change busts every cache. */
export function loadAssets(dir = findUiDir()): { version: string; index: Asset; html: string; files: Map<string, Asset> } {
  const files = new Map<string, Asset>();
  const sources = new Map<string, Buffer>();
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const type = TYPES[path.extname(name)];
    if (!type || name === 'index.html') continue;
    const body = readFileSync(path.join(dir, name));
    hash.update(name).update(body);
    sources.set(name, body);
    files.set(name, asset(body, type));
  }
  // `npm run build` bundles app.js and every module it imports into one file (scripts/bundle-ui.mjs):
  // one request instead of fourteen. Used only when it was made from these very sources; under
  // tsx, or after an edit without a build, the modules are served one by one.
  const bundle = readBundle(dir, sources);
  if (bundle) {
    hash.update('bundle').update(bundle);
    files.set(ENTRY, asset(bundle, TYPES['.js']));
  }
  const css = [...sources.keys()].filter((n) => n.endsWith('.css')).sort((a, b) => (a === 'style.css' ? -1 : b === 'style.css' ? 1 : a.localeCompare(b)));
  files.set(PAGE_CSS, asset(Buffer.concat(css.flatMap((n) => [Buffer.from(`/* ${n} */\n`), sources.get(n)!, Buffer.from('\n')])), TYPES['.css']));
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  hash.update(html);
  const version = hash.digest('hex').slice(0, 12);
  // Every module app.js reaches, asked for at once: without the list, a module imported by an
  // imported module is discovered only when its importer arrives (a round trip each level).
  const preload = bundle ? '' : moduleClosure(ENTRY, sources).filter((n) => n !== ENTRY)
    .map((n) => `<link rel="modulepreload" href="ui/${version}/${n}">`).join('\n');
  const page = html.replaceAll('%MODULEPRELOAD%', preload).replaceAll('%VERSION%', version);
  return { version, files, html: page, index: asset(Buffer.from(fillSummary(page, undefined)), TYPES['.html']) };
}

/** Where `npm run build` writes the bundle: dist/ui/ at the package root (the ui folder is exporter/server/ui). */
export function bundlePath(uiDir: string): string {
  return path.resolve(uiDir, '../../../dist/ui', BUNDLE);
}
const BUNDLE = 'app.bundle.js';

/** A hash of the page's scripts: the bundle names the one it was made from in its first line. */
export function uiSourcesHash(sources: ReadonlyMap<string, Buffer>): string {
  const h = createHash('sha256');
  for (const name of [...sources.keys()].filter((n) => n.endsWith('.js')).sort()) h.update(name).update(sources.get(name)!);
  return h.digest('hex').slice(0, 16);
}
export const bundleStamp = (hash: string) => `/* vigil ui bundle of sources ${hash} */`;

function readBundle(dir: string, sources: ReadonlyMap<string, Buffer>): Buffer | undefined {
  let body: Buffer;
  try {
    body = readFileSync(bundlePath(dir));
  } catch {
    return undefined;
  }
  return body.subarray(0, 80).toString('utf8').startsWith(bundleStamp(uiSourcesHash(sources))) ? body : undefined;
}

/** The modules `entry` imports statically, directly or not (relative `./x.js` imports of the ui folder), sorted. */
export function moduleClosure(entry: string, sources: ReadonlyMap<string, Buffer>): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const src = sources.get(name);
    if (seen.has(name) || !src) return;
    seen.add(name);
    for (const m of src.toString('utf8').matchAll(/^import\s[^;]*?from\s+'\.\/([\w.-]+\.js)';/gm)) visit(m[1]);
  };
  visit(entry);
  return [...seen].sort();
}

/**
 * index.html with the server's summary in place of its placeholders: the overall status and the
 * failing checks are in the HTML itself, so the page says what is broken without JavaScript
 * (and before the scripts run), instead of "Loading status…".
 */
export function fillSummary(html: string, summary: ReturnType<typeof serverSummary> | undefined): string {
  const values: Record<string, string> = summary
    ? {
      OVERALL: summary.status, TITLE: summary.title, DETAIL: summary.detail, BROKEN: summary.brokenHtml,
      BROKEN_HIDDEN: summary.brokenCount ? '' : ' hidden', BROKEN_COUNT: String(summary.brokenCount),
      AFFECTED: summary.affectedHtml, AFFECTED_HIDDEN: summary.affectedHtml ? '' : ' hidden',
      PLANNED_NOTE: summary.plannedHtml, PLANNED_ATTR: summary.allPlanned ? ' data-planned="true"' : '',
    }
    : {
      OVERALL: 'unknown', TITLE: 'Loading status…', DETAIL: '', BROKEN: '', BROKEN_HIDDEN: ' hidden', BROKEN_COUNT: '0',
      AFFECTED: '', AFFECTED_HIDDEN: ' hidden', PLANNED_NOTE: '', PLANNED_ATTR: '',
    };
  return html.replace(/%([A-Z_]+)%/g, (m, k: string) => values[k] ?? m);
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

export function uiRoutes(deps: Pick<ServerDeps, 'config' | 'state' | 'readCache' | 'hub' | 'otherShards' | 'maintenance'>, router: RouteTable): void {
  const { config, state, readCache } = deps;
  const { version, html, files } = loadAssets();
  // The page changes with the state only (clock times, no "ago"): one rendering per distinct summary.
  let last: { text: string; asset: Asset } | undefined;
  const index = (): Asset => {
    const planned = deps.maintenance.active().map((w) => ({ title: w.window.title, end: w.end, components: w.components }));
    const text = fillSummary(html, serverSummary(state, planned));
    if (last?.text !== text) last = { text, asset: asset(Buffer.from(text), TYPES['.html']) };
    return last.asset;
  };
  const shared = () => (config()?.server.status_page_auth ? 'private' : 'public');

  router.get('/', 'status_page', (ctx) => {
    // The page's first request for data is the snapshot (index.html preloads it): start building
    // it now, while the HTML, styles and scripts travel. The read cache shares it with that
    // request (or answers it, built, within a second); a bare GET / costs at most one build a second.
    const first = statusAnswer(deps);
    readCache.get(first.key, first.compute).catch(() => { /* busy or failed: the page's own request says so */ });
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    send(ctx, index(), 'no-cache');
  });
  router.get('/ui/:version/:file', 'status_page', (ctx) => {
    const a = files.get(ctx.params.file);
    if (!a) {
      ctx.status = 404;
      ctx.body = { error: `no asset "${ctx.params.file}"` };
      return;
    }
    // A page from before an upgrade asks for an old version: serve today's file, but don't let it stick.
    send(ctx, a, ctx.params.version === version ? `${shared()}, max-age=31536000, immutable` : 'no-cache');
  });
  router.get('/favicon.ico', 'status_page', (ctx) => {
    const a = files.get('favicon.svg');
    if (a) send(ctx, a, `${shared()}, max-age=86400`);
  });
}
