// One HTTP/1.1 request on a new connection, for the http probe: the request is a buffer built
// once per check, the response is parsed as it arrives into a head and a body stream of plain
// callbacks. Node's own client (ClientRequest, Agent, IncomingMessage, a Readable per response)
// cost more than half of the exporter's main-thread time at 1 000 checks a second, for features
// a probe never uses: pooling, keep-alive, pipelining, streams, upgrades. Measured with one
// request per fresh connection at 1 000/s on loopback: 0.46 CPU-s per 1 000 requests through
// http.request, 0.29 on a bare socket; undici 0.71.
//
// The parser accepts what Go's client (and so blackbox_exporter) accepts where the two differ
// from a strict reading: bare LF line ends, obsolete folded header lines, a status line without a
// reason. Framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked when it is
// the last transfer coding; otherwise Content-Length; otherwise the body runs to the close.
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { maxHeaderSize } from 'node:http';

export interface ResponseHead {
  status: number;
  /** "1.1" or "1.0". */
  version: string;
  /** Lower-case name → the first value sent under it, as Go's Header.Get. */
  headers: Record<string, string>;
}

/** A response that is not HTTP/1.x, or breaks its own framing. */
export class HttpProtocolError extends Error {
  constructor(message: string, readonly code = 'HPE_INVALID_RESPONSE') {
    super(message);
  }
}

export interface ResponseSink {
  head(head: ResponseHead): void;
  /** A piece of the body: a view of the read buffer, valid during the call only (copy what is kept). */
  body(chunk: Buffer): void;
  end(): void;
}

const enum State { Head, Length, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose, Done }

const LF = 10;
const CR = 13;
/** Longest chunk-size line accepted (a size and its extensions). */
const MAX_CHUNK_LINE = 4096;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/;

/**
 * Incremental parser of one response. `feed` takes the bytes as they come and calls the sink;
 * `close` says the connection ended. Both throw HttpProtocolError on a broken response. A sink
 * that wants no more (a body past its limit) calls `stop`.
 */
export class ResponseParser {
  private state = State.Head;
  /** Bytes of a head, chunk-size line or trailer whose end has not arrived yet. */
  private pending: Buffer | undefined;
  private remaining = 0;
  private received = 0;
  private trailerBytes = 0;

  constructor(
    /** A HEAD request: the response has no body whatever its headers say. */
    private readonly headRequest: boolean,
    private readonly sink: ResponseSink,
    private readonly maxHead: number = maxHeaderSize,
  ) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  stop(): void {
    this.state = State.Done;
    this.pending = undefined;
  }

