// TCP probe: connect (optionally TLS), optionally send a line and expect a reply matching a regex.
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckCommon, Threshold } from '../model/check.js';
import { hostPortTarget } from '../config/kinds.js';
import { formatSize } from '../model/units.js';
import { size } from '../config/units.js';
import { pattern, Pattern } from './support/pattern.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { DEFAULT_CERT_THRESHOLD, TLS_METRICS, tlsFacts, tlsSamples, type TlsFacts } from './support/tls.js';
import { ipProtocol, RESOLVE_METRICS, resolveSamples, resolveTarget, type Resolved } from './support/resolve.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import { withSamples, type ProbeResult, type Sample } from '../model/result.js';

const MAX_READ = 1024 * 1024;

const schema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  ip_protocol: ipProtocol,
  tls: z.union([z.boolean(), z.strictObject({
    insecure_skip_verify: z.boolean().default(false),
    server_name: z.string().optional(),
  })]).default(false),
  /** Sent after connecting (escape sequences such as \r\n are written in YAML double quotes). */
  send: z.string().optional(),
  /** The reply must match this before the timeout. */
  expect: pattern.optional(),
  /**
   * The reply is matched again as each piece arrives, so a server dripping bytes costs a match
   * over everything received per piece: the cap keeps each match to a few milliseconds.
   */
  max_read_bytes: size.default(64 * 1024).refine((n) => n <= MAX_READ, `at most ${formatSize(MAX_READ)}`),
});

export type TcpCheck = CheckCommon & z.output<typeof schema>;

export const tcpProbe: ProbeDefinition<TcpCheck> = {
  type: 'tcp',
  doc: {
    what: 'connect, optional TLS, optional send/expect',
    thresholds: '`response_time`, `cert_expires_in`',
  },
  schema,
  reasons: ['assertion'],
  metrics: [
    { name: 'vigil_tcp_duration_seconds', help: 'Duration of each phase of the TCP probe.', labels: ['phase'] },
    { name: 'probe_failed_due_to_regex', help: 'Whether the run failed because the reply did not match `expect`.' },
    ...RESOLVE_METRICS,
    ...TLS_METRICS,
  ],
  thresholdKeys: (c) => (c.tls ? ['cert_expires_in'] : []),
  defaultThresholds: (c): Record<string, Threshold> => (c.tls ? { cert_expires_in: DEFAULT_CERT_THRESHOLD } : {}),
  targetOf: (c) => (net.isIPv6(c.host) ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`),
  target: {
    keys: ['host', 'port'],
    example: '127.0.0.1:1',
    parse: (t) => {
      const hp = hostPortTarget(t);
      return typeof hp === 'string' ? hp : { fields: { host: hp.host, port: hp.port }, ...hp };
    },
  },
  create: (check) => {
    const expect = check.expect === undefined ? undefined : Pattern.compile(check.expect);
    return { run: (ctx) => probeTcp(check, expect, ctx) };
  },
};

async function probeTcp(check: TcpCheck, expect: Pattern | undefined, ctx: ProbeRunContext): Promise<ProbeResult> {
  const t = performance.now();
  let address: Resolved;
  try {
    address = await resolveTarget(check.host, check.ip_protocol, ctx.signal);
  } catch (err) {
    return {
      ok: false, reason: classifyError(err), message: `${check.host}:${check.port}: ${errorMessage(err)}`,
      samples: [...resolveSamples(undefined, (performance.now() - t) / 1000), { key: 'failed_due_to_regex', metric: 'probe_failed_due_to_regex', value: 0 }],
    };
  }
  return connectAndTalk(check, address, expect, ctx);
}

function connectAndTalk(check: TcpCheck, address: Resolved, expect: Pattern | undefined, ctx: ProbeRunContext): Promise<ProbeResult> {
  const tlsOpts = check.tls === true ? { insecure_skip_verify: false } : check.tls || undefined;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const samples: Sample[] = [];
    let facts: TlsFacts | undefined;
    let received = '';
    let done = false;
    const finish = (result: Omit<ProbeResult, 'samples'>) => {
      if (done) return;
      done = true;
      socket.destroy();
      ctx.signal.removeEventListener('abort', onAbort);
      for (const [phase, value] of Object.entries(phases)) samples.push({ key: `duration_${phase}`, metric: 'vigil_tcp_duration_seconds', value, labels: { phase } });
      samples.push(...resolveSamples(address));
      // As blackbox: 1 only when the reply was read to its end (or to the cap) without a match.
      samples.push({ key: 'failed_due_to_regex', metric: 'probe_failed_due_to_regex', value: result.reason === 'assertion' ? 1 : 0 });
      samples.push(...tlsSamples(facts));
      resolve(withSamples(result, samples));
    };
    const fail = (err: unknown) => finish({ ok: false, reason: classifyError(err), message: `${check.host}:${check.port}: ${errorMessage(err)}` });
    const onAbort = () => fail(abortError());
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    let tMark = t0;
    const ready = () => {
      if (check.send !== undefined) socket.write(check.send);
      if (!expect) return finish({ ok: true });
      tMark = performance.now();
    };
    const socket: net.Socket = tlsOpts
      ? tls.connect({
        host: address.address, port: check.port, rejectUnauthorized: !tlsOpts.insecure_skip_verify,
        servername: tlsOpts.server_name ?? (net.isIP(check.host) ? undefined : check.host),
      }, () => {
        const now = performance.now();
        phases.tls = (now - tMark) / 1000;
        facts = tlsFacts(socket as tls.TLSSocket, !tlsOpts.insecure_skip_verify);
        ready();
      })
      : net.connect({ host: address.address, port: check.port });
    socket.once('connect', () => {
      const now = performance.now();
      phases.connect = (now - t0) / 1000;
      tMark = now;
      if (!tlsOpts) ready();
    });
    socket.on('error', fail);
    if (expect) {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        if (done) return;
        // Never look at more than max_read_bytes: each match is linear in what was received.
        const full = received.length + chunk.length >= check.max_read_bytes;
        received = (received + chunk).slice(0, check.max_read_bytes);
        if (expect.test(received)) {
          phases.expect = (performance.now() - tMark) / 1000;
          finish({ ok: true });
        } else if (full) {
          finish({ ok: false, reason: 'assertion', message: `no match for ${expect} in the first ${check.max_read_bytes} bytes` });
        }
      });
      socket.once('end', () => finish({
        ok: false, reason: 'assertion',
        message: `connection closed before a reply matched ${expect} (got ${JSON.stringify(received.slice(0, 80))})`,
      }));
    }
  });
}
