// WebSocket: connect (TCP, TLS), complete the upgrade handshake, optionally send a message and
// wait for one matching a regex; per-phase durations in vigil_websocket_duration_seconds{phase}.
// A fresh connection per run, closed at the end.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { lazy, warm } from './support/lazy.js';
import { z } from 'zod';
import { publicUrl } from '../config/secrets.js';
import type { CheckCommon, Threshold } from '../model/check.js';
import { redact } from '../config/secrets.js';
import { formatSize } from '../model/units.js';
import { size } from '../config/units.js';
import { classifyError, errorMessage } from './support/errors.js';
import { pattern, Pattern } from './support/pattern.js';
import { RESOLVE_METRICS, recordingLookup } from './support/resolve.js';
import { DEFAULT_CERT_THRESHOLD, earliestCertExpiry, TLS_METRICS, tlsSamples } from './support/tls.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import { withSamples, type ProbeResult, type Sample } from '../model/result.js';
import type { TLSSocket } from 'node:tls';

const MAX_MESSAGE = 16 * 1024 * 1024;

const schema = z.object({
  url: z.url({ protocol: /^wss?$/, error: 'expected a ws:// or wss:// URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  subprotocols: z.array(z.string().min(1)).default([]),
  /** Sent once the connection is open (text frame). */
  send: z.string().optional(),
  /** A received text message must match this before the timeout. */
  expect: pattern.optional(),
  /** Each text message is matched whole on the event loop: the cap bounds one match (RE2, ~25 ms/MiB). */
  max_message_bytes: size.default(1024 * 1024).refine((n) => n <= MAX_MESSAGE, `at most ${formatSize(MAX_MESSAGE)}`),
  tls: z.strictObject({
    insecure_skip_verify: z.boolean().default(false),
    server_name: z.string().optional(),
  }).default({ insecure_skip_verify: false }),
});

export type WebsocketCheck = CheckCommon & z.output<typeof schema>;

export const websocketProbe: ProbeDefinition<WebsocketCheck> = {
  type: 'websocket',
  doc: {
    what: 'connect, handshake, optional send/expect',
    thresholds: '`cert_expires_in` (wss: 14 d / 3 d, below)',
  },
  schema,
  reasons: ['status', 'protocol', 'assertion'],
  metrics: [
    { name: 'vigil_websocket_duration_seconds', help: 'Duration of each phase of the WebSocket probe.', labels: ['phase'] },
    ...TLS_METRICS,
    ...RESOLVE_METRICS,
  ],
  thresholdKeys: () => ['cert_expires_in'],
  defaultThresholds: (c): Record<string, Threshold> => (c.url.startsWith('wss:') ? { cert_expires_in: DEFAULT_CERT_THRESHOLD } : {}),
  targetOf: (c) => publicUrl(c.url),
  target: {
    keys: ['url'],
    example: 'ws://127.0.0.1/',
    parse: (t) => {
      let url: URL;
      try {
        url = new URL(t);
      } catch {
        return 'expected a ws:// or wss:// URL';
      }
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return 'expected a ws:// or wss:// URL';
      return { fields: { url: t }, host: url.hostname, port: Number(url.port || (url.protocol === 'wss:' ? 443 : 80)) };
    },
  },
  create: (check) => {
    warm(loadWs);
    const expect = check.expect === undefined ? undefined : Pattern.compile(check.expect);
    return { run: (ctx) => probeWebsocket(check, expect, ctx) };
  },
};

const loadWs = lazy(async () => (await import('ws')).default);

async function probeWebsocket(check: WebsocketCheck, expect: Pattern | undefined, ctx: ProbeRunContext): Promise<ProbeResult> {
  const WebSocket = await loadWs();
  return new Promise((resolve) => {
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    let tMark = t0;
    let certExpiry: number | undefined;
    let done = false;
    const u = new URL(check.url);
    const where = `${u.protocol}//${u.host}${u.pathname}`;
    const resolution = recordingLookup(u.hostname);
    const ws = new WebSocket(check.url, check.subprotocols, {
      lookup: resolution.lookup,
      headers: { 'user-agent': 'Vigil/1 (+health probe)', ...check.headers },
      handshakeTimeout: ctx.remaining(),
      maxPayload: check.max_message_bytes,
      rejectUnauthorized: !check.tls.insecure_skip_verify,
      perMessageDeflate: false,
      followRedirects: false,
      finishRequest: (req) => {
        req.once('socket', (socket: Socket) => {
          socket.once('connect', () => {
            const now = performance.now();
            phases.connect = (now - t0) / 1000;
            tMark = now;
          });
          socket.once('secureConnect', () => {
            certExpiry = earliestCertExpiry(socket as TLSSocket);
          });
        });
        req.end();
      },
      // Passed through to tls.connect (ws forwards unknown options).
      ...({ servername: check.tls.server_name } as object),
    });
    const finish = (result: Omit<ProbeResult, 'samples'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000); else ws.terminate();
      // A server that never answers the close frame must not keep the socket.
      setTimeout(() => ws.terminate(), 1_000).unref();
      const samples: Sample[] = Object.entries(phases).map(([phase, value]) => ({ key: `duration_${phase}`, metric: 'vigil_websocket_duration_seconds', value, labels: { phase } }));
      samples.push(...tlsSamples(certExpiry), ...resolution.samples());
      resolve(withSamples({ ok: result.ok, reason: result.reason, message: result.message && redact(result.message) }, samples));
    };
    const onAbort = () => finish({ ok: false, reason: 'timeout', message: `${where}: ${phaseNow()} timed out` });
    const phaseNow = () => (phases.handshake === undefined ? (phases.connect === undefined ? 'connect' : 'handshake') : `waiting for a message matching ${expect}`);
    // Just before the runner's own timeout, so the message says which phase was slow.
    const timer = setTimeout(onAbort, ctx.remaining());
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      finish({ ok: false, reason: status === 401 || status === 403 ? 'auth' : 'status', message: `${where}: handshake answered with status ${status}, expected 101 Switching Protocols` });
    });
    ws.once('open', () => {
      const now = performance.now();
      phases.handshake = (now - tMark) / 1000;
      tMark = now;
      if (check.subprotocols.length && !check.subprotocols.includes(ws.protocol)) {
        return finish({ ok: false, reason: 'protocol', message: `${where}: server chose subprotocol ${JSON.stringify(ws.protocol)}, expected one of ${check.subprotocols.join(', ')}` });
      }
      if (check.send !== undefined) ws.send(check.send);
      if (!expect) finish({ ok: true });
    });
    if (expect) {
      const seen: string[] = [];
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? `<binary ${Buffer.isBuffer(data) ? data.length : 0} bytes>` : String(data);
        if (!isBinary && expect.test(text)) {
          phases.expect = (performance.now() - tMark) / 1000;
          return finish({ ok: true });
        }
        if (seen.length < 3) seen.push(text.slice(0, 80));
      });
      ws.once('close', (code) => finish({
        ok: false, reason: 'assertion',
        message: `${where}: closed (code ${code}) before a message matched ${expect}${seen.length ? ` (got ${seen.map((s) => JSON.stringify(s)).join(', ')})` : ''}`,
      }));
    } else {
      ws.once('close', (code) => finish({ ok: false, reason: 'protocol', message: `${where}: closed (code ${code}) during the handshake` }));
    }
    ws.on('error', (err) => {
      const e = err as NodeJS.ErrnoException;
      const reason = /Opening handshake has timed out/.test(e.message) ? 'timeout' : classifyError(err);
      finish({ ok: false, reason: reason === 'error' && phases.handshake === undefined ? 'protocol' : reason, message: `${where}: ${phaseNow()}: ${errorMessage(err)}` });
    });
  });
}
