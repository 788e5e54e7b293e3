import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
for (let k = 0; k < 3; k++) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto('http://127.0.0.1:18997/');
  await page.waitForSelector('html[data-ready="true"]');
  await page.waitForTimeout(500);
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const out = [`nav: req ${nav.requestStart.toFixed(0)} resp ${nav.responseStart.toFixed(0)}-${nav.responseEnd.toFixed(0)} dcl ${nav.domContentLoadedEventEnd.toFixed(0)}`];
    for (const n of ['first-contentful-paint']) out.push(n + ' ' + performance.getEntriesByName(n)[0]?.startTime.toFixed(0));
    for (const m of performance.getEntriesByType('mark')) out.push(`mark ${m.name} ${m.startTime.toFixed(0)}`);
    for (const e of performance.getEntriesByType('resource')) out.push(`${e.name.replace(/^https?:\/\/[^/]+/, '')} start ${e.startTime.toFixed(0)} req ${e.requestStart.toFixed(0)} resp ${e.responseStart.toFixed(0)} end ${e.responseEnd.toFixed(0)} ${e.transferSize}B`);
    return out.join('\n');
  });
  console.log(`--- load ${k}\n${r}`);
  await ctx.close();
}
await browser.close();
