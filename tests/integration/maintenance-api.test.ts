// Maintenance windows and acknowledgements through the compiled exporter's API, with a real
// Alertmanager 0.25 whose webhook feeds the exporter's receiver: a window planned, extended and
// ended early moves its silence, /health and /metrics say so, the record keeps the events; an
// alert acknowledged from the API is silenced on its labels. Admin token on every change.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertmanagerClient, type Silence } from '../../exporter/alerts/silences.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const ADMIN = 'admin-token-0123456789';
const WEBHOOK = 'webhook-token-0123456789';
let am: RunningAlertmanager;
let exporter: RunningExporter;
let dir: string;
// The scheduled window must not be running while the tests do: it starts 12 hours from now
// (a fixed 03:00 Berlin made the first test fail from 02:00 to 02:30 UTC).
const NIGHTLY_HOUR = (Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: 'numeric', hourCycle: 'h23' }).format(new Date())) + 12) % 24;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-maint-api-'));
  // The exporter's port is known only once it runs: Alertmanager starts second, with its webhook pointed there.
  exporter = await startExporter({
    timeoutMs: 30_000,
    config: `server:
  admin_token: ${ADMIN}
  webhook_token: ${WEBHOOK}
  alertmanager_url: http://127.0.0.1:9
  alertmanager_timeout: 2s
components:
  - { name: db }
  - { name: web }
checks:
  - { name: db-ping, type: tcp, component: db, host: 127.0.0.1, port: 9, interval: 1s, timeout: 500ms, retries: 0 }
  - { name: web-ping, type: tcp, component: web, host: 127.0.0.1, port: 9, interval: 1s, timeout: 500ms, retries: 0 }
maintenance:
  - name: nightly
    title: Nightly backup
    schedule: "0 ${NIGHTLY_HOUR} * * *"
    duration: 30m
    timezone: Europe/Berlin
    scope: { checks: [db-ping] }
`,
  });
  const file = path.join(dir, 'alertmanager.yml');
  writeFileSync(file, stringify({
    route: { receiver: 'vigil', group_by: ['component'], group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [{ name: 'vigil', webhook_configs: [{ url: `${exporter.url}/api/v1/alerts/webhook`, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: WEBHOOK } } }] }],
  }));
  am = await startAlertmanager({ configFile: file, readyTimeoutMs: 30_000 });
  // Point the exporter at it (a reload applies alertmanager_url).
  const cfg = (await import('node:fs')).readFileSync(exporter.configFile, 'utf8').replace('http://127.0.0.1:9\n', `${am.url}\n`);
  exporter.writeConfig(cfg);
  const r = await post('/-/reload', {});
  expect(r.status).toBe(200);
}, 90_000);

