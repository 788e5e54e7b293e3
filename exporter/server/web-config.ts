// --web.config.file: the web configuration of Prometheus and every official exporter
// (prometheus/exporter-toolkit, docs/web-configuration.md), so one file serves them all:
//
//   tls_server_config:   cert_file/key_file (or inline cert/key), client_ca_file (or client_ca),
//                        client_auth_type, client_allowed_sans, min_version, max_version,
//                        cipher_suites, prefer_server_cipher_suites, curve_preferences
//   http_server_config:  headers (the five exporter-toolkit allows), http2 (false only)
//   basic_auth_users:    user: bcrypt hash
//   rate_limit:          interval, burst (one token bucket for the whole server)
//
// Relative file names are relative to the web config file, as in exporter-toolkit. Every
// problem is reported at once as `file:line:column key: message`; the file is re-read when it
// or a certificate file changes (listen.ts), and a bad new version keeps the running one.
import path from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { z } from 'zod';
import { ConfigError, type ConfigPath, type ConfigProblem } from '../config/errors.js';
import { readRegularFile, UnreadableFileError } from '../config/files.js';
import { locate, reportZod } from '../config/load.js';
import { parseYaml } from '../config/yaml-source.js';
import { duration } from '../config/units.js';
import { BcryptUsers } from './basic-auth.js';

/** Web config and certificate files are small; a bigger one is a mistake (or /dev/zero). */
export const MAX_WEB_FILE_BYTES = 1024 * 1024;

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];
const VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersion = keyof typeof VERSIONS;

/** Go's names (crypto/tls CipherSuites(), TLS 1.0–1.2) → OpenSSL's. TLS 1.3 suites are not configurable, as in Go. */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

const tlsSchema = z.strictObject({
  cert: z.string().optional(),
  key: z.string().optional(),
  client_ca: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  client_ca_file: z.string().optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES, { error: `expected one of ${CLIENT_AUTH_TYPES.join(', ')}` }).optional(),
  client_allowed_sans: z.array(z.string()).optional(),
  min_version: z.enum(Object.keys(VERSIONS) as [TlsVersion], { error: 'expected TLS10, TLS11, TLS12 or TLS13' }).default('TLS12'),
  max_version: z.enum(Object.keys(VERSIONS) as [TlsVersion], { error: 'expected TLS10, TLS11, TLS12 or TLS13' }).default('TLS13'),
  cipher_suites: z.array(z.string()).optional(),
  prefer_server_cipher_suites: z.boolean().default(true),
  curve_preferences: z.array(z.string()).optional(),
});

const headersSchema = z.strictObject({
  'Content-Security-Policy': z.string().optional(),
  'X-Frame-Options': z.string().regex(/^(deny|sameorigin)$/i, 'expected deny or sameorigin').optional(),
  'X-Content-Type-Options': z.string().regex(/^nosniff$/i, 'expected nosniff').optional(),
  'X-XSS-Protection': z.string().optional(),
  'Strict-Transport-Security': z.string().optional(),
});

const BCRYPT = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

const webConfigSchema = z.strictObject({
  tls_server_config: tlsSchema.optional(),
  http_server_config: z.strictObject({
    http2: z.boolean().optional(),
    headers: headersSchema.optional(),
  }).optional(),
  basic_auth_users: z.record(z.string(), z.string().regex(BCRYPT, 'expected a bcrypt hash such as $2y$10$… (htpasswd -nBC 10 "" | tr -d \':\\n\')')).optional(),
  rate_limit: z.strictObject({
    interval: duration,
    burst: z.number().int().min(0),
  }).optional(),
});

export interface TlsSettings {
  /** Options for tls.createServer / setSecureContext (cert, key, ca, versions, ciphers). */
  context: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; honorCipherOrder: boolean };
  clientAuth: ClientAuthType;
  allowedSans?: string[];
  /** Files whose change means the settings must be read again. */
  files: string[];
}

export interface WebConfig {
  file: string;
  tls?: TlsSettings;
  basicAuth?: BcryptUsers;
  headers?: Record<string, string>;
  rateLimit?: { intervalMs: number; burst: number };
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readRegularFile(file, MAX_WEB_FILE_BYTES);
  } catch (err) {
    const message = !(err instanceof UnreadableFileError) ? 'cannot read web config'
      : err.code ? `cannot read web config: ${err.code}` : `web config refused: ${err.message}`;
    throw new ConfigError([{ file, path: [], message }]);
  }
  return parseWebConfig(text, file);
}

