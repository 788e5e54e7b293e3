// A fetch() answer's body read whole, within a byte budget and a deadline. A server that
// streams without end, or slowly, must cost neither memory nor a hung call: the stream is
// cancelled at either limit and the caller gets an error, never a truncated body.

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`answer larger than ${maxBytes} bytes`);
  }
}

/** The body of `res` as UTF-8 text. Throws BodyTooLargeError past `maxBytes`, an error named TimeoutError past `timeoutMs`. */
export async function readBodyBounded(res: Response, maxBytes: number, timeoutMs: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  // A timer, not a check between reads: a read that never returns is the case to bound.
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) break;
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw Object.assign(new Error(`no whole answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
  return Buffer.concat(chunks).toString('utf8');
}
