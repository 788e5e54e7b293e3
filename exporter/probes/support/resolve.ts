// Resolving a probe's target host once, before connecting, as blackbox_exporter's chooseProtocol
// does: the time it took (probe_dns_lookup_time_seconds, on every probe that resolves a name),
// the address family used (probe_ip_protocol) and a hash of the address (probe_ip_addr_hash, to
// spot an address that changes). The connection then goes to exactly that address.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { MetricSpec } from '../../model/metric.js';
import type { Sample } from '../../model/result.js';
import { abortable } from './errors.js';

/**
 * Which address family to connect with. Unset: the first address the system resolver gives
 * (getaddrinfo orders them by RFC 6724, so IPv6 only comes first where it is routable); `ip4`
 * or `ip6`: that family first, the other when the name has none (blackbox's ip_protocol with
 * its default ip_protocol_fallback).
 */
export const ipProtocol = z.enum(['ip4', 'ip6']).optional();
export type IpProtocol = z.output<typeof ipProtocol>;

export const RESOLVE_METRICS: MetricSpec[] = [
  { name: 'probe_dns_lookup_time_seconds', help: 'Time taken to resolve the target host (0 for an IP address).' },
  { name: 'probe_ip_protocol', help: 'IP protocol of the address probed: 4 or 6 (0 when the target did not resolve).' },
  { name: 'probe_ip_addr_hash', help: 'FNV-1a 32-bit hash of the address probed, to detect an address that changes (0 when the target did not resolve).' },
];

export interface Resolved {
  address: string;
  family: 4 | 6;
  /** Seconds the lookup took. */
  seconds: number;
  /** ipHash of the address, when worked out already. */
  hash?: number;
}

/** A target that is an IP literal, resolved once for every run (undefined for a name). */
export function literalTarget(host: string): Resolved | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  return family ? { address: bare, family: family as 4 | 6, seconds: 0, hash: ipHash(bare, family as 4 | 6) } : undefined;
}

/** The address to connect to; rejects (with the resolver's error) when the name does not resolve. */
export async function resolveTarget(host: string, protocol: IpProtocol, signal: AbortSignal): Promise<Resolved> {
  const literal = literalTarget(host);
  if (literal) return literal;
  const t0 = performance.now();
  const all = await abortable(lookup(host, { all: true, verbatim: true }), signal);
  const seconds = Math.round((performance.now() - t0) * 1000) / 1e6;
  const want = protocol === 'ip4' ? 4 : protocol === 'ip6' ? 6 : undefined;
  const chosen = (want && all.find((a) => a.family === want)) || all[0];
  if (!chosen) throw Object.assign(new Error(`${host}: no address`), { code: 'ENOTFOUND' });
  return { address: chosen.address, family: chosen.family as 4 | 6, seconds };
}

/** The samples of a resolution (`undefined` when it failed, after `seconds`). */
export function resolveSamples(r: Resolved | undefined, failedAfter = 0): Sample[] {
  return [
    { key: 'dns_lookup_time', metric: 'probe_dns_lookup_time_seconds', value: r ? r.seconds : failedAfter },
    { key: 'ip_protocol', metric: 'probe_ip_protocol', value: r ? r.family : 0 },
    { key: 'ip_addr_hash', metric: 'probe_ip_addr_hash', value: r ? r.hash ?? ipHash(r.address, r.family) : 0 },
  ];
}

/** FNV-1a (32 bit) over the address's 4 or 16 bytes, as blackbox's ipHash. */
export function ipHash(address: string, family: 4 | 6): number {
  let h = 0x811c9dc5;
  for (const byte of ipBytes(address, family)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function ipBytes(address: string, family: 4 | 6): number[] {
  if (family === 4) return address.split('.').map(Number);
  // An IPv4-mapped address (::ffff:a.b.c.d) hashes as its 4 bytes, as Go's To4() makes it.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1].split('.').map(Number);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, ''];
  const parse = (s: string) => (s ? s.split(':') : []);
  const h = expand(parse(head));
  // A trailing dotted quad (::1.2.3.4) counts as two groups.
  const t = expand(parse(tail));
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; });
}

function expand(groups: string[]): string[] {
  const last = groups[groups.length - 1];
  if (last && last.includes('.')) {
    const [a, b, c, d] = last.split('.').map(Number);
    return [...groups.slice(0, -1), ((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  }
  return groups;
}

/**
 * For probes that hand the name to a library (net.connect, ws): a `lookup` option that times the
 * system resolver's answer and keeps the address, and the samples of what it saw (an IP
 * literal is never looked up: lookup time 0).
 */
export function recordingLookup(host: string): { lookup: LookupFunction; samples(): Sample[] } {
  const bare = host.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  let resolved: Resolved | undefined = literal ? { address: bare, family: literal as 4 | 6, seconds: 0 } : undefined;
  let failedAfter = 0;
  const recording: LookupFunction = (hostname, options, callback) => {
    const t0 = performance.now();
    dnsLookup(hostname, options, ((err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
      const seconds = Math.round((performance.now() - t0) * 1000) / 1e6;
      const first = Array.isArray(address) ? address[0] : address ? { address, family: family ?? 4 } : undefined;
      if (err || !first) failedAfter = seconds;
      else resolved = { address: first.address, family: first.family === 6 ? 6 : 4, seconds };
      (callback as (...args: unknown[]) => void)(err, address, family);
    }) as never);
  };
  return { lookup: recording, samples: () => resolveSamples(resolved, failedAfter) };
}
