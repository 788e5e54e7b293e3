// HTTP server and client durations from Node's diagnostics channels: nothing is patched, no
// context is propagated, no URL is parsed. Per server request: one timestamp on the response,
// one shared 'close' listener, one histogram record keyed by a short string.
//
// Channels (Node 20): http.server.request.start, http.client.request.start,
// http.client.response.finish, http.client.request.error; undici (and Node's fetch):
// undici:request:create, undici:request:headers, undici:request:error.

import dc from 'node:diagnostics_channel';
import type { Attributes } from '@opentelemetry/api';
import { LeanHistogram } from './histogram.js';
import { LabelGuard, OTHER } from './labels.js';
import { HTTP_CLIENT_DURATION, HTTP_SERVER_DURATION } from './names.js';

/** Set on a koa context's request by the koa patch (see frameworks.ts). */
export const kKoaContext = Symbol.for('vigil.instrument.koaContext');
/** Set by the app through `setHttpRoute(req, route)` (api.ts) for routers we do not know. */
export const kRoute = Symbol.for('vigil.instrument.route');
/** Marks a server whose requests are not measured (our own /metrics server). */
export const kIgnoreServer = Symbol.for('vigil.instrument.ignoreServer');

const kStart = Symbol('vigil.http.start');

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
const method = (m: unknown): string => (typeof m === 'string' && METHODS.has(m) ? m : '_OTHER');

export interface HttpRecorderOptions {
  server: boolean;
  client: boolean;
  undici: boolean;
  koa: boolean;
  express: boolean;
  /** host[:port] values (Host header) whose client requests are ours (OTLP push) and not measured. */
  ignoreHosts?: Set<string>;
}

interface ServerResponseLike {
  statusCode: number;
  headersSent: boolean;
  writableFinished: boolean;
  req?: RequestLike;
  on(event: 'close', fn: (this: ServerResponseLike) => void): unknown;
  [kStart]?: number;
}

interface RequestLike {
  method?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  [kKoaContext]?: { _matchedRoute?: unknown };
  [kRoute]?: unknown;
}

const now = () => performance.now();

export class HttpRecorder {
  readonly server = new LeanHistogram(HTTP_SERVER_DURATION);
  readonly client = new LeanHistogram(HTTP_CLIENT_DURATION);
  private readonly routes = new LabelGuard('http_route', 200, (v) => v.length > 0 && v.length <= 200);
  private readonly hosts = new LabelGuard('server_address', 100, (v) => v.length > 0 && v.length <= 253 && !/\s/.test(v));
  private readonly subscriptions: Array<[string, (msg: unknown) => void]> = [];
  private readonly originHosts = new Map<string, string>();

  constructor(private readonly opts: HttpRecorderOptions) {}

  start(): void {
    if (this.opts.server) this.sub('http.server.request.start', this.onServerStart);
    if (this.opts.client) {
      this.sub('http.client.request.start', this.onClientStart);
      this.sub('http.client.response.finish', this.onClientFinish);
      this.sub('http.client.request.error', this.onClientError);
    }
    if (this.opts.undici) {
      this.sub('undici:request:create', this.onUndiciCreate);
      this.sub('undici:request:headers', this.onUndiciHeaders);
      this.sub('undici:request:error', this.onUndiciError);
    }
  }

  stop(): void {
    for (const [name, fn] of this.subscriptions) dc.unsubscribe(name, fn);
    this.subscriptions.length = 0;
  }

  private sub(name: string, fn: (msg: unknown) => void): void {
    dc.subscribe(name, fn);
    this.subscriptions.push([name, fn]);
  }

  // ---- server -------------------------------------------------------------------------------

  private readonly onServerStart = (msg: unknown): void => {
    const m = msg as { response: ServerResponseLike; server: Record<symbol, unknown> };
    if (m.server?.[kIgnoreServer] === true) return;
    m.response[kStart] = now();
    m.response.on('close', this.onServerClose);
  };

  // `close` is emitted for every response: after `finish`, or when the client went away first.
  // One shared listener for all responses (`this` is the response), so nothing is allocated per request.
  private readonly onServerClose: (this: ServerResponseLike) => void = (() => {
    const self = this;
    return function (this: ServerResponseLike) {
      self.serverDone(this);
    };
  })();

  private serverDone(res: ServerResponseLike): void {
    const t0 = res[kStart];
    if (t0 === undefined) return;
    res[kStart] = undefined;
    const seconds = (now() - t0) / 1000;
    const req = res.req;
    const m = method(req?.method);
    const route = req ? this.route(req) : '';
    let status = '';
    let errorType = '';
    if (res.writableFinished) {
      status = String(res.statusCode);
      if (res.statusCode >= 500) errorType = status;
    } else {
      if (res.headersSent) status = String(res.statusCode);
      errorType = 'aborted';
    }
    const key = `${m}\u0001${route}\u0001${status}\u0001${errorType}`;
    this.server.record(
      key,
      () => {
        const a: Attributes = { 'http.request.method': m };
        if (route) a['http.route'] = route;
        if (status) a['http.response.status_code'] = Number(status);
        if (errorType) a['error.type'] = errorType;
        return a;
      },
      seconds,
    );
  }

