// Certificate and TLS session facts shared by the http, tcp and smtp probes, with
// blackbox_exporter's names and meanings (prober/tls.go).
import type { TLSSocket, DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import type { MetricSpec } from '../../model/metric.js';
import type { Sample } from '../../model/result.js';

/**
 * Go's zero time as a unix timestamp: what blackbox reports as the last chain's expiry when no
 * chain was verified (insecure_skip_verify), kept so the two read the same.
 */
export const GO_ZERO_TIME = -62135596800;

/** Earliest notAfter (unix seconds) across the presented chain, as blackbox's probe_ssl_earliest_cert_expiry. */
export function earliestCertExpiry(socket: TLSSocket): number | undefined {
  const chain = peerChain(socket);
  if (!chain.length) return undefined;
  return Math.min(...chain.map((c) => Date.parse(c.valid_to) / 1000));
}

/** The chain the peer presented, leaf first, with the issuers OpenSSL found (each once). */
function peerChain(socket: TLSSocket): DetailedPeerCertificate[] {
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  const out: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  while (cert && cert.valid_to && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(cert);
    cert = cert.issuerCertificate;
  }
  return out;
}

/** What a finished handshake tells, read once from the socket. */
export interface TlsFacts {
  expiry?: number;
  /** "TLS 1.3" as blackbox's getTLSVersion. */
  version: string;
  /** Earliest expiry of the verified chain, or GO_ZERO_TIME when the chain was not verified. */
  lastChainExpiry: number;
  leaf?: { fingerprint_sha256: string; subject: string; issuer: string; subjectalternative: string };
}

const VERSIONS: Record<string, string> = { 'TLSv1': 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3' };

export function tlsFacts(socket: TLSSocket, verified: boolean): TlsFacts {
  const chain = peerChain(socket);
  const leaf = chain[0];
  const expiry = chain.length ? Math.min(...chain.map((c) => Date.parse(c.valid_to) / 1000)) : undefined;
  return {
    expiry,
    version: VERSIONS[socket.getProtocol() ?? ''] ?? 'unknown',
    lastChainExpiry: verified && socket.authorized && expiry !== undefined ? expiry : GO_ZERO_TIME,
    leaf: leaf && {
      fingerprint_sha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
      subject: distinguishedName(leaf.subject),
      issuer: distinguishedName(leaf.issuer),
      subjectalternative: (leaf.subjectaltname ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)).join(','),
    },
  };
}

// Go's pkix.Name.String(): its fixed attribute order, last first (RFC 2253).
const DN_ORDER: Array<[string, string]> = [
  ['serialNumber', 'SERIALNUMBER'], ['CN', 'CN'], ['OU', 'OU'], ['O', 'O'], ['postalCode', 'POSTALCODE'],
  ['street', 'STREET'], ['L', 'L'], ['ST', 'ST'], ['C', 'C'],
];

function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  const parts: string[] = [];
  const fields = name as unknown as Record<string, string | string[] | undefined>;
  for (const [key, label] of DN_ORDER) {
    const v = fields[key];
    for (const value of (Array.isArray(v) ? [...v].reverse() : v === undefined ? [] : [v])) parts.push(`${label}=${escapeDn(value)}`);
  }
  return parts.join(',');
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/** The samples of a TLS handshake: blackbox's families, and Vigil's time-to-expiry gauge. */
export function tlsSamples(facts: TlsFacts | number | undefined, now = Date.now()): Sample[] {
  const f: Partial<TlsFacts> | undefined = typeof facts === 'number' ? { expiry: facts } : facts;
  if (f?.expiry === undefined) return [];
  const out: Sample[] = [
    { key: 'cert_expiry_timestamp', metric: 'probe_ssl_earliest_cert_expiry', value: f.expiry },
    { key: 'cert_expires_in', metric: 'vigil_tls_cert_expires_in_seconds', value: f.expiry - now / 1000 },
  ];
  if (f.version !== undefined) {
    out.push({ key: 'tls_version', metric: 'probe_tls_version_info', value: 1, labels: { version: f.version } });
    out.push({ key: 'last_chain_expiry', metric: 'probe_ssl_last_chain_expiry_timestamp_seconds', value: f.lastChainExpiry! });
    if (f.leaf) out.push({ key: 'last_chain_info', metric: 'probe_ssl_last_chain_info', value: 1, labels: { ...f.leaf } });
  }
  return out;
}

export const TLS_METRICS: MetricSpec[] = [
  { name: 'probe_ssl_earliest_cert_expiry', help: 'Earliest notAfter of the presented certificate chain, unix seconds.' },
  { name: 'vigil_tls_cert_expires_in_seconds', help: 'Seconds until the earliest certificate in the chain expires, at probe time.' },
  { name: 'probe_tls_version_info', help: 'TLS version of the connection ("TLS 1.3"); always 1.', labels: ['version'] },
  { name: 'probe_ssl_last_chain_expiry_timestamp_seconds', help: 'Earliest notAfter of the verified chain, unix seconds (-62135596800, Go\'s zero time as blackbox reports it, when the chain was not verified).' },
  { name: 'probe_ssl_last_chain_info', help: 'The leaf certificate: SHA-256 fingerprint, subject, issuer and DNS names; always 1.', labels: ['fingerprint_sha256', 'subject', 'issuer', 'subjectalternative'] },
];

/** Expiry thresholds every TLS check gets unless configured: 14 days warning, 3 days critical. */
export const DEFAULT_CERT_THRESHOLD = { warning: 14 * 86400, critical: 3 * 86400, direction: 'below' as const };
