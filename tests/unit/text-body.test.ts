import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TextBody } from '../../exporter/telemetry/text-body.js';

describe('TextBody', () => {
  it('collects appended text as UTF-8, and bytes as they are', () => {
    const body = new TextBody();
    const parts = ['# HELP x\n', 'probe_success{check="café"} 1\n', 'é'.repeat(40), '', 'ü€𝄞\n'];
    for (const p of parts) body.append(p);
    body.appendBytes(Buffer.from('tail\n'));
    body.appendBytes(Buffer.alloc(0));
    const want = Buffer.from(parts.join('') + 'tail\n');
    expect(body.bytes().equals(want)).toBe(true);
    expect(body.length).toBe(want.length);
  });

  it('writes every chunk to a response with its length', async () => {
    const body = new TextBody();
    const blocks = Array.from({ length: 300 }, (_, i) => Buffer.from(`line_${i}{check="c${i}"} ${i}\n`.repeat(50)));
    for (const b of blocks) body.appendBytes(b);
    const server = http.createServer((_req, res) => { res.statusCode = 200; body.writeTo(res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: AbortSignal.timeout(5000) });
      expect(res.headers.get('content-length')).toBe(String(body.length));
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.concat(blocks))).toBe(true);
    } finally {
      server.close();
    }
  });

  it('encodes scratch text into pieces reused once a response has finished, never while one is being sent', async () => {
    const text = (n: number, tag: string) => `probe_duration_seconds{check="${tag}${n}",note="é"} ${n / 1000}\n`.repeat(200);
    const bodies: TextBody[] = [];
    const make = (tag: string) => {
      const body = new TextBody();
      body.append('# HELP probe_duration_seconds d\n');
      for (let i = 0; i < 120; i++) body.appendScratch(text(i, tag)); // ~1.3 MB: two pieces
      body.appendScratch('x'.repeat((1 << 20) + 1)); // larger than a piece: its own Buffer
      bodies.push(body);
      return body;
    };
    const expected = (tag: string) => Buffer.from(`# HELP probe_duration_seconds d\n${Array.from({ length: 120 }, (_, i) => text(i, tag)).join('')}${'x'.repeat((1 << 20) + 1)}`);
    const pieces = (body: TextBody) => (body as unknown as { scratch: Buffer[] }).scratch.map((b) => b.buffer);
    let tag = 'a';
    const server = http.createServer((_req, res) => { res.statusCode = 200; make(tag).writeTo(res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const first = Buffer.from(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).arrayBuffer());
      expect(first.equals(expected('a'))).toBe(true);
      const firstPieces = bodies[0].length && (bodies[0] as unknown as { scratch: Buffer[] }).scratch;
      expect(firstPieces).toEqual([]); // handed back on 'finish'
      tag = 'b';
      // Two scrapes at once: each writes into pieces of its own; the first reuses the spare ones.
      const [x, y] = await Promise.all([fetch(url, { signal: AbortSignal.timeout(5000) }), fetch(url, { signal: AbortSignal.timeout(5000) })]);
      const [bx, by] = await Promise.all([x.arrayBuffer(), y.arrayBuffer()]);
      expect(Buffer.from(bx).equals(expected('b'))).toBe(true);
      expect(Buffer.from(by).equals(expected('b'))).toBe(true);
    } finally {
      server.close();
    }
    // Without a response the pieces stay with the body: the same ArrayBuffers are never in two bodies.
    const held = [make('c'), make('d')].map(pieces);
    expect(held[0].length).toBe(2);
    expect(held[0].some((b) => held[1].includes(b))).toBe(false);
  });
});
