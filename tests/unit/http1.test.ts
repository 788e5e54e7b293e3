// The http probe's HTTP/1.1 response parser and request builder, against hand-written responses
// (every framing RFC 9112 allows, the leniencies Go's client has, the errors) fed in every split.
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HttpProtocolError, idleSockets, invalidHeader, request, requestMessage, ResponseParser, type Endpoint, type ResponseHead } from '../../exporter/probes/support/http1.js';

interface Parsed {
  head?: ResponseHead;
  body: string;
  ended: boolean;
  error?: { code?: string; message: string };
}

/** Parse `raw` fed in pieces of the given sizes (the rest in one piece), then close when asked. */
function parse(raw: string | Buffer, opts: { pieces?: number[]; close?: boolean; headRequest?: boolean; maxHead?: number; stopAfter?: number } = {}): Parsed {
  const out: Parsed = { body: '', ended: false };
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'latin1');
  const parser: ResponseParser = new ResponseParser(opts.headRequest ?? false, {
    head: (h) => { out.head = h; },
    body: (c) => {
      out.body += c.toString('latin1');
      if (opts.stopAfter !== undefined && out.body.length >= opts.stopAfter) parser.stop();
    },
    end: () => { out.ended = true; },
  }, opts.maxHead);
  try {
    let at = 0;
    for (const n of opts.pieces ?? []) {
      if (at >= bytes.length) break;
      parser.feed(bytes.subarray(at, at + n));
      at += n;
    }
    if (at < bytes.length) parser.feed(bytes.subarray(at));
    if (opts.close) parser.close();
  } catch (err) {
    out.error = { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  return out;
}

/** Every way of cutting `raw` in two, and byte by byte. */
function everySplit(raw: string, opts: Parameters<typeof parse>[1] = {}): Parsed[] {
  const runs = [parse(raw, { ...opts, pieces: Array(raw.length).fill(1) })];
  for (let i = 1; i < raw.length; i++) runs.push(parse(raw, { ...opts, pieces: [i] }));
  return runs;
}

describe('ResponseParser', () => {
  it('reads a Content-Length body and ignores what follows it, however the bytes arrive', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Rate: 42\r\n\r\nhelloEXTRA';
    for (const r of everySplit(raw)) {
      expect(r).toEqual({ head: { status: 200, version: '1.1', headers: { 'content-type': 'text/plain', 'content-length': '5', 'x-rate': '42' } }, body: 'hello', ended: true });
    }
  });

  it('decodes chunked bodies with extensions and trailers, however the bytes arrive', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;name=x\r\nhello\r\n1 \r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n';
    for (const r of everySplit(raw)) {
      expect(r.error).toBeUndefined();
      expect(r.body).toBe('hello, world');
      expect(r.ended).toBe(true);
    }
  });

  it('accepts bare LF line ends, folded header lines and a status line without a reason, as Go does', () => {
    const r = parse('HTTP/1.0 503\nServer: a\nX-Long: one\n  two\n\tthree\nContent-Length: 2\n\nno');
    expect(r).toEqual({ head: { status: 503, version: '1.0', headers: { server: 'a', 'x-long': 'one two three', 'content-length': '2' } }, body: 'no', ended: true });
    const chunked = parse('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n');
    expect(chunked).toMatchObject({ body: 'ok', ended: true });
  });

  it('keeps the first of repeated headers (Go\'s Header.Get) and accepts a repeated equal length', () => {
    const r = parse('HTTP/1.1 302 Found\r\nLocation: /a\r\nlocation: /b\r\nContent-Length: 1, 1\r\n\r\nx');
    expect(r.head?.headers.location).toBe('/a');
    expect(r).toMatchObject({ body: 'x', ended: true });
  });

  it('skips interim responses and blank lines before the final one', () => {
    const raw = '\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
    for (const r of everySplit(raw)) expect(r).toMatchObject({ head: { status: 201 }, body: 'ok', ended: true });
  });

  it('reads no body for HEAD, 204 and 304, whatever the headers say', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { headRequest: true })).toMatchObject({ body: '', ended: true });
    expect(parse('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n')).toMatchObject({ body: '', ended: true });
    expect(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n')).toMatchObject({ body: '', ended: true });
  });

  it('reads a body without length to the close, and a zero length as an empty body', () => {
    const open = parse('HTTP/1.1 200 OK\r\n\r\nall of it');
    expect(open).toMatchObject({ body: 'all of it', ended: false });
    expect(parse('HTTP/1.1 200 OK\r\n\r\nall of it', { close: true })).toMatchObject({ body: 'all of it', ended: true });
    // A final coding other than chunked has no length of its own: to the close too.
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef', { close: true })).toMatchObject({ body: 'abcdef', ended: true });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ body: '', ended: true });
  });

  it('says how a response was cut short', () => {
    expect(parse('', { close: true }).error).toMatchObject({ code: 'ECONNRESET', message: expect.stringMatching(/^socket hang up/) });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Le', { close: true }).error).toMatchObject({ code: 'HPE_INVALID_RESPONSE', message: 'connection closed before the response headers ended' });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf', { close: true }).error).toMatchObject({ code: 'ECONNRESET', message: 'connection closed before the response body ended' });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nha', { close: true }).error?.code).toBe('ECONNRESET');
  });

  it('rejects what is not an HTTP/1.x response, naming what it saw', () => {
    expect(parse('SSH-2.0-OpenSSH_9.6\r\n\r\n').error).toMatchObject({ code: 'HPE_INVALID_CONSTANT', message: 'not an HTTP/1.x response: "SSH-2.0-OpenSSH_9.6"' });
    expect(parse('HTTP/2 200\r\n\r\n').error?.code).toBe('HPE_INVALID_CONSTANT');
    expect(parse('HTTP/1.1 20 OK\r\n\r\n').error?.code).toBe('HPE_INVALID_CONSTANT');
    expect(parse('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n').error).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', message: 'invalid response header line "Bad Header: x"' });
    expect(parse('HTTP/1.1 200 OK\r\n folded: first\r\n\r\n').error?.code).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx').error?.code).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx').error?.code).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n').error).toMatchObject({ code: 'HPE_INVALID_CHUNK_SIZE', message: 'invalid chunk size "zz"' });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n').error?.code).toBe('HPE_INVALID_CHUNK_SIZE');
  });

  it('bounds what it buffers: the head, a chunk-size line, the trailers', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200)}\r\n\r\n`;
    expect(parse(big, { maxHead: 100 }).error).toMatchObject({ code: 'HPE_HEADER_OVERFLOW', message: 'response headers exceed 100 bytes' });
    // Also when the head never ends and arrives a byte at a time: the buffer never passes the limit.
    expect(parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(500)}`, { maxHead: 100, pieces: Array(600).fill(1) }).error?.code).toBe('HPE_HEADER_OVERFLOW');
    expect(parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1${' '.repeat(5000)}`).error?.message).toBe('chunk size line too long');
    const trailers = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X-T: 1\r\n'.repeat(30)}\r\n`;
    expect(parse(trailers, { maxHead: 100, pieces: Array(trailers.length).fill(1) }).error?.code).toBe('HPE_HEADER_OVERFLOW');
    expect(parse(trailers, { maxHead: 1000 })).toMatchObject({ ended: true });
  });

  it('delivers nothing more once stopped', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { pieces: [39, 2, 2, 2], stopAfter: 2 });
    expect(r).toMatchObject({ body: '01', ended: false });
  });

  it('parses any well-formed response the same way, however it is cut (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
    const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
    fc.assert(fc.property(
      fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
      fc.uniqueArray(fc.tuple(token, value), { maxLength: 6, selector: ([k]) => k.toLowerCase() })
        .map((hs) => hs.filter(([k]) => !['content-length', 'transfer-encoding'].includes(k.toLowerCase()))),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 5 }),
      fc.constantFrom('length', 'chunked', 'close'),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 20 }),
      (status, headers, parts, framing, lf, pieces) => {
        const eol = lf ? '\n' : '\r\n';
        const body = Buffer.concat(parts);
        const lines = [`HTTP/1.1 ${status} Whatever`, ...headers.map(([k, v]) => `${k}: ${v}`)];
        if (framing === 'length') lines.push(`Content-Length: ${body.length}`);
        if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
        let payload = body;
        if (framing === 'chunked') {
          payload = Buffer.concat([...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}${eol}`), Buffer.from(p), Buffer.from(eol)]), Buffer.from(`0${eol}${eol}`)]);
        }
        const raw = Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, 'latin1'), payload]);
        const r = parse(raw, { pieces, close: framing === 'close' });
        expect(r.error).toBeUndefined();
        expect(r.ended).toBe(true);
        expect(r.head?.status).toBe(status);
        for (const [k, v] of headers) expect(r.head?.headers[k.toLowerCase()]).toBe(v);
        expect(Buffer.from(r.body, 'latin1').equals(body)).toBe(true);
      },
    ), { numRuns: 400 });
  });

  it('is an HttpProtocolError for the probe to report', () => {
    const parser = new ResponseParser(false, { head: () => {}, body: () => {}, end: () => {} });
    expect(() => parser.feed(Buffer.from('nonsense\r\n\r\n'))).toThrow(HttpProtocolError);
  });
});

describe('requestMessage', () => {
  it('lays a request out as Node\'s client does: headers in order, then Host, Authorization from the URL, Connection', () => {
    const msg = requestMessage('GET', new URL('http://u%40x:p%3Aw@127.0.0.1:8080/a b?x=1#frag'), { 'user-agent': 'V', 'X-A': '1' }).toString('latin1');
    expect(msg).toBe('GET /a%20b?x=1 HTTP/1.1\r\nuser-agent: V\r\nX-A: 1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Basic dUB4OnA6dw==\r\nConnection: close\r\n\r\n');
  });

  it('sends a body with its length, and a length of 0 for a body-carrying method without one', () => {
    expect(requestMessage('PUT', new URL('https://api.example/v1'), {}, 'héllo').toString()).toBe('PUT /v1 HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\nContent-Length: 6\r\n\r\nhéllo');
    expect(requestMessage('POST', new URL('http://h/'), {}).toString()).toContain('\r\nContent-Length: 0\r\n');
    expect(requestMessage('DELETE', new URL('http://h/'), {}).toString()).not.toContain('Content-Length');
  });

  it('lets the configured headers replace the defaults, case-insensitively', () => {
    const msg = requestMessage('GET', new URL('http://user:pw@[::1]:9000/'), { 'user-agent': 'Vigil', 'User-Agent': 'mine', Host: 'vhost.example', authorization: 'Bearer t', Connection: 'keep-alive' }).toString();
    expect(msg).toBe('GET / HTTP/1.1\r\nUser-Agent: mine\r\nHost: vhost.example\r\nauthorization: Bearer t\r\nConnection: keep-alive\r\n\r\n');
    expect(requestMessage('GET', new URL('http://[::1]:9000/'), {}).toString()).toContain('Host: [::1]:9000\r\n');
  });

  it('knows which headers cannot be sent', () => {
    expect(invalidHeader('X-Ok', 'a b\tc é')).toBeUndefined();
    expect(invalidHeader('Bad Name', 'x')).toBe('invalid header name "Bad Name"');
    expect(invalidHeader('X-Evil', 'a\r\nInjected: 1')).toMatch(/^header X-Evil has a character that cannot be sent/);
    expect(invalidHeader('X-Wide', 'snowman ☃')).toMatch(/cannot be sent/);
  });
});

describe('request() on a plain connection', () => {
  // A raw TCP server that records every byte each connection sent, and answers by `reply`.
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });
  async function server(reply: (sock: net.Socket, got: string) => void): Promise<{ endpoint: Endpoint; received: string[] }> {
    const received: string[] = [];
    const s = net.createServer((sock) => {
      const at = received.push('') - 1;
      sock.on('data', (d) => {
        received[at] += d.toString('latin1');
        if (received[at].includes('\r\n\r\n')) reply(sock, received[at]);
      });
      sock.on('error', () => {});
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return { endpoint: { address: '127.0.0.1', port: (s.address() as AddressInfo).port }, received };
  }
  const ok = (body: string) => (sock: net.Socket) => sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const message = (path: string) => requestMessage('GET', new URL(`http://example.test${path}`), {}, undefined);

  /** One exchange: what the probe saw, settled on end or error. */
  function exchange(endpoint: Endpoint, path: string, closeAt?: 'at-once'): Promise<{ status?: number; body: string; error?: string; connected: boolean }> {
    return new Promise((resolve) => {
      const out = { status: undefined as number | undefined, body: '', error: undefined as string | undefined, connected: false };
      const conn = request(endpoint, message(path), false, {
        connected: () => { out.connected = true; },
        secured: () => {},
        firstByte: () => {},
        head: (h) => { out.status = h.status; },
        body: (c) => { out.body += c.toString('latin1'); },
        end: () => resolve(out),
        error: (err) => resolve({ ...out, error: (err as { code?: string }).code ?? err.message }),
      });
      if (closeAt === 'at-once') {
        conn.close();
        resolve(out);
      }
    });
  }
  const settled = () => new Promise((r) => setTimeout(r, 20)); // the closed socket's 'close' comes a turn later

  it('makes a new connection each time and keeps the socket object for the next one', async () => {
    const a = await server(ok('one'));
    await settled();
    const idle0 = idleSockets();
    for (let i = 0; i < 5; i++) {
      expect(await exchange(a.endpoint, `/r${i}`)).toEqual({ status: 200, body: 'one', connected: true, error: undefined });
      await settled();
    }
    // Five connections, each with exactly its own request; one socket object went round.
    expect(a.received).toHaveLength(5);
    a.received.forEach((got, i) => expect(got).toBe(message(`/r${i}`).toString('latin1')));
    expect(idleSockets()).toBe(Math.max(idle0, 1));
  });

  it('a socket closed before it connected carries nothing of its request to the next connection', async () => {
    const a = await server(ok('a'));
    const b = await server(ok('b'));
    await settled();
    await exchange(a.endpoint, '/first');
    await settled();
    const idle = idleSockets();
    // Closed at once: the request was never written, and the socket goes back to the idle ones
    // (one that still held a listener of its exchange would be left out).
    await exchange(a.endpoint, '/never-sent', 'at-once');
    await settled();
    expect(idleSockets()).toBe(idle);
    expect(await exchange(b.endpoint, '/b')).toMatchObject({ status: 200, body: 'b' });
    await settled();
    expect(b.received).toEqual([message('/b').toString('latin1')]);
    expect(a.received.join('')).not.toContain('/never-sent');
  });

  it('after a refused connection or a reset, the next exchange on a reused socket is whole', async () => {
    const refused = await server(ok('x'));
    const port = refused.endpoint.port;
    await new Promise((r) => servers.pop()!.close(r));
    expect(await exchange({ address: '127.0.0.1', port }, '/')).toMatchObject({ error: 'ECONNREFUSED', connected: false });
    await settled();
    const reset = await server((sock) => { sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart'); setTimeout(() => sock.resetAndDestroy(), 10); });
    expect((await exchange(reset.endpoint, '/')).error).toBeDefined();
    await settled();
    const good = await server(ok('fine'));
    for (let i = 0; i < 3; i++) {
      expect(await exchange(good.endpoint, `/g${i}`)).toEqual({ status: 200, body: 'fine', connected: true, error: undefined });
      await settled();
    }
    expect(good.received).toEqual([0, 1, 2].map((i) => message(`/g${i}`).toString('latin1')));
  });

  it('exchanges at once each get their own connection, and as many sockets wait afterwards', async () => {
    const a = await server((sock, got) => setTimeout(() => ok(got.split(' ')[1])(sock), 5));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(a.endpoint, `/p${i}`)));
    results.forEach((r, i) => expect(r).toMatchObject({ status: 200, body: `/p${i}` }));
    await settled();
    expect(idleSockets()).toBeGreaterThanOrEqual(20);
    expect(idleSockets()).toBeLessThanOrEqual(1024);
  });
});
