// The alert receiver's HTTP API against a real koa server, a local stand-in for Alertmanager's
// API v2 (for the test alert), and the compiled exporter for restart and the upgrade from the
// JSON-lines file of earlier versions (torn last line included).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_LOG_FILE } from '../../exporter/alerts/receiver.js';
import { silentLogger } from '../../exporter/log.js';
import { Runtime } from '../../exporter/runtime.js';
import { createApp } from '../../exporter/server/app.js';
import { startExporter } from '../support/exporter.js';

const ADMIN = 'admin-token-0123456789';
const WEBHOOK = 'webhook-token-0123456789';
let dir: string;
let runtime: Runtime;
let server: http.Server;
let base: string;
// A stand-in for Alertmanager's POST /api/v2/alerts (what it receives, what it answers).
let am: http.Server;
let amUrl: string;
let amStatus = 200;
let amHang = false;
const amReceived: Array<{ path: string; auth?: string; body: unknown }> = [];

function alert(fp: string, status: 'firing' | 'resolved', labels: Record<string, string> = {}, startsAt = '2026-11-24T12:00:00Z', endsAt?: string) {
  return {
    status,
    labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: 'api', ...labels },
    annotations: { summary: `Check ${labels.check ?? 'api'} is critical.`, runbook_url: 'https://example.test/runbooks#vigilcheckcritical' },
    startsAt,
    endsAt: endsAt ?? (status === 'resolved' ? '2026-11-24T12:03:00Z' : '0001-01-01T00:00:00Z'),
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=x',
    fingerprint: fp,
  };
}

function payload(alerts: ReturnType<typeof alert>[], receiver = 'vigil-webhook') {
  return {
    receiver,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { component: 'web' },
    commonLabels: { component: 'web' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey: `{}/{}:{check="${alerts[0].labels.check}"}`, // one group per check here
    truncatedAlerts: 0,
  };
}

const send = (body: unknown, token: string | null = WEBHOOK, raw?: string) => fetch(`${base}/api/v1/alerts/webhook`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: raw ?? JSON.stringify(body),
});
const getJson = async (p: string) => {
  const res = await fetch(base + p);
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  am = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => { data += d; });
    req.on('end', () => {
      if (amHang) return;
      amReceived.push({ path: req.url!, auth: req.headers.authorization, body: JSON.parse(data || 'null') });
      res.writeHead(amStatus, { 'content-type': 'application/json' });
      res.end(amStatus === 200 ? '' : '{"code":400,"message":"bad alert"}');
    });
  });
  await new Promise<void>((r) => am.listen(0, '127.0.0.1', r));
  amUrl = `http://127.0.0.1:${(am.address() as AddressInfo).port}`;

  dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-'));
  writeFileSync(path.join(dir, 'vigil.yml'), `
server:
  admin_token: ${ADMIN}
  webhook_token: ${WEBHOOK}
  alertmanager_url: ${amUrl}/prefix/
`);
  runtime = new Runtime({ configFile: path.join(dir, 'vigil.yml'), storagePath: dir, log: silentLogger, env: {} });
  runtime.apply(runtime.loadConfig());
  server = createApp({ runtime, log: silentLogger }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runtime.stop();
  server.closeAllConnections();
  server.close();
  am.closeAllConnections();
  am.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/v1/alerts/webhook', () => {
  const authCases: Array<{ name: string; token: string | null; status: number }> = [
    { name: 'no token', token: null, status: 401 },
    { name: 'wrong token', token: 'wrong-token-wrong-token', status: 401 },
    { name: 'webhook token', token: WEBHOOK, status: 200 },
    { name: 'admin token', token: ADMIN, status: 200 },
  ];
  for (const c of authCases) {
    it(`auth: ${c.name} -> ${c.status}`, async () => {
      const res = await send(payload([alert('00000000000000a1', 'firing', { check: 'auth' })]), c.token);
      expect(res.status).toBe(c.status);
      if (c.status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });
  }

  const badCases: Array<{ name: string; raw?: string; body?: unknown; status: number; reason: RegExp }> = [
    { name: 'malformed JSON', raw: '{"version":"4",', status: 400, reason: /malformed JSON/ },
    { name: 'empty body', raw: '', status: 400, reason: /empty body/ },
    { name: 'wrong version', body: { ...payload([alert('00000000000000b1', 'firing')]), version: '3' }, status: 400, reason: /version/ },
    { name: 'bad alert time', body: payload([{ ...alert('00000000000000b2', 'firing'), startsAt: 'soon' }]), status: 400, reason: /alerts\.0\.startsAt/ },
    { name: 'missing receiver', body: { ...payload([alert('00000000000000b3', 'firing')]), receiver: undefined }, status: 400, reason: /receiver/ },
    { name: 'over 1 MiB', raw: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }), status: 413, reason: /larger than/ },
  ];
  for (const c of badCases) {
    it(`rejects ${c.name} with ${c.status} and stores nothing`, async () => {
      const before = runtime.alerts.log.size;
      const res = await send(c.body, WEBHOOK, c.raw);
      expect(res.status).toBe(c.status);
      expect((await res.json()).error).toMatch(c.reason);
      expect(runtime.alerts.log.size).toBe(before);
    });
  }

  it('stores every alert durably before answering, and counts it', async () => {
    const res = await send(payload([alert('00000000000000c1', 'firing', { check: 'db', component: 'database' }), alert('00000000000000c2', 'firing', { check: 'cache', severity: 'warning', alertname: 'VigilCheckDegraded' })]));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.stored).toBe(2);
    // Committed when answered: another connection reads the rows from the file.
    const db = new Database(path.join(dir, 'vigil.db'), { readonly: true });
    try {
      const onDisk = db.prepare(`SELECT check_name FROM notifications WHERE id IN (${body.ids.map(() => '?').join(',')}) ORDER BY id`).pluck().all(...body.ids);
      expect(onDisk).toEqual(['db', 'cache']);
    } finally {
      db.close();
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_alert_notifications_received_total\{receiver="vigil-webhook",severity="critical",status="firing"\} \d+$/m);
    expect(metrics).toMatch(/^vigil_alert_notifications_received_total\{receiver="vigil-webhook",severity="warning",status="firing"\} 1$/m);
  });
});