afterAll(async () => {
  await exporter?.stop();
  await am?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

function post(p: string, body: unknown, token: string | null = ADMIN): Promise<Response> {
  return fetch(exporter.url + p, {
    method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}
const get = async (p: string) => (await fetch(exporter.url + p, { signal: AbortSignal.timeout(10_000) })).json();
const silencesOf = async (id: string): Promise<Silence[]> => (await new AlertmanagerClient(am.url).silences()).filter((s) => s.createdBy.includes(id));

describe('maintenance API (compiled exporter, real Alertmanager)', () => {
  it('refuses changes without the admin token and bad windows with a clear 4xx', async () => {
    expect((await post('/api/v1/maintenance', { title: 't', duration: '1h', scope: { components: ['db'] }, by: 'x' }, null)).status).toBe(401);
    const unknown = await post('/api/v1/maintenance', { title: 't', duration: '1h', scope: { components: ['nope'] }, by: 'x' });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toBe('scope.components: unknown component "nope"');
    const both = await post('/api/v1/maintenance', { title: 't', duration: '1h', end: '2030-01-01T00:00:00Z', scope: { components: ['db'] }, by: 'x' });
    expect(both.status).toBe(400);
    const config = await post('/api/v1/maintenance/nightly/end', { by: 'x' });
    expect(config.status).toBe(409);
    expect((await config.json()).error).toMatch(/defined in vigil\.yml/);
    const windows = await get('/api/v1/maintenance');
    expect(windows.windows.map((w: { id: string }) => w.id)).toEqual(['nightly']);
    expect(windows.upcoming[0]).toMatchObject({ id: 'nightly', title: 'Nightly backup' });
    expect(windows.active).toEqual([]);
  });

  it('a window planned, extended and ended early: silence, /health, /metrics and events follow', async () => {
    const created = await post('/api/v1/maintenance', { title: 'DB upgrade', duration: '1h', scope: { components: ['db'] }, by: 'alice', comment: 'CHG-1' });
    expect(created.status).toBe(201);
    const { id, end, created_by } = await created.json();
    expect(id).toMatch(/^mw-[0-9a-f]{10}$/);
    // The page (public unless status_page_auth is set) shows the name only; the record's events keep the address.
    expect(created_by).toBe('alice');
    expect((await get('/api/v1/maintenance')).windows.find((w: { id: string }) => w.id === id)).toMatchObject({ created_by: 'alice', comment: 'CHG-1' });

    const [silence] = await waitFor(async () => { const s = await silencesOf(id); return s.length ? s : undefined; }, 10_000);
    expect(silence.status.state).toBe('active');
    expect(silence.matchers).toEqual([{ name: 'component', value: 'db', isRegex: true, isEqual: true }]);
    expect(Date.parse(silence.endsAt)).toBe(Date.parse(end));

    const health = await get('/health');
    expect(health.components.db).toMatchObject({ state: 'maintenance', maintenance: [{ id, title: 'DB upgrade', checks: ['db-ping'] }] });
    expect(health.components.web.state).not.toBe('maintenance');
    expect(health.maintenance).toEqual([expect.objectContaining({ id, checks: ['db-ping'], components: ['db'] })]);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toContain(`vigil_maintenance_active{window="${id}",check="db-ping",component="db"} 1`);
    expect(metrics).not.toMatch(/vigil_maintenance_active\{[^}]*check="web-ping"/);

    const extended = await post(`/api/v1/maintenance/${id}/extend`, { by_duration: '30m', by: 'alice' });
    expect(extended.status).toBe(200);
    const newEnd = Date.parse((await extended.json()).end);
    expect(newEnd - Date.parse(end)).toBe(30 * 60_000);
    await waitFor(async () => (await silencesOf(id)).some((s) => s.status.state === 'active' && Date.parse(s.endsAt) === newEnd), 10_000);

    const ended = await post(`/api/v1/maintenance/${id}/end`, { by: 'bob' });
    expect(ended.status).toBe(200);
    await waitFor(async () => (await silencesOf(id)).every((s) => s.status.state === 'expired'), 10_000);
    // /health is answered from the read cache (at most ~1 s old).
    await waitFor(async () => (await get('/health')).components.db.state !== 'maintenance', 15_000);
    expect(await (await fetch(`${exporter.url}/metrics`)).text()).not.toContain(`window="${id}"`);
    expect((await post(`/api/v1/maintenance/${id}/end`, { by: 'bob' })).status).toBe(409);

    const events = await waitFor(async () => {
      const e = (await get('/api/v1/record/events?kind=maintenance')).events as Array<{ reason: string; actor: string }>;
      return e.length >= 4 ? e : undefined;
    }, 15_000);
    expect(events.map((e) => e.reason).reverse()).toEqual(['created', 'started', 'extended', 'ended_early']);
    expect(events[0].actor).toMatch(/^bob \(POST \/api\/v1\/maintenance\/mw-[0-9a-f]+\/end from /);
    expect(events[3].actor).toMatch(/^alice \(POST \/api\/v1\/maintenance from /);
  }, 60_000);

  it('acknowledges a firing alert from the API: a silence on its labels, listed, ended by hand', async () => {
    const labels = { alertname: 'VigilCheckCritical', check: 'web-ping', component: 'web', severity: 'critical' };
    await new AlertmanagerClient(am.url).postAlerts([{ labels, annotations: { summary: 's' }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() }]);
    const firing = await waitFor(async () => {
      const a = (await get('/api/v1/alerts')).alerts as Array<{ fingerprint: string; check: string }>;
      return a.find((x) => x.check === 'web-ping');
    }, 20_000);
    expect((await post('/api/v1/acknowledgements', { alert: firing.fingerprint, by: 'carol' }, null)).status).toBe(401);
    expect((await post('/api/v1/acknowledgements', { alert: 'ffffffffffffffff', by: 'carol' })).status).toBe(404);
    const res = await post('/api/v1/acknowledgements', { alert: firing.fingerprint, by: 'carol', comment: 'on it' });
    expect(res.status).toBe(201);
    const ack = await res.json();
    expect(ack).toMatchObject({ by: 'carol', comment: 'on it', until: 'resolved', silenced: true, target: { kind: 'alert', fingerprint: firing.fingerprint } });
    expect((await post('/api/v1/acknowledgements', { alert: firing.fingerprint, by: 'dave' })).status).toBe(409);
    await waitFor(async () => (await am.alerts()).some((a) => a.fingerprint === firing.fingerprint && a.status.silencedBy.length > 0), 10_000);
    expect((await get('/api/v1/acknowledgements')).open.map((a: { id: string }) => a.id)).toEqual([ack.id]);
    expect((await get('/api/v1/maintenance')).acknowledgements.map((a: { id: string }) => a.id)).toEqual([ack.id]);

    const ended = await post(`/api/v1/acknowledgements/${ack.id}/end`, { by: 'carol' });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ id: ack.id, end_reason: 'ended' });
    await waitFor(async () => (await am.alerts()).some((a) => a.fingerprint === firing.fingerprint && a.status.silencedBy.length === 0), 10_000);
    const events = await waitFor(async () => {
      const e = (await get('/api/v1/record/events?kind=acknowledgement')).events as Array<{ reason: string; check: string; message: string }>;
      return e.length >= 2 ? e : undefined;
    }, 15_000);
    expect(events.map((e) => e.reason).reverse()).toEqual(['created', 'ended']);
    expect(events[1]).toMatchObject({ check: 'web-ping', message: expect.stringContaining('carol acknowledged alert VigilCheckCritical of web-ping until it resolves: on it') });
  }, 60_000);

  it('acknowledges an open incident for a time: a silence on its checks, and the incident\'s history shows who and why', async () => {
    type Incident = { id: number; state: string; checks: string[] };
    const incident = await waitFor(async () => {
      const list = (await get('/api/v1/incidents?state=open')).incidents as Incident[];
      return list.find((i) => i.checks.includes('web-ping'));
    }, 20_000);
    expect((await post('/api/v1/acknowledgements', { incident: 999_999, by: 'erin' })).status).toBe(404);
    const res = await post('/api/v1/acknowledgements', { incident: incident.id, by: 'erin', comment: 'switch replaced at 14:00', duration: '2h' });
    expect(res.status).toBe(201);
    const ack = await res.json();
    expect(ack).toMatchObject({ by: 'erin', comment: 'switch replaced at 14:00', silenced: true, target: { kind: 'incident', id: incident.id } });
    expect(Date.parse(ack.until) - Date.parse(ack.created_at)).toBe(2 * 3_600_000);
    const silence = await waitFor(async () => (await new AlertmanagerClient(am.url).silences()).find((x) => x.createdBy.includes(ack.id) && x.status.state === 'active'), 10_000);
    expect(silence.matchers).toEqual([{ name: 'check', value: expect.stringContaining('web-ping'), isRegex: true, isEqual: true }]);
    // In the incident's own history (its detail is read through the cache: at most ~1 s old).
    const timeline = await waitFor(async () => {
      const d = (await get(`/api/v1/incidents/${incident.id}`)) as { timeline: Array<{ kind: string; reason: string; message: string }> };
      return d.timeline.find((e) => e.kind === 'acknowledgement' && e.reason === 'created' && e.message.includes('erin'));
    }, 15_000);
    expect(timeline.message).toContain('erin acknowledged incident');
    expect(timeline.message).toContain('switch replaced at 14:00');
    expect((await post(`/api/v1/acknowledgements/${ack.id}/end`, { by: 'erin' })).status).toBe(200);
    await waitFor(async () => (await new AlertmanagerClient(am.url).silences()).find((x) => x.createdBy.includes(ack.id))?.status.state === 'expired', 10_000);
  }, 60_000);
});
