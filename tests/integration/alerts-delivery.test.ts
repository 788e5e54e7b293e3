// Delivery per integration on the alerts board (issue 17), against a real Alertmanager 0.25: an
// alert routed to Vigil's webhook and to an e-mail receiver whose server refuses connections comes
// back through the webhook, and GET /api/v1/alerts/board shows where Alertmanager routes it
// (both receivers, with their integrations) and that the e-mail integration fails while the
// webhook delivers, as Alertmanager counts them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../exporter/log.js';
import { Runtime } from '../../exporter/runtime.js';
import { createApp } from '../../exporter/server/app.js';
import type { AlertBoard } from '../../exporter/views/alert-board.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { waitFor } from '../support/exporter.js';

const WEBHOOK = 'webhook-token-for-the-delivery-test';

/** A loopback port nothing listens on (an SMTP server that refuses connections). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

let dir: string;
let runtime: Runtime;
let server: http.Server;
let base: string;
let am: RunningAlertmanager | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-delivery-'));
  server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  const smtp = await closedPort();
  const amConfig = path.join(dir, 'alertmanager.yml');
  writeFileSync(amConfig, `
route:
  receiver: vigil
  group_by: [alertname]
  group_wait: 0s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - receiver: mail
      matchers: ['severity="critical"']
      continue: true
    - receiver: vigil
receivers:
  - name: vigil
    webhook_configs:
      - url: '${base}/api/v1/alerts/webhook'
        send_resolved: true
        http_config: { authorization: { type: Bearer, credentials: ${WEBHOOK} } }
  - name: mail
    email_configs:
      - to: oncall@example.com
        from: am@example.com
        smarthost: '127.0.0.1:${smtp}'
        require_tls: false
`);
  am = await startAlertmanager({ configFile: amConfig });
  writeFileSync(path.join(dir, 'vigil.yml'), `
server:
  webhook_token: ${WEBHOOK}
  alertmanager_url: ${am.url}
components:
  - { name: shop }
checks:
  - { name: web, type: tcp, component: shop, host: 127.0.0.1, port: ${smtp}, interval: 1h }
`);
  mkdirSync(path.join(dir, 'data'));
  runtime = new Runtime({ configFile: path.join(dir, 'vigil.yml'), storagePath: path.join(dir, 'data'), log: silentLogger, env: {} });
  runtime.apply(runtime.loadConfig());
  server.on('request', createApp({ runtime, log: silentLogger }).callback());
}, 60_000);

afterAll(async () => {
  await am?.stop();
  await runtime?.stop();
  server?.closeAllConnections();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('alerts board with a real Alertmanager', () => {
  it('shows the alert\'s receivers and integrations, the failing e-mail and the delivering webhook', async () => {
    const post = await fetch(`${am!.url}/api/v2/alerts`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000),
      body: JSON.stringify([{ labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'shop', check: 'web' }, annotations: { summary: 'web is down.' } }]),
    });
    expect(post.status).toBe(200);
    // Alertmanager delivered to Vigil, and its e-mail attempt failed (SMTP refused), before the board reads it.
    await waitFor(async () => ((await (await fetch(`${base}/api/v1/alerts`)).json()) as { firing: number }).firing === 1, 30_000, 200).catch((e) => { throw new Error(`${e.message}\n${am!.logs().slice(-3000)}`); });
    await waitFor(async () => /^alertmanager_notification_requests_failed_total\{integration="email"\} [1-9]/m.test(await am!.metrics()), 30_000, 200);

    const board = (await (await fetch(`${base}/api/v1/alerts/board`)).json()) as AlertBoard;
    expect(board.alertmanager).toMatchObject({ url: am!.url, error: null });
    const alert = board.alerts[0]!;
    expect(alert).toMatchObject({ alertname: 'VigilCheckCritical', state: 'firing', check_url: '#/check/web', deliveries: [{ receiver: 'vigil', firing: 1 }] });
    expect(alert.routing).toMatchObject({ state: 'active', silenced_by: [], inhibited_by: [] });
    const byReceiver = Object.fromEntries(alert.routing!.receivers.map((r) => [r.receiver, r.integrations]));
    expect(Object.keys(byReceiver).sort()).toEqual(['mail', 'vigil']);
    expect(byReceiver.mail).toEqual([expect.objectContaining({ integration: 'email', requests_failed: expect.any(Number) })]);
    expect(byReceiver.mail![0]!.requests_failed).toBeGreaterThanOrEqual(1);
    expect(byReceiver.vigil).toEqual([expect.objectContaining({ integration: 'webhook', notifications_failed: 0, requests_failed: 0 })]);
    expect(byReceiver.vigil![0]!.notifications).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('says so, and keeps the alerts, when Alertmanager cannot be read', async () => {
    await am!.stop();
    am = undefined;
    // The reader keeps a read for 15 s: wait for the next one.
    const board = await waitFor(async () => {
      const b = (await (await fetch(`${base}/api/v1/alerts/board`)).json()) as AlertBoard;
      return b.alertmanager?.error ? b : undefined;
    }, 40_000, 500);
    expect(board.alertmanager!.error).toMatch(/^Alertmanager at http:\/\/127\.0\.0\.1:\d+: alerts: ECONNREFUSED; status: ECONNREFUSED; metrics: ECONNREFUSED$/);
    expect(board.alerts.map((a) => [a.alertname, a.state, a.routing])).toEqual([['VigilCheckCritical', 'firing', null]]);
  }, 60_000);
});
