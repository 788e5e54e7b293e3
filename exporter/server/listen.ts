// The transport under the koa app: an http or https server (--web.config.file), bounded in
// connections (--web.max-connections, kept within the file descriptor limit) and in time
// (header, request, keep-alive and idle timeouts, checked every second), plus the web config's
// client certificate policy, rate limit, and reload of the web config and certificate files
// when they change (exporter-toolkit re-reads them per request/handshake; here at most once a
// second, on a new connection).
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../config/errors.js';
import type { Logger } from '../log.js';
import { loadWebConfig, type WebConfig } from './web-config.js';

export const DEFAULT_MAX_CONNECTIONS = 512;

export interface WebTimeouts {
  /** A client must send its request headers within this long of connecting. Default 10 s. */
  headersMs: number;
  /** …and the whole request (body included). Default 30 s. A response may take longer (SSE). */
  requestMs: number;
  /** An idle keep-alive connection is closed after this long. Default 5 s. */
  keepAliveMs: number;
  /**
   * A socket with no traffic either way (a client that stopped reading) is closed. Default 120 s:
   * SSE sends a comment every 15 s, and a manual check run may wait for timeout × attempts.
   */
  idleMs: number;
  /** How often the header and request timeouts are checked (Node's default is 30 s). Default 1 s. */
  checkIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: WebTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, idleMs: 120_000, checkIntervalMs: 1_000 };

/** File descriptors kept for everything but client connections (logs, storage, libraries). */
const FD_RESERVE = 64;

/** The soft RLIMIT_NOFILE (Node raises it to the hard limit at start), or undefined where /proc is missing. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connections allowed at once: what was asked, but at most half of what the file descriptor
 * limit leaves after a reserve — the other half is for probes, whose sockets must not fail with
 * EMFILE because clients took every descriptor.
 */
export function connectionLimit(requested: number, nofile = openFileLimit()): number {
  if (nofile === undefined) return requested;
  return Math.min(requested, Math.max(16, Math.floor((nofile - FD_RESERVE) / 2)));
}

// -------------------------------------------------------------------------------------------
// Web config, re-read when the file or a certificate file changes.

export class WebConfigWatcher {
  private signature = '';
  private failed = '';
  private lastCheck = 0;
  private readonly listeners: Array<(next: WebConfig) => void> = [];

  /** Loads the file now; a ConfigError (file:line:column key: message) means it is unusable. */
  constructor(readonly file: string | undefined, private readonly log: Logger, public config: WebConfig | undefined = file ? loadWebConfig(file) : undefined) {
    this.signature = this.currentSignature();
  }

  onChange(fn: (next: WebConfig) => void): void {
    this.listeners.push(fn);
  }

  /** At most once a second: re-read the web config if it or its certificate files changed. */
  maybeReload(now = Date.now()): void {
    if (!this.file || now - this.lastCheck < 1000) return;
    this.lastCheck = now;
    const sig = this.currentSignature();
    if (sig === this.signature || sig === this.failed) return;
    let next: WebConfig;
    try {
      next = loadWebConfig(this.file);
    } catch (err) {
      this.failed = sig;
      const problems = err instanceof ConfigError ? err.message : (err as Error).message;
      this.log.error('web config reload failed, keeping the running one', { file: this.file, problems });
      return;
    }
    if (!!next.tls !== !!this.config?.tls) {
      this.failed = sig;
      this.log.error('web config reload: switching TLS on or off needs a restart, keeping the running config', { file: this.file });
      return;
    }
    this.signature = this.currentSignature(); // the new config may name other certificate files
    this.failed = '';
    this.config = next;
    for (const fn of this.listeners) fn(next);
    this.log.info('web config reloaded', { file: this.file, tls: !!next.tls, basic_auth_users: next.basicAuth?.size ?? 0 });
  }

