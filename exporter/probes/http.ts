// HTTP(S) probe: one fresh connection per run (never kept alive), per-phase timings taken from
// socket events as blackbox_exporter does (resolve, connect, tls, processing, transfer), status
// and body assertions, certificate expiry, and extraction of response headers into gauges.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { name } from '../config/common.js';
import { size } from '../config/units.js';
import { redact } from '../config/secrets.js';
import { checkJson, compileJsonAssertion, jsonAssertion, statusMatches, statusPattern, type JsonCheck } from './support/expect.js';
import { pattern, Pattern } from './support/pattern.js';
import { formatSize, roundMicros } from '../model/units.js';
import { defaultHeadline } from './support/headline.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { DEFAULT_CERT_THRESHOLD, earliestCertExpiry, TLS_METRICS, tlsSamples } from './support/tls.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';
import type { CheckCommon, Threshold } from '../model/check.js';

const MAX_BODY_LIMIT = 16 * 1024 * 1024;

const schema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  expect: z.strictObject({
    status: z.array(statusPattern).min(1).default(['2xx']),
    body_regex: pattern.optional(),
    body_not_regex: pattern.optional(),
    json: z.array(jsonAssertion).default([]),
  }).default({ status: ['2xx'], json: [] }),
  follow_redirects: z.boolean().default(true),
  max_redirects: z.number().int().min(0).max(30).default(10),
  tls: z.strictObject({
    insecure_skip_verify: z.boolean().default(false),
    server_name: z.string().optional(),
  }).default({ insecure_skip_verify: false }),
  /**
   * No response body is read past this size. With a body assertion a longer body fails the run
   * (as blackbox_exporter's body_size_limit); without one, reading stops there and the connection
   * is closed. Capped so that matching and JSON parsing of a body stay short (RE2 runs at
   * roughly 20-30 ms per MiB on the event loop).
   */
  max_body_bytes: size.default(1024 * 1024).refine((n) => n <= MAX_BODY_LIMIT, `at most ${formatSize(MAX_BODY_LIMIT)}`),
  extract_headers: z.array(z.strictObject({ header: z.string().min(1), name })).default([]),
});

export type HttpCheck = CheckCommon & z.output<typeof schema>;

const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
type Phase = (typeof PHASES)[number];

export const httpProbe: ProbeDefinition<HttpCheck> = {
  type: 'http',
  doc: {
    what: 'a URL: status, body regex, JSON path assertions, redirects, TLS, per-phase timings, certificate expiry, numeric response headers',
    thresholds: '`response_time`, `cert_expires_in` (https default: warning 14 d, critical 3 d, below), extracted header names',
  },
  schema,
  reasons: ['status', 'assertion'],
  metrics: [
    { name: 'probe_http_status_code', help: 'Status code of the last response (after redirects).' },
    { name: 'probe_http_duration_seconds', help: 'Duration of each phase of the HTTP request, summed over redirects.', labels: ['phase'] },
    { name: 'probe_http_redirects', help: 'Number of redirects followed.' },
    { name: 'probe_http_content_length', help: 'Bytes of the response body received (its Content-Length when reading stopped at max_body_bytes).' },
    { name: 'vigil_http_header_value', help: 'Numeric value of a response header extracted by the check.', labels: ['header'] },
    ...TLS_METRICS,
  ],
  thresholdKeys: (c) => ['cert_expires_in', ...c.extract_headers.map((h) => h.name)],
  headline: (samples) => {
    const status = samples.find((s) => s.key === 'status_code');
    return status ? `HTTP ${status.value}` : defaultHeadline(samples);
  },
  defaultThresholds: (c): Record<string, Threshold> => (c.url.startsWith('https:') ? { cert_expires_in: DEFAULT_CERT_THRESHOLD } : {}),
  validate: (c) => {
    const problems: Array<[Array<string | number>, string]> = [];
    if (c.body !== undefined && (c.method === 'GET' || c.method === 'HEAD')) problems.push([['body'], `a ${c.method} request cannot have a body`]);
    const names = new Set<string>();
    c.extract_headers.forEach((h, i) => {
      if (names.has(h.name)) problems.push([['extract_headers', i, 'name'], `duplicate name "${h.name}"`]);
      names.add(h.name);
    });
    return problems;
  },
  create: (check) => {
    const target = prepare(check);
    return { run: (ctx) => probeHttp(check, target, ctx) };
  },
};

/** What a run does with a response body. */
type BodyUse =
  /** An assertion needs it: keep it, and fail the run past max_body_bytes. */
  | 'keep'
  /** Nobody looks at it: count it up to max_body_bytes, then close the connection. */
  | 'count'
  /** A redirect about to be followed, or a status that already fails the run: close at once. */
  | 'skip';

interface Exchange {
  res: IncomingMessage;
  body?: Buffer;
  bytes: number;
  phases: Record<Phase, number>;
  certExpiry?: number;
}

