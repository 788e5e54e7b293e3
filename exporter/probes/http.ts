// HTTP(S) probe: one fresh connection per run (never kept alive), per-phase timings taken from
// socket events as blackbox_exporter does (resolve, connect, tls, processing, transfer), status
// and body assertions, certificate expiry, and extraction of response headers into gauges.
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { name } from '../config/common.js';
import { size } from '../config/units.js';
import { publicUrl, redact } from '../config/secrets.js';
import { checkJson, compileJsonAssertion, jsonAssertion, statusMatches, statusPattern, type JsonCheck } from './support/expect.js';
import { pattern, Pattern } from './support/pattern.js';
import { formatSize, roundMicros } from '../model/units.js';
import { defaultHeadline } from './support/headline.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { DEFAULT_CERT_THRESHOLD, TLS_METRICS, tlsFacts, tlsSamples, type TlsFacts } from './support/tls.js';
import { ipProtocol, literalTarget, RESOLVE_METRICS, resolveSamples, resolveTarget, type Resolved } from './support/resolve.js';
import { invalidHeader, request, requestMessage, type Endpoint, type ResponseHead } from './support/http1.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import { withSamples, type ProbeResult, type Sample } from '../model/result.js';
import type { CheckCommon, Threshold } from '../model/check.js';
import type { KindTarget } from '../config/kinds.js';

const MAX_BODY_LIMIT = 16 * 1024 * 1024;

