// Route templates for http.route. Express needs nothing (req.route and req.baseUrl are there when
// the response finishes). Koa keeps the matched route on its context (`ctx._matchedRoute`, set by
// @koa/router), which the raw request cannot reach: one extra assignment in createContext links
// them, through the request's socket.

import { kKoaContext } from './http.js';
import { requestMatcher, type LoadPatch } from './load-hook.js';

const kPatched = Symbol.for('vigil.instrument.patched');

interface KoaApplication {
  prototype: {
    createContext(req: object, res: object): object;
    handleRequest?: unknown;
    callback?: unknown;
    [kPatched]?: boolean;
  };
}

export const koaPatch: LoadPatch = {
  matches: requestMatcher('koa', 'lib/application.js'),
  patch(exports) {
    const proto = typeof exports === 'function' ? (exports as unknown as KoaApplication).prototype : undefined;
    if (!proto || typeof proto.createContext !== 'function' || typeof proto.callback !== 'function') return;
    if (proto[kPatched]) return;
    const original = proto.createContext;
    // Kept on the socket (set once per connection, then overwritten), not on the request: adding a
    // property to every IncomingMessage costs V8 an allocation per request.
    proto.createContext = function createContext(this: unknown, req: { socket?: Record<symbol, unknown> | null }, res: object) {
      const ctx = original.call(this, req, res);
      const sock = req.socket;
      if (sock) sock[kKoaContext] = ctx;
      return ctx;
    };
    proto[kPatched] = true;
  },
};