// One frozen labels object and key per phase: the metrics layer renders frozen labels once.
const PHASE_SERIES = PHASES.map((phase) => ({ phase, key: `duration_${phase}`, labels: Object.freeze({ phase }) }));
const USER_AGENT = 'Vigil/1 (+health probe)';

/** What every run of a check sends and checks, worked out once when the check is created. */
interface Target {
  url: URL;
  headers: Record<string, string>;
  needBody: boolean;
  /** False for an IP literal, which is never looked up (so there is no lookup event to wait for). */
  lookup: boolean;
  bodyRegex?: Pattern;
  bodyNotRegex?: Pattern;
  json: JsonCheck[];
}

function needsLookup(url: URL): boolean {
  return !isIP(url.hostname.replace(/^\[|\]$/g, ''));
}

function prepare(check: HttpCheck): Target {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...check.headers };
  if (check.body !== undefined) headers['content-length'] = String(Buffer.byteLength(check.body));
  const url = new URL(check.url);
  const { body_regex, body_not_regex } = check.expect;
  return {
    url,
    lookup: needsLookup(url),
    headers,
    needBody: !!(body_regex || body_not_regex || check.expect.json.length),
    bodyRegex: body_regex === undefined ? undefined : Pattern.compile(body_regex),
    bodyNotRegex: body_not_regex === undefined ? undefined : Pattern.compile(body_not_regex),
    json: check.expect.json.map(compileJsonAssertion),
  };
}

async function probeHttp(check: HttpCheck, target: Target, ctx: ProbeRunContext): Promise<ProbeResult> {
  const phases: Record<Phase, number> = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const samples: Sample[] = [];
  let url = target.url;
  let method = check.method;
  let body = check.body;
  let headers = target.headers;
  let redirects = 0;
  let certExpiry: number | undefined;
  let ex: Exchange;

  const finish = (result: Omit<ProbeResult, 'samples'>): ProbeResult => {
    for (const p of PHASE_SERIES) samples.push({ key: p.key, metric: 'probe_http_duration_seconds', value: roundMicros(phases[p.phase]), labels: p.labels });
    for (const t of tlsSamples(certExpiry)) samples.push(t);
    return { ...result, samples };
  };
  const fail = (reason: ProbeResult['reason'], message: string): ProbeResult => finish({ ok: false, reason, message: redact(message) });
  const isRedirect = (res: IncomingMessage) => {
    const status = res.statusCode ?? 0;
    return check.follow_redirects && status >= 300 && status < 400 && !!res.headers.location;
  };
  // The body of a redirect, or of a response whose status already fails the run, is never
  // waited for: a server that sends headers and then stalls fails fast on its status.
  const bodyUse = (res: IncomingMessage): BodyUse => (isRedirect(res) || !statusMatches(res.statusCode ?? 0, check.expect.status) ? 'skip'
    : target.needBody ? 'keep' : 'count');

  for (;;) {
    try {
      ex = await exchange(url, url === target.url ? target.lookup : needsLookup(url), method, headers, check, body, bodyUse, ctx.signal);
    } catch (err) {
      if (err instanceof BodyTooLarge) return fail('assertion', err.message);
      return fail(classifyError(err), `${method} ${url.origin}${url.pathname}: ${errorMessage(err)}`);
    }
    for (const p of PHASES) phases[p] += ex.phases[p];
    certExpiry = ex.certExpiry ?? certExpiry;
    if (isRedirect(ex.res)) {
      const status = ex.res.statusCode ?? 0;
      if (++redirects > check.max_redirects) return fail('status', `more than ${check.max_redirects} redirects`);
      url = new URL(ex.res.headers.location!, url);
      // 303 (and in practice 301/302 for POST) switch to GET, as browsers and curl do.
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = { ...headers };
        delete headers['content-length'];
      }
      continue;
    }
    break;
  }

  const status = ex.res.statusCode ?? 0;
  samples.push({ key: 'status_code', metric: 'probe_http_status_code', value: status });
  samples.push({ key: 'redirects', metric: 'probe_http_redirects', value: redirects });
  samples.push({ key: 'content_length', metric: 'probe_http_content_length', value: ex.bytes });
  for (const h of check.extract_headers) {
    const raw = ex.res.headers[h.header.toLowerCase()];
    const value = Number(Array.isArray(raw) ? raw[0] : raw);
    if (raw !== undefined && Number.isFinite(value)) samples.push({ key: h.name, metric: 'vigil_http_header_value', value, labels: { header: h.header } });
  }

  if (!statusMatches(status, check.expect.status)) {
    return fail('status', `status ${status}, expected ${check.expect.status.join(' or ')}`);
  }
  if (ex.body) {
    const text = ex.body.toString('utf8');
    if (target.bodyRegex && !target.bodyRegex.test(text)) {
      return fail('assertion', `body does not match ${target.bodyRegex}`);
    }
    if (target.bodyNotRegex && target.bodyNotRegex.test(text)) {
      return fail('assertion', `body matches ${target.bodyNotRegex}, expected it not to`);
    }
    if (target.json.length) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return fail('assertion', `body is not valid JSON (${ex.bytes} bytes, starts ${JSON.stringify(text.slice(0, 40))})`);
      }
      for (const a of target.json) {
        const problem = checkJson(doc, a);
        if (problem) return fail('assertion', problem);
      }
    }
  }
  return finish({ ok: true });
}