  private currentSignature(): string {
    if (!this.file) return '';
    const files = [this.file, ...(this.config?.tls?.files ?? [])];
    return files.map((f) => {
      try {
        const st = statSync(f);
        return `${f}:${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return `${f}:missing`;
      }
    }).join('|');
  }
}

// -------------------------------------------------------------------------------------------
// Connection limit. Node's own server.maxConnections refuses the newcomer, which lets a few
// hundred trickling clients lock every scraper out until their header timeout. Here the
// newcomer is kept and the connection that is doing the least is closed instead: first one
// with no complete request (silent, trickling headers or body, or idle keep-alive), oldest
// first; then a response that has been streaming for a while (SSE, a client that reads
// slowly), oldest first. Only when every connection is serving a fresh, complete request is
// the newcomer refused.

interface Tracked {
  raw: Socket;
  top: Socket;
  /** The request being served, if any. */
  req?: http.IncomingMessage;
  res?: http.ServerResponse;
  /** When the connection last changed state (accepted, request started, response ended). */
  since: number;
}

const STREAMING_AFTER_MS = 10_000;

export class ConnectionLimiter {
  private readonly conns = new Map<Socket, Tracked>();

  constructor(readonly max: number, private readonly onDropped: () => void = () => {}) {}

  get size(): number {
    return this.conns.size;
  }

  attach(server: http.Server): void {
    server.prependListener('connection', (raw: Socket) => this.accept(raw));
    server.on('secureConnection', (tls: TLSSocket) => {
      const t = this.conns.get(rawOf(tls));
      if (t) t.top = tls;
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const t = this.conns.get(rawOf(req.socket));
      if (!t) return;
      t.req = req;
      t.res = res;
      t.since = Date.now();
      res.once('close', () => {
        if (t.res !== res) return;
        t.req = undefined;
        t.res = undefined;
        t.since = Date.now();
      });
    });
  }

  private accept(raw: Socket): void {
    if (this.conns.size >= this.max) {
      const victim = this.victim(Date.now());
      this.onDropped();
      if (!victim) {
        raw.destroy();
        return;
      }
      victim.top.destroy();
      victim.raw.destroy();
      this.conns.delete(victim.raw);
    }
    this.conns.set(raw, { raw, top: raw, since: Date.now() });
    raw.once('close', () => this.conns.delete(raw));
  }

  private victim(now: number): Tracked | undefined {
    let waiting: Tracked | undefined;
    let streaming: Tracked | undefined;
    for (const t of this.conns.values()) {
      if (!t.req || !t.req.complete) {
        if (!waiting || t.since < waiting.since) waiting = t;
      } else if (t.res?.headersSent && now - t.since > STREAMING_AFTER_MS) {
        if (!streaming || t.since < streaming.since) streaming = t;
      }
    }
    return waiting ?? streaming;
  }
}

/** A TLS socket wraps the accepted TCP socket (Node keeps it as `_parent`). */
function rawOf(s: Socket): Socket {
  return (s as Socket & { _parent?: Socket })._parent ?? s;
}

// -------------------------------------------------------------------------------------------

export interface WebServerOptions {
  handler: http.RequestListener;
  log: Logger;
  web?: WebConfigWatcher;
  /** --web.max-connections; lowered to fit the file descriptor limit. */
  maxConnections?: number;
  timeouts?: Partial<WebTimeouts>;
  onConnectionDropped?: () => void;
}

export interface WebServer {
  server: http.Server;
  limiter: ConnectionLimiter;
  tls: boolean;
}

export function createWebServer(opts: WebServerOptions): WebServer {
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const web = opts.web;
  const tls = web?.config?.tls;
  const serverOpts: http.ServerOptions = {
    headersTimeout: t.headersMs,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionsCheckingInterval: t.checkIntervalMs,
  };
  const handler = rateLimited(opts.handler, () => web?.config?.rateLimit);
  const server: http.Server = tls
    ? https.createServer({ ...serverOpts, ...tls.context, handshakeTimeout: t.headersMs }, handler)
    : http.createServer(serverOpts, handler);
  server.timeout = t.idleMs;

  const requested = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const max = connectionLimit(requested);
  if (max < requested) {
    opts.log.warn('connection limit lowered to fit the open file limit (ulimit -n)', { requested, max_connections: max, open_file_limit: openFileLimit() });
  }
  const limiter = new ConnectionLimiter(max, opts.onConnectionDropped);
  limiter.attach(server);

  if (web?.file) {
    server.prependListener('connection', () => web.maybeReload());
    if (tls) {
      web.onChange((next) => {
        if (!next.tls) return;
        const s = server as https.Server & { requestCert: boolean; rejectUnauthorized: boolean };
        s.setSecureContext(next.tls.context);
        // setSecureContext() keeps the server's client-certificate policy; each new TLS socket reads these two.
        s.requestCert = next.tls.context.requestCert;
        s.rejectUnauthorized = next.tls.context.rejectUnauthorized;
      });
      server.on('secureConnection', (sock: TLSSocket) => enforceClientCert(sock, web, opts.log));
    }
  }
  server.on('tlsClientError', (err: Error & { code?: string }) => opts.log.debug('TLS handshake failed', { code: err.code ?? err.message }));
  return { server, limiter, tls: !!tls };
}

/**
 * client_auth_type beyond what OpenSSL enforces itself (RequireAndVerifyClientCert), and
 * client_allowed_sans; checked against the current config, so a reload applies to the next
 * connection.
 */
function enforceClientCert(sock: TLSSocket, web: WebConfigWatcher, log: Logger): void {
  const tls = web.config?.tls;
  if (!tls) return;
  const cert = sock.getPeerCertificate();
  const given = !!cert && Object.keys(cert).length > 0;
  let reason: string | undefined;
  if (!given && (tls.clientAuth === 'RequireAnyClientCert' || tls.clientAuth === 'RequireAndVerifyClientCert')) reason = 'no client certificate';
  else if (given && !sock.authorized && (tls.clientAuth === 'VerifyClientCertIfGiven' || tls.clientAuth === 'RequireAndVerifyClientCert')) reason = `client certificate not verified (${sock.authorizationError})`;
  else if (given && tls.allowedSans) {
    const sans = (cert.subjectaltname ?? '').split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address|email|URI):/, ''));
    if (!tls.allowedSans.some((a) => sans.includes(a))) reason = 'client certificate SAN not in client_allowed_sans';
  }
  if (reason) {
    log.warn('TLS client refused', { remote: sock.remoteAddress, reason });
    sock.destroy();
  }
}

/** rate_limit of the web config: one token bucket for the whole server, as in exporter-toolkit. */
function rateLimited(handler: http.RequestListener, limit: () => { intervalMs: number; burst: number } | undefined): http.RequestListener {
  let tokens = 0;
  let last = 0;
  let current: { intervalMs: number; burst: number } | undefined;
  return (req, res) => {
    const l = limit();
    if (l) {
      const now = Date.now();
      if (l !== current) {
        current = l;
        tokens = l.burst;
        last = now;
      }
      tokens = Math.min(l.burst, tokens + (now - last) / l.intervalMs);
      last = now;
      if (tokens < 1) {
        res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': String(Math.max(1, Math.ceil(l.intervalMs / 1000))) });
        res.end('Too Many Requests\n');
        return;
      }
      tokens -= 1;
    }
    handler(req, res);
  };
}
