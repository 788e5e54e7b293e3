// Every route the exporter serves, in one table: method, path, who may call it, handler. The
// router is built from this table and each route's auth check is attached to that route itself,
// so no second path matcher can ever disagree with the router about what a path is (issue 12:
// `/API/v1/status` once reached the handler while a case-sensitive gate waved it through).
// Matching is case-sensitive, like Prometheus and Go's mux: `/API/v1/status` is simply 404.
import Router, { type RouterMiddleware as Middleware } from '@koa/router';
import type { Middleware as KoaMiddleware } from 'koa';

/**
 * Who may call a route.
 * - `public`: anyone (still behind the web config's basic_auth_users when that is set).
 * - `status_page`: the page, its assets and read-only JSON: server.status_page_auth when set.
 * - `admin`: the admin token (server.admin_token / VIGIL_ADMIN_TOKEN).
 * - `webhook`: the webhook token or the admin token.
 * - `heartbeat`: the check's own token, else server.heartbeat_token / VIGIL_HEARTBEAT_TOKEN.
 */
export type Access = 'public' | 'status_page' | 'admin' | 'webhook' | 'heartbeat';
export const ACCESS: readonly Access[] = ['public', 'status_page', 'admin', 'webhook', 'heartbeat'];

export type Method = 'GET' | 'POST';

export interface Route {
  method: Method;
  /** Full path in @koa/router syntax (`/api/v1/checks/:name`). GET routes also answer HEAD. */
  path: string;
  access: Access;
  handlers: Middleware[];
}

/** A view of the table under a path prefix, so route files read like a router. */
export interface RouteScope {
  get(path: string, access: Access, ...handlers: Middleware[]): void;
  post(path: string, access: Access, ...handlers: Middleware[]): void;
}

export class RouteTable implements RouteScope {
  readonly routes: Route[] = [];

  get(path: string, access: Access, ...handlers: Middleware[]): void {
    this.add('GET', path, access, handlers);
  }

  post(path: string, access: Access, ...handlers: Middleware[]): void {
    this.add('POST', path, access, handlers);
  }

  under(prefix: string): RouteScope {
    const join = (p: string) => (p === '/' ? prefix : prefix + p);
    return {
      get: (path, access, ...handlers) => this.add('GET', join(path), access, handlers),
      post: (path, access, ...handlers) => this.add('POST', join(path), access, handlers),
    };
  }

  private add(method: Method, path: string, access: Access, handlers: Middleware[]): void {
    if (!ACCESS.includes(access)) throw new Error(`route ${method} ${path}: unknown access "${access}"`);
    if (this.routes.some((r) => r.method === method && r.path === path)) throw new Error(`route ${method} ${path} declared twice`);
    this.routes.push({ method, path, access, handlers });
  }

  /**
   * One router for the whole table. `guard(access)` is the route's own first middleware, so a
   * request reaches a handler only through the check its route declares.
   */
  router(guard: (access: Access) => KoaMiddleware): Router {
    const router = new Router({ sensitive: true });
    for (const r of this.routes) {
      const chain = [guard(r.access), ...r.handlers];
      if (r.method === 'GET') router.get(r.path, ...chain);
      else router.post(r.path, ...chain);
    }
    return router;
  }
}