describe('GET /api/v1/alerts and /history', () => {
  beforeAll(async () => {
    // d1 fires and resolves; d2 keeps firing; d3 goes to another receiver and resolves.
    for (const p of [
      payload([alert('00000000000000d1', 'firing', { check: 'h1' }, '2026-11-24T12:00:00Z')]),
      payload([alert('00000000000000d2', 'firing', { check: 'h2', severity: 'warning', alertname: 'VigilCheckDegraded', component: 'queue' }, '2026-11-24T12:01:00Z')]),
      payload([alert('00000000000000d1', 'resolved', { check: 'h1' }, '2026-11-24T12:00:00Z', '2026-11-24T12:02:30Z')]),
      payload([alert('00000000000000d3', 'firing', { check: 'h3' })], 'other-receiver'),
      payload([alert('00000000000000d3', 'resolved', { check: 'h3' })], 'other-receiver'),
    ]) expect((await send(p)).status).toBe(200);
  });

  it('lists what is firing now (latest state per fingerprint)', async () => {
    const { status, body } = await getJson('/api/v1/alerts');
    expect(status).toBe(200);
    const fps = body.alerts.map((a: { fingerprint: string }) => a.fingerprint);
    expect(fps).toContain('00000000000000d2');
    expect(fps).not.toContain('00000000000000d1');
    expect(fps).not.toContain('00000000000000d3');
    expect(body.firing).toBe(body.alerts.length);
    expect(body.alerts.find((a: { fingerprint: string }) => a.fingerprint === '00000000000000d2')).toMatchObject({
      alertname: 'VigilCheckDegraded', severity: 'warning', component: 'queue', check: 'h2', starts_at: '2026-11-24T12:01:00Z', receiver: 'vigil-webhook',
    });
  });

  const filterCases: Array<{ name: string; query: string; expectChecks: string[] }> = [
    { name: 'status=resolved', query: 'status=resolved', expectChecks: ['h3', 'h1'] },
    { name: 'severity=warning', query: 'severity=warning', expectChecks: ['h2', 'cache'] },
    { name: 'component=queue', query: 'component=queue', expectChecks: ['h2'] },
    { name: 'alertname + limit', query: 'alertname=VigilCheckCritical&status=firing&limit=1', expectChecks: ['h3'] },
    { name: 'receiver', query: 'receiver=other-receiver', expectChecks: ['h3', 'h3'] },
    { name: 'future range', query: 'from=2999-01-01T00:00:00Z', expectChecks: [] },
  ];
  for (const c of filterCases) {
    it(`history filter ${c.name}`, async () => {
      const { status, body } = await getJson(`/api/v1/alerts/history?view=notifications&${c.query}`);
      expect(status).toBe(200);
      expect(body.notifications.map((n: { labels: { check: string } }) => n.labels.check)).toEqual(c.expectChecks);
    });
  }

  it('reports lifecycles: fired at, resolved at, duration', async () => {
    const { body } = await getJson('/api/v1/alerts/history?alertname=VigilCheckCritical&component=web&from=2026-11-24T00:00:00Z');
    const h1 = body.lifecycles.find((l: { check: string }) => l.check === 'h1');
    expect(h1).toMatchObject({ fired_at: '2026-11-24T12:00:00Z', resolved_at: '2026-11-24T12:02:30Z', duration_seconds: 150, ongoing: false, notifications: 2 });
    expect(body.notifications.length).toBeGreaterThan(0);
    expect(body.retained.max_records).toBe(10_000);
    const firing = await getJson('/api/v1/alerts/history?view=lifecycles&status=firing&component=queue');
    expect(firing.body.lifecycles.map((l: { check: string; ongoing: boolean }) => [l.check, l.ongoing])).toEqual([['h2', true]]);
    expect(firing.body.notifications).toBeUndefined();
  });

  it('exports CSV with a header and proper escaping', async () => {
    await send(payload([{ ...alert('00000000000000e1', 'firing', { check: 'csv' }), annotations: { summary: 'a "quoted", comma\nnewline', runbook_url: '=cmd()' } }]));
    const res = await fetch(`${base}/api/v1/alerts/history?format=csv&alertname=VigilCheckCritical&limit=1`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="vigil-alert-notifications.csv"/);
    const text = await res.text();
    expect(text.startsWith('id,received_at,receiver,status,alertname,severity,component,check,fingerprint,')).toBe(true);
    expect(text).toContain('"a ""quoted"", comma\nnewline"');
    expect(text).toContain(",'=cmd(),");
    const lc = await (await fetch(`${base}/api/v1/alerts/history?format=csv&view=lifecycles&status=resolved`)).text();
    expect(lc.split('\r\n')[0]).toBe('alertname,severity,component,check,fingerprint,fired_at,resolved_at,unnotified_at,duration_seconds,ongoing,notifications,receivers,summary,labels');
    expect(lc).toContain(',h1,00000000000000d1,2026-11-24T12:00:00Z,2026-11-24T12:02:30Z,,150,false,2,vigil-webhook,');
  });

  it('GET /api/v1/alerts/board: firing, and ended within the window, fresh after each notification', async () => {
    const board = async (q = '') => (await getJson(`/api/v1/alerts/board${q}`)).body;
    const before = await board();
    expect(before).toMatchObject({ window_seconds: 86_400, truncated: false });
    const d2 = before.alerts.find((a: { fingerprint: string }) => a.fingerprint === '00000000000000d2');
    expect(d2).toMatchObject({ state: 'firing', component: 'queue', check: 'h2', check_url: null, runbook_url: 'https://example.test/runbooks#vigilcheckcritical', notifications_total: 1 });
    // d1 resolved on 2026-11-24: older than any window the board allows.
    expect(before.alerts.map((a: { fingerprint: string }) => a.fingerprint)).not.toContain('00000000000000d1');
    const now = new Date().toISOString();
    expect((await send(payload([alert('00000000000000b1', 'firing', { check: 'b1' }, now)]))).status).toBe(200);
    expect((await board()).alerts.find((a: { fingerprint: string }) => a.fingerprint === '00000000000000b1')).toMatchObject({ state: 'firing' });
    expect((await send(payload([alert('00000000000000b1', 'resolved', { check: 'b1' }, now, new Date().toISOString())]))).status).toBe(200);
    const after = await board('?window=1h');
    expect(after.window_seconds).toBe(3600);
    expect(after.alerts.find((a: { fingerprint: string }) => a.fingerprint === '00000000000000b1')).toMatchObject({
      state: 'resolved', notifications_total: 2, deliveries: [{ receiver: 'vigil-webhook', firing: 1, resolved: 1, last_status: 'resolved' }],
    });
    for (const q of ['window=30s', 'window=8d', 'window=soon']) expect((await getJson(`/api/v1/alerts/board?${q}`)).status, q).toBe(400);
  });

  const badQueries = ['status=pending', 'from=yesterday', 'limit=0', 'limit=abc', 'format=xml', 'view=both&format=csv', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'];
  for (const q of badQueries) {
    it(`400 for ${q}`, async () => {
      const { status, body } = await getJson(`/api/v1/alerts/history?${q}`);
      expect(status).toBe(400);
      expect(body.error).toBeTruthy();
    });
  }
});

describe('POST /api/v1/alerts/test', () => {
  const post = (body?: unknown, token: string | null = ADMIN) => fetch(`${base}/api/v1/alerts/test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  it('needs the admin token (the webhook token is not enough)', async () => {
    expect((await post({}, null)).status).toBe(401);
    expect((await post({}, WEBHOOK)).status).toBe(401);
  });

  it('posts a VigilTestAlert to Alertmanager API v2 under its path prefix', async () => {
    amReceived.length = 0;
    const res = await post({ severity: 'critical' });
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body.sent).toBe(true);
    expect(amReceived).toHaveLength(1);
    expect(amReceived[0].path).toBe('/prefix/api/v2/alerts');
    const [sent] = amReceived[0].body as Array<{ labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }>;
    expect(sent.labels).toMatchObject({ alertname: 'VigilTestAlert', severity: 'critical', component: 'vigil-test', check: 'vigil-test' });
    expect(sent.annotations.summary).toBeTruthy();
    expect(sent.annotations.description).toBeTruthy();
    expect(Date.parse(sent.endsAt) - Date.parse(sent.startsAt)).toBe(300_000);
    expect((await post()).status).toBe(202); // no body: severity warning
    expect((amReceived[1].body as Array<{ labels: Record<string, string> }>)[0].labels.severity).toBe('warning');
  });

  it('400 for a bad request body', async () => {
    const res = await post({ severity: 'fatal' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/severity/);
  });

  it('502 with the reason when Alertmanager rejects the alert', async () => {
    amStatus = 400;
    try {
      const res = await post({});
      expect(res.status).toBe(502);
      expect((await res.json()).error).toMatch(/answered 400: .*bad alert/);
    } finally {
      amStatus = 200;
    }
  });

  it('502 when Alertmanager is unreachable', async () => {
    const down = http.createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));
    runtime.config.server.alertmanager_url = `http://127.0.0.1:${port}`;
    try {
      const res = await post({});
      expect(res.status).toBe(502);
      expect((await res.json()).error).toMatch(new RegExp(`Alertmanager unreachable at http://127.0.0.1:${port}.*ECONNREFUSED`));
    } finally {
      runtime.config.server.alertmanager_url = `${amUrl}/prefix/`;
    }
  });

  it('502 after the 5 s timeout when Alertmanager hangs', async () => {
    amHang = true;
    try {
      const res = await post({});
      expect(res.status).toBe(502);
      expect((await res.json()).error).toMatch(/no answer within 5 s/);
    } finally {
      amHang = false;
    }
  }, 15_000);

  it('409 when no Alertmanager is configured', async () => {
    const saved = runtime.config.server.alertmanager_url;
    runtime.config.server.alertmanager_url = undefined;
    try {
      expect((await post({})).status).toBe(409);
    } finally {
      runtime.config.server.alertmanager_url = saved;
    }
  });
});

