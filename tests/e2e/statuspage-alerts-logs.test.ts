// The status page's alerts panel and a log check's log viewer (issue 17), in Chromium against the
// compiled exporter, CSP enforced: an alert posted to the exporter's Alertmanager receiver shows
// as firing with its component, check-detail and runbook links, value, threshold and
// notification history, then as resolved; the log viewer finds a line by search (redacted) and
// shows a newly written line by live tail, and stops tailing when the detail closes; where a
// stand-in Alertmanager routes the alert and which integration fails; 360 px
// without horizontal scrolling; axe in both themes. Screenshots go to test-artifacts/.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { launchChromium } from '../support/chromium.js';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const AXE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const WEBHOOK = 'webhook-token-for-the-alerts-panel';
const SECRET = 'hunter2-log-secret';
const RUNBOOK = 'https://runbooks.example.com/runbooks.md#vigilcheckcritical';

const config = (logs: string, am: string) => `
defaults: { interval: 200ms, timeout: 2s }
server: { webhook_token: ${WEBHOOK}, alertmanager_url: "${am}" }
components:
  - { name: shop, description: Web shop }
checks:
  - name: shop-log
    type: log
    component: shop
    paths: ["${logs}/app.log"]
    patterns:
      - { name: error, regex: "(?i)\\\\berror\\\\b" }
`;

const FP = 'a1b2c3d4e5f60718';
const FIRED = new Date(Date.now() - 5 * 60_000).toISOString();
function notification(status: 'firing' | 'resolved', alerts: object[]) {
  return {
    version: '4', groupKey: '{}/{}:{component="shop"}', truncatedAlerts: 0, status, receiver: 'vigil-webhook',
    groupLabels: { component: 'shop' }, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://alertmanager:9093', alerts,
  };
}
const critical = (status: 'firing' | 'resolved') => ({
  status, fingerprint: FP, startsAt: FIRED, endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z', generatorURL: '',
  labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'shop', check: 'shop-log', instance: 'vigil:9470', job: 'vigil' },
  annotations: {
    summary: 'Check shop-log of component shop is critical.', description: 'Check shop-log has been critical for more than 10 seconds.',
    value: 'last success 5m 0s ago', threshold: 'critical for more than 10s', runbook_url: RUNBOOK,
  },
});
// Annotations are text from rule files and Alertmanager: never markup, never a javascript: link.
const hostile = {
  status: 'firing', fingerprint: 'ffff000011112222', startsAt: FIRED, endsAt: '0001-01-01T00:00:00Z', generatorURL: '',
  labels: { alertname: 'VigilQueueBacklog', severity: 'warning', component: 'shop', check: 'no-such-check' },
  annotations: { summary: '<img src=x onerror="window.__pwned=1">', runbook_url: 'javascript:window.__pwned=2' },
};

