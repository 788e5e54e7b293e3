// smtp probe against a real SMTP server on loopback (smtp-server: plain, STARTTLS, implicit TLS)
// and against tiny scripted servers for what a real one would not do (a refusing greeting,
// silence, garbage, a multi-line greeting).
import net, { type AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { selfSignedCert, type TestCert } from '../support/certs.js';
import { makeCheck, runOnce, sample } from '../support/checks.js';

const servers: Array<{ close(): Promise<void> }> = [];
let cert: TestCert;

async function smtpServer(opts: SMTPServerOptions): Promise<number> {
  const server = new SMTPServer({ name: 'mx.test', banner: 'Vigil test', logger: false, authOptional: true, ...opts });
  server.on('error', () => { /* a probe hanging up mid-session is expected */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
  return (server.server.address() as AddressInfo).port;
}

/** A scripted server: `onLine` answers each line the probe sends (after `greeting`, if any). */
async function scripted(greeting: string | undefined, onLine: (line: string, socket: net.Socket) => void = () => {}): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (greeting !== undefined) socket.write(greeting);
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  });
  return (server.address() as AddressInfo).port;
}

/** Answers EHLO and QUIT like a minimal server. */
const polite = (line: string, socket: net.Socket) => {
  if (/^EHLO /.test(line)) socket.write('250-mx.test\r\n250 SIZE 1000\r\n');
  else if (line === 'QUIT') socket.end('221 bye\r\n');
  else socket.write('502 not implemented\r\n');
};

let plain: number, starttls: number, noStarttls: number, implicit: number;