const schema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}).superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      const problem = invalidHeader(name, value);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  }),
  body: z.string().optional(),
  expect: z.strictObject({
    status: z.array(statusPattern).min(1).default(['2xx']),
    body_regex: pattern.optional(),
    body_not_regex: pattern.optional(),
    json: z.array(jsonAssertion).default([]),
  }).default({ status: ['2xx'], json: [] }),
  follow_redirects: z.boolean().default(true),
  ip_protocol: ipProtocol,
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
    { name: 'probe_http_redirects', help: 'Number of redirects (a redirect not followed counts 1).' },
    { name: 'probe_http_content_length', help: 'Content-Length of the last response: -1 when not declared (chunked), 0 when no response arrived.' },
    { name: 'probe_http_uncompressed_body_length', help: 'Bytes of the last response body read (at most max_body_bytes).' },
    { name: 'probe_http_ssl', help: 'Whether the last response came over TLS.' },
    { name: 'probe_http_version', help: 'HTTP version of the last response (1.1), 0 when no response arrived.' },
    { name: 'probe_failed_due_to_regex', help: 'Whether the run failed on body_regex or body_not_regex.' },
    { name: 'probe_http_last_modified_timestamp_seconds', help: 'Last-Modified header of the last response, unix seconds (only when it has one).' },
    ...RESOLVE_METRICS,
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
  targetOf: (c) => publicUrl(c.url),
  target: {
    keys: ['url'],
    example: 'http://127.0.0.1/',
    // As blackbox: a target without a scheme is http://.
    parse: (t) => {
      const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `http://${t}`;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return 'expected a URL or host[:port]';
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'expected an http:// or https:// URL';
      return { fields: { url: text }, host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    },
  } satisfies KindTarget,
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
  /** A status that already fails the run: count it, to the limit or the run's deadline. */
  | 'drain'
  /** A redirect: close at once. */
  | 'skip';

interface Exchange {
  head: ResponseHead;
  body?: Buffer;
  /** Body bytes read. */
  bytes: number;
  phases: Record<Phase, number>;
  tls?: TlsFacts;
}

// One frozen labels object and key per phase: the metrics layer renders frozen labels once.
const PHASE_SERIES = PHASES.map((phase) => ({ phase, key: `duration_${phase}`, labels: Object.freeze({ phase }) }));
const USER_AGENT = 'Vigil/1 (+health probe)';

/** What every run of a check sends and checks, worked out once when the check is created. */
interface Target {
  url: URL;
  headers: Record<string, string>;
  /** The first request's bytes (a redirect builds its own). */
  message: Buffer;
  /** The URL's host when it is an IP address: nothing to resolve, run after run. */
  literal?: Resolved;
  /** The host of a configured Host header (no port): the TLS server name unless tls.server_name is set. */
  hostHeader?: string;
  needBody: boolean;
  bodyRegex?: Pattern;
  bodyNotRegex?: Pattern;
  json: JsonCheck[];
}

function prepare(check: HttpCheck): Target {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...check.headers };
  if (check.body !== undefined) headers['content-length'] = String(Buffer.byteLength(check.body));
  const url = new URL(check.url);
  const { body_regex, body_not_regex } = check.expect;
  return {
    url,
    headers,
    message: requestMessage(check.method, url, headers, check.body),
    literal: literalTarget(url.hostname),
    hostHeader: Object.entries(check.headers).find(([k]) => k.toLowerCase() === 'host')?.[1].replace(/:\d*$/, ''),
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
  let firstLookup: Resolved | undefined;
  let lookupFailedAfter = 0;
  let resolvedOnce = false;
  let ex: Exchange | undefined;
  let regexFailed = false;

  // Every family is written on every run, failed or not, as blackbox does: a run that got no
  // response reports status 0, so `probe_http_status_code <= 199` catches it.
  const finish = (result: Omit<ProbeResult, 'samples'>): ProbeResult => {
    // A target that never resolved has no other phase, as in blackbox.
    for (const p of PHASE_SERIES) if (resolvedOnce || p.phase === 'resolve') samples.push({ key: p.key, metric: 'probe_http_duration_seconds', value: roundMicros(phases[p.phase]), labels: p.labels });
    samples.push(...resolveSamples(firstLookup, roundMicros(lookupFailedAfter)));
    const res = ex?.head;
    samples.push({ key: 'status_code', metric: 'probe_http_status_code', value: res?.status ?? 0 });
    samples.push({ key: 'content_length', metric: 'probe_http_content_length', value: res ? declaredLength(res, method) : 0 });
    samples.push({ key: 'body_length', metric: 'probe_http_uncompressed_body_length', value: ex?.bytes ?? 0 });
    samples.push({ key: 'redirects', metric: 'probe_http_redirects', value: redirects });
    samples.push({ key: 'ssl', metric: 'probe_http_ssl', value: ex?.tls ? 1 : 0 });
    samples.push({ key: 'http_version', metric: 'probe_http_version', value: res ? Number(res.version) : 0 });
    samples.push({ key: 'failed_due_to_regex', metric: 'probe_failed_due_to_regex', value: regexFailed ? 1 : 0 });
    const modified = res && lastModified(res);
    if (modified !== undefined) samples.push({ key: 'last_modified', metric: 'probe_http_last_modified_timestamp_seconds', value: modified });
    samples.push(...tlsSamples(ex?.tls));
    return withSamples(result, samples);
  };
  const fail = (reason: ProbeResult['reason'], message: string): ProbeResult => finish({ ok: false, reason, message: redact(message) });
  // The body of a redirect is never read (blackbox neither reads one it does not follow). The
  // body of a response whose status already fails the run is counted until the run's deadline
  // at most: a server that sends headers and then stalls still fails on its status.
  const bodyUse = (res: ResponseHead): BodyUse => (isRedirectStatus(res) ? 'skip'
    : !statusMatches(res.status, check.expect.status) ? 'drain'
      : target.needBody ? 'keep' : 'count');

  for (;;) {
    let address: Resolved;
    const t0 = performance.now();
    try {
      address = (url === target.url && target.literal) || await resolveTarget(url.hostname, check.ip_protocol, ctx.signal);
    } catch (err) {
      const took = (performance.now() - t0) / 1000;
      phases.resolve += took;
      if (!resolvedOnce) lookupFailedAfter = took;
      return fail(classifyError(err), `${method} ${url.origin}${url.pathname}: ${errorMessage(err)}`);
    }
    phases.resolve += address.seconds;
    if (!resolvedOnce) firstLookup = address;
    resolvedOnce = true;
    try {
      const message = url === target.url ? target.message : requestMessage(method, url, headers, body);
      ex = await exchange(url, address, target, method, message, check, bodyUse, ctx);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // A response came: its status, length and phases are reported as for any other.
        ex = err.exchange;
        for (const p of PHASES) phases[p] += ex.phases[p];
        return fail('assertion', err.message);
      }
      // No response: like blackbox, the failed exchange adds no connect/tls/... time.
      ex = undefined;
      return fail(classifyError(err), `${method} ${url.origin}${url.pathname}: ${errorMessage(err)}`);
    }
    for (const p of PHASES) phases[p] += ex.phases[p];
    if (isRedirectStatus(ex.head)) {
      const status = ex.head.status;
      // As blackbox: a redirect counts whether or not it is followed.
      redirects++;
      if (!check.follow_redirects) break;
      if (redirects > check.max_redirects) return fail('status', `more than ${check.max_redirects} redirects`);
      url = new URL(ex.head.headers.location, url);
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

  const final = ex!;
  const status = final.head.status;
  for (const h of check.extract_headers) {
    const raw = final.head.headers[h.header.toLowerCase()];
    const value = Number(raw);
    if (raw !== undefined && Number.isFinite(value)) samples.push({ key: h.name, metric: 'vigil_http_header_value', value, labels: { header: h.header } });
  }

  if (!statusMatches(status, check.expect.status)) {
    return fail('status', `status ${status}, expected ${check.expect.status.join(' or ')}`);
  }
  if (final.body) {
    const text = final.body.toString('utf8');
    if (target.bodyRegex && !target.bodyRegex.test(text)) {
      regexFailed = true;
      return fail('assertion', `body does not match ${target.bodyRegex}`);
    }
    if (target.bodyNotRegex && target.bodyNotRegex.test(text)) {
      regexFailed = true;
      return fail('assertion', `body matches ${target.bodyNotRegex}, expected it not to`);
    }
    if (target.json.length) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return fail('assertion', `body is not valid JSON (${final.bytes} bytes, starts ${JSON.stringify(text.slice(0, 40))})`);
      }
      for (const a of target.json) {
        const problem = checkJson(doc, a);
        if (problem) return fail('assertion', problem);
      }
    }
  }
  return finish({ ok: true });
}

