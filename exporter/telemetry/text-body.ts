// A response body kept as the list of its encoded chunks, written to the socket as they are.
//
// Why: a scrape is ~1.9 MB of text per 1 000 checks (19 MB at 10 000), and most of it already
// exists encoded: the check series keep each block of lines as a Buffer until one of its values
// changes (check-series.ts). Copying those blocks into one body cost a copy per scrape and a
// body as large as the scrape held for the next one (two at a time when scrapes overlap), so
// the blocks are handed to the socket themselves; only text made for this scrape (the
// exporter's own families) is encoded here. A joined string of the whole scrape is avoided for
// the same reason as before: it would be allocated in V8's old space on every scrape.
import type { ServerResponse } from 'node:http';

export class TextBody {
  private chunks: Buffer[] = [];
  private bytesSoFar = 0;

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
    res.cork();
    for (const chunk of this.chunks) res.write(chunk);
    res.end();
  }
}