export function parseWebConfig(text: string, file: string): WebConfig {
  const { doc, lineCounter, raw } = parseYaml(text, file, MAX_WEB_FILE_BYTES);
  const problems: ConfigProblem[] = [];
  const at = (p: ConfigPath, message: string, keyOf = false) => problems.push({ file, path: p, message, ...locate(doc, lineCounter, p, keyOf) });
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    at([], 'the web config must be a mapping with keys such as tls_server_config, basic_auth_users');
    throw new ConfigError(problems);
  }
  const parsed = webConfigSchema.safeParse(raw);
  if (!parsed.success) {
    reportZod(parsed.error, [], at);
    throw new ConfigError(problems);
  }
  const cfg = parsed.data;
  const dir = path.dirname(path.resolve(file));
  const out: WebConfig = { file };

  if (cfg.tls_server_config) out.tls = tlsSettings(cfg.tls_server_config, dir, at);
  if (cfg.http_server_config?.http2 === true) {
    at(['http_server_config', 'http2'], 'HTTP/2 is not supported: Vigil serves HTTP/1.1 (clients negotiate it through ALPN); remove the key or set it to false');
  }
  const headers = cfg.http_server_config?.headers;
  if (headers) {
    const set = Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
    if (set.length) out.headers = Object.fromEntries(set);
  }
  if (cfg.basic_auth_users && Object.keys(cfg.basic_auth_users).length) {
    for (const user of Object.keys(cfg.basic_auth_users)) {
      if (user.includes(':')) at(['basic_auth_users', user], 'a user name cannot contain ":" (basic auth separates user and password with it)', true);
    }
    out.basicAuth = new BcryptUsers(new Map(Object.entries(cfg.basic_auth_users)));
  }
  if (cfg.rate_limit && cfg.rate_limit.interval > 0) out.rateLimit = { intervalMs: cfg.rate_limit.interval, burst: cfg.rate_limit.burst };
  if (problems.length) throw new ConfigError(problems);
  return out;
}

type TlsInput = z.output<typeof tlsSchema>;

function tlsSettings(t: TlsInput, dir: string, at: (p: ConfigPath, m: string, keyOf?: boolean) => void): TlsSettings | undefined {
  const P = (k: string): ConfigPath => ['tls_server_config', k];
  // exporter-toolkit: a tls_server_config naming no certificate and no client auth means plain HTTP.
  if (!t.cert && !t.cert_file && !t.key && !t.key_file && !t.client_ca && !t.client_ca_file && !t.client_auth_type) return undefined;
  const files: string[] = [];
  const material = (inline: string | undefined, fileKey: 'cert_file' | 'key_file' | 'client_ca_file', inlineKey: string, required: boolean): Buffer | undefined => {
    const name = t[fileKey];
    if (inline && name) {
      at(P(fileKey), `set ${inlineKey} or ${fileKey}, not both`, true);
      return undefined;
    }
    if (inline) return Buffer.from(inline);
    if (!name) {
      if (required) at(['tls_server_config'], `missing ${fileKey} (or inline ${inlineKey})`);
      return undefined;
    }
    const full = path.resolve(dir, name);
    files.push(full);
    try {
      return Buffer.from(readRegularFile(full, MAX_WEB_FILE_BYTES), 'utf8');
    } catch (err) {
      at(P(fileKey), err instanceof UnreadableFileError ? err.message : `cannot read ${full}`);
      return undefined;
    }
  };
  const cert = material(t.cert, 'cert_file', 'cert', true);
  const key = material(t.key, 'key_file', 'key', true);
  const ca = material(t.client_ca, 'client_ca_file', 'client_ca', false);
  const clientAuth: ClientAuthType = t.client_auth_type ?? 'NoClientCert';
  if (ca && clientAuth === 'NoClientCert') {
    at(P(t.client_ca_file ? 'client_ca_file' : 'client_ca'), 'a client CA is set but client_auth_type is NoClientCert: set client_auth_type (RequireAndVerifyClientCert verifies client certificates)', true);
  }
  if (t.client_allowed_sans?.length && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    at(P('client_allowed_sans'), 'needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (with the others a client may send no certificate)', true);
  }
  if (['TLS10', 'TLS11', 'TLS12', 'TLS13'].indexOf(t.min_version) > ['TLS10', 'TLS11', 'TLS12', 'TLS13'].indexOf(t.max_version)) {
    at(P('min_version'), `min_version ${t.min_version} is above max_version ${t.max_version}`);
  }
  const ciphers: string[] = [];
  t.cipher_suites?.forEach((name, i) => {
    const c = CIPHERS[name];
    if (c) ciphers.push(c);
    else at([...P('cipher_suites'), i], `unknown or unsupported cipher suite "${name}"; supported: ${Object.keys(CIPHERS).join(', ')} (TLS 1.3 suites are not configurable)`);
  });
  const curves: string[] = [];
  t.curve_preferences?.forEach((name, i) => {
    const c = CURVES[name];
    if (c) curves.push(c);
    else at([...P('curve_preferences'), i], `unknown curve "${name}"; supported: ${Object.keys(CURVES).join(', ')}`);
  });
  if (!cert || !key) return undefined;

  const context: TlsSettings['context'] = {
    cert,
    key,
    ...(ca ? { ca } : {}),
    minVersion: VERSIONS[t.min_version],
    maxVersion: VERSIONS[t.max_version],
    ...(ciphers.length ? { ciphers: ciphers.join(':') } : {}),
    ...(curves.length ? { ecdhCurve: curves.join(':') } : {}),
    honorCipherOrder: t.prefer_server_cipher_suites,
    requestCert: clientAuth !== 'NoClientCert',
    // Only RequireAndVerifyClientCert lets OpenSSL refuse the handshake; the softer policies
    // are enforced after it (listen.ts), where a missing certificate can be told from a bad one.
    rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert',
  };
  try {
    createSecureContext(context);
  } catch (err) {
    at(['tls_server_config'], `certificate, key or CA rejected: ${(err as Error).message}`);
    return undefined;
  }
  return { context, clientAuth, allowedSans: t.client_allowed_sans?.length ? t.client_allowed_sans : undefined, files };
}
