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

/** The semantic conventions' default known methods (RFC 9110, PATCH, QUERY); others are `_OTHER`. */
const DEFAULT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** network.protocol.version from an HTTP major/minor version (`1.0`, `1.1`, `2`, `3`); '' when unknown. */
function protocolVersion(major: unknown, minor: unknown): string {
  if (major === 1) return minor === 1 ? '1.1' : minor === 0 ? '1.0' : '';
  return major === 2 || major === 3 ? String(major) : '';
}

/** host and port of a Host header value (`example.com:8080`, `[::1]:80`); port undefined when absent. */
export function splitHostHeader(value: string): { host: string; port?: number } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return { host: value };
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] !== undefined ? Number(m[2]) : undefined };
}

export interface HttpRecorderOptions {
  server: boolean;
  client: boolean;
  undici: boolean;
  koa: boolean;
  express: boolean;
  /** host[:port] values (Host header) whose client requests are ours (OTLP push) and not measured. */
  ignoreHosts?: Set<string>;
  /** OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS; default: the semantic conventions' list. */
  knownMethods?: ReadonlySet<string>;
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
  /** true on a TLS socket (https server). */
  encrypted?: boolean;
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
  httpVersionMajor?: number;
  httpVersionMinor?: number;
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
  private readonly knownMethods: ReadonlySet<string>;

  constructor(private readonly opts: HttpRecorderOptions) {
    this.knownMethods = opts.knownMethods ?? DEFAULT_METHODS;
  }

  private method(m: unknown): string {
    return typeof m === 'string' && this.knownMethods.has(m) ? m : '_OTHER';
  }

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
   * Series cache for the server path: route -> method -> (status, or -status when aborted) * 8 +
   * connection kind (scheme and protocol version, 0-7) -> series. Stable keys, so a request
   * allocates nothing here. Bounded: routes are folded (at most 200 + other), methods are a fixed
   * set, statuses 100-599.
   */
  private readonly serverSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>();

