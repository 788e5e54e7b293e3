// A response body kept as the list of its encoded chunks, written to the socket as they are.
//
// Why: a scrape is ~1.9 MB of text per 1 000 checks (19 MB at 10 000), and most of it already
// exists encoded: the check series keep each block of lines as a Buffer until one of its values
// changes (check-series.ts). Copying those blocks into one body cost a copy per scrape and a
// body as large as the scrape held for the next one (two at a time when scrapes overlap), so
// the blocks are handed to the socket themselves; only text made for this scrape is encoded
// here: the exporter's own families, and blocks whose values moved since the last scrape, which
// go into reused scratch pieces (appendScratch). A joined string of the whole scrape is avoided
// for the same reason as before: it would be allocated in V8's old space on every scrape.
import type { ServerResponse } from 'node:http';

/**
 * Scratch for text encoded for one response only (the blocks of values that move every run,
 * check-series.ts): 1 MB pieces, handed back when the response has been written and reused by
 * the next scrape. Buffers made per scrape instead were freed only when V8's full collector found
 * their wrappers dead, so several scrapes of them stayed resident.
 */
const SCRATCH_BYTES = 1 << 20;
/** Pieces kept for reuse at most (two overlapping scrapes of 10 000 checks need ~24). */
const SCRATCH_KEPT = 32;
const spare: Buffer[] = [];

export class TextBody {
  private chunks: Buffer[] = [];
  private bytesSoFar = 0;
  /** Scratch pieces this body writes into; `used` bytes of the last one are taken. */
  private scratch: Buffer[] = [];
  private used = 0;

  /** Bytes appended so far. */
  get length(): number {
    return this.bytesSoFar;
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
    this.bytesSoFar += bytes.length;
  }

  /** Append text encoded into the body's scratch: for text no later response will send as it is. */
  appendScratch(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    if (n > SCRATCH_BYTES) return this.append(text);
    let piece = this.scratch.at(-1);
    if (!piece || this.used + n > SCRATCH_BYTES) {
      piece = spare.pop() ?? Buffer.allocUnsafeSlow(SCRATCH_BYTES);
      this.scratch.push(piece);
      this.used = 0;
    }
    piece.write(text, this.used, n, 'utf8');
    this.appendBytes(piece.subarray(this.used, this.used + n));
    this.used += n;
  }

  /** Give the scratch back for reuse: only once nothing will read the chunks again. */
  release(): void {
    for (const piece of this.scratch) if (spare.length < SCRATCH_KEPT) spare.push(piece);
    this.scratch = [];
    this.used = 0;
  }

  /** The whole body as one Buffer (a copy: for tests and small bodies). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.bytesSoFar);
  }

  /**
   * Write the chunks to `res` and end it: corked, so Node hands them to the kernel in one
   * vectored write rather than one call per block. The caller has set status and headers.
   */
  writeTo(res: ServerResponse): void {
    res.setHeader('Content-Length', this.bytesSoFar);
    // 'finish': every byte was handed to the kernel, so the scratch can be written again. A
    // response cut short never finishes; its scratch is left to the garbage collector.
    if (this.scratch.length) res.once('finish', () => this.release());
    res.cork();
    for (const chunk of this.chunks) res.write(chunk);
    res.end();
  }
}
