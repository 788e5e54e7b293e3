// The check detail's chart reads the record (issue 16): in Chromium against the real exporter, a
// check fails, recovers, and the exporter restarts with an in-memory ring too small to hold the
// failure (history.max_points: 10 runs); the detail's status timeline and response-time chart
// (with its threshold lines) still show the failure from before the restart, over 1 h, 24 h and
// 90 d, from the record's rollups. Screenshot: test-artifacts/statuspage-detail-history.png.
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { launchChromium } from '../support/chromium.js';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

// Runs every second with a 1 s timeout (a 1 s default timeout is cut to a 500 ms interval): the
// test wants a ring of healthy runs only, and at 500 ms a stall of a loaded CI box put a
// timed-out (critical) run into it.
const config = (t: string) => `
defaults: { interval: 1s, timeout: 1s, retries: 0 }
history: { max_points: 10 }
components:
  - { name: api }
checks:
  - { name: orders, type: http, component: api, url: "${t}/orders", thresholds: { response_time: { warning: 300ms, critical: 3s } } }
`;

describe('check detail chart from the record', () => {
  let server: Server;
  let broken = true;
  let ex: RunningExporter;
  let browser: Browser;
  let dir: string;
  const status = async () => (await (await fetch(`${ex.url}/api/v1/checks/orders`)).json()).status;
  /** The statuses of the runs in the ring (history.max_points: 10, newest last). */
  const ring = async (): Promise<string[]> => (await (await fetch(`${ex.url}/api/v1/checks/orders/history`)).json()).points.map((p: { status: string }) => p.status);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-detail-history-'));
    server = http.createServer((_req, res) => { res.statusCode = broken ? 500 : 200; res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [ex, browser] = await Promise.all([
      startExporter({ config: config(target), dir, timeoutMs: 30_000 }),
      launchChromium(),
    ]);
    // Failing for a few runs, then healthy for more runs than the ring holds.
    // (Polled rather than slept: a loaded box runs fewer checks in a given time.)
    await waitFor(async () => (await ring()).filter((s) => s === 'critical').length >= 3, 30_000, 100);
    broken = false;
    await waitFor(async () => (await status()) === 'healthy', 30_000, 100);
    // The newest ten (what a restart restores into the ring) are all healthy.
    await waitFor(async () => { const r = await ring(); return r.length === 10 && r.every((s) => s === 'healthy'); }, 60_000, 200);
    await ex.stop();
    ex = await startExporter({ config: config(target), dir, timeoutMs: 30_000 });
    await waitFor(async () => (await fetch(`${ex.url}/-/ready`)).ok, 30_000, 100);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.stop();
    await new Promise((r) => { server?.closeAllConnections(); server?.close(r); });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the ring alone no longer holds the failure; the record answers the detail\'s series', async () => {
    const ring = await (await fetch(`${ex.url}/api/v1/checks/orders/history?buckets=10`)).json();
    expect(ring.buckets.some((b: { worst: string | null }) => b.worst === 'critical')).toBe(false);
    for (const window of ['1h', '24h', '90d']) {
      const s = await (await fetch(`${ex.url}/api/v1/checks/orders/series?window=${window}`)).json();
      expect(s.source, window).toBe('record');
      const bad = s.buckets.filter((b: { worst: string | null }) => b.worst === 'critical');
      expect(bad.length, window).toBeGreaterThan(0);
      expect(bad.reduce((a: number, b: { failures: number }) => a + b.failures, 0), window).toBeGreaterThanOrEqual(3);
    }
    expect((await fetch(`${ex.url}/api/v1/checks/orders/series?window=2d`)).status).toBe(400);
    expect((await fetch(`${ex.url}/api/v1/checks/nope/series`)).status).toBe(404);
  });

  it('shows the failure from before the restart in the chart, with threshold lines, over 24 h, 1 h and 90 d', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    try {
      const page: Page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.setDefaultTimeout(15_000);
      await page.goto(`${ex.url}/#/check/orders`);
      await page.waitForSelector('#detail:not([hidden]) .d-timeline');
      const problems = async () => {
        const label = (await page.getAttribute('.d-timeline', 'aria-label'))!;
        return Number(/(\d+) of \d+ periods with problems/.exec(label)?.[1] ?? 0);
      };
      expect(await problems()).toBeGreaterThan(0);
      expect(await page.$$eval('.d-rt line.th', (ls) => ls.map((l) => l.getAttribute('class')))).toEqual(['th warn', 'th crit']);
      expect(await page.textContent('.d-legend')).toContain('warning 300 ms');
      expect(await page.textContent('.d-axis')).toContain('from the record');
      expect(await page.getAttribute('.d-win button[aria-pressed="true"]', 'aria-pressed')).toBe('true');
      expect(await page.textContent('.d-win button[aria-pressed="true"]')).toBe('24 h');
      // Uptime counts the failure too (the ring alone says 100 %).
      await page.waitForSelector('.d-windows dd');
      const uptime = await page.$$eval('.d-windows dd b', (bs) => bs.map((b) => b.textContent));
      expect(uptime).toHaveLength(4);
      for (const u of uptime) expect(u).toMatch(/^\d{1,2}(\.\d+)? %$/);
      for (const label of ['1 h', '90 d']) {
        await page.click(`.d-win button:text-is("${label}")`);
        await page.waitForFunction((l) => document.querySelector('.d-win button[aria-pressed="true"]')?.textContent === l
          && !!document.querySelector('.d-chart .d-timeline') && document.querySelector('.d-axis')?.textContent?.includes('one point per'), label);
        expect(await problems(), label).toBeGreaterThan(0);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'statuspage-detail-history.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});