  private serverDone(res: ServerResponseLike, t0: number, sock: SocketLike): void {
    const seconds = (now() - t0) / 1000;
    const req = res.req;
    const m = this.method(req?.method);
    const route = req ? this.route(req, sock) : '';
    // Completed: the status; aborted: minus the status when headers went out, else 0.
    const code = res.writableFinished ? res.statusCode : res.headersSent ? -res.statusCode : 0;
    // url.scheme: the scheme of the immediate peer request (a forwarded scheme is not trusted).
    // network.protocol.version: 1 = 1.0, 2 = 1.1, 3 = 2; 0 = unknown. Bit 4: https.
    const major = req?.httpVersionMajor;
    const minor = req?.httpVersionMinor;
    const conn = (sock.encrypted === true ? 4 : 0) + (major === 1 ? (minor === 1 ? 2 : minor === 0 ? 1 : 0) : major === 2 ? 3 : 0);
    let byMethod = this.serverSeries.get(route);
    if (byMethod === undefined) this.serverSeries.set(route, (byMethod = new Map()));
    let byCode = byMethod.get(m);
    if (byCode === undefined) byMethod.set(m, (byCode = new Map()));
    const key = code * 8 + conn;
    let series = byCode.get(key);
    if (series === undefined) {
      const status = code === 0 ? '' : String(Math.abs(code));
      const errorType = code <= 0 ? 'aborted' : code >= 500 ? status : '';
      const scheme = conn >= 4 ? 'https' : 'http';
      const version = protocolVersion(major, minor);
      series = this.server.seriesFor(`${m}\u0001${route}\u0001${status}\u0001${errorType}\u0001${scheme}\u0001${version}`, () => {
        const a: Attributes = { 'http.request.method': m, 'url.scheme': scheme };
        if (route) a['http.route'] = route;
        if (status) a['http.response.status_code'] = Number(status);
        if (errorType) a['error.type'] = errorType;
        if (version) a['network.protocol.version'] = version;
        return a;
      });
      if (byCode.size < 500) byCode.set(key, series);
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
    const { request, response } = msg as { request: ClientRequestLike; response: { statusCode?: number; httpVersionMajor?: number; httpVersionMinor?: number } };
    const version = protocolVersion(response.httpVersionMajor, response.httpVersionMinor);
    this.clientDone(request, request.method, request.host, clientPort(request, undefined), version, response.statusCode, undefined);
  };

  private readonly onClientError = (msg: unknown): void => {
    const { request, error } = msg as { request: ClientRequestLike; error: unknown };
    this.clientDone(request, request.method, request.host, clientPort(request, error), '', undefined, error);
  };

  // ---- undici / fetch -----------------------------------------------------------------------
  // undici does not tell which protocol version a request used (HTTP/1.1 unless allowH2
  // negotiated 2), so network.protocol.version is left out for it, as the conventions ask.

  private readonly onUndiciCreate = (msg: unknown): void => {
    const req = (msg as { request: UndiciRequestLike }).request;
    if (this.opts.ignoreHosts?.size && this.opts.ignoreHosts.has(this.origin(req.origin).hostPort)) return;
    req[kStart] = now();
  };

  private readonly onUndiciHeaders = (msg: unknown): void => {
    const { request, response } = msg as { request: UndiciRequestLike; response: { statusCode?: number } };
    const o = this.origin(request.origin);
    this.clientDone(request, request.method, o.host, o.port, '', response.statusCode, undefined);
  };

  private readonly onUndiciError = (msg: unknown): void => {
    const { request, error } = msg as { request: UndiciRequestLike; error: unknown };
    const o = this.origin(request.origin);
    this.clientDone(request, request.method, o.host, o.port, '', undefined, error);
  };

  private readonly origins = new Map<string, Origin>();

  /** host, port and host:port of an undici origin, cached per origin string. */
  private origin(origin: unknown): Origin {
    const key = typeof origin === 'string' ? origin : String(origin ?? '');
    let o = this.origins.get(key);
    if (o === undefined) {
      try {
        const u = new URL(key);
        const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
        o = { host: u.hostname.replace(/^\[|\]$/g, ''), port, hostPort: u.host };
      } catch {
        o = { host: '', port: undefined, hostPort: '' };
      }
      if (this.origins.size < 1000) this.origins.set(key, o);
    }
    return o;
  }

  private clientDone(
    req: { [kStart]?: number },
    rawMethod: unknown,
    rawHost: unknown,
    port: number | undefined,
    version: string,
    statusCode: number | undefined,
    error: unknown,
  ): void {
    const t0 = req[kStart];
    if (t0 === undefined) return;
    req[kStart] = undefined;
    const seconds = (now() - t0) / 1000;
    const m = this.method(rawMethod);
    const host = typeof rawHost === 'string' && rawHost !== '' ? this.hosts.fold(rawHost) : '';
    const status = statusCode !== undefined ? String(statusCode) : '';
    let errorType = '';
    if (error !== undefined) errorType = errorTypeOf(error);
    else if (statusCode !== undefined && statusCode >= 400) errorType = status;
    const key = `${m}\u0001${host}\u0001${port ?? ''}\u0001${version}\u0001${status}\u0001${errorType}`;
    this.client.record(
      key,
      () => {
        const a: Attributes = { 'http.request.method': m };
        if (host) a['server.address'] = host;
        if (port !== undefined) a['server.port'] = port;
        if (version) a['network.protocol.version'] = version;
        if (status) a['http.response.status_code'] = Number(status);
        if (errorType) a['error.type'] = errorType;
        return a;
      },
      seconds,
    );
  }
}

interface Origin {
  host: string;
  port: number | undefined;
  hostPort: string;
}

/**
 * server.port of a node:http client request: the port connected to, else the one a connection
 * error names, else the Host header's, else the scheme's default. (ClientRequest keeps no port.)
 */
function clientPort(req: ClientRequestLike, error: unknown): number | undefined {
  const remote = req.socket?.remotePort;
  if (typeof remote === 'number') return remote;
  const errPort = (error as { port?: unknown } | undefined)?.port;
  if (typeof errPort === 'number' && errPort > 0 && errPort < 65536) return errPort;
  const header = req.getHeader?.('host');
  if (typeof header === 'string') {
    const { port } = splitHostHeader(header);
    if (port !== undefined && port > 0 && port < 65536) return port;
  }
  return req.protocol === 'https:' ? 443 : 80;
}

interface ClientRequestLike {
  method?: string;
  host?: string;
  protocol?: string;
  socket?: { remotePort?: number } | null;
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
