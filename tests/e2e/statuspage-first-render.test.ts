// The status page's first render on a board longer than the window, in Chromium against the real
// exporter: it builds the rows the window can show and no more (the rest follow in idle time), and
// the event stream and the incident history start only once that first screen is drawn.
import net from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { launchChromium } from '../support/chromium.js';

const COMPONENTS = 4;
const PER_COMPONENT = 30;
/** The shortest a row is (board.js ROW_MIN_PX): the most rows a window can show. */
const ROW_MIN_PX = 80;

describe('status page first render', () => {
  let ex: RunningExporter;
  let browser: Browser;
  let target: net.Server;

  beforeAll(async () => {
    target = net.createServer((s) => s.end()).listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    const port = (target.address() as net.AddressInfo).port;
    const lines = ['defaults: { interval: 1s, timeout: 500ms, retries: 0 }', 'components:'];
    for (let c = 0; c < COMPONENTS; c++) lines.push(`  - { name: svc${c} }`);
    lines.push('checks:');
    for (let i = 0; i < COMPONENTS * PER_COMPONENT; i++) lines.push(`  - { name: c${i}, type: tcp, component: svc${i % COMPONENTS}, host: 127.0.0.1, port: ${port} }`);
    [ex, browser] = await Promise.all([
      startExporter({ timeoutMs: 30_000, config: lines.join('\n') + '\n' }),
      launchChromium(),
    ]);
    await waitFor(async () => (await (await fetch(`${ex.url}/api/v1/checks`)).json()).checks.every((c: { status: string }) => c.status === 'healthy'), 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ex?.stop();
    target?.close();
  });

  /** A fresh context (a cold load) at 1280 × 900. */
  async function freshPage(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    return { ctx, page };
  }

  it('builds the rows the window shows, and no more, before its first paint', async () => {
    const { ctx, page } = await freshPage();
    try {
      // The board as the first render leaves it, read when the page marks `vigil:rendered`.
      await page.addInitScript(() => {
        const mark = performance.mark.bind(performance);
        performance.mark = (name: string, options?: PerformanceMarkOptions) => {
          if (name === 'vigil:rendered') {
            const board = document.getElementById('board')!.getBoundingClientRect();
            const cards = [...document.querySelectorAll<HTMLElement>('#board .card')].map((card) => {
              const rows = [...card.querySelectorAll('.check')].map((r) => r.getBoundingClientRect());
              return { top: card.getBoundingClientRect().top, built: rows.length, lastBottom: rows.length ? rows[rows.length - 1].bottom : 0 };
            });
            (window as unknown as { firstRender: unknown }).firstRender = { boardTop: board.top, innerHeight, cards };
          }
          return mark(name, options);
        };
      });
      await page.goto(ex.url);
      await page.waitForFunction(() => performance.getEntriesByName('vigil:complete').length > 0);
      const first = await page.evaluate(() => (window as unknown as { firstRender: { boardTop: number; innerHeight: number; cards: Array<{ top: number; built: number; lastBottom: number }> } }).firstRender);
      const onTop = first.cards.filter((c) => Math.abs(c.top - first.boardTop) < 1);
      const below = first.cards.filter((c) => Math.abs(c.top - first.boardTop) >= 1);
      expect(onTop.length).toBe(3); // 1280 px: three cards of at least 400 px across
      expect(below.length).toBe(COMPONENTS - 3);
      expect(first.boardTop).toBeLessThan(first.innerHeight);
      for (const card of onTop) {
        // Down to the window's bottom edge, and no further than the shortest rows could reach.
        expect(card.lastBottom).toBeGreaterThanOrEqual(first.innerHeight);
        expect(card.built).toBeLessThanOrEqual(Math.ceil((first.innerHeight - first.boardTop) / ROW_MIN_PX));
      }
      for (const card of below) expect(card.built).toBe(0);
      // Idle time builds the rest.
      expect(await page.locator('.check').count()).toBe(COMPONENTS * PER_COMPONENT);
    } finally {
      await ctx.close();
    }
  }, 30_000);

  it('opens the event stream and asks for the incident history after the first screen is drawn', async () => {
    const { ctx, page } = await freshPage();
    try {
      await page.addInitScript(() => {
        const Original = window.EventSource;
        const opened: number[] = [];
        (window as unknown as { streamOpenedAt: number[] }).streamOpenedAt = opened;
        window.EventSource = class extends Original {
          constructor(url: string | URL, init?: EventSourceInit) {
            opened.push(performance.now());
            super(url, init);
          }
        };
      });
      await page.goto(ex.url);
      await page.waitForSelector('#conn[data-state="live"]');
      const t = await page.evaluate(() => ({
        painted: performance.getEntriesByName('vigil:painted')[0].startTime,
        rendered: performance.getEntriesByName('vigil:rendered')[0].startTime,
        stream: (window as unknown as { streamOpenedAt: number[] }).streamOpenedAt,
        incidents: performance.getEntriesByType('resource').filter((e) => e.name.includes('api/v1/incidents')).map((e) => e.startTime),
      }));
      expect(t.painted).toBeGreaterThan(t.rendered);
      expect(t.stream.length).toBe(1);
      expect(t.stream[0]).toBeGreaterThanOrEqual(t.painted);
      expect(t.incidents.length).toBeGreaterThanOrEqual(1);
      expect(Math.min(...t.incidents)).toBeGreaterThanOrEqual(t.painted);
      // And the page is live: the stream is the one the status pill reports on.
      expect(await page.textContent('#conn-text')).toMatch(/live/i);
    } finally {
      await ctx.close();
    }
  }, 30_000);
});
