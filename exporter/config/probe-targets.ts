// The allow-list of GET /probe (server.probe.allowed_targets): which hosts and ports a caller may
// have Vigil probe. With none configured /probe refuses every target, so an exporter reachable
// by others is never an open proxy into the networks it can reach.
//
// An entry is `host` or `host:port` (`[v6]:port` for an IPv6 address); host is an exact name, a
// `*.suffix` wildcard (any name under it), an IP address, a CIDR block, or `*` (any host); port
// is a number or `*` (any port, also what a missing port means). Names match case-insensitively;
// address entries match targets written as addresses, never names (a name is not resolved to
// decide, which would be a second lookup that can answer differently from the probe's own).
import net from 'node:net';
import { z } from 'zod';

export interface AllowEntry {
  text: string;
  host: { kind: 'any' } | { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string } | { kind: 'cidr'; block: net.BlockList };
  port?: number;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** An entry, or the message saying what is wrong with it. */
export function parseAllowEntry(text: string): AllowEntry | string {
  let host = text;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\*|\d+))?$/.exec(text);
  if (v6) [, host, port] = v6;
  else if ((text.match(/:/g) ?? []).length === 1) [host, port] = text.split(':');
  let portNumber: number | undefined;
  if (port !== undefined && port !== '*') {
    portNumber = Number(port);
    if (!/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) return `"${text}": port must be 1-65535 or *`;
  }
  const entry = (h: AllowEntry['host']): AllowEntry => ({ text, host: h, port: portNumber });
  if (host === '*') return entry({ kind: 'any' });
  const cidr = /^(.+)\/(\d{1,3})$/.exec(host);
  if (cidr || net.isIP(host)) {
    const address = cidr ? cidr[1] : host;
    const family = net.isIP(address);
    const prefix = cidr ? Number(cidr[2]) : family === 6 ? 128 : 32;
    if (!family || prefix > (family === 6 ? 128 : 32)) return `"${text}": not an IP address or CIDR block`;
    const block = new net.BlockList();
    block.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    return entry({ kind: 'cidr', block });
  }
  if (host.startsWith('*.') && HOST_NAME.test(host.slice(2))) return entry({ kind: 'suffix', suffix: host.slice(1).toLowerCase() });
  if (HOST_NAME.test(host)) return entry({ kind: 'name', name: host.toLowerCase().replace(/\.$/, '') });
  return `"${text}": expected a host name, *.domain, an IP address, a CIDR block or *, with an optional :port`;
}

export const allowEntry = z.string().transform((text, ctx) => {
  const e = parseAllowEntry(text);
  if (typeof e === 'string') {
    ctx.addIssue({ code: 'custom', message: e });
    return z.NEVER;
  }
  return e;
});

/** The entry that lets `host:port` through, or undefined. */
export function allowedBy(entries: readonly AllowEntry[], host: string, port: number | undefined): AllowEntry | undefined {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  const family = net.isIP(bare);
  return entries.find((e) => {
    if (e.port !== undefined && e.port !== port) return false;
    switch (e.host.kind) {
      case 'any': return true;
      case 'cidr': return family !== 0 && e.host.block.check(bare, family === 6 ? 'ipv6' : 'ipv4');
      case 'name': return family === 0 && bare === e.host.name;
      case 'suffix': return family === 0 && bare.endsWith(e.host.suffix);
    }
  });
}
