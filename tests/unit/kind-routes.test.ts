// A kind's endpoints come from its own declaration (ProbeDefinition.routes), mounted by the
// server under /api/v1 with the access they name; its own token (ownToken) is the kind's to say.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../exporter/engine/state.js';
import { RequestError } from '../../exporter/model/request.js';
import type { KindRoute, ProbeDefinition } from '../../exporter/probes/types.js';
import { credentialsFor } from '../../exporter/server/auth.js';
import { HttpError } from '../../exporter/server/body.js';
import { RouteTable, type Access } from '../../exporter/server/route-table.js';
import { kindRoutes } from '../../exporter/server/routes/kinds.js';
import { parseConfig } from '../support/config.js';

const echo: KindRoute = {
  method: 'POST', path: '/echo/:name', access: 'public',
  handle: async (req, ctx) => {
    if (!ctx.check(req.params.name)) throw new RequestError(404, `no check "${req.params.name}"`);
    return { status: 201, headers: { 'X-Kind': 'echo' }, body: { name: req.params.name, got: (await req.body(8)).toString(), store: ctx.store('s') } };
  },
};
const echoKind = { type: 'echo', routes: [echo] } as unknown as ProbeDefinition;

const servers: http.Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function serve(state: StateStore): Promise<{ url: string; access: Access[] }> {
  const table = new RouteTable();
  kindRoutes({ state, scheduler: { runNow: () => undefined }, stores: { s: 'the store' } }, table, [echoKind]);
  const app = new Koa();
  app.use(async (ctx, next) => {
    try { await next(); } catch (err) { ctx.status = err instanceof HttpError ? err.status : 500; ctx.body = { error: (err as Error).message }; }
  });
  app.use(table.router(() => (_ctx, next) => next()).routes());
  const server = http.createServer(app.callback());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, access: table.routes.map((r) => r.access) };
}

describe('kind routes', () => {
  it('mounts what a kind declares, with its access, and answers from its handler', async () => {
    const state = new StateStore();
    const cfg = parseConfig('checks:\n  - { name: a, type: tcp, host: h, port: 1 }\n', 'v.yml');
    state.applyConfig(cfg, new Set());
    const { url, access } = await serve(state);
    expect(access).toEqual(['public']);
    const ok = await fetch(`${url}/api/v1/echo/a`, { method: 'POST', body: 'hi' });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('x-kind')).toBe('echo');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toEqual({ name: 'a', got: 'hi', store: 'the store' });
    const missing = await fetch(`${url}/api/v1/echo/b`, { method: 'POST' });
    expect(missing.status).toBe(404);
    const tooLong = await fetch(`${url}/api/v1/echo/a`, { method: 'POST', body: 'x'.repeat(100) });
    expect(tooLong.status).toBe(413);
  });

  it('takes a check\'s own token only from a kind that declares one', () => {
    const state = new StateStore();
    const yaml = 'checks:\n  - { name: hb, type: heartbeat, period: 1h, token: own-token-0123456789 }\n  - { name: db, type: redis, dsn: "redis://h:6379", password: pw }\n';
    state.applyConfig(parseConfig(yaml, 'v.yml'), new Set());
    const creds = credentialsFor({ config: () => undefined, state, env: { VIGIL_HEARTBEAT_TOKEN: 'server-token-0123456789' } });
    expect(creds.heartbeat('hb')).toBe('own-token-0123456789');
    expect(creds.heartbeat('db')).toBe('server-token-0123456789');
    expect(creds.heartbeat('nope')).toBe('server-token-0123456789');
  });
});
