// One DNS query over UDP in the wire format (RFC 1035), for the dns kind: node:dns hides what
// blackbox_exporter's DNS prober reports (the response code, the authority and additional
// sections, a zone's SOA serial), so the probe sends the query itself.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { abortError } from './errors.js';

export const RR_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33 } as const;
export type RrTypeName = keyof typeof RR_TYPES;

export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export interface Rr {
  type: number;
  /** The record as text: "10.0.0.1", "10 mail.example.com" (MX), "1 5 5060 sip.example.com" (SRV)… */
  text: string;
  /** SOA only: the zone's serial. */
  serial?: number;
}

export interface DnsResponse {
  rcode: number;
  answer: Rr[];
  authority: Rr[];
  additional: Rr[];
  /** Seconds from sending the query to the answer (blackbox's "request" phase). */
  rtt: number;
  /** Seconds to set up the socket (blackbox's "connect" phase). */
  connect: number;
}

/** A response too short or malformed to read. */
export class MalformedResponse extends Error {}

export function encodeQuery(id: number, name: string, type: number, recursion: boolean): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(recursion ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length > 63) throw new Error(`label "${l}" longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3); // class IN
  parts.push(tail);
  return Buffer.concat(parts);
}

/** Reads a (possibly compressed) name at `off`: the name and the offset after it. */
function readName(msg: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    if (off >= msg.length) throw new MalformedResponse('name runs past the message');
    const len = msg[off];
    if (len === 0) return [labels.join('.'), end < 0 ? off + 1 : end];
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | msg[off + 1];
      continue;
    }
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('utf8'));
    off += len + 1;
  }
  throw new MalformedResponse('name compression loop');
}

function ipv6Text(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // The longest run of zero groups (2 or more) becomes "::", as RFC 5952 and node:dns write it.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function rdataText(msg: Buffer, type: number, off: number, len: number): Pick<Rr, 'text' | 'serial'> {
  const data = msg.subarray(off, off + len);
  switch (type) {
    case RR_TYPES.A: return { text: [...data].join('.') };
    case RR_TYPES.AAAA: return { text: ipv6Text(data) };
    case RR_TYPES.CNAME: case RR_TYPES.NS: return { text: readName(msg, off)[0] };
    case RR_TYPES.MX: return { text: `${msg.readUInt16BE(off)} ${readName(msg, off + 2)[0]}` };
    case RR_TYPES.SRV: return { text: `${msg.readUInt16BE(off)} ${msg.readUInt16BE(off + 2)} ${msg.readUInt16BE(off + 4)} ${readName(msg, off + 6)[0]}` };
    case RR_TYPES.TXT: {
      let text = '';
      for (let i = 0; i < data.length; i += data[i] + 1) text += data.subarray(i + 1, i + 1 + data[i]).toString('utf8');
      return { text };
    }
    case RR_TYPES.SOA: {
      const [mname, o1] = readName(msg, off);
      const [rname, o2] = readName(msg, o1);
      const serial = msg.readUInt32BE(o2);
      return { text: `${mname} ${rname} ${serial}`, serial };
    }
    default: return { text: data.toString('hex') };
  }
}

export function decodeResponse(msg: Buffer): Omit<DnsResponse, 'rtt' | 'connect'> & { id: number } {
  if (msg.length < 12) throw new MalformedResponse(`response of ${msg.length} bytes`);
  const id = msg.readUInt16BE(0);
  const rcode = msg[3] & 0x0f;
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  let off = 12;
  for (let i = 0; i < counts[0]; i++) off = readName(msg, off)[1] + 4;
  const sections: Rr[][] = [[], [], []];
  try {
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < counts[s + 1]; i++) {
        const [, after] = readName(msg, off);
        const type = msg.readUInt16BE(after);
        const len = msg.readUInt16BE(after + 8);
        const start = after + 10;
        if (start + len > msg.length) throw new MalformedResponse('record runs past the message');
        sections[s].push({ type, ...rdataText(msg, type, start, len) });
        off = start + len;
      }
    }
  } catch (err) {
    if (err instanceof RangeError) throw new MalformedResponse('record runs past the message');
    throw err;
  }
  return { id, rcode, answer: sections[0], authority: sections[1], additional: sections[2] };
}

/** Send one query to `address:port` and wait for its answer until `timeoutMs` or the signal. */
export function query(address: string, family: 4 | 6, port: number, name: string, type: number, recursion: boolean, timeoutMs: number, signal: AbortSignal): Promise<DnsResponse> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const id = randomInt(0, 0x10000);
    const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    let tSent = 0;
    let settled = false;
    const finish = (err: Error | null, res?: DnsResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = () => finish(abortError());
    const timer = setTimeout(() => finish(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish(err));
    sock.on('message', (msg) => {
      const tAnswer = performance.now();
      let decoded;
      try {
        decoded = decodeResponse(msg);
      } catch (err) {
        return finish(err as Error);
      }
      // Not the answer to this query (a late one to an earlier socket's): keep waiting.
      if (decoded.id !== id) return;
      finish(null, { rcode: decoded.rcode, answer: decoded.answer, authority: decoded.authority, additional: decoded.additional, rtt: (tAnswer - tSent) / 1000, connect: (tSent - t0) / 1000 });
    });
    let packet: Buffer;
    try {
      packet = encodeQuery(id, name, type, recursion);
    } catch (err) {
      return finish(err as Error);
    }
    sock.connect(port, address, () => {
      tSent = performance.now();
      sock.send(packet, (err) => { if (err) finish(err); });
    });
  });
}
