// Incidents and the record of events against the compiled exporter: an outage of a dependency
// and of what depends on it is one incident with the dependency as root cause; a restart during
// it creates no new incident, status change or recovery, and the recovery after the restart ends
// the same incident; a restart while healthy reports no recovery. The events query endpoint
// (filters, search, cursor, CSV), operator actions (reload, manual run) as events, the incident
// detail and MTTR/MTBF.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const ADMIN = 'admin-token-incidents-0123456789';
const running: RunningExporter[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function listen(port = 0): Promise<net.Server> {
  const s = net.createServer((c) => c.end());
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}
const close = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

async function start(dir: string, config: string): Promise<RunningExporter> {
  const ex = await startExporter({ config, dir });
  running.push(ex);
  return ex;
}
async function stop(ex: RunningExporter): Promise<void> {
  await ex.stop();
  running.splice(running.indexOf(ex), 1);
}

const get = async <T = any>(ex: RunningExporter, p: string): Promise<T> => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(ex.url + p);
  expect(res.status, `${p}: ${res.status}`).toBe(200);
  return (await res.json()) as T;
};

interface EventDoc { id: number; kind: string; check: string | null; component: string | null; from: string | null; to: string | null; reason: string | null; message: string | null; values: any; actor: string | null } // eslint-disable-line @typescript-eslint/no-explicit-any
const statusEvents = async (ex: RunningExporter, check: string) =>
  ((await get<{ events: EventDoc[] }>(ex, `/api/v1/record/events?check=${check}&kind=check_status&limit=1000`)).events).reverse().map((e) => `${e.from}->${e.to}`);

/** The check has run since `since` and that run is in the database (the flush after it came and went). */
async function ranSince(ex: RunningExporter, check: string, since: number): Promise<void> {
  await waitFor(async () => {
    const c = await get<{ last_run: string | null }>(ex, `/api/v1/checks/${check}`);
    return c.last_run !== null && Date.parse(c.last_run) > since;
  }, 20_000);
  await new Promise((r) => setTimeout(r, 2_200)); // > one flush (1 s) and the read cache (1 s)
}

