// The status page during a maintenance window, in Chromium against the real exporter (its CSP
// on): the panel names the window, the component says "Maintenance until …", the window is
// marked on the check's 24 h bar and left out of the figure under it, and the acknowledge form
// lists what can be acknowledged. The availability left out of the report, /health in both
// shapes and the snapshot's counts are checked on the same exporter. Screenshot in test-artifacts/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { launchChromium } from '../support/chromium.js';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const WEBHOOK = 'webhook-token-for-the-layout-test';

describe('status page during maintenance', () => {
  let ex: RunningExporter;
  let browser: Browser;
  const start = new Date(Date.now() - 60_000).toISOString();
  const end = new Date(Date.now() + 3_600_000).toISOString();

  beforeAll(async () => {
    [ex, browser] = await Promise.all([
      startExporter({
        timeoutMs: 30_000,
        config: `
server: { webhook_token: ${WEBHOOK} }
defaults: { interval: 500ms, timeout: 400ms, retries: 0 }
components:
  - { name: database, description: Primary PostgreSQL }
  - { name: web }
checks:
  - { name: db-primary, type: tcp, component: database, host: 127.0.0.1, port: 9 }
  - { name: web-home, type: tcp, component: web, host: 127.0.0.1, port: 9 }
maintenance:
  - name: pg-upgrade
    title: PostgreSQL 16 upgrade
    start: ${start}
    end: ${end}
    scope: { components: [database] }
`,
      }),
      launchChromium(),
    ]);
    await waitFor(async () => (await (await fetch(`${ex.url}/api/v1/checks`)).json()).checks.every((c: { status: string }) => c.status === 'critical'), 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.stop();
  });

  it('shows the window, the component in maintenance and the window on its bar', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', colorScheme: 'light' });
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(ex.url);
      await page.waitForSelector('#maintenance .mw-on');
      expect(await page.textContent('#maintenance .mw-on')).toContain('Maintenance: PostgreSQL 16 upgrade');
      await page.waitForSelector('.card[data-component="database"][data-maintenance] .mw-pill');
      expect(await page.textContent('.card[data-component="database"] .mw-pill')).toMatch(/^Maintenance until \d\d:\d\d$/);
      expect(await page.$('.card[data-component="web"][data-maintenance]')).toBeNull();
      // web fails too (no window): the banner keeps its outage and names the planned part.
      // The server writes the note with a UTC time; the page puts the reader's clock in it.
      await page.waitForFunction(() => /^Planned maintenance: database \(PostgreSQL 16 upgrade, until \d\d:\d\d\)$/.test(document.querySelector('#banner .banner-maint')?.textContent ?? ''));
      expect(await page.getAttribute('#banner', 'data-planned')).toBeNull();
      await page.waitForSelector('.check[data-name="db-primary"] .bar .mw-mark');
      expect(await page.$('.check[data-name="web-home"] .bar .mw-mark')).toBeNull();
      // The mark ends at the bar's right end (the window goes on) and is at least one bucket wide.
      const box = await page.$eval('.check[data-name="db-primary"] .bar', (bar) => {
        const b = bar.getBoundingClientRect();
        const m = bar.querySelector('.mw-mark')!.getBoundingClientRect();
        return { right: b.right - m.right, width: m.width, bar: b.width };
      });
      expect(box.width).toBeGreaterThan(0);
      expect(box.right).toBeLessThan(box.bar / 48 + 1);
      // The 24 h figure under the bar leaves the planned time out: every run of db-primary was
      // in the window (no figure), web-home's count (0 %). The tooltip says why.
      await page.waitForFunction(() => document.querySelector('.check[data-name="web-home"] .avail')?.textContent?.startsWith('0'));
      expect(await page.textContent('.check[data-name="db-primary"] .avail')).toMatch(/^—/);
      const bar = await page.$eval('.check[data-name="db-primary"] .bar', (b) => { const r = b.getBoundingClientRect(); return { x: r.right - 2, y: r.top + r.height / 2 }; });
      await page.mouse.move(bar.x, bar.y);
      await page.waitForSelector('#tip:not([hidden])');
      expect(await page.textContent('#tip')).toMatch(/Critical at worst · \d+ runs? in maintenance \(not counted\)/);
      await page.mouse.move(0, 0);
      await page.click('#maintenance summary');
      await page.waitForSelector('#mw-what option[value^="incident:"]', { state: 'attached' });
      // Both components' incidents are open; nothing fires in Alertmanager (none configured).
      expect(await page.$$eval('#mw-what option', (o) => o.map((x) => (x as HTMLOptionElement).value.split(':')[0]))).toEqual(['incident', 'incident']);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'statuspage-maintenance.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('paints without moving: the maintenance and alerts panels come with the board\'s first render (layout shift < 0.05)', async () => {
    // A firing alert, as Alertmanager's webhook brings it, so the alerts panel has something to show.
    const res = await fetch(`${ex.url}/api/v1/alerts/webhook`, {
      method: 'POST', headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4', groupKey: '{}:{component="web"}', truncatedAlerts: 0, status: 'firing', receiver: 'vigil', groupLabels: { component: 'web' },
        commonLabels: {}, commonAnnotations: {}, externalURL: 'http://alertmanager:9093',
        alerts: [{ status: 'firing', fingerprint: '0123456789abcdef', startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '',
          labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: 'web-home' }, annotations: { summary: 'Check web-home is critical.' } }],
      }),
    });
    expect(res.status).toBe(200);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', colorScheme: 'light' });
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15_000);
      await page.addInitScript(() => {
        (window as unknown as { __shift: number }).__shift = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries() as Array<PerformanceEntry & { value: number; hadRecentInput: boolean }>) {
            if (!e.hadRecentInput) (window as unknown as { __shift: number }).__shift += e.value;
          }
        }).observe({ type: 'layout-shift', buffered: true });
      });
      await page.goto(ex.url);
      await page.waitForSelector('html[data-ready="true"]');
      await page.waitForSelector('#alerts:not([hidden]) li.alert');
      await page.waitForSelector('#maintenance .mw-on');
      await page.waitForTimeout(1500); // the panels' own refreshes and the live feed's first updates
      const shift = await page.evaluate(() => (window as unknown as { __shift: number }).__shift);
      // Google's "good" cumulative layout shift is < 0.1; the panels above the board used to arrive after it (~0.3).
      expect(shift).toBeLessThan(0.05);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('the report leaves the window out of availability; /health says maintenance', async () => {
    const report = await (await fetch(`${ex.url}/api/v1/report?from=10m`)).json();
    const db = report.checks.find((c: { name: string }) => c.name === 'db-primary');
    const web = report.checks.find((c: { name: string }) => c.name === 'web-home');
    // Both have been critical since they started; only the database's time is planned work.
    expect(web.availability).toBe(0);
    expect(db.availability).toBeNull();
    expect(db.seconds_by_status.critical).toBe(0);
    expect(db.maintenance_seconds).toBeGreaterThan(0);
    const health = await (await fetch(`${ex.url}/health`)).json();
    expect(health.components.database).toMatchObject({ status: 'critical', state: 'maintenance' });
    expect(health.components.web).toMatchObject({ status: 'critical', state: 'critical' });
    // The draft's shape says it too: a note per window, the covered check entries marked.
    const ietf = await (await fetch(`${ex.url}/health`, { headers: { accept: 'application/health+json' } })).json();
    expect(ietf.notes).toEqual([expect.stringMatching(/^Planned maintenance "PostgreSQL 16 upgrade" \(pg-upgrade\) until .+: database$/)]);
    expect(ietf.checks['database:responseTime'][0]).toMatchObject({ componentId: 'db-primary', status: 'fail', maintenance: { id: 'pg-upgrade', title: 'PostgreSQL 16 upgrade' } });
    expect(ietf.checks['web:responseTime'][0].maintenance).toBeUndefined();
    // The page's snapshot: the runs in the window are counted apart, not in availability.
    const snap = await (await fetch(`${ex.url}/api/v1/status`)).json();
    const row = (n: string) => snap.checks.find((c: { name: string }) => c.name === n);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(row('db-primary').availability).toBeNull();
    expect(sum(row('db-primary').bar_runs)).toBe(0);
    expect(sum(row('db-primary').bar_maintenance)).toBeGreaterThan(0);
    expect(row('web-home').availability).toBe(0);
    expect(row('web-home').bar_maintenance).toBeUndefined(); // none: left out of the snapshot
  });
});
