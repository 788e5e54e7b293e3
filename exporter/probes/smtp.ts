// SMTP: connect (plain, implicit TLS as on port 465, or STARTTLS), read the 220 greeting, EHLO,
// optionally match the greeting against a regex, QUIT. A fresh connection per run; no mail is
// ever sent. blackbox_exporter does the same with a tcp module's query_response.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { z } from 'zod';
import type { CheckCommon, Threshold } from '../model/check.js';
import { hostPortTarget } from '../config/kinds.js';
import { withSamples, type ProbeResult, type Sample } from '../model/result.js';
import { defaultHeadline } from './support/headline.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { pattern, Pattern } from './support/pattern.js';
import { RESOLVE_METRICS, recordingLookup } from './support/resolve.js';
import { DEFAULT_CERT_THRESHOLD, earliestCertExpiry, TLS_METRICS, tlsSamples } from './support/tls.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';

/** A reply (all its lines) longer than this is refused: a greeting or EHLO answer is a few hundred bytes. */
const MAX_REPLY_BYTES = 64 * 1024;
/** How long the answer to QUIT is waited for. */
const QUIT_WAIT_MS = 1_000;

const schema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(25),
  /** none: plain SMTP; starttls: upgrade after EHLO (port 587/25); implicit: TLS from the first byte (port 465). */
  tls: z.enum(['none', 'starttls', 'implicit']).default('none'),
  tls_config: z.strictObject({
    insecure_skip_verify: z.boolean().default(false),
    /** Name the certificate must carry; default: host (unless it is an IP address). */
    server_name: z.string().optional(),
  }).prefault({}),
  /** The name sent with EHLO. */
  ehlo: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'expected one word of printable ASCII (a host name or [address literal])').default('vigil.localhost'),
  /** The greeting, every line with its code ("220 mx.example.com ESMTP Postfix"), must match this. */
  expect_banner: pattern.optional(),
});

export type SmtpCheck = CheckCommon & z.output<typeof schema>;

