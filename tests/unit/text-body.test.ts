import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { TextBody, spareScratch } from '../../exporter/telemetry/text-body.js';

const text = (n: number, tag: string) => `probe_duration_seconds{check="${tag}${n}",note="é"} ${n / 1000}\n`.repeat(200);
const HEAD = '# HELP probe_duration_seconds d\n';
const BIG = 'x'.repeat((1 << 20) + 1);
/** ~5.3 MB of scratch text and one piece larger than a piece, after a header. */
function fill(body: TextBody, tag: string, items = 480): TextBody {
  body.append(HEAD);
  for (let i = 0; i < items; i++) body.appendScratch(text(i, tag));
  body.appendScratch(BIG);
  return body;
}
const expected = (tag: string, items = 480) => Buffer.from(`${HEAD}${Array.from({ length: items }, (_, i) => text(i, tag)).join('')}${BIG}`);

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => void }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => { server.closeAllConnections(); server.close(); } };
}

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
    expect(() => body.end()).toThrow(/no response/);
  });

  it('copies bytes appended with appendCopy: changing them afterwards changes nothing sent', () => {
    const body = new TextBody();
    const block = Buffer.from('probe_success{check="a"} 1\n');
    const big = Buffer.alloc((1 << 20) + 7, 'y');
    body.append(HEAD);
    body.appendCopy(block);
    body.appendCopy(Buffer.alloc(0));
    body.appendCopy(big);
    body.appendCopy(block.subarray(0, 14));
    const want = Buffer.concat([Buffer.from(HEAD), block, big, block.subarray(0, 14)]);
    block.fill('z');
    big.fill('z');
    expect(body.bytes().equals(want)).toBe(true);
    expect(body.scratchPieces).toBe(1); // the small copies share one piece; the large one is a Buffer of its own
  });

  it('keeps copies in order across scratch pieces, whether or not the body streams', () => {
    const blocks = Array.from({ length: 40 }, (_, i) => Buffer.from(`block_${i}{check="c${i}"} ${i}\n`.repeat(9000)));
    const body = new TextBody();
    blocks.forEach((b, i) => (i % 3 ? body.appendCopy(b) : body.appendScratch(b.toString())));
    expect(body.scratchPieces).toBeGreaterThan(3);
    expect(body.bytes().equals(Buffer.concat(blocks))).toBe(true);
  });

  it('streams every chunk to a response, chunked, in order', async () => {
    const blocks = Array.from({ length: 300 }, (_, i) => Buffer.from(`line_${i}{check="c${i}"} ${i}\n`.repeat(500)));
    const { url, close } = await serve((_req, res) => {
      res.statusCode = 200;
      const body = new TextBody(res);
      for (const b of blocks) body.appendBytes(b);
      expect(() => body.bytes()).toThrow(/streamed/);
      body.end();
    });
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.concat(blocks))).toBe(true);
    } finally {
      close();
    }
  });

  it('never writes into a piece the socket still holds: a client that cannot read during the render gets every byte', async () => {
    // The client runs in this process, so nothing is read while the body renders: every piece
    // past what the kernel takes stays queued, and must not be reused until the response ends.
    const bodies: TextBody[] = [];
    let tag = 'a';
    const { url, close } = await serve((_req, res) => {
      res.statusCode = 200;
      const body = fill(new TextBody(res), tag);
      bodies.push(body);
      body.end();
    });
    try {
      const first = Buffer.from(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).arrayBuffer());
      expect(first.equals(expected('a'))).toBe(true);
      expect(spareScratch()).toBeLessThanOrEqual(4); // handed back on 'finish', the pool bounded
      tag = 'b';
      // Two scrapes at once: each writes into pieces of its own.
      const [x, y] = await Promise.all([fetch(url, { signal: AbortSignal.timeout(5000) }), fetch(url, { signal: AbortSignal.timeout(5000) })]);
      const [bx, by] = await Promise.all([x.arrayBuffer(), y.arrayBuffer()]);
      expect(Buffer.from(bx).equals(expected('b'))).toBe(true);
      expect(Buffer.from(by).equals(expected('b'))).toBe(true);
    } finally {
      close();
    }
  });

  it('a scraper that hangs up halfway costs that scrape only: the next one is whole', async () => {
    const { url, close } = await serve((_req, res) => {
      res.statusCode = 200;
      fill(new TextBody(res), 'h').end();
    });
    try {
      const ac = new AbortController();
      const res = await fetch(url, { signal: ac.signal });
      const reader = res.body!.getReader();
      await reader.read(); // the first bytes, then hang up
      ac.abort();
      await reader.cancel().catch(() => {});
      const again = Buffer.from(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).arrayBuffer());
      expect(again.equals(expected('h'))).toBe(true);
      expect(spareScratch()).toBeLessThanOrEqual(4);
    } finally {
      close();
    }
  });

  it('writes one scratch piece again and again while a client in another process keeps up', async () => {
    const taken: number[] = [];
    const { url, close } = await serve((_req, res) => {
      res.statusCode = 200;
      const body = fill(new TextBody(res), 'p');
      taken.push(body.scratchPieces);
      body.end();
    });
    try {
      // Five scrapes on one kept-alive connection, read by a separate Node process as Prometheus would.
      const reader = `const http=require('http');const a=new http.Agent({keepAlive:true,maxSockets:1});let left=5,sizes=[];
        const go=()=>http.get(process.argv[1],{agent:a,timeout:5000},(r)=>{let n=0;r.on('data',(d)=>n+=d.length);r.on('end',()=>{sizes.push(n);if(--left)go();else{console.log(sizes.join(','));a.destroy();}});}).on('error',(e)=>{console.error(e.message);process.exit(1)});go();`;
      const child = spawn(process.execPath, ['-e', reader, url], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => { const t = setTimeout(() => child.kill(), 15_000); child.on('exit', (c) => { clearTimeout(t); r(c); }); });
      expect(code).toBe(0);
      expect(out.trim()).toBe(Array(5).fill(expected('p').length).join(','));
      // ~5.3 MB of moved text each time: one piece, unless the kernel's buffer was full once or twice.
      expect(taken).toHaveLength(5);
      expect(Math.min(...taken)).toBeLessThanOrEqual(2);
    } finally {
      close();
    }
  });
});