  feed(chunk: Buffer): void {
    if (this.state === State.Done) return;
    this.received += chunk.length;
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < data.length && !this.done) {
      switch (this.state) {
        case State.Head: {
          // Blank lines before a status line are ignored (RFC 9112 §2.2). A head that waits for
          // more bytes is kept from its first non-blank byte, so this only skips real blank lines.
          while (at < data.length && (data[at] === CR || data[at] === LF)) at++;
          if (at === data.length) return;
          const end = headEnd(data, at);
          if (end < 0 ? data.length - at > this.maxHead : end - at > this.maxHead) throw new HttpProtocolError(`response headers exceed ${this.maxHead} bytes`, 'HPE_HEADER_OVERFLOW');
          if (end < 0) {
            this.pending = Buffer.from(data.subarray(at));
            return;
          }
          const head = parseHead(data.toString('latin1', at, end));
          at = end;
          // An interim response (100 Continue, 103 Early Hints): the final one follows.
          if (head.status < 200 && head.status !== 101) continue;
          this.sink.head(head);
          if (this.done) return;
          this.frame(head);
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const piece = data.subarray(at, at + n);
          at += n;
          this.sink.body(piece);
          if (this.remaining === 0 && !this.done) {
            if (this.state === State.Length) this.complete();
            else this.state = State.ChunkEnd;
          }
          break;
        }
        case State.UntilClose:
          this.sink.body(at === 0 ? data : data.subarray(at));
          at = data.length;
          break;
        default: {
          // A chunk-size line, the CRLF after a chunk, or a trailer line.
          const lf = data.indexOf(LF, at);
          if (lf < 0) {
            const trailers = this.state === State.Trailers;
            if (data.length - at > (trailers ? this.maxHead - this.trailerBytes : MAX_CHUNK_LINE)) {
              throw trailers
                ? new HttpProtocolError(`response trailers exceed ${this.maxHead} bytes`, 'HPE_HEADER_OVERFLOW')
                : new HttpProtocolError('chunk size line too long', 'HPE_INVALID_CHUNK_SIZE');
            }
            this.pending = Buffer.from(data.subarray(at));
            return;
          }
          const line = data.toString('latin1', at, lf > at && data[lf - 1] === CR ? lf - 1 : lf);
          at = lf + 1;
          this.line(line);
          break;
        }
      }
    }
  }

  /** The connection ended: a body read to the close is complete, anything else was cut short. */
  close(): void {
    if (this.state === State.Done) return;
    if (this.state === State.UntilClose) return this.complete();
    if (this.state === State.Head) {
      throw this.received === 0
        ? Object.assign(new Error('socket hang up: the server closed the connection without a response'), { code: 'ECONNRESET' })
        : new HttpProtocolError('connection closed before the response headers ended');
    }
    throw Object.assign(new Error('connection closed before the response body ended'), { code: 'ECONNRESET' });
  }

  private frame(head: ResponseHead): void {
    const { status, headers } = head;
    if (this.headRequest || status === 204 || status === 304 || status === 101) return this.complete();
    const te = headers['transfer-encoding'];
    if (te !== undefined) {
      const codings = te.split(',');
      // Chunked only when it is the final coding; any other coding runs to the close.
      this.state = codings[codings.length - 1].trim().toLowerCase() === 'chunked' ? State.ChunkSize : State.UntilClose;
      return;
    }
    const cl = headers['content-length'];
    if (cl === undefined) {
      this.state = State.UntilClose;
      return;
    }
    // "5, 5" (a length repeated by a proxy) is one length; differing ones are an error.
    const values = cl.split(',').map((v) => v.trim());
    if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) throw new HttpProtocolError(`invalid Content-Length ${JSON.stringify(cl.slice(0, 40))}`, 'HPE_UNEXPECTED_CONTENT_LENGTH');
    this.remaining = Number(values[0]);
    if (this.remaining === 0) this.complete();
    else this.state = State.Length;
  }

  private line(line: string): void {
    if (this.state === State.ChunkEnd) {
      if (line !== '') throw new HttpProtocolError('chunk not followed by CRLF', 'HPE_INVALID_CHUNK_SIZE');
      this.state = State.ChunkSize;
      return;
    }
    if (this.state === State.Trailers) {
      this.trailerBytes += line.length + 2;
      if (line === '') this.complete();
      else if (this.trailerBytes > this.maxHead) throw new HttpProtocolError(`response trailers exceed ${this.maxHead} bytes`, 'HPE_HEADER_OVERFLOW');
      return;
    }
    const semi = line.indexOf(';');
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpProtocolError(`invalid chunk size ${JSON.stringify(line.slice(0, 40))}`, 'HPE_INVALID_CHUNK_SIZE');
    this.remaining = parseInt(hex, 16);
    this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
  }

  private complete(): void {
    this.state = State.Done;
    this.pending = undefined;
    this.sink.end();
  }
}

/** Index just past the blank line that ends a head starting at `from`, or -1 when it has not arrived. */
function headEnd(buf: Buffer, from: number): number {
  let lf = buf.indexOf(LF, from);
  while (lf >= 0) {
    const next = buf[lf + 1];
    if (next === LF) return lf + 2;
    if (next === CR) {
      if (lf + 2 >= buf.length) return -1;
      if (buf[lf + 2] === LF) return lf + 3;
    }
    if (next === undefined) return -1;
    lf = buf.indexOf(LF, lf + 1);
  }
  return -1;
}

function parseHead(text: string): ResponseHead {
  // The text ends with its blank line, so every line ends with LF.
  let eol = text.indexOf('\n');
  const statusLine = text.slice(0, lineEnd(text, 0, eol));
  const m = STATUS_LINE.exec(statusLine);
  if (!m) throw new HttpProtocolError(`not an HTTP/1.x response: ${JSON.stringify(statusLine.slice(0, 40))}`, 'HPE_INVALID_CONSTANT');
  const headers: Record<string, string> = Object.create(null);
  let last: string | undefined;
  for (let at = eol + 1; at < text.length; at = eol + 1) {
    eol = text.indexOf('\n', at);
    const end = lineEnd(text, at, eol);
    if (end === at) continue;
    const first = text.charCodeAt(at);
    if (first === 32 || first === 9) {
      // An obsolete folded continuation of the previous header (RFC 9112 §5.2): one space.
      if (last === undefined) throw new HttpProtocolError('response header block starts with a continuation line', 'HPE_INVALID_HEADER_TOKEN');
      headers[last] = `${headers[last]} ${text.slice(at, end).trim()}`.trim();
      continue;
    }
    const colon = text.indexOf(':', at);
    const name = colon > at && colon < end ? text.slice(at, colon) : '';
    if (!TOKEN.test(name)) throw new HttpProtocolError(`invalid response header line ${JSON.stringify(text.slice(at, end).slice(0, 40))}`, 'HPE_INVALID_HEADER_TOKEN');
    const key = name.toLowerCase();
    if (key in headers) {
      last = undefined;
      continue;
    }
    headers[key] = text.slice(colon + 1, end).trim();
    last = key;
  }
  return { status: Number(m[2]), version: m[1] === '1' ? '1.1' : '1.0', headers };
}

