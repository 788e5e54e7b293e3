// A response body assembled in one Buffer that is reused from scrape to scrape.
//
// Why: with 1 000 checks a scrape is ~1.4 MB of text. Joined into one string, that string is
// too big for V8's young generation and lands straight in the old one (and its encoded copy in
// a fresh 1.4 MB Buffer): four scrapes a second grew the old space by ~5 MB/s, which is what
// set the exporter's peak RSS (measured with `npm run bench -- exporter`). Appending chunks of
// a few tens of KB keeps every string short-lived and young, and the bytes go to one Buffer
// that is handed back once the response has been flushed.

const INITIAL_BYTES = 64 * 1024;

export class TextBody {
  private buf: Buffer;
  private len = 0;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  get length(): number {
    return this.len;
  }

  append(text: string): void {
    if (!text) return;
    // UTF-8 needs at most 3 bytes per UTF-16 unit; only measure when that bound does not fit.
    if (this.buf.length - this.len < text.length * 3) this.reserve(Buffer.byteLength(text));
    this.len += this.buf.write(text, this.len);
  }

  appendBytes(bytes: Buffer): void {
    if (this.buf.length - this.len < bytes.length) this.reserve(bytes.length);
    this.len += bytes.copy(this.buf, this.len);
  }

  /** The bytes so far; valid until the next reset() of this body. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }

  private reserve(bytes: number): void {
    const need = this.len + bytes;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/**
 * Hands out bodies for responses and takes them back when a response has been flushed. A
 * body whose response was cut short is not taken back: the socket may still hold its bytes.
 */
export class TextBodyPool {
  private idle: TextBody[] = [];

  constructor(private readonly max = 2) {}

  take(): TextBody {
    const body = this.idle.pop() ?? new TextBody();
    body.reset();
    return body;
  }

  give(body: TextBody): void {
    if (this.idle.length < this.max) this.idle.push(body);
  }
}