/** Statuses a client follows when they carry a Location (Go's and browsers' set). */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function isRedirectStatus(res: ResponseHead): boolean {
  return REDIRECT_STATUSES.has(res.status) && !!res.headers.location;
}

/**
 * The response's Content-Length as Go's http client reports it (blackbox's
 * probe_http_content_length): -1 when the length is not declared (chunked, or read to close),
 * 0 for a status that has no body, the header otherwise (also for HEAD).
 */
function declaredLength(res: ResponseHead, method: string): number {
  const status = res.status;
  const header = res.headers['content-length'];
  const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : -1;
  if (method === 'HEAD') return declared;
  if (status < 200 || status === 204 || status === 304) return 0;
  if (/chunked/i.test(String(res.headers['transfer-encoding'] ?? ''))) return -1;
  return declared;
}

function lastModified(res: ResponseHead): number | undefined {
  const header = res.headers['last-modified'];
  if (!header) return undefined;
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.floor(t / 1000) : undefined;
}

class BodyTooLarge extends Error {
  constructor(message: string, readonly exchange: Exchange) {
    super(message);
  }
}

/** Where a URL's request goes: the address resolved for it, its port, and for https the SNI name. */
function endpointOf(url: URL, address: Resolved, target: Target, check: HttpCheck): Endpoint {
  const https = url.protocol === 'https:';
  const endpoint: Endpoint = { address: address.address, port: Number(url.port || (https ? 443 : 80)) };
  if (https) {
    // As Node's https agent: the configured name, else the Host header's, else the URL's; none
    // for an IP literal (SNI carries names only).
    const name = check.tls.server_name ?? (target.hostHeader ?? url.hostname).replace(/^\[|\]$/g, '');
    endpoint.tls = { servername: isIP(name) ? undefined : name, rejectUnauthorized: !check.tls.insecure_skip_verify };
  }
  return endpoint;
}

function exchange(url: URL, address: Resolved, target: Target, method: string, message: Buffer, check: HttpCheck, bodyUse: (res: ResponseHead) => BodyUse, ctx: ProbeRunContext): Promise<Exchange> {
  if (ctx.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let tConnect: number | undefined, tTls: number | undefined, tFirstByte = 0;
    let tlsInfo: TlsFacts | undefined;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let res: ResponseHead | undefined;
    let use: BodyUse = 'count';
    const limit = check.max_body_bytes;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let unhook = () => {};
    const settle = () => {
      if (settled) return false;
      settled = true;
      clearTimeout(drainTimer);
      unhook();
      conn.close();
      return true;
    };
    const failWith = (err: unknown) => { if (settle()) reject(err); };
    const onAbort = () => failWith(abortError());
    const exchanged = (kept: boolean): Exchange => {
      const tEnd = performance.now();
      const connected = tConnect ?? t0;
      const secured = tTls ?? connected;
      // The head came with the first byte or after it, so tFirstByte is set.
      const first = tFirstByte;
      return {
        head: res!,
        body: kept ? Buffer.concat(chunks, bytes) : undefined,
        bytes,
        tls: tlsInfo,
        phases: {
          resolve: 0,
          connect: (connected - t0) / 1000,
          tls: (secured - connected) / 1000,
          processing: (first - secured) / 1000,
          transfer: (tEnd - first) / 1000,
        },
      };
    };
    // Closing the connection (settle) ends the read: every run has its own connection (no
    // keep-alive), so closing it mid-body costs nothing and spares reading a large body.
    const done = (kept: boolean) => { if (settle()) resolve(exchanged(kept)); };
    const tooLarge = (seen: string) => failWith(new BodyTooLarge(`body exceeds max_body_bytes ${formatSize(limit)} (${seen})`, exchanged(false)));
    const conn = request(endpointOf(url, address, target, check), message, method === 'HEAD', {
      connected: () => { tConnect = performance.now(); },
      secured: (socket) => {
        tTls = performance.now();
        tlsInfo = tlsFacts(socket, !check.tls.insecure_skip_verify);
      },
      firstByte: () => { tFirstByte = performance.now(); },
      head: (head) => {
        res = head;
        use = bodyUse(head);
        if (use === 'skip') return done(false);
        if (use === 'drain') drainTimer = setTimeout(() => done(false), ctx.remaining());
        const declared = Number(head.headers['content-length'] ?? NaN);
        if (use === 'keep' && declared > limit) tooLarge(`Content-Length ${declared}`);
      },
      body: (chunk) => {
        if (settled) return;
        if (use !== 'keep' && bytes + chunk.length >= limit) {
          // Past the limit nobody needs the rest.
          bytes = limit;
          return done(false);
        }
        bytes += chunk.length;
        if (use !== 'keep') return;
        if (bytes > limit) return tooLarge(`stopped after ${bytes} bytes`);
        // The chunk is a view of the shared read buffer.
        chunks.push(Buffer.from(chunk));
      },
      end: () => done(use === 'keep'),
      error: failWith,
    });
    unhook = ctx.onAbort(onAbort);
  });
}