/** Where the line from `at` to its LF at `eol` ends, without its CR. */
function lineEnd(text: string, at: number, eol: number): number {
  return eol > at && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
}

/**
 * The request's bytes: the request line, the given headers in their order (the last of names
 * that differ only in case wins), then what Node's client adds when the headers lack it: Host,
 * Authorization from the URL's user info, `Connection: close` and a Content-Length.
 */
export function requestMessage(method: string, url: URL, headers: Record<string, string>, body?: string): Buffer {
  const byName = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(headers)) byName.set(name.toLowerCase(), [name, value]);
  let head = `${method} ${url.pathname || '/'}${url.search} HTTP/1.1\r\n`;
  for (const [name, value] of byName.values()) head += `${name}: ${value}\r\n`;
  if (!byName.has('host')) head += `Host: ${url.host}\r\n`;
  if ((url.username || url.password) && !byName.has('authorization')) {
    const auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    head += `Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n`;
  }
  if (!byName.has('connection')) head += 'Connection: close\r\n';
  if (!byName.has('content-length') && !byName.has('transfer-encoding')) {
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    // As Node: a method that usually carries a body says it has none.
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') head += 'Content-Length: 0\r\n';
  }
  head += '\r\n';
  const start = Buffer.from(head, 'latin1');
  return body === undefined ? start : Buffer.concat([start, Buffer.from(body)]);
}

/** Why a header name or value cannot be sent, or undefined when it can (Node's own rules). */
export function invalidHeader(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
  // eslint-disable-next-line no-control-regex
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) return `header ${name} has a character that cannot be sent (control character or outside Latin-1)`;
  return undefined;
}

export interface ExchangeEvents extends ResponseSink {
  /** The TCP connection is up. */
  connected(): void;
  /** The TLS handshake finished (https only). */
  secured(socket: TLSSocket): void;
  /** The first byte of the response arrived. */
  firstByte(): void;
  error(err: Error): void;
}

export interface Endpoint {
  /** The address to connect to (resolved before, and timed, by the caller). */
  address: string;
  port: number;
  tls?: { servername?: string; rejectUnauthorized: boolean };
}

/** An exchange in flight; `close` ends it at once, after which no event is delivered. */
export interface OpenExchange {
  close(): void;
}

// One read buffer for every probe's socket (net's `onread`): each read is parsed before the next
// one lands, and what outlives a read is copied (an unfinished head, a body kept for its
// assertions). Reading through the sockets' streams allocated a Buffer per read and pushed it
// through a Readable: ~8 % of the main thread at 1 000 probes a second, measured bare.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

// One context for every https probe rather than one built per connection: it holds no
// per-connection options (verification and SNI are per connection), and Node's contexts keep no
// client sessions of their own, so no handshake is resumed.
let sharedContext: tls.SecureContext | undefined;

/**
 * A plain-TCP socket object kept from one probe to the next. Each connection is new (Node lets a
 * net.Socket connect again once it has emitted 'close'); what is kept is the JavaScript object
 * and its stream state. A closed socket object is freed only by a full collection in Node 20
 * (its wrappers outlive the young generation): one per probe was ~1.6 KB promoted a probe, half
 * of all that reached old space at 1 000 probes a second, and the full collections it brought
 * fell inside scrapes. Reused, a probe promotes next to nothing (docs/capacity.md).
 */
class ProbeSocket {
  readonly socket: net.Socket;
  /** The exchange on this connection reads through here (the socket's `onread` is fixed at its creation). */
  read: (n: number) => boolean = NOT_READING;
  /** Listeners Node itself keeps on a fresh socket: one that holds more was left with somebody's, and is not reused. */
  private readonly baseline: number;