describe('webhook without any token configured', () => {
  it('is disabled (403)', async () => {
    const saved = { ...runtime.config.server };
    runtime.config.server.webhook_token = undefined;
    runtime.config.server.admin_token = undefined;
    try {
      const res = await send(payload([alert('00000000000000f1', 'firing')]));
      expect(res.status).toBe(403);
      expect((await res.json()).error).toMatch(/webhook_token/);
    } finally {
      Object.assign(runtime.config.server, saved);
    }
  });
});

describe('compiled exporter: restart and upgrade from the old log file', () => {
  it('imports alert-notifications.jsonl once (its torn last line dropped), renames it, and keeps the log across restarts', async () => {
    const keep = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-restart-'));
    try {
      // The file an earlier version left: two records and half of a third (a crash mid-write).
      const file = path.join(keep, 'data', LEGACY_LOG_FILE);
      mkdirSync(path.dirname(file), { recursive: true });
      const old = (id: number, check: string) => ({
        id, batch: id, received_at: new Date(Date.now() - 60_000 + id).toISOString(), receiver: 'vigil-webhook', status: 'firing', fingerprint: `0000000000000a0${id}`,
        labels: { alertname: 'VigilCheckCritical', check }, annotations: {}, starts_at: '2026-11-24T12:00:00Z', ends_at: null, generator_url: '', group_key: `{}/{}:{check="${check}"}`, truncated_alerts: 0, external_url: '',
      });
      const third = JSON.stringify(old(3, 'r3'));
      writeFileSync(file, `${JSON.stringify(old(1, 'r1'))}\n${JSON.stringify(old(2, 'r2'))}\n${third.slice(0, Math.floor(third.length / 2))}`);

      const env = { VIGIL_WEBHOOK_TOKEN: WEBHOOK };
      let ex = await startExporter({ dir: keep, config: 'checks: []\n', env });
      const post = (p: unknown) => fetch(`${ex.url}/api/v1/alerts/webhook`, { method: 'POST', headers: { authorization: `Bearer ${WEBHOOK}` }, body: JSON.stringify(p) });
      const history = async () => ((await (await fetch(`${ex.url}/api/v1/alerts/history?view=notifications`)).json()) as { notifications: Array<{ id: number; labels: { check: string }; starts_at: string }> }).notifications;
      try {
        expect((await history()).map((n) => [n.id, n.labels.check, n.starts_at])).toEqual([[2, 'r2', '2026-11-24T12:00:00Z'], [1, 'r1', '2026-11-24T12:00:00Z']]);
        expect(ex.logs()).toMatch(/dropped a torn last record/);
        expect(existsSync(file)).toBe(false);
        expect(existsSync(`${file}.migrated`)).toBe(true);
        expect((await post(payload([alert('0000000000000a04', 'firing', { check: 'r4' })]))).status).toBe(200);
      } finally {
        await ex.stop();
      }

      // Restarted: served from the database, the import not run again, ids go on.
      ex = await startExporter({ dir: keep, config: 'checks: []\n', env });
      try {
        expect((await history()).map((n) => [n.id, n.labels.check])).toEqual([[3, 'r4'], [2, 'r2'], [1, 'r1']]);
        expect(ex.logs()).not.toMatch(/imported a file of an earlier version/);
        expect((await (await fetch(`${ex.url}/api/v1/alerts`)).json()).firing).toBe(3);
      } finally {
        await ex.stop();
      }
      const db = new Database(path.join(keep, 'data', 'vigil.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT file, records FROM legacy_imports').all()).toEqual([{ file: LEGACY_LOG_FILE, records: 2 }]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(keep, { recursive: true, force: true });
    }
  });
});
