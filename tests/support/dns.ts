// A tiny authoritative DNS server on 127.0.0.1 (UDP): enough wire format for A, AAAA, CNAME, MX,
// TXT, NS and SRV answers; NXDOMAIN for unknown names; names in `hang` are never answered.
import dgram from 'node:dgram';

export type Rec = { type: number; data: Buffer };
export const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };
export const encName = (n: string) => Buffer.concat([...n.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
export const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
/** One TXT record holding `text` (at most 255 bytes). */
export const txt = (text: string): Rec => ({ type: TYPES.TXT, data: Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]) });

export function startDns(zone: Record<string, Rec[]>, hang: Set<string> = new Set()): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (msg[off] !== 0) { labels.push(msg.subarray(off + 1, off + 1 + msg[off]).toString()); off += msg[off] + 1; }
    off++;
    const qtype = msg.readUInt16BE(off);
    const name = labels.join('.').toLowerCase();
    if (hang.has(name)) return;
    const question = msg.subarray(12, off + 4);
    const known = zone[name];
    const answers = (known ?? []).filter((r) => r.type === qtype);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // response, RD, RA; NXDOMAIN for unknown names
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => Buffer.concat([encName(name), u16(a.type), u16(1), Buffer.from([0, 0, 0, 60]), u16(a.data.length), a.data]));
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve({ port: sock.address().port, close: () => sock.close() })));
}