  constructor() {
    // Documented for new net.Socket() as for net.connect(); @types/node lists it for connect only.
    // noDelay is applied to each connection's handle as it connects.
    this.socket = new net.Socket({ noDelay: true, onread: { buffer: READ_BUFFER, callback: (n: number) => this.read(n) } } as net.SocketConstructorOpts);
    this.baseline = this.listeners();
  }

  listeners(): number {
    const s = this.socket;
    return s.listenerCount('connect') + s.listenerCount('end') + s.listenerCount('error') + s.listenerCount('close') + s.listenerCount('data');
  }

  get clean(): boolean {
    return this.listeners() === this.baseline;
  }
}

const NOT_READING = () => false;
/** Closed sockets ready for another connection: as many as were ever open at once, to this bound. */
const IDLE_SOCKETS: ProbeSocket[] = [];
const MAX_IDLE_SOCKETS = 1024;

/** How many closed sockets wait for reuse (tests). */
export function idleSockets(): number {
  return IDLE_SOCKETS.length;
}

/**
 * Send `message` on a new connection to `endpoint` and parse the response into `events`. The
 * connection is closed when the response ends, on an error, or on `close`.
 */
export function request(endpoint: Endpoint, message: Buffer, headRequest: boolean, events: ExchangeEvents): OpenExchange {
  let closed = false;
  let gotByte = false;
  const pooled = endpoint.tls ? undefined : (IDLE_SOCKETS.pop() ?? new ProbeSocket());
  const socket: net.Socket = pooled
    ? pooled.socket
    : tls.connect({
      host: endpoint.address,
      port: endpoint.port,
      servername: endpoint.tls!.servername,
      rejectUnauthorized: endpoint.tls!.rejectUnauthorized,
      secureContext: (sharedContext ??= tls.createSecureContext()),
      // Documented for tls.connect as for net.connect; @types/node lists it for net only.
      onread: { buffer: READ_BUFFER, callback: (n: number) => read(n) },
    } as tls.ConnectionOptions);
  const close = () => {
    if (closed) return;
    closed = true;
    // The rest of a read already in the parser is not worked through.
    parser.stop();
    socket.destroy();
  };
  const fail = (err: Error) => {
    if (closed) return;
    close();
    events.error(err);
  };
  const ended = () => {
    try {
      parser.close();
    } catch (err) {
      fail(err as Error);
    }
  };
  const parser = new ResponseParser(headRequest, {
    head: (h) => { if (!closed) events.head(h); },
    body: (chunk) => { if (!closed) events.body(chunk); },
    end: () => {
      if (closed) return;
      close();
      events.end();
    },
  });
  const connected = () => {
    if (closed) return;
    events.connected();
    // Written once connected, not queued before: a socket destroyed while connecting keeps
    // Node's listener that would write the queued bytes, which a reused socket must not carry.
    if (pooled) socket.write(message);
  };
  socket.once('connect', connected);
  if (endpoint.tls) socket.once('secureConnect', () => { if (!closed) events.secured(socket as TLSSocket); });
  function read(n: number): boolean {
    if (closed) return false;
    if (!gotByte) {
      gotByte = true;
      events.firstByte();
    }
    try {
      parser.feed(READ_BUFFER.subarray(0, n));
    } catch (err) {
      fail(err as Error);
    }
    return !closed;
  }
  socket.once('end', ended);
  socket.on('error', fail);
  // A close without an end (a reset after the body began): whatever the parser makes of it.
  socket.once('close', () => {
    if (!closed) {
      ended();
      fail(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }));
    }
    if (pooled) release(pooled, connected, ended, fail);
  });
  if (pooled) {
    pooled.read = read;
    socket.connect({ host: endpoint.address, port: endpoint.port });
  } else {
    // Not end(): some servers take a half-closed connection for a client that gave up.
    socket.write(message);
  }
  return { close };
}

/** After its 'close': the socket object waits for the next probe, without this exchange's listeners. */
function release(pooled: ProbeSocket, ...listeners: Array<Parameters<net.Socket['off']>[1]>): void {
  pooled.read = NOT_READING;
  const socket = pooled.socket;
  for (const l of listeners) {
    socket.off('connect', l);
    socket.off('end', l);
    socket.off('error', l);
  }
  if (pooled.clean && IDLE_SOCKETS.length < MAX_IDLE_SOCKETS) IDLE_SOCKETS.push(pooled);
}
