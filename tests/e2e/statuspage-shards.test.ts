// The status page of one shard in a real browser (Debian chromium driven by playwright-core):
// the checks other shards run are listed apart, each marked with the shard that serves it.
// Without a shared record (SQLite here) their status is unknown and the note says why; the
// shared PostgreSQL case is tests/integration/scale.test.ts (its /health and /api/v1/status).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shardOf } from '../../exporter/config/scale.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { launchChromium } from '../support/chromium.js';

const CHECKS = ['web', 'api', 'mail', 'queue'];
let ex: RunningExporter;
let browser: Browser;

beforeAll(async () => {
  const config = `checks:\n${CHECKS.map((n) => `  - { name: ${n}, component: site, type: tcp, host: 127.0.0.1, port: 1, interval: 1s, timeout: 500ms, retries: 0 }\n`).join('')}`;
  [ex, browser] = await Promise.all([
    startExporter({ config, args: ['--shard.count=2', '--shard.index=0'], timeoutMs: 60_000 }),
    launchChromium(),
  ]);
  await waitFor(async () => (await fetch(`${ex.url}/-/ready`)).ok, 30_000);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ex?.stop();
});

it('lists the other shard\'s checks apart, marked with the shard that serves them', async () => {
  const mine = CHECKS.filter((n) => shardOf(n, 2) === 0);
  const theirs = CHECKS.filter((n) => shardOf(n, 2) === 1);
  expect(mine.length).toBeGreaterThan(0);
  expect(theirs.length).toBeGreaterThan(0);
  const page = await browser.newPage();
  try {
    await page.goto(ex.url);
    const section = page.locator('#other-shards');
    await section.waitFor({ timeout: 20_000 });
    expect(await section.locator('h2').textContent()).toBe(`Served by other shards ${theirs.length}`);
    expect(await section.locator('.other-shard-check .name').allTextContents()).toEqual(theirs);
    for (const text of await section.locator('.other-shard-check').allTextContents()) expect(text).toMatch(/site · Unknown · served by shard 2 of 2$/);
    expect(await section.locator('p').textContent()).toContain('served by shard 1 of 2');
    // This shard's own checks are on the board, the others' are not.
    for (const n of mine) await expect.poll(() => page.locator('#board').getByText(n, { exact: true }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    for (const n of theirs) expect(await page.locator('#board').getByText(n, { exact: true }).count()).toBe(0);
  } finally {
    await page.close();
  }
}, 60_000);