export const smtpProbe: ProbeDefinition<SmtpCheck> = {
  type: 'smtp',
  doc: {
    what: 'SMTP server: connect (plain, STARTTLS or implicit TLS), 220 greeting (optional regex), EHLO, QUIT',
    thresholds: '`cert_expires_in` (with TLS: 14 d / 3 d, below)',
  },
  schema,
  reasons: ['assertion', 'protocol'],
  metrics: [
    { name: 'vigil_smtp_duration_seconds', help: 'Duration of each phase of the SMTP probe.', labels: ['phase'] },
    { name: 'vigil_smtp_banner_code', help: 'Reply code of the server\'s greeting (220 when it accepts mail).' },
    ...TLS_METRICS,
    ...RESOLVE_METRICS,
  ],
  thresholdKeys: (c) => (c.tls === 'none' ? [] : ['cert_expires_in']),
  defaultThresholds: (c): Record<string, Threshold> => (c.tls === 'none' ? {} : { cert_expires_in: DEFAULT_CERT_THRESHOLD }),
  headline: (samples) => {
    const code = samples.find((s) => s.key === 'banner_code');
    return code ? `SMTP ${code.value}` : defaultHeadline(samples);
  },
  targetOf: (c) => (net.isIPv6(c.host) ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`),
  target: {
    keys: ['host', 'port'],
    example: '127.0.0.1:25',
    parse: (t) => {
      const hp = hostPortTarget(t, 25);
      return typeof hp === 'string' ? hp : { fields: { host: hp.host, port: hp.port }, ...hp };
    },
  },
  create: (check) => {
    const banner = check.expect_banner === undefined ? undefined : Pattern.compile(check.expect_banner);
    return { run: (ctx) => probeSmtp(check, banner, ctx) };
  },
};

interface Reply {
  code: number;
  lines: string[];
}

/** A reply that breaks the protocol, or a connection that ended in the middle of one. */
class ProtocolError extends Error {}

/** A failed expectation about a well-formed reply. */
class Unexpected extends Error {}

/** Reads replies from one socket: `next()` resolves with each complete reply in turn. */
class ReplyReader {
  private buf = '';
  private failed?: Error;
  private wake?: () => void;
  private readonly onData = (chunk: Buffer) => {
    this.buf += chunk.toString('latin1');
    if (this.buf.length > MAX_REPLY_BYTES) this.fail(new ProtocolError(`reply longer than ${MAX_REPLY_BYTES} bytes`));
    this.wake?.();
  };
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onEnd = () => this.fail(new ProtocolError('connection closed by the server'));

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.once('end', this.onEnd);
    socket.once('close', this.onEnd);
  }

  fail(err: Error): void {
    this.failed ??= err;
    this.wake?.();
  }

  async next(): Promise<Reply> {
    for (;;) {
      const reply = this.take();
      if (reply) return reply;
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  /** Stop reading (STARTTLS hands the socket to TLS). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
  }

  /** The first complete reply in the buffer, removed from it. */
  private take(): Reply | undefined {
    const lines: string[] = [];
    let at = 0;
    for (;;) {
      const eol = this.buf.indexOf('\n', at);
      if (eol < 0) return undefined;
      const line = this.buf.slice(at, eol).replace(/\r$/, '');
      at = eol + 1;
      const m = /^(\d{3})([ -]|$)/.exec(line);
      if (!m || (lines.length && !lines[0].startsWith(m[1]))) {
        throw new ProtocolError(`malformed reply line ${JSON.stringify(line.slice(0, 80))}`);
      }
      lines.push(line);
      if (m[2] !== '-') {
        this.buf = this.buf.slice(at);
        return { code: Number(m[1]), lines };
      }
    }
  }
}

const shown = (r: Reply) => JSON.stringify(r.lines.join(' / ').slice(0, 120));

async function probeSmtp(check: SmtpCheck, banner: Pattern | undefined, ctx: ProbeRunContext): Promise<ProbeResult> {
  const where = `${check.host}:${check.port}`;
  const phases: Record<string, number> = {};
  const samples: Sample[] = [];
  let certExpiry: number | undefined;
  let phase = 'connect';
  let t = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - t) / 1000;
    t = now;
  };
  const tlsOptions = {
    rejectUnauthorized: !check.tls_config.insecure_skip_verify,
    servername: check.tls_config.server_name ?? (net.isIP(check.host) ? undefined : check.host),
  };

  const resolution = recordingLookup(check.host);
  let socket: net.Socket = check.tls === 'implicit'
    ? tls.connect({ host: check.host, port: check.port, lookup: resolution.lookup, ...tlsOptions })
    : net.connect({ host: check.host, port: check.port, lookup: resolution.lookup });
  let reader = new ReplyReader(socket);
  // Just before the runner's own timeout, so the message says which phase was slow.
  const onAbort = () => socket.destroy(abortError());
  const timer = setTimeout(onAbort, ctx.remaining());
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const send = (line: string) => socket.write(`${line}\r\n`);
  const expect = async (code: number, what: string): Promise<Reply> => {
    const r = await reader.next();
    if (r.code !== code) throw new Unexpected(`${what} answered ${shown(r)}, expected ${code}`);
    return r;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(check.tls === 'implicit' ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => reject(new ProtocolError('connection closed while connecting')));
    });
    mark('connect');
    if (check.tls === 'implicit') certExpiry = earliestCertExpiry(socket as tls.TLSSocket);

    phase = 'banner';
    const greeting = await reader.next();
    mark('banner');
    samples.push({ key: 'banner_code', metric: 'vigil_smtp_banner_code', value: greeting.code });
    if (greeting.code !== 220) throw new Unexpected(`greeting ${shown(greeting)}, expected 220`);
    if (banner && !banner.test(greeting.lines.join('\n'))) throw new Unexpected(`greeting ${shown(greeting)} does not match ${banner}`);

    phase = 'EHLO';
    send(`EHLO ${check.ehlo}`);
    const hello = await expect(250, 'EHLO');
    mark('ehlo');

    if (check.tls === 'starttls') {
      phase = 'STARTTLS';
      if (!hello.lines.some((l) => /^250[ -]STARTTLS\b/i.test(l))) {
        return fail('tls', `${where}: the server does not offer STARTTLS (EHLO answered ${shown(hello)})`);
      }
      send('STARTTLS');
      await expect(220, 'STARTTLS');
      reader.detach();
      socket = tls.connect({ socket, ...tlsOptions });
      reader = new ReplyReader(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => resolve());
        socket.once('error', reject);
      });
      certExpiry = earliestCertExpiry(socket as tls.TLSSocket);
      mark('tls');
      phase = 'EHLO after STARTTLS';
      send(`EHLO ${check.ehlo}`);
      await expect(250, 'EHLO after STARTTLS');
      mark('ehlo');
    }

    // A polite goodbye. Its answer is not part of the verdict, and is waited for briefly only,
    // so a server that ignores QUIT does not stretch every run to its timeout.
    send('QUIT');
    await Promise.race([reader.next().catch(() => undefined), sleep(Math.min(QUIT_WAIT_MS, ctx.remaining()))]);
    return finish({ ok: true });
  } catch (err) {
    if (err instanceof Unexpected) return fail('assertion', `${where}: ${err.message}`);
    if (err instanceof ProtocolError) return fail('protocol', `${where}: ${phase}: ${err.message}`);
    const reason = classifyError(err);
    if (reason === 'timeout') return fail('timeout', `${where}: ${phase} timed out`);
    return fail(reason, `${where}: ${phase}: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    socket.destroy();
  }

  function finish(result: Omit<ProbeResult, 'samples'>): ProbeResult {
    for (const [name, value] of Object.entries(phases)) samples.push({ key: `duration_${name}`, metric: 'vigil_smtp_duration_seconds', value, labels: { phase: name } });
    samples.push(...tlsSamples(certExpiry), ...resolution.samples());
    return withSamples(result, samples);
  }
  function fail(reason: ProbeResult['reason'], message: string): ProbeResult {
    return finish({ ok: false, reason, message });
  }
}
