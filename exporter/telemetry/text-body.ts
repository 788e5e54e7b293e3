// A response body made of encoded chunks, written to the socket as they come.
//
// Why: a scrape is ~1.9 MB of text per 1 000 checks (19 MB at 10 000), and most of it already
// exists encoded: the check series keep blocks of lines encoded between scrapes and rewrite in
// place the lines whose values changed (check-series.ts). Those blocks are copied into reused
// scratch pieces (appendCopy), as is text made for this scrape alone (appendScratch): a body as
// large as the scrape, or Buffers made per scrape, were held until V8's full collector found
// them dead. Bytes that never change (family headers) go to the socket as they are. A joined
// string of the whole scrape is avoided for the same reason: it would be allocated in V8's old
// space on every scrape.
//
// With a response to write to, the body streams: every SCRATCH_BYTES it hands what it has to the
// socket, and a scratch piece the kernel took whole is written again at once. A scrape of 10 000
// checks then holds a piece or two of scratch instead of one piece a megabyte of moved text
// (18 MB that stayed resident in the spare pool: issue 18's RSS). A client that reads slower
// than the exporter renders leaves pieces queued in the socket; those are held until the
// response finishes, as before.
import type { ServerResponse } from 'node:http';

/**
 * Scratch for text encoded for one response only: 1 MB pieces, handed back when the response has
 * been written and reused by the next scrape. Buffers made per scrape instead were freed only
 * when V8's full collector found their wrappers dead, so several scrapes of them stayed resident.
 */
const SCRATCH_BYTES = 1 << 20;
/** Pieces kept for reuse at most: a streamed scrape needs one or two while the client keeps up. */
const SCRATCH_KEPT = 4;
const spare: Buffer[] = [];

export class TextBody {
  /** Chunks appended and not yet written (all of them when the body is not streamed). */
  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private bytesSoFar = 0;
  /** The scratch piece being written into; `used` bytes of it are taken. */
  private piece: Buffer | undefined;
  private used = 0;
  /** Pieces still referenced by chunks: unwritten ones, or ones queued in the socket. */
  private held: Buffer[] = [];
  /** Scratch pieces this body has taken (a piece written again counts once). */
  private taken = 0;
  /** The last chunk, when it is scratch that ends where the piece's free room starts: the next scratch extends it. */
  private tail: Buffer | undefined;

  /**
   * `res`: stream to this response (status and headers set, no Content-Length: it goes out
   * chunked); end() finishes it. Without one, the chunks are collected for bytes().
   */
  constructor(private readonly res?: ServerResponse) {}

  /** Bytes appended so far. */
  get length(): number {
    return this.bytesSoFar;
  }

  /** Scratch pieces taken so far: what the body's moved text cost in memory. */
  get scratchPieces(): number {
    return this.taken;
  }

  append(text: string): void {
    if (text) this.appendBytes(Buffer.from(text, 'utf8'));
  }

  /**
   * Append encoded bytes as they are, without a copy: the caller must never change them
   * afterwards (the check series replace a block's Buffer when its lines change, never write
   * into it).
   */
  appendBytes(bytes: Buffer): void {
    if (!bytes.length) return;
    this.chunks.push(bytes);
    this.pendingBytes += bytes.length;
    this.bytesSoFar += bytes.length;
    if (this.res && this.pendingBytes >= SCRATCH_BYTES) this.flush();
  }

  /** Append text encoded into scratch: for text no later response will send as it is. */
  appendScratch(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    if (n > SCRATCH_BYTES) return this.append(text);
    const at = this.reserve(n);
    this.piece!.write(text, at, n, 'utf8');
    this.commit(n);
  }

  /** Append a copy, made in scratch, of bytes the caller changes afterwards. */
  appendCopy(bytes: Buffer): void {
    const n = bytes.length;
    if (n > SCRATCH_BYTES) return this.appendBytes(Buffer.from(bytes));
    if (!n) return;
    const at = this.reserve(n);
    bytes.copy(this.piece!, at);
    this.commit(n);
  }

  /** The whole body as one Buffer (a copy: for tests and small bodies; not once streamed). */
  bytes(): Buffer {
    if (this.res) throw new Error('TextBody.bytes(): the body was streamed');
    return Buffer.concat(this.chunks, this.bytesSoFar);
  }

  /** Write what is left and end the response; the scratch goes back to the pool once it is sent. */
  end(): void {
    const res = this.res;
    if (!res) throw new Error('TextBody.end(): no response to end');
    this.flush();
    if (this.piece) this.held.push(this.piece);
    this.piece = undefined;
    const held = this.held;
    this.held = [];
    // 'finish': every byte was handed to the kernel. A response cut short never finishes; its
    // scratch is left to the garbage collector.
    if (held.length) res.once('finish', () => release(held));
    res.end();
  }

  /** Where `n` bytes go in the current scratch piece (a new one when it has no room). */
  private reserve(n: number): number {
    if (!this.piece || this.used + n > SCRATCH_BYTES) this.nextPiece();
    return this.used;
  }

  /**
   * The `n` bytes just written at the reserved place become the body's next chunk, or the end of
   * the last one when that is scratch right before them: a scrape's blocks go to the socket as a
   * few large pieces of a writev rather than one small piece each.
   */
  private commit(n: number): void {
    const last = this.chunks.length - 1;
    if (this.tail && this.chunks[last] === this.tail) {
      const start = this.tail.byteOffset - this.piece!.byteOffset;
      this.chunks[last] = this.tail = this.piece!.subarray(start, this.used + n);
      this.used += n;
      this.pendingBytes += n;
      this.bytesSoFar += n;
      if (this.res && this.pendingBytes >= SCRATCH_BYTES) this.flush();
      return;
    }
    const chunk = this.piece!.subarray(this.used, this.used + n);
    this.used += n;
    this.appendBytes(chunk);
    if (this.chunks[this.chunks.length - 1] === chunk) this.tail = chunk;
  }

  /**
   * A piece with room: the current one again when streaming and the socket took all of it (the
   * kernel copied the bytes), else a spare or a new one.
   */
  private nextPiece(): void {
    if (this.piece && this.res) {
      this.flush();
      if (this.res.writableLength === 0) {
        this.used = 0;
        return;
      }
    }
    if (this.piece) this.held.push(this.piece);
    this.tail = undefined; // a chunk of the piece left behind
    this.piece = spare.pop() ?? Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    this.taken++;
    this.used = 0;
  }

  /**
   * Hand the pending chunks to the socket in one vectored write (corked: one writev rather than
   * a call per block). A write the kernel takes at once completes before this returns.
   */
  private flush(): void {
    const res = this.res!;
    if (!this.chunks.length) return;
    res.cork();
    for (const chunk of this.chunks) res.write(chunk);
    res.uncork();
    this.chunks = [];
    this.pendingBytes = 0;
  }
}

function release(pieces: Buffer[]): void {
  for (const piece of pieces) if (spare.length < SCRATCH_KEPT) spare.push(piece);
}

/** Scratch pieces waiting in the pool (for tests). */
export function spareScratch(): number {
  return spare.length;
}
