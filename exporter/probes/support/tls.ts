// Certificate facts shared by the http and tcp probes.
import type { TLSSocket, DetailedPeerCertificate } from 'node:tls';

/** Earliest notAfter (unix seconds) across the presented chain, as blackbox's probe_ssl_earliest_cert_expiry. */
export function earliestCertExpiry(socket: TLSSocket): number | undefined {
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  if (!cert || !cert.valid_to) return undefined;
  let earliest = Infinity;
  const seen = new Set<string>();
  while (cert && cert.valid_to && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    earliest = Math.min(earliest, Date.parse(cert.valid_to) / 1000);
    cert = cert.issuerCertificate;
  }
  return Number.isFinite(earliest) ? earliest : undefined;
}

export function tlsSamples(expiry: number | undefined, now = Date.now()) {
  if (expiry === undefined) return [];
  return [
    { key: 'cert_expiry_timestamp', metric: 'probe_ssl_earliest_cert_expiry', value: expiry },
    { key: 'cert_expires_in', metric: 'vigil_tls_cert_expires_in_seconds', value: expiry - now / 1000 },
  ];
}

export const TLS_METRICS = [
  { name: 'probe_ssl_earliest_cert_expiry', help: 'Earliest notAfter of the presented certificate chain, unix seconds.' },
  { name: 'vigil_tls_cert_expires_in_seconds', help: 'Seconds until the earliest certificate in the chain expires, at probe time.' },
];

/** Expiry thresholds every TLS check gets unless configured: 14 days warning, 3 days critical. */
export const DEFAULT_CERT_THRESHOLD = { warning: 14 * 86400, critical: 3 * 86400, direction: 'below' as const };
