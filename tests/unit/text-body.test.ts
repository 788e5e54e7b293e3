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
});
