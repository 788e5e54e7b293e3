// --web.config.file (issue 12 item 13): exporter-toolkit's format — TLS, client certificates,
// basic_auth_users, headers — on every endpoint, reloaded when the files change, and scraped by
// a real Prometheus with basic_auth and tls_config.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { silentLogger } from '../../exporter/log.js';
import { createWebServer, WebConfigWatcher } from '../../exporter/server/listen.js';
import { loadWebConfig, parseWebConfig } from '../../exporter/server/web-config.js';
import { testCa, type TestCa, type TestCert } from '../support/certs.js';
import { CLI, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startPrometheus } from '../support/prometheus.js';

const ADMIN = 'admin-token-0123456789';
const CONFIG = `
server:
  admin_token: ${ADMIN}
defaults: { interval: 1h, timeout: 1s, retries: 0 }
checks:
  - { name: db, type: tcp, component: api, host: 127.0.0.1, port: 9 }
`;
const PASSWORD = 'correct horse battery staple';
const HASH = bcrypt.hashSync(PASSWORD, 10).replace(/^\$2b\$/, '$2y$'); // htpasswd writes $2y$

interface Reply { status: number; headers: IncomingHttpHeaders; body: string; peer?: string }

/** One HTTPS request on a fresh connection, trusting `ca`, optionally with a client certificate. */
function request(url: string, opts: { ca: string; method?: string; auth?: string; client?: TestCert } ): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: opts.method ?? 'GET', ca: opts.ca, agent: false, timeout: 5000, servername: 'localhost',
      headers: opts.auth ? { authorization: opts.auth } : {},
      ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, peer: String((res.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('web config validation: file:line:column key: message, never a stack', () => {
  const cases: Array<{ name: string; yaml: string; expected: RegExp }> = [
    { name: 'unknown top-level key', yaml: 'basic_auth_user:\n  ops: x\n', expected: /^web\.yml:1:1 basic_auth_user: unknown key/m },
    { name: 'unknown TLS key', yaml: 'tls_server_config:\n  cert_file: c.pem\n  key_fil: k.pem\n', expected: /^web\.yml:3:3 tls_server_config\.key_fil: unknown key/m },
    { name: 'client_auth_type', yaml: 'tls_server_config:\n  client_auth_type: Sometimes\n', expected: /^web\.yml:2:21 tls_server_config\.client_auth_type: expected one of NoClientCert, RequestClientCert/m },
    { name: 'header not in the allowed set', yaml: 'http_server_config:\n  headers:\n    X-Powered-By: vigil\n', expected: /^web\.yml:3:5 http_server_config\.headers\.X-Powered-By: unknown key/m },
    { name: 'X-Frame-Options value', yaml: 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n', expected: /^web\.yml:3:22 http_server_config\.headers\.X-Frame-Options: expected deny or sameorigin/m },
    { name: 'http2', yaml: 'http_server_config:\n  http2: true\n', expected: /^web\.yml:2:10 http_server_config\.http2: HTTP\/2 is not supported/m },
    { name: 'not a bcrypt hash', yaml: 'basic_auth_users:\n  ops: plain-text-password\n', expected: /^web\.yml:2:8 basic_auth_users\.ops: expected a bcrypt hash/m },
    { name: 'missing key', yaml: 'tls_server_config:\n  cert_file: /nonexistent/c.pem\n', expected: /tls_server_config: missing key_file/m },
    { name: 'unreadable cert', yaml: 'tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n', expected: /^web\.yml:2:14 tls_server_config\.cert_file: cannot read \/nonexistent\/c\.pem: ENOENT/m },
    { name: 'unknown cipher', yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n', expected: /tls_server_config\.cipher_suites\[0\]: unknown or unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/ },
    { name: 'versions', yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n', expected: /tls_server_config\.min_version: min_version TLS13 is above max_version TLS12/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let err: unknown;
      try {
        parseWebConfig(c.yaml, 'web.yml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(c.expected);
    });
  }

  it('a YAML syntax error names the position, not the text (which may be a secret)', () => {
    let message = '';
    try { parseWebConfig('basic_auth_users:\n  ops: "$2y$10$secretsecret\n  x: [', 'web.yml'); } catch (err) { message = (err as Error).message; }
    expect(message).toMatch(/^web\.yml:\d+:\d+: YAML syntax: /m);
    expect(message).not.toContain('secretsecret');
  });

  it('refuses a FIFO, a device and an alias bomb as the web config, at once and by name', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-webfifo-'));
    try {
      const fifo = path.join(dir, 'web.yml');
      execFileSync('mkfifo', [fifo]);
      expect(() => loadWebConfig(fifo)).toThrow(/web config refused: .*web\.yml is a FIFO \(named pipe\), expected a regular file/);
      expect(() => loadWebConfig('/dev/zero')).toThrow(/web config refused: \/dev\/zero is a character device/);
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [*${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}]`)].join('\n');
      expect(() => parseWebConfig(bomb, 'web.yml')).toThrow(/too many alias expansions/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--check-config validates the web config too', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-webcheck-'));
    try {
      writeFileSync(path.join(dir, 'vigil.yml'), CONFIG);
      writeFileSync(path.join(dir, 'web.yml'), `basic_auth_users:\n  ops: ${HASH}\n`);
      const ok = execFileSync(process.execPath, [CLI, `--config.file=${path.join(dir, 'vigil.yml')}`, `--web.config.file=${path.join(dir, 'web.yml')}`, '--check-config'], { encoding: 'utf8' });
      expect(ok).toContain(`${path.join(dir, 'web.yml')}: OK, 1 basic auth users`);
      writeFileSync(path.join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: c.pem\n  keyfile: k.pem\n');
      let stderr = '';
      try {
        execFileSync(process.execPath, [CLI, `--config.file=${path.join(dir, 'vigil.yml')}`, `--web.config.file=${path.join(dir, 'web.yml')}`, '--check-config'], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        stderr = (e as { stderr: string }).stderr;
        expect((e as { status: number }).status).toBe(1);
      }
      expect(stderr).toContain(`${path.join(dir, 'web.yml')}:3:3 tls_server_config.keyfile: unknown key`);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS and basic auth on every endpoint (compiled exporter)', () => {
  let ca: TestCa;
  let dir: string;
  let ex: RunningExporter;
  let url: string;

  beforeAll(async () => {
    ca = testCa();
    const server = ca.issue('vigil-1');
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    writeFileSync(path.join(dir, 'cert.pem'), server.cert);
    writeFileSync(path.join(dir, 'key.pem'), server.key);
    writeFileSync(path.join(dir, 'web.yml'), [
      'tls_server_config:',
      '  cert_file: cert.pem', // relative to the web config, as in exporter-toolkit
      '  key_file: key.pem',
      'http_server_config:',
      '  headers:',
      '    Strict-Transport-Security: max-age=31536000',
      'basic_auth_users:',
      `  prometheus: ${HASH}`,
      '',
    ].join('\n'));
    ex = await startExporter({ config: CONFIG, args: [`--web.config.file=${path.join(dir, 'web.yml')}`] });
    url = `https://localhost:${ex.port}`;
  });
  afterAll(async () => {
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS only', async () => {
    await expect(fetch(`http://127.0.0.1:${ex.port}/metrics`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    expect(ex.logs()).toMatch(/"msg":"listening".*"tls":true/);
  });

  it('every endpoint needs the basic-auth login; with it each answers, with the configured header', async () => {
    for (const p of ['/metrics', '/health', '/-/healthy', '/-/ready', '/', '/api/v1/status', '/api/v1/checks', '/no/such/path']) {
      const anon = await request(url + p, { ca: ca.cert });
      expect(anon.status, p).toBe(401);
      expect(anon.headers['www-authenticate'], p).toMatch(/^Basic realm="Vigil"/);
      // Few wrong logins: past ten from one address the back-off answers 429 (route-auth.test.ts).
      if (p === '/metrics' || p === '/') {
        expect((await request(url + p, { ca: ca.cert, auth: basic('prometheus', 'wrong') })).status, p).toBe(401);
        expect((await request(url + p, { ca: ca.cert, auth: basic('nobody', PASSWORD) })).status, p).toBe(401);
      }
      const ok = await request(url + p, { ca: ca.cert, auth: basic('prometheus', PASSWORD) });
      expect([200, 503, 404], p).toContain(ok.status);
      if (p === '/no/such/path') expect(ok.status).toBe(404);
      else expect(ok.status, p).not.toBe(404);
      expect(ok.headers['strict-transport-security'], p).toBe('max-age=31536000');
    }
    expect(ex.logs()).not.toContain(PASSWORD);
  });

  it('endpoints with a token of their own take the token instead of the login, never the login instead of the token', async () => {
    expect((await request(`${url}/-/reload`, { ca: ca.cert, method: 'POST', auth: `Bearer ${ADMIN}` })).status).toBe(200);
    expect((await request(`${url}/-/reload`, { ca: ca.cert, method: 'POST', auth: basic('prometheus', PASSWORD) })).status).toBe(401);
    expect((await request(`${url}/-/reload`, { ca: ca.cert, method: 'POST' })).status).toBe(401);
  });

  it('picks up a renewed certificate without a restart', async () => {
    expect((await request(`${url}/-/healthy`, { ca: ca.cert, auth: basic('prometheus', PASSWORD) })).peer).toBe('vigil-1');
    const renewed = ca.issue('vigil-2');
    writeFileSync(path.join(dir, 'key.pem'), renewed.key);
    writeFileSync(path.join(dir, 'cert.pem'), renewed.cert);
    await waitFor(async () => (await request(`${url}/-/healthy`, { ca: ca.cert, auth: basic('prometheus', PASSWORD) })).peer === 'vigil-2', 15_000, 300);
    expect(ex.logs()).toContain('"msg":"web config reloaded"');
  });

  it('a broken web config on disk keeps the running one', async () => {
    writeFileSync(path.join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  bogus: 1\n');
    await waitFor(async () => {
      await request(`${url}/-/healthy`, { ca: ca.cert, auth: basic('prometheus', PASSWORD) });
      return ex.logs().includes('web config reload failed');
    }, 15_000, 300);
    expect(ex.logs()).toMatch(/web\.yml:4:3 tls_server_config\.bogus: unknown key/);
    expect((await request(`${url}/-/healthy`, { ca: ca.cert, auth: basic('prometheus', PASSWORD) })).status).toBe(200);
    expect((await request(`${url}/-/healthy`, { ca: ca.cert })).status).toBe(401);
  });
});

describe('client certificates: RequireAndVerifyClientCert (compiled exporter)', () => {
  let ca: TestCa;
  let dir: string;
  let ex: RunningExporter;

  beforeAll(async () => {
    ca = testCa();
    const server = ca.issue('vigil');
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-mtls-'));
    writeFileSync(path.join(dir, 'cert.pem'), server.cert);
    writeFileSync(path.join(dir, 'key.pem'), server.key);
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    writeFileSync(path.join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n  min_version: TLS12\n');
    ex = await startExporter({ config: CONFIG, args: [`--web.config.file=${path.join(dir, 'web.yml')}`] });
  });
  afterAll(async () => {
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client without a certificate or with one from another CA, serves one from the client CA', async () => {
    const url = `https://localhost:${ex.port}/metrics`;
    await expect(request(url, { ca: ca.cert })).rejects.toThrow();
    const stranger = testCa('Other CA').issue('intruder', 'client');
    await expect(request(url, { ca: ca.cert, client: stranger })).rejects.toThrow();
    const res = await request(url, { ca: ca.cert, client: ca.issue('prometheus', 'client') });
    expect(res.status).toBe(200);
    expect(res.body).toContain('vigil_build_info');
  });
});

describe('a real Prometheus scrapes it with basic_auth and tls_config', () => {
  it('up == 1', async () => {
    const ca = testCa();
    const server = ca.issue('vigil');
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-promweb-'));
    let ex: RunningExporter | undefined;
    let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    try {
      writeFileSync(path.join(dir, 'cert.pem'), server.cert);
      writeFileSync(path.join(dir, 'key.pem'), server.key);
      writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
      writeFileSync(path.join(dir, 'web.yml'), `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: ${HASH}\n`);
      writeFileSync(path.join(dir, 'password'), PASSWORD);
      ex = await startExporter({ config: CONFIG, args: [`--web.config.file=${path.join(dir, 'web.yml')}`] });
      writeFileSync(path.join(dir, 'prometheus.yml'), [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: vigil',
        '    scheme: https',
        `    basic_auth: { username: prometheus, password_file: ${path.join(dir, 'password')} }`,
        `    tls_config: { ca_file: ${path.join(dir, 'ca.pem')}, server_name: localhost }`,
        `    static_configs: [ { targets: ["127.0.0.1:${ex.port}"] } ]`,
        '',
      ].join('\n'));
      prom = await startPrometheus({ configFile: path.join(dir, 'prometheus.yml') });
      const up = await waitFor(async () => {
        const r = await prom!.query('up{job="vigil"}');
        return r.length && r[0].value[1] === '1' ? r : undefined;
      }, 20_000, 250);
      expect(up[0].value[1]).toBe('1');
      const build = await waitFor(async () => {
        const r = await prom!.query('vigil_build_info');
        return r.length ? r : undefined;
      }, 20_000, 250);
      expect(build[0].metric.job).toBe('vigil');
    } finally {
      await prom?.stop();
      await ex?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('web config reload and rate_limit (in-process)', () => {
  let dir: string;
  const servers: http.Server[] = [];
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'vigil-webreload-')); });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const ok: http.RequestListener = (_req, res) => res.end('ok\n');
  async function serve(web: WebConfigWatcher): Promise<number> {
    const { server } = createWebServer({ handler: ok, log: silentLogger, web });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  it('turning on RequireAndVerifyClientCert applies to the next connection', async () => {
    const ca = testCa();
    const server = ca.issue('vigil');
    writeFileSync(path.join(dir, 'cert.pem'), server.cert);
    writeFileSync(path.join(dir, 'key.pem'), server.key);
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    const file = path.join(dir, 'web.yml');
    writeFileSync(file, 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n');
    const port = await serve(new WebConfigWatcher(file, silentLogger));
    const url = `https://localhost:${port}/`;
    expect((await request(url, { ca: ca.cert })).status).toBe(200);
    writeFileSync(file, 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n');
    await waitFor(async () => {
      try {
        await request(url, { ca: ca.cert });
        return false;
      } catch {
        return true;
      }
    }, 15_000, 300);
    expect((await request(url, { ca: ca.cert, client: ca.issue('prometheus', 'client') })).status).toBe(200);
  });

  it('rate_limit: a token bucket for the whole server, 429 past the burst', async () => {
    const file = path.join(dir, 'rate.yml');
    // A token every 3 s: the six requests must fit in one interval, and a loaded CI box can take
    // longer than 1 s over them.
    writeFileSync(file, 'rate_limit:\n  interval: 3s\n  burst: 3\n');
    const port = await serve(new WebConfigWatcher(file, silentLogger));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`http://127.0.0.1:${port}/`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    await new Promise((r) => setTimeout(r, 3100));
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });
});
