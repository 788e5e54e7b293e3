import { chromium } from 'playwright-core';
const url = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
await page.addInitScript(() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__shifts.push({ t: Math.round(e.startTime), v: e.value.toFixed(3), src: e.sources.map((s) => { const n = s.node; return n ? (n.id ? '#' + n.id : n.nodeName + '.' + (n.className || '')) + ` ${s.previousRect.y}->${s.currentRect.y}` : '?'; }) });
  }).observe({ type: 'layout-shift', buffered: true });
});
await page.goto(url);
await page.waitForSelector('html[data-ready="true"]');
await page.waitForTimeout(2500);
console.log(JSON.stringify(await page.evaluate(() => ({ shifts: window.__shifts, marks: performance.getEntriesByType('mark').map((m) => m.name + ' ' + Math.round(m.startTime)) })), null, 1));
await browser.close();