describe('incidents across restarts (compiled exporter)', () => {
  it('one incident for an outage spanning a restart; no new incident or recovery from the restart; the recovery after it ends it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-incidents-it-'));
    dirs.push(dir);
    let db = await listen();
    let api = await listen();
    const dbPort = portOf(db), apiPort = portOf(api);
    // Checks every 2 s with a 2 s timeout: the test counts every status change, and at 200 ms a
    // stall of a loaded CI box made a run a timeout, i.e. a change of its own.
    const config = `server: { admin_token: ${ADMIN} }
components:
  - { name: db }
  - { name: api, depends_on: [db] }
checks:
  - { name: db-tcp, type: tcp, component: db, host: 127.0.0.1, port: ${dbPort}, interval: 2s, timeout: 2s, retries: 0 }
  - { name: api-tcp, type: tcp, component: api, host: 127.0.0.1, port: ${apiPort}, interval: 2s, timeout: 2s, retries: 0 }
`;
    let ex = await start(dir, config);
    await waitFor(async () => (await statusEvents(ex, 'db-tcp')).length === 1 && (await statusEvents(ex, 'api-tcp')).length === 1, 20_000);
    expect((await get(ex, '/api/v1/incidents')).total).toBe(0);

    // The outage: the dependency and what depends on it.
    await close(db);
    await close(api);
    const open = await waitFor(async () => {
      const l = await get(ex, '/api/v1/incidents?state=open');
      return l.total === 1 && l.incidents[0].failing.length === 2 ? l.incidents[0] : undefined;
    }, 20_000);
    expect(open).toMatchObject({ state: 'open', status: 'critical', root_cause: ['db'], ended_at: null });
    expect([...open.checks].sort()).toEqual(['api-tcp', 'db-tcp']);
    expect([...open.components].sort()).toEqual(['api', 'db']);
    const critical = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?check=db-tcp&status=critical')).events;
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatchObject({ kind: 'check_status', from: 'healthy', to: 'critical', reason: 'connect', values: { violations: [], attempts: 1 } });
    expect(critical[0].message).toMatch(/refused/i);
    const components = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=component_status&component=db')).events;
    expect(components.map((e) => `${e.from}->${e.to}`)).toEqual(['healthy->critical', 'unknown->healthy']);

    // Restart during the outage.
    await stop(ex);
    const restartedAt = Date.now();
    ex = await start(dir, config);
    await ranSince(ex, 'db-tcp', restartedAt);
    await ranSince(ex, 'api-tcp', restartedAt);
    expect((await get(ex, '/api/v1/checks/db-tcp')).status).toBe('critical');
    expect(await statusEvents(ex, 'db-tcp')).toEqual(['unknown->healthy', 'healthy->critical']);
    expect(await statusEvents(ex, 'api-tcp')).toEqual(['unknown->healthy', 'healthy->critical']);
    expect((await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=component_status')).events).toHaveLength(4);
    const still = await get(ex, '/api/v1/incidents');
    expect(still.total).toBe(1);
    expect(still.incidents[0]).toMatchObject({ id: open.id, state: 'open', started_at: open.started_at });

    // Recovery after the restart ends the same incident.
    db = await listen(dbPort);
    api = await listen(apiPort);
    const closed = await waitFor(async () => {
      const l = await get(ex, '/api/v1/incidents');
      return l.incidents[0]?.state === 'closed' ? l : undefined;
    }, 20_000);
    expect(closed.total).toBe(1);
    expect(closed.incidents[0]).toMatchObject({ id: open.id, started_at: open.started_at, failing: [] });
    expect(closed.incidents[0].duration_seconds).toBeGreaterThan((Date.parse(closed.incidents[0].ended_at) - restartedAt) / 1000);
    expect(await statusEvents(ex, 'db-tcp')).toEqual(['unknown->healthy', 'healthy->critical', 'critical->healthy']);
    // The components' recovery is told from the status they had before the restart.
    await waitFor(async () => (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=component_status')).events.length === 6, 20_000);
    const comps = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=component_status&component=db')).events;
    expect(comps.map((e) => `${e.from}->${e.to}`)).toEqual(['critical->healthy', 'healthy->critical', 'unknown->healthy']);

    // The detail: its timeline (both checks' and components' changes), no alerts (no Alertmanager here).
    const detail = await get(ex, `/api/v1/incidents/${open.id}`);
    expect(detail).toMatchObject({ id: open.id, state: 'closed', root_cause: ['db'], alerts: [], notifications: [] });
    expect(detail.timeline.filter((e: EventDoc) => e.kind === 'check_status').map((e: EventDoc) => `${e.check} ${e.to}`).sort())
      .toEqual(['api-tcp critical', 'api-tcp healthy', 'db-tcp critical', 'db-tcp healthy']);

    // MTTR/MTBF: one failure of db-tcp, repaired: its time to repair is that of its own two changes.
    // (Not the incident's duration, which runs from the first of the two checks failing to the last
    // recovering: as far apart from db-tcp's as the checks' phases and a loaded box put them.)
    const rel = await get(ex, '/api/v1/record/reliability?check=db-tcp');
    expect(rel.checks).toHaveLength(1);
    expect(rel.checks[0].windows['24h']).toMatchObject({ failures: 1, repairs: 1 });
    const dbChanges = (await get<{ events: Array<EventDoc & { time: string }> }>(ex, '/api/v1/record/events?check=db-tcp&kind=check_status')).events;
    const changeAt = (to: string) => Date.parse(dbChanges.find((e) => e.from === (to === 'critical' ? 'healthy' : 'critical') && e.to === to)!.time);
    expect(rel.checks[0].windows['24h'].mttr_seconds).toBeCloseTo((changeAt('healthy') - changeAt('critical')) / 1000, 2);
    expect(rel.checks[0].windows['24h'].mttr_seconds).toBeLessThanOrEqual(closed.incidents[0].duration_seconds + 0.001);
    expect(rel.components).toEqual([]);

    // A restart while healthy: the first run is no recovery and no change.
    await stop(ex);
    const again = Date.now();
    ex = await start(dir, config);
    await ranSince(ex, 'db-tcp', again);
    expect(await statusEvents(ex, 'db-tcp')).toEqual(['unknown->healthy', 'healthy->critical', 'critical->healthy']);
    expect((await get(ex, '/api/v1/incidents')).total).toBe(1);
  }, 120_000);
});

describe('the record of events (compiled exporter)', () => {
  it('operator actions are events; filters, text search, cursor paging, CSV; bad parameters are 400s', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-events-it-'));
    dirs.push(dir);
    const target = await listen();
    // A stand-in Alertmanager that accepts every alert.
    const am = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
    servers.push(am as unknown as net.Server);
    await new Promise<void>((r) => am.listen(0, '127.0.0.1', r));
    const config = `server: { admin_token: ${ADMIN}, alertmanager_url: "http://127.0.0.1:${(am.address() as net.AddressInfo).port}" }
checks:
  - { name: up, type: tcp, host: 127.0.0.1, port: ${portOf(target)}, interval: 1h, timeout: 1s, retries: 0 }
  - { name: down, type: tcp, host: 127.0.0.1, port: 1, interval: 1h, timeout: 1s, retries: 0 }
`;
    const ex = await start(dir, config);
    const auth = { authorization: `Bearer ${ADMIN}` };
    expect((await fetch(`${ex.url}/-/reload`, { method: 'POST', headers: auth })).status).toBe(200);
    expect((await fetch(`${ex.url}/api/v1/checks/down/run`, { method: 'POST', headers: auth })).status).toBe(200);
    expect((await fetch(`${ex.url}/api/v1/alerts/test`, { method: 'POST', headers: auth })).status).toBe(202);
    const actions = await waitFor(async () => {
      const e = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=reload,manual_run,test_alert')).events;
      return e.length === 3 ? e.slice(1) : undefined;
    });
    const testAlert = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=test_alert')).events[0];
    expect(testAlert).toMatchObject({ kind: 'test_alert', reason: 'ok', values: { labels: { alertname: 'VigilTestAlert' } } });
    expect(testAlert.actor).toMatch(/^POST \/api\/v1\/alerts\/test from /);
    expect(actions[0]).toMatchObject({ kind: 'manual_run', check: 'down', to: 'critical', reason: 'connect' });
    expect(actions[0].actor).toMatch(/^POST \/api\/v1\/checks\/:name\/run from (::ffff:)?127\.0\.0\.1$/);
    expect(actions[1]).toMatchObject({ kind: 'reload', reason: 'ok', values: { checks: 2, added: [], removed: [] } });
    expect(actions[1].actor).toMatch(/^POST \/-\/reload from (::ffff:)?127\.0\.0\.1$/);
    // SIGHUP names itself.
    ex.proc.kill('SIGHUP');
    await waitFor(async () => (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=reload')).events.some((e) => e.actor === 'SIGHUP' && e.reason === 'ok'));
    // A failed reload is an event too, and keeps the running config.
    ex.writeConfig('checks: [ {name: broken');
    expect((await fetch(`${ex.url}/-/reload`, { method: 'POST', headers: auth })).status).toBe(400);
    const failed = await waitFor(async () => (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?kind=reload&q=failed')).events[0]);
    expect(failed).toMatchObject({ kind: 'reload', reason: 'failed' });

    // Text search, filters, cursor.
    await waitFor(async () => (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?q=refused')).events.length >= 1);
    expect((await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?q=refused&check=up')).events).toEqual([]);
    const all = (await get<{ events: EventDoc[] }>(ex, '/api/v1/record/events?limit=1000')).events;
    expect(all.length).toBeGreaterThanOrEqual(5);
    const first = await fetch(`${ex.url}/api/v1/record/events?limit=2`);
    const page1 = (await first.json()) as { events: EventDoc[]; next_cursor: number };
    expect(page1.events.map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    expect(first.headers.get('x-next-cursor')).toBe(String(page1.next_cursor));
    const page2 = await get<{ events: EventDoc[] }>(ex, `/api/v1/record/events?limit=2&cursor=${page1.next_cursor}`);
    expect(page2.events.map((e) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));

    const csv = await fetch(`${ex.url}/api/v1/record/events?format=csv&check=down`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="vigil-events-\d{8}T\d{6}\.csv"/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,time,kind,check,component,from,to,reason,message,actor,values');
    expect(lines.slice(1).every((l) => l.includes(',down,'))).toBe(true);

    for (const bad of ['status=broken', 'kind=check_status,nope', 'limit=0', 'limit=100000', 'cursor=-1', 'format=xml', 'from=yesterday', 'from=1h&to=2h', 'q=%00x', `q=${'x'.repeat(201)}`]) {
      const res = await fetch(`${ex.url}/api/v1/record/events?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: string }).error, bad).toMatch(/^(status|kind|limit|cursor|format|from|q)[:, ]/);
    }
    for (const bad of ['state=maybe', 'offset=-1', 'limit=501']) expect((await fetch(`${ex.url}/api/v1/incidents?${bad}`)).status, bad).toBe(400);
    expect((await fetch(`${ex.url}/api/v1/incidents/abc`)).status).toBe(400);
    expect((await fetch(`${ex.url}/api/v1/incidents/424242`)).status).toBe(404);
  }, 60_000);
});