  private route(req: RequestLike): string {
    let r: unknown = req[kRoute];
    if (r === undefined && this.opts.koa) r = req[kKoaContext]?._matchedRoute;
    if (r === undefined && this.opts.express && req.route && req.route.path !== undefined) {
      const p = req.route.path;
      r = (req.baseUrl ?? '') + (typeof p === 'string' ? p : String(p));
    }
    if (r === undefined || r === null || r === '') return '';
    return this.routes.fold(typeof r === 'string' ? r : String(r));
  }

  // ---- node:http client ---------------------------------------------------------------------

  private readonly onClientStart = (msg: unknown): void => {
    const req = (msg as { request: ClientRequestLike }).request;
    if (this.opts.ignoreHosts?.size) {
      const host = req.getHeader?.('host');
      if (typeof host === 'string' && this.opts.ignoreHosts.has(host)) return;
    }
    req[kStart] = now();
  };

  private readonly onClientFinish = (msg: unknown): void => {
    const { request, response } = msg as { request: ClientRequestLike; response: { statusCode?: number } };
    this.clientDone(request, request.method, request.host, response.statusCode, undefined);
  };

  private readonly onClientError = (msg: unknown): void => {
    const { request, error } = msg as { request: ClientRequestLike; error: unknown };
    this.clientDone(request, request.method, request.host, undefined, error);
  };

  // ---- undici / fetch -----------------------------------------------------------------------

  private readonly onUndiciCreate = (msg: unknown): void => {
    const req = (msg as { request: UndiciRequestLike }).request;
    if (this.opts.ignoreHosts?.size && this.opts.ignoreHosts.has(this.originHost(req.origin, true))) return;
    req[kStart] = now();
  };

  private readonly onUndiciHeaders = (msg: unknown): void => {
    const { request, response } = msg as { request: UndiciRequestLike; response: { statusCode?: number } };
    this.clientDone(request, request.method, this.originHost(request.origin, false), response.statusCode, undefined);
  };

  private readonly onUndiciError = (msg: unknown): void => {
    const { request, error } = msg as { request: UndiciRequestLike; error: unknown };
    this.clientDone(request, request.method, this.originHost(request.origin, false), undefined, error);
  };

  /** host (withPort=false) or host:port of an undici origin, cached per origin string. */
  private originHost(origin: unknown, withPort: boolean): string {
    const o = typeof origin === 'string' ? origin : String(origin ?? '');
    const cacheKey = withPort ? '+' + o : o;
    let h = this.originHosts.get(cacheKey);
    if (h === undefined) {
      try {
        const u = new URL(o);
        h = withPort ? u.host : u.hostname.replace(/^\[|\]$/g, '');
      } catch {
        h = '';
      }
      if (this.originHosts.size < 1000) this.originHosts.set(cacheKey, h);
    }
    return h;
  }

  private clientDone(req: { [kStart]?: number }, rawMethod: unknown, rawHost: unknown, statusCode: number | undefined, error: unknown): void {
    const t0 = req[kStart];
    if (t0 === undefined) return;
    req[kStart] = undefined;
    const seconds = (now() - t0) / 1000;
    const m = method(rawMethod);
    const host = typeof rawHost === 'string' && rawHost !== '' ? this.hosts.fold(rawHost) : '';
    const status = statusCode !== undefined ? String(statusCode) : '';
    let errorType = '';
    if (error !== undefined) errorType = errorTypeOf(error);
    else if (statusCode !== undefined && statusCode >= 400) errorType = status;
    const key = `${m}\u0001${host}\u0001${status}\u0001${errorType}`;
    this.client.record(
      key,
      () => {
        const a: Attributes = { 'http.request.method': m };
        if (host) a['server.address'] = host;
        if (status) a['http.response.status_code'] = Number(status);
        if (errorType) a['error.type'] = errorType;
        return a;
      },
      seconds,
    );
  }
}

interface ClientRequestLike {
  method?: string;
  host?: string;
  getHeader?(name: string): unknown;
  [kStart]?: number;
}

interface UndiciRequestLike {
  method?: string;
  origin?: unknown;
  [kStart]?: number;
}

const errorTypes = new LabelGuard('error_type', 50, (v) => /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(v));

/** A bounded error type: the error's `code` (ECONNREFUSED, UND_ERR_…) or class name, else `_OTHER`. */
export function errorTypeOf(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
    const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
    const candidate = code ?? (typeof e.name === 'string' ? e.name : undefined);
    if (candidate) {
      const v = errorTypes.fold(candidate);
      return v === OTHER ? '_OTHER' : v;
    }
  }
  return '_OTHER';
}
