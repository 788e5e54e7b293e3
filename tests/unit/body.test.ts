// Request bodies (exporter/server/body.ts): size limits and a client that goes away.
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { HttpError, readBody, readJson } from '../../exporter/server/body.js';

function ctxWith(req: Readable, headers: Record<string, string> = {}): Context {
  return { req, get: (h: string) => headers[h.toLowerCase()] ?? '' } as unknown as Context;
}

/** A request body that delivers `sent` and then fails the way Node's IncomingMessage does when the client disconnects. */
function cutShort(sent: string): Readable {
  let done = false;
  return new Readable({
    read() {
      if (done) return;
      done = true;
      this.push(Buffer.from(sent));
      setImmediate(() => this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    },
  });
}

async function thrown(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    return err as HttpError;
  }
  throw new Error('expected a rejection');
}

describe('readBody', () => {
  it('returns the whole body', async () => {
    expect((await readBody(ctxWith(Readable.from([Buffer.from('ab'), Buffer.from('c')])), 10)).toString()).toBe('abc');
  });

  it('413 when the declared length is over the limit, before reading', async () => {
    const err = await thrown(readBody(ctxWith(Readable.from([]), { 'content-length': '11' }), 10));
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(413);
  });

  it('413 when a body without a length (chunked) grows past the limit', async () => {
    const err = await thrown(readBody(ctxWith(Readable.from([Buffer.alloc(6), Buffer.alloc(6)])), 10));
    expect(err.status).toBe(413);
  });

  // Found by tests/integration/fuzz-post.test.ts: the "aborted" error escaped as a 500 and was
  // logged at error level ("request failed") for every client that hung up mid-body.
  it('400, not a server error, when the client closes the connection before the end of the body', async () => {
    const err = await thrown(readBody(ctxWith(cutShort('{"exit_')), 1024));
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/connection closed before its end/);
  });
});

describe('readJson', () => {
  it('undefined for an empty body, 400 for malformed JSON', async () => {
    expect(await readJson(ctxWith(Readable.from([])))).toBeUndefined();
    const err = await thrown(readJson(ctxWith(Readable.from([Buffer.from('{"a":')]))));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^malformed JSON/);
  });

  it('parses nesting far deeper than the stack allows for recursion (JSON.parse is iterative)', async () => {
    const d = 200_000;
    expect(await readJson(ctxWith(Readable.from([Buffer.from('['.repeat(d) + ']'.repeat(d))])))).toBeInstanceOf(Array);
  });
});