/** A stand-in for Alertmanager's API (its formats are checked against the real one in tests/integration/alerts-delivery.test.ts). */
async function startFakeAlertmanager(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url!.startsWith('/api/v2/alerts')) {
      return res.end(JSON.stringify([{ fingerprint: FP, receivers: [{ name: 'pagerduty' }, { name: 'vigil-webhook' }], status: { state: 'active', silencedBy: [], inhibitedBy: [] } }]));
    }
    if (req.url === '/api/v2/status') {
      return res.end(JSON.stringify({ config: { original: 'receivers:\n- name: pagerduty\n  pagerduty_configs:\n  - routing_key: <secret>\n- name: vigil-webhook\n  webhook_configs:\n  - url: http://vigil/\n' } }));
    }
    if (req.url === '/metrics') {
      return res.end(['pagerduty 4 2 9 5', 'webhook 6 0 6 0'].map((l) => {
        const [i, n, nf, r, rf] = l.split(' ');
        return `alertmanager_notifications_total{integration="${i}"} ${n}\nalertmanager_notifications_failed_total{integration="${i}"} ${nf}\n`
          + `alertmanager_notification_requests_total{integration="${i}"} ${r}\nalertmanager_notification_requests_failed_total{integration="${i}"} ${rf}\n`;
      }).join(''));
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('status page: alerts panel and log viewer', () => {
  let ex: RunningExporter;
  let fakeAm: { url: string; close(): Promise<void> };
  let browser: Browser;
  let dir: string;
  let logs: string;
  const contexts: BrowserContext[] = [];

  async function open(opts: { width?: number; scheme?: 'light' | 'dark'; bypassCSP?: boolean; hash?: string } = {}): Promise<Page> {
    const ctx = await browser.newContext({
      viewport: { width: opts.width ?? 1280, height: 900 }, colorScheme: opts.scheme ?? 'light', bypassCSP: opts.bypassCSP, locale: 'en-GB',
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(`${ex.url}/${opts.hash ?? ''}`);
    await page.waitForSelector('html[data-ready="true"]');
    return page;
  }
  const pageErrors = (p: Page) => (p as Page & { errors: string[] }).errors;
  const post = async (body: object) => {
    const res = await fetch(`${ex.url}/api/v1/alerts/webhook`, {
      method: 'POST', headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  const logLines = async (q: string) => ((await (await fetch(`${ex.url}/api/v1/logs?check=shop-log&q=${encodeURIComponent(q)}`)).json()) as { lines: unknown[] }).lines;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-logs-'));
    logs = path.join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(path.join(logs, 'app.log'), '');
    fakeAm = await startFakeAlertmanager();
    [ex, browser] = await Promise.all([
      startExporter({ config: config(logs, fakeAm.url), dir, timeoutMs: 30_000 }),
      launchChromium(),
    ]);
    // The probe has looked at the file once (it starts at the end), then the lines to find.
    await waitFor(async () => (await (await fetch(`${ex.url}/api/v1/checks/shop-log`)).json()).last_run, 30_000, 100);
    appendFileSync(path.join(logs, 'app.log'), `GET /cart 200\nError: payment gateway ETIMEDOUT password=${SECRET}\nerror: inventory sync failed\n`);
    await waitFor(async () => (await logLines('payment')).length === 1 && (await logLines('inventory')).length === 1, 30_000, 100);
  }, 90_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await ex?.stop();
    await fakeAm?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a posted alert firing with its component, links, value, threshold and notification history, then resolved', async () => {
    await post(notification('firing', [critical('firing'), hostile]));
    const page = await open();
    await page.waitForSelector(`#alerts:not([hidden]) .alert[data-fingerprint="${FP}"][data-state="firing"]`);
    expect(await page.textContent('#alerts-count')).toBe('2');
    const item = `#alerts .alert[data-fingerprint="${FP}"]`;
    const text = await page.textContent(item);
    expect(text).toContain('Critical');
    expect(text).toContain('VigilCheckCritical');
    expect(text).toContain('Check shop-log of component shop is critical.');
    expect(text).toMatch(/shop · shop-log · since 5 min ago/);
    expect(text).toContain('Value: last success 5m 0s ago · Threshold: critical for more than 10s');
    expect(await page.getAttribute(`${item} .alert-meta a`, 'href')).toBe('#/check/shop-log');
    expect(await page.getAttribute(`${item} .alert-links a`, 'href')).toBe(RUNBOOK);
    expect(await page.getAttribute(`${item} .alert-links a`, 'rel')).toBe('noopener noreferrer');
    // The notification history, folded until asked for.
    expect(await page.isVisible(`${item} .alert-hist > .alert-deliv`)).toBe(false);
    await page.click(`${item} .alert-hist summary`);
    expect(await page.textContent(`${item} .alert-hist summary`)).toBe('Notifications (1)');
    expect(await page.$$eval(`${item} .alert-hist > .alert-deliv tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)))).toEqual([
      ['vigil-webhook', '1 firing, 0 resolved', expect.stringMatching(/^firing \d{2}:\d{2}, (just now|\d+ s ago)$/)],
    ]);
    expect(await page.$$eval(`${item} .alert-notes li`, (els) => els.map((e) => e.textContent))).toEqual([expect.stringMatching(/firing → vigil-webhook$/)]);
    // Where Alertmanager routes it, and how each integration delivers (Alertmanager's counts).
    expect(await page.textContent(`${item} .alert-am p`)).toMatch(/^In Alertmanager: active, as of \d{2}:\d{2}, (just now|\d+ s ago)\.$/);
    expect(await page.$$eval(`${item} .alert-am tbody tr`, (rows) => rows.map((r) => [(r as HTMLElement).dataset.failing, ...[...r.children].map((c) => c.textContent)]))).toEqual([
      ['true', 'pagerduty', 'pagerduty', '4 sent', '2 failed, 5 of 9 attempts failed'],
      ['false', 'vigil-webhook', 'webhook', '6 sent', 'none failed (6 attempts)'],
    ]);
    // The hostile one: its summary is text, it has no runbook link and no detail link (no such check).
    const bad = '#alerts .alert[data-fingerprint="ffff000011112222"]';
    expect(await page.textContent(`${bad} .alert-sum`)).toBe('<img src=x onerror="window.__pwned=1">');
    expect(await page.$(`${bad} .alert-links`)).toBeNull();
    expect(await page.$(`${bad} .alert-meta a`)).toBeNull();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // The check link opens the check's detail.
    await page.click(`${item} .alert-meta a`);
    await page.waitForSelector('#detail:not([hidden]) #detail-h');
    expect(await page.textContent('#detail-h')).toBe('shop-log');

    // Resolved: the same alert moves below "Ended in the last 24 h", with both notifications.
    await post(notification('resolved', [critical('resolved'), hostile]));
    await page.evaluate(() => { location.hash = '#/'; });
    await page.reload();
    await page.waitForSelector(`#alerts .alert[data-fingerprint="${FP}"][data-state="resolved"]`);
    expect(await page.textContent('#alerts-count')).toBe('1');
    const resolved = await page.textContent(item);
    expect(resolved).toContain('Resolved');
    expect(resolved).toMatch(/resolved (just now|\d+ s ago), after 5 min/);
    expect(await page.textContent('#alerts .alerts-sep')).toBe('Ended in the last 24 h');
    await page.click(`${item} .alert-hist summary`);
    expect(await page.textContent(`${item} .alert-hist > .alert-deliv tbody td`)).toBe('1 firing, 1 resolved');
    expect(await page.$$eval(`${item} .alert-notes li`, (els) => els.map((e) => e.textContent!.replace(/^.* (firing|resolved) → /, '$1 → '))))
      .toEqual(['resolved → vigil-webhook', 'firing → vigil-webhook']);
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it('the log viewer finds a line by search (redacted), shows a newly written line by live tail, and stops tailing when closed', async () => {
    const page = await open({ hash: '#/check/shop-log' });
    await page.waitForSelector('#detail:not([hidden]) .logv-lines li');
    // The newest first: both error lines, not the 200.
    const shown = await page.$$eval('.logv-lines .logv-text', (els) => els.map((e) => e.textContent));
    expect(shown).toEqual(['error: inventory sync failed', expect.stringContaining('Error: payment gateway ETIMEDOUT')]);
    await page.fill('.logv-form input[type="search"]', 'payment ETIMEDOUT');
    await page.click('.logv-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('.logv-lines li').length === 1);
    const line = await page.textContent('.logv-lines .logv-text');
    expect(line).toMatch(/^Error: payment gateway ETIMEDOUT password=/);
    expect(line).not.toContain(SECRET);
    expect(await page.textContent('.logv-status')).toBe('1 matching line, newest first.');
    expect(await page.textContent('.logv-lines .logv-pat')).toBe('error');
    await page.fill('.logv-form input[type="search"]', 'nothing-like-this');
    await page.click('.logv-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('.logv-status')?.textContent === 'No matching lines.');

    // Live tail of everything (empty search): a line written now appears at the top.
    await page.fill('.logv-form input[type="search"]', '');
    await page.click('.logv-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('.logv-lines li').length === 2);
    await page.click('.logv-form button[aria-pressed="false"]');
    expect(await page.getAttribute('.logv-form button[aria-pressed]', 'aria-pressed')).toBe('true');
    appendFileSync(path.join(logs, 'app.log'), 'error: written for the live tail\n');
    await page.waitForFunction(() => document.querySelector('.logv-lines .logv-text')?.textContent === 'error: written for the live tail', undefined, { timeout: 20_000 });
    expect(await page.textContent('.logv-status')).toMatch(/^1 new line at \d{2}:\d{2}:\d{2}\.$/);

    // Closing the detail stops the tail: no more requests for log lines.
    let asked = 0;
    page.on('request', (r) => { if (r.url().includes('/api/v1/logs')) asked++; });
    await page.evaluate(() => { location.hash = '#/'; });
    await page.waitForSelector('#detail', { state: 'hidden' });
    await page.waitForTimeout(3_000); // more than one tail period (2 s)
    expect(asked).toBeLessThanOrEqual(1); // at most the one in flight when it closed
    expect(pageErrors(page)).toEqual([]);
  }, 90_000);

  it('fits 360 px without horizontal scrolling, in both themes (screenshots)', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await open({ width: 360, scheme });
      await page.waitForSelector('#alerts .alert');
      await page.click('#alerts .alert .alert-hist summary');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.screenshot({ path: path.join(ARTIFACTS, `statuspage-alerts-360-${scheme}.png`), fullPage: true });
      await page.evaluate(() => { location.hash = '#/check/shop-log'; });
      await page.waitForSelector('.logv-lines li');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.screenshot({ path: path.join(ARTIFACTS, `statuspage-logs-360-${scheme}.png`), fullPage: true });
      expect(pageErrors(page)).toEqual([]);
    }
  }, 90_000);

  it('has no serious or critical axe-core violations on the alerts panel and the log viewer, light and dark', async () => {
    // bypassCSP only so that axe can be injected (the tests above run with the CSP enforced).
    const page = await open({ bypassCSP: true });
    await page.addScriptTag({ content: AXE });
    for (const hash of ['#/', '#/check/shop-log']) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      if (hash === '#/') {
        await page.waitForSelector('#alerts .alert .alert-hist summary');
        await page.click('#alerts .alert .alert-hist summary');
      } else {
        await page.waitForSelector('.logv-lines li');
      }
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const bad = await page.evaluate(async (sel) => {
          const r = await (window as any).axe.run(sel, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
          return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
            .map((v: any) => ({ id: v.id, sample: `${v.nodes[0]?.target?.join(' ')} :: ${v.nodes[0]?.failureSummary}` }));
        }, hash === '#/' ? '#alerts' : '#detail');
        expect(bad, `${hash} ${scheme}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }, 180_000); // four axe runs: ~25 s on a quiet box, a minute beside the suite on a loaded one
});
