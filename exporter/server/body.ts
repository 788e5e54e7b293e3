// Request bodies with a size limit; a bad body is a 400 with a reason, never a crash.
import type { Context } from 'koa';
import { RequestError } from '../model/request.js';

/** The server's name for a RequestError (kinds' endpoints throw the same class). */
export { RequestError as HttpError };
const HttpError = RequestError;

export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // The client closed the connection before the end of the body ("aborted", ECONNRESET): its
    // doing, not a server error, and nobody is left to read the answer. A 4xx keeps it out of
    // the error log, which a client could otherwise fill at will.
    throw new HttpError(400, 'request body incomplete: the connection closed before its end');
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON body; an empty body is `undefined`. */
export async function readJson(ctx: Context, limit = 1024 * 1024): Promise<unknown> {
  const buf = await readBody(ctx, limit);
  if (!buf.length) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}