beforeAll(async () => {
  cert = selfSignedCert();
  plain = await smtpServer({ disabledCommands: ['STARTTLS'] });
  starttls = await smtpServer({ key: cert.key, cert: cert.cert });
  noStarttls = await smtpServer({ hideSTARTTLS: true, key: cert.key, cert: cert.cert });
  implicit = await smtpServer({ secure: true, key: cert.key, cert: cert.cert });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const smtp = (fields: Record<string, unknown>) => runOnce({ type: 'smtp', host: '127.0.0.1', timeout: '2s', ...fields });

describe('smtp probe', () => {
  it('reads the greeting, says EHLO and QUIT on a plain connection', async () => {
    const r = await smtp({ port: plain, expect_banner: '^220 mx\\.test ESMTP Vigil test' });
    expect(r.message).toBeUndefined();
    expect(r).toMatchObject({ ok: true, status: 'healthy' });
    expect(sample(r, 'banner_code')).toBe(220);
    for (const phase of ['connect', 'banner', 'ehlo']) expect(sample(r, `duration_${phase}`, { phase })).toBeGreaterThanOrEqual(0);
    expect(sample(r, 'cert_expires_in')).toBeUndefined();
  });

  it('resolves a host name first, with blackbox\'s resolution series (an address: lookup time 0)', async () => {
    const byName = await smtp({ host: 'localhost', port: plain });
    expect(byName.ok, byName.message).toBe(true);
    expect(sample(byName, 'dns_lookup_time')).toBeGreaterThan(0);
    expect(sample(byName, 'ip_protocol')).toBe(4);
    expect(sample(byName, 'ip_addr_hash')).toBe(3668918509);
    const byAddress = await smtp({ port: plain });
    expect([sample(byAddress, 'dns_lookup_time'), sample(byAddress, 'ip_protocol')]).toEqual([0, 4]);
  });

  it('upgrades with STARTTLS and reports the certificate', async () => {
    const r = await smtp({ port: starttls, tls: 'starttls', tls_config: { insecure_skip_verify: true } });
    expect(r.message).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(sample(r, 'duration_tls', { phase: 'tls' })).toBeGreaterThan(0);
    expect(sample(r, 'cert_expires_in')).toBeGreaterThan(20 * 86400);
  });

  it('speaks TLS from the first byte in implicit mode', async () => {
    const r = await smtp({ port: implicit, tls: 'implicit', tls_config: { insecure_skip_verify: true } });
    expect(r.message).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(sample(r, 'banner_code')).toBe(220);
    expect(sample(r, 'cert_expiry_timestamp')).toBeGreaterThan(Date.now() / 1000);
  });

  const failures: Array<{ name: string; fields: () => Record<string, unknown> | Promise<Record<string, unknown>>; reason: string; message: RegExp; banner?: number }> = [
    { name: 'a greeting that does not match expect_banner', fields: () => ({ port: plain, expect_banner: 'Postfix' }), reason: 'assertion', message: /greeting "220 mx\.test ESMTP Vigil test" does not match \/Postfix\//, banner: 220 },
    { name: 'an unverifiable certificate after STARTTLS', fields: () => ({ port: starttls, tls: 'starttls' }), reason: 'tls', message: /STARTTLS: .*self[- ]signed/i },
    { name: 'an unverifiable certificate in implicit mode', fields: () => ({ port: implicit, tls: 'implicit' }), reason: 'tls', message: /connect: .*self[- ]signed/i },
    { name: 'STARTTLS wanted but not offered', fields: () => ({ port: noStarttls, tls: 'starttls' }), reason: 'tls', message: /does not offer STARTTLS/ },
    { name: 'a refusing greeting', fields: async () => ({ port: await scripted('554 no service here\r\n', polite) }), reason: 'assertion', message: /greeting "554 no service here", expected 220/, banner: 554 },
    { name: 'EHLO refused', fields: async () => ({ port: await scripted('220 mx ESMTP\r\n', (l, s) => s.write(l === 'QUIT' ? '221 bye\r\n' : '500 what\r\n')) }), reason: 'assertion', message: /EHLO answered "500 what", expected 250/, banner: 220 },
    { name: 'a server that never greets', fields: async () => ({ port: await scripted(undefined), timeout: '600ms', interval: '1s' }), reason: 'timeout', message: /banner timed out/ },
    { name: 'garbage instead of a reply', fields: async () => ({ port: await scripted('hello there\r\n') }), reason: 'protocol', message: /banner: malformed reply line "hello there"/ },
    { name: 'a server that hangs up after its greeting', fields: async () => ({ port: await scripted('220 mx ESMTP\r\n', (_l, s) => s.end()) }), reason: 'protocol', message: /EHLO: connection closed by the server/, banner: 220 },
  ];
  for (const c of failures) {
    it(`fails on ${c.name}`, async () => {
      const fields = await c.fields();
      const r = await smtp(fields);
      expect(r).toMatchObject({ ok: false, reason: c.reason, status: 'critical' });
      expect(r.message).toMatch(c.message);
      if (c.banner !== undefined) expect(sample(r, 'banner_code')).toBe(c.banner);
    });
  }

  it('fails with connect when nothing listens', async () => {
    const port = await scripted('');
    await servers.pop()!.close();
    const r = await smtp({ port });
    expect(r).toMatchObject({ ok: false, reason: 'connect' });
    expect(r.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: connect: .*ECONNREFUSED`));
  });

  it('accepts a multi-line greeting and matches the regex over all of its lines', async () => {
    const port = await scripted('220-mx.test first line\r\n220 second line\r\n', polite);
    const r = await smtp({ port, expect_banner: 'first line\\n220 second' });
    expect(r.message).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  it('does not wait out its timeout for a server that ignores QUIT', async () => {
    const port = await scripted('220 mx ESMTP\r\n', (l, s) => { if (l.startsWith('EHLO')) s.write('250 mx\r\n'); });
    const t0 = Date.now();
    const r = await smtp({ port, timeout: '5s' });
    expect(r.ok).toBe(true);
    expect(Date.now() - t0).toBeLessThan(4_000);
  });

  it('refuses an EHLO name that could inject a command, naming the key', () => {
    expect(() => makeCheck({ type: 'smtp', host: 'h', ehlo: 'x\r\nRCPT TO:<a@b>' })).toThrow(ConfigError);
    expect(() => makeCheck({ type: 'smtp', host: 'h', ehlo: 'x\r\nRCPT TO:<a@b>' })).toThrow(/checks\[0\]\.ehlo: expected one word of printable ASCII/);
  });

  it('gets the certificate thresholds only when it speaks TLS', () => {
    expect(makeCheck({ type: 'smtp', host: 'h' }).thresholds).toEqual({});
    expect(makeCheck({ type: 'smtp', host: 'h', tls: 'starttls' }).thresholds).toHaveProperty('cert_expires_in');
  });
});
