// A local HTTP(S) server whose behaviour a test can change at run time: status, delay, body,
// headers, or hang without answering. Listens on 127.0.0.1:0.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCert } from './certs.js';

export interface TargetBehaviour {
  status?: number;
  delayMs?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the probe's timeout must fire). */
  hang?: boolean;
}

export interface HttpTarget {
  url: string;
  port: number;
  set(b: TargetBehaviour): void;
  /** Per-path overrides, e.g. redirects. */
  route(path: string, handler: http.RequestListener): void;
  hits(): number;
  close(): Promise<void>;
}

export async function startHttpTarget(opts: { tls?: TestCert; port?: number } = {}): Promise<HttpTarget> {
  let behaviour: TargetBehaviour = { status: 200, body: '{"status":"ok"}', headers: { 'content-type': 'application/json' } };
  const routes = new Map<string, http.RequestListener>();
  let hits = 0;
  const handler: http.RequestListener = (req, res) => {
    hits++;
    const custom = routes.get(req.url ?? '/');
    if (custom) return custom(req, res);
    const b = behaviour;
    if (b.hang) return; // leave the socket open
    const answer = () => {
      res.writeHead(b.status ?? 200, b.headers ?? {});
      res.end(b.body ?? '');
    };
    if (b.delayMs) setTimeout(answer, b.delayMs);
    else answer();
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    set: (b) => { behaviour = { ...behaviour, ...b }; },
    route: (p, h) => routes.set(p, h),
    hits: () => hits,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
