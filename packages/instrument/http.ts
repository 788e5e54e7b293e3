// HTTP server and client durations from Node's diagnostics channels: nothing is patched, no
// context is propagated, no URL is parsed. Per server request: two timestamps and one histogram
// record keyed by a short string (plus one 'close' listener per connection).
//
// Channels (Node 20): http.server.request.start, http.server.response.finish, http.client.request.start,
// http.client.response.finish, http.client.request.error; undici (and Node's fetch):
// undici:request:create, undici:request:headers, undici:request:error.

import dc from 'node:diagnostics_channel';
import type { Attributes } from '@opentelemetry/api';
import { LeanHistogram, type HistogramSeries } from './histogram.js';
import { LabelGuard, OTHER } from './labels.js';
import { HTTP_CLIENT_DURATION, HTTP_SERVER_DURATION } from './names.js';

/** The koa context of the request in flight, kept on its socket by the koa patch (frameworks.ts). */
export const kKoaContext = Symbol.for('vigil.instrument.koaContext');
/** Set by the app through `setHttpRoute(req, route)` (api.ts) for routers we do not know. */
export const kRoute = Symbol.for('vigil.instrument.route');
/** Marks a server whose requests are not measured (our own /metrics server). */
export const kIgnoreServer = Symbol.for('vigil.instrument.ignoreServer');

const kStart = Symbol('vigil.http.start');
const kPending = Symbol('vigil.http.pending');
const kT0 = Symbol('vigil.http.t0');
const kExtra = Symbol('vigil.http.extra');
const kWatched = Symbol('vigil.http.watched');

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

interface SocketLike {
  once(event: 'close', fn: (this: SocketLike) => void): unknown;
  /** The response in flight on this connection, and when its request started. */
  [kPending]?: ServerResponseLike;
  [kT0]?: number;
  /** Pipelined responses (rare): they carry their own start time. */
  [kExtra]?: Set<ServerResponseLike>;
  [kWatched]?: boolean;
  [kKoaContext]?: { req?: unknown; _matchedRoute?: unknown };
}

interface RequestLike {
  method?: string;
  baseUrl?: string;
  route?: { path?: unknown };
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
    if (this.opts.server) {
      this.sub('http.server.request.start', this.onServerStart);
      this.sub('http.server.response.finish', this.onServerFinish);
    }
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

  // Completed responses are recorded from `http.server.response.finish`. A client that goes away
  // first closes its connection, and its response never finishes: one 'close' listener per socket
  // (not per request: keep-alive connections carry many) records what was still pending there.
  // The start time lives on the socket, not on the response: adding a property to every
  // ServerResponse costs V8 a properties store per request. Only pipelined requests (a second one
  // in flight on the same socket) carry their own start time.
  private readonly onServerStart = (msg: unknown): void => {
    const m = msg as { response: ServerResponseLike; server: Record<symbol, unknown>; socket?: SocketLike };
    if (m.server?.[kIgnoreServer] === true) return;
    const t0 = now();
    const sock = m.socket;
    if (!sock) return;
    if (sock[kPending] === undefined) {
      sock[kPending] = m.response;
      sock[kT0] = t0;
    } else {
      m.response[kStart] = t0;
      (sock[kExtra] ??= new Set()).add(m.response);
    }
    if (sock[kWatched] !== true) {
      sock[kWatched] = true;
      sock.once('close', this.onSocketClose);
    }
  };

  private readonly onServerFinish = (msg: unknown): void => {
    const { response, socket } = msg as { response: ServerResponseLike; socket?: SocketLike };
    if (!socket) return;
    if (socket[kPending] === response) {
      socket[kPending] = undefined;
      this.serverDone(response, socket[kT0]!, socket);
    } else if (socket[kExtra]?.delete(response)) {
      const t0 = response[kStart]!;
      response[kStart] = undefined;
      this.serverDone(response, t0, socket);
    }
  };

  // `this` is the socket; one shared function, nothing allocated per connection.
  private readonly onSocketClose: (this: SocketLike) => void = (() => {
    const self = this;
    return function (this: SocketLike) {
      const pending = this[kPending];
      this[kPending] = undefined;
      if (pending !== undefined) self.serverDone(pending, this[kT0]!, this);
      const extra = this[kExtra];
      this[kExtra] = undefined;
      if (extra) for (const res of extra) self.serverDone(res, res[kStart]!, this);
    };
  })();

  /**
   * Series cache for the server path: route -> method -> status (or -status when aborted) ->
   * series. Stable keys, so a request allocates nothing here. Bounded: routes are folded (at
   * most 200 + other), methods are a fixed set, statuses 100-599.
   */
  private readonly serverSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>();

  private serverDone(res: ServerResponseLike, t0: number, sock: SocketLike): void {
    const seconds = (now() - t0) / 1000;
    const req = res.req;
    const m = method(req?.method);
    const route = req ? this.route(req, sock) : '';
    // Completed: the status; aborted: minus the status when headers went out, else 0.
    const code = res.writableFinished ? res.statusCode : res.headersSent ? -res.statusCode : 0;
    let byMethod = this.serverSeries.get(route);
    if (byMethod === undefined) this.serverSeries.set(route, (byMethod = new Map()));
    let byCode = byMethod.get(m);
    if (byCode === undefined) byMethod.set(m, (byCode = new Map()));
    let series = byCode.get(code);
    if (series === undefined) {
      const status = code === 0 ? '' : String(Math.abs(code));
      const errorType = code <= 0 ? 'aborted' : code >= 500 ? status : '';
      series = this.server.seriesFor(`${m}\u0001${route}\u0001${status}\u0001${errorType}`, () => {
        const a: Attributes = { 'http.request.method': m };
        if (route) a['http.route'] = route;
        if (status) a['http.response.status_code'] = Number(status);
        if (errorType) a['error.type'] = errorType;
        return a;
      });
      if (byCode.size < 500) byCode.set(code, series);
    }
    this.server.observe(series, seconds);
  }

  private route(req: RequestLike, sock: SocketLike): string {
    let r: unknown = req[kRoute];
    if (this.opts.koa) {
      const ctx = sock[kKoaContext];
      if (ctx !== undefined) {
        if (r === undefined && ctx.req === req) r = ctx._matchedRoute; // (a pipelined request has another ctx)
        sock[kKoaContext] = undefined; // do not keep the request's objects alive on an idle connection
      }
    }
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
