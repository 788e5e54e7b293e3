// A bounded HTTP GET for probes that read an API or a metrics endpoint (promql, metrics): one
// connection per run, the run's AbortSignal, and a body size limit enforced while reading.
import { registerSecret } from '../../config/secrets.js';
import { lazy, warm } from './lazy.js';
import { z } from 'zod';

export const httpAuthFields = {
  /** Extra request headers (e.g. X-Scope-OrgID for Mimir/Cortex). */
  headers: z.record(z.string(), z.string()).default({}),
  basic_auth: z.strictObject({ username: z.string(), password: z.string() }).optional(),
  bearer_token: z.string().min(1).optional(),
  tls: z.strictObject({ insecure_skip_verify: z.boolean().default(false) }).default({ insecure_skip_verify: false }),
};

export interface HttpAuth {
  headers: Record<string, string>;
  basic_auth?: { username: string; password: string };
  bearer_token?: string;
  tls: { insecure_skip_verify: boolean };
}

export function authHeaders(a: HttpAuth): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'Vigil/1 (+health probe)', ...a.headers };
  if (a.basic_auth) h.authorization = `Basic ${Buffer.from(`${a.basic_auth.username}:${a.basic_auth.password}`).toString('base64')}`;
  if (a.bearer_token) h.authorization = `Bearer ${a.bearer_token}`;
  return h;
}

export class BodyTooLarge extends Error {}

/** When a check is created: its credentials are secrets from now on, and the HTTP client starts loading. */
export function prepareHttpGet(a: HttpAuth): void {
  if (a.basic_auth) registerSecret(a.basic_auth.password);
  if (a.bearer_token) registerSecret(a.bearer_token);
  warm(loadUndici);
}

export function httpAuthProblems(a: HttpAuth): Array<[Array<string | number>, string]> {
  return a.basic_auth && a.bearer_token ? [[['bearer_token'], 'set basic_auth or bearer_token, not both']] : [];
}

const loadUndici = lazy(() => import('undici'));

export interface GetResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
}

/**
 * GET `url`; every chunk of the body goes to `onChunk` (nothing is buffered here). Fails with
 * BodyTooLarge past `maxBytes`.
 */
export async function boundedGet(url: string, opts: { headers: Record<string, string>; signal: AbortSignal; maxBytes: number; insecure?: boolean; onChunk(chunk: Buffer): void }): Promise<GetResult> {
  const { Agent, request } = await loadUndici();
  // A fresh dispatcher per run: a new connection each time, closed afterwards (blackbox style).
  const dispatcher = new Agent({ connect: { rejectUnauthorized: !opts.insecure }, pipelining: 0 });
  try {
    const res = await request(url, { method: 'GET', headers: opts.headers, signal: opts.signal, dispatcher });
    let bytes = 0;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > opts.maxBytes) throw new BodyTooLarge(`body larger than max_body_bytes (${opts.maxBytes} bytes)`);
        opts.onChunk(chunk as Buffer);
      }
    } finally {
      res.body.destroy();
    }
    return { status: res.statusCode, headers: res.headers, bytes };
  } finally {
    void dispatcher.destroy().catch(() => {});
  }
}

/** Collect a bounded body into one buffer (small JSON answers). */
export async function boundedGetBuffer(url: string, opts: { headers: Record<string, string>; signal: AbortSignal; maxBytes: number; insecure?: boolean }): Promise<GetResult & { body: Buffer }> {
  const chunks: Buffer[] = [];
  const r = await boundedGet(url, { ...opts, onChunk: (c) => chunks.push(c) });
  return { ...r, body: Buffer.concat(chunks) };
}