class BodyTooLarge extends Error {}

// Shared agents that never keep a socket: every request still opens its own connection (so
// connect failures and phase timings are real), without `agent: false` building a new Agent
// per request. TLS options are per request; the agent keys its (unused) pool by them.
const AGENT_OPTIONS = { keepAlive: false, maxSockets: Infinity, maxFreeSockets: 0 };
const httpAgent = new http.Agent(AGENT_OPTIONS);
// No TLS session resumption either: the handshake is measured in full, every run.
const httpsAgent = new https.Agent({ ...AGENT_OPTIONS, maxCachedSessions: 0 });

function exchange(url: URL, lookup: boolean, method: string, headers: Record<string, string>, check: HttpCheck, body: string | undefined, bodyUse: (res: IncomingMessage) => BodyUse, signal: AbortSignal): Promise<Exchange> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let tLookup: number | undefined, tConnect: number | undefined, tTls: number | undefined, tFirstByte = 0;
    let certExpiry: number | undefined;
    let settled = false;
    const isHttps = url.protocol === 'https:';
    // The signal is handled here rather than passed to http.request, which would attach a
    // stream end-of-life watcher (several closures) to every request.
    const onAbort = () => req.destroy(abortError());
    const settle = () => {
      if (settled) return false;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    const failWith = (err: unknown) => { if (settle()) reject(err); };
    const req = (isHttps ? https : http).request(url, {
      method,
      headers,
      agent: isHttps ? httpsAgent : httpAgent,
      rejectUnauthorized: !check.tls.insecure_skip_verify,
      servername: check.tls.server_name,
    });
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('socket', (socket: Socket) => {
      if (lookup) socket.once('lookup', () => { tLookup = performance.now(); });
      socket.once('connect', () => { tConnect = performance.now(); });
      if (isHttps) {
        socket.once('secureConnect', () => {
          tTls = performance.now();
          certExpiry = earliestCertExpiry(socket as TLSSocket);
        });
      }
    });
    req.on('error', failWith);
    req.once('response', (res) => {
      tFirstByte = performance.now();
      res.on('error', failWith);
      const use = bodyUse(res);
      const limit = check.max_body_bytes;
      const declared = Number(res.headers['content-length'] ?? NaN);
      const chunks: Buffer[] = [];
      let bytes = 0;
      const done = (kept: boolean) => {
        if (!settle()) return;
        const tEnd = performance.now();
        const connectStart = tLookup ?? t0;
        const connected = tConnect ?? connectStart;
        const secured = tTls ?? connected;
        resolve({
          res,
          body: kept ? Buffer.concat(chunks, bytes) : undefined,
          bytes,
          certExpiry,
          phases: {
            resolve: (connectStart - t0) / 1000,
            connect: (connected - connectStart) / 1000,
            tls: (secured - connected) / 1000,
            processing: (tFirstByte - secured) / 1000,
            transfer: (tEnd - tFirstByte) / 1000,
          },
        });
      };
      // Every run has its own connection (no keep-alive), so closing it mid-body costs nothing
      // and spares reading a large body to its end.
      const stop = () => res.destroy();
      const tooLarge = (seen: string) => {
        failWith(new BodyTooLarge(`body exceeds max_body_bytes ${formatSize(limit)} (${seen})`));
        stop();
      };
      if (use === 'skip') {
        if (Number.isFinite(declared)) bytes = declared;
        done(false);
        return stop();
      }
      if (use === 'keep' && declared > limit) return tooLarge(`Content-Length ${declared}`);
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        bytes += chunk.length;
        if (use === 'count') {
          if (bytes < limit) return;
          // Past the limit nobody needs the rest: report the declared length if there is one.
          if (Number.isFinite(declared) && declared >= bytes) bytes = declared;
          done(false);
          return stop();
        }
        if (bytes > limit) return tooLarge(`stopped after ${bytes} bytes`);
        chunks.push(chunk);
      });
      res.once('end', () => {
        // No body read (HEAD, 204): the declared length is the only figure there is.
        if (use === 'count' && bytes === 0 && Number.isFinite(declared)) bytes = declared;
        done(use === 'keep');
      });
    });
    req.end(body);
  });
}
