// Local stand-ins for what Alertmanager notifies: an HTTP sink (PagerDuty Events API v2 at
// /v2/enqueue, Telegram's /bot<token>/sendMessage, Slack/Discord/Webex, the dead man's switch, any webhook) and an SMTP sink (smtp-server). Both listen on
// 127.0.0.1:0, record what they receive, and answer with a status a test can change (to make a
// receiver fail on purpose).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkRequest {
  /** Milliseconds since the epoch when the body was complete. */
  at: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: any;
}

export interface HttpSink {
  url: string;
  port: number;
  requests: SinkRequest[];
  /** Requests to one path (exact, without the query). */
  on(path: string): SinkRequest[];
  /** Answer this status on `path` from now on (default: 202 on /v2/enqueue, 200 elsewhere). */
  respond(path: string, status: number): void;
  /** Resolves with the first request (already received or arriving later) matching `pred`; throws after `timeoutMs`. */
  waitFor(pred: (r: SinkRequest) => boolean, timeoutMs: number, what?: string): Promise<SinkRequest>;
  close(): Promise<void>;
}

type Waiter<T> = { pred: (x: T) => boolean; resolve: (x: T) => void };

function waitIn<T>(list: T[], waiters: Set<Waiter<T>>, pred: (x: T) => boolean, timeoutMs: number, what: string, describe: () => string): Promise<T> {
  const found = list.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise<T>((resolve, reject) => {
    const w: Waiter<T> = {
      pred,
      resolve: (x) => {
        clearTimeout(timer);
        waiters.delete(w);
        resolve(x);
      },
    };
    const timer = setTimeout(() => {
      waiters.delete(w);
      reject(new Error(`${what} did not arrive within ${timeoutMs} ms; received so far:\n${describe()}`));
    }, timeoutMs);
    waiters.add(w);
  });
}

function notify<T>(waiters: Set<Waiter<T>>, x: T): void {
  for (const w of [...waiters]) if (w.pred(x)) w.resolve(x);
}

/** PagerDuty's answer to an accepted event. */
const PAGERDUTY_OK = (dedupKey: unknown) => JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey ?? null });

/** The Telegram Bot API's answer to sendMessage (Alertmanager's client wants ok and a message). */
const TELEGRAM_OK = (chatId: unknown) => JSON.stringify({ ok: true, result: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId) || 0, type: 'group' } } });

export async function startHttpSink(): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  const waiters = new Set<Waiter<SinkRequest>>();
  const statuses = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch { /* keep the text */ }
      const p = (req.url ?? '/').split('?')[0];
      const r: SinkRequest = { at: Date.now(), method: req.method ?? 'GET', path: p, headers: req.headers, body };
      requests.push(r);
      const status = statuses.get(p) ?? (p === '/v2/enqueue' ? 202 : 200);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status >= 300 ? '{"error":"sink told to fail"}'
        : p === '/v2/enqueue' ? PAGERDUTY_OK((body as { dedup_key?: unknown })?.dedup_key)
          : /^\/bot[^/]+\/sendMessage$/.test(p) ? TELEGRAM_OK((body as { chat_id?: unknown })?.chat_id)
            : '{}');
      notify(waiters, r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    on: (p) => requests.filter((r) => r.path === p),
    respond: (p, status) => { statuses.set(p, status); },
    waitFor: (pred, timeoutMs, what = 'request') => waitIn(requests, waiters, pred, timeoutMs, what,
      () => requests.map((r) => `  ${new Date(r.at).toISOString()} ${r.method} ${r.path} ${JSON.stringify(r.body).slice(0, 200)}`).join('\n') || '  (nothing)'),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface SmtpMessage {
  at: number;
  from: string;
  to: string[];
  /** The authenticated user, if the client logged in. */
  user?: string;
  subject: string;
  headers: Record<string, string>;
  /** The whole message with quoted-printable soft breaks and escapes decoded (for `toContain`). */
  text: string;
  raw: string;
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: SmtpMessage[];
  waitFor(pred: (m: SmtpMessage) => boolean, timeoutMs: number, what?: string): Promise<SmtpMessage>;
  close(): Promise<void>;
}

/** Header block of a raw message, unfolded, lower-case names (first occurrence wins). */
export function parseHeaders(raw: string): Record<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const out: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      if (!(k in out)) out[k] = line.slice(i + 1).trim();
    }
  }
  return out;
}

/** RFC 2047 encoded words (=?utf-8?q?...?= / ?b?), as Go's mime package writes them. */
export function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=\s*/g, (_m, _cs, enc: string, data: string) => {
    if (enc.toLowerCase() === 'b') return Buffer.from(data, 'base64').toString('utf8');
    return Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  });
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export async function startSmtpSink(opts: { rejectAll?: boolean } = {}): Promise<SmtpSink> {
  const messages: SmtpMessage[] = [];
  const waiters = new Set<Waiter<SmtpMessage>>();
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true, // loopback only; Go's smtp client sends PLAIN to 127.0.0.1 without TLS
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (opts.rejectAll) return cb(new Error('sink told to fail'));
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = parseHeaders(raw);
        const m: SmtpMessage = {
          at: Date.now(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          subject: decodeWords(headers.subject ?? ''),
          headers,
          text: decodeQuotedPrintable(raw),
          raw,
        };
        messages.push(m);
        cb();
        notify(waiters, m);
      });
    },
  });
  server.on('error', () => { /* a client hanging up mid-session is not a test failure */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    messages,
    waitFor: (pred, timeoutMs, what = 'e-mail') => waitIn(messages, waiters, pred, timeoutMs, what,
      () => messages.map((m) => `  ${new Date(m.at).toISOString()} to ${m.to.join(',')}: ${m.subject}`).join('\n') || '  (nothing)'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
