// readBodyBounded: a whole body, or an error at the byte budget or the deadline — never a
// truncated body, never a hung call (a server that sends headers and then trickles or stalls).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBodyBounded } from '../../exporter/model/http-body.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/ok') return void res.end('héllo'.repeat(1000));
    if (req.url === '/big') {
      const chunk = Buffer.alloc(64 * 1024, 97);
      const t = setInterval(() => { if (!res.write(chunk)) return; }, 1);
      res.on('close', () => clearInterval(t));
      return;
    }
    // /stall: a first chunk, then nothing until the client gives up.
    res.write('partial');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('readBodyBounded', () => {
  it('reads a whole body as UTF-8', async () => {
    expect(await readBodyBounded(await fetch(`${base}/ok`), 1 << 20, 5_000)).toBe('héllo'.repeat(1000));
  });

  it('refuses a body past the byte budget and stops reading it', async () => {
    await expect(readBodyBounded(await fetch(`${base}/big`), 256 * 1024, 10_000)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it('gives up at the deadline on a body that stalls, with an error, not the part it got', async () => {
    const t0 = Date.now();
    const err = await readBodyBounded(await fetch(`${base}/stall`), 1 << 20, 300).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('TimeoutError');
    expect(Date.now() - t0).toBeLessThan(300 + 2_000);
  });
});
