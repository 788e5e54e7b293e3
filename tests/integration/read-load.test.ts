// Expensive public GETs under load (issue 12, item 5), against the real exporter: 16 clients
// hammering the status JSON, /health, reports and alert history must not slow the scrape, and
// requests for more than the caps allow get a 400 that names the parameter and the limit.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const CHECKS = 1000;
const COMPONENTS = 40;
const CLIENTS = 16;
const WINDOW_MS = 15_000;

// Heartbeat checks cost next to nothing to run, so the load is the reads; a quarter of them
// (period 1 s, never pinged) go critical, which makes the dependency chain's rollup non-trivial.
function config(): string {
  const lines = ['defaults: { interval: 5s, timeout: 1s, retries: 0 }', 'components:'];
  for (let c = 0; c < COMPONENTS; c++) lines.push(`  - { name: svc${c}${c ? `, depends_on: [svc${c - 1}]` : ''} }`);
  lines.push('checks:');
  for (let i = 0; i < CHECKS; i++) {
    const period = i % 4 === 0 ? '1s, grace: 1s' : '1h';
    lines.push(`  - { name: c${i}, type: heartbeat, component: svc${i % COMPONENTS}, period: ${period} }`);
  }
  return lines.join('\n') + '\n';
}

// The hammering clients run in their own process, so reading megabytes of answers does not
// delay the event loop that times the scrapes. It prints its tally when told to stop.
const HAMMER = `
const http = require('http');
const [base, clients, urls] = [process.env.BASE, Number(process.env.CLIENTS), JSON.parse(process.env.URLS)];
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const tally = { byStatus: {}, noRetryAfter: 0, errors: 0 };
let stop = false, running = 0;
function one(i) {
  if (stop) { if (--running === 0) done(); return; }
  const u = urls[i % urls.length];
  const req = http.get(base + u.path, { agent, headers: u.headers || {}, timeout: 30000 }, (res) => {
    tally.byStatus[res.statusCode] = (tally.byStatus[res.statusCode] || 0) + 1;
    // /health answers 503 for a critical system (a quarter of the checks here); busy 503s say when to retry.
    if (res.statusCode === 503 && !u.path.startsWith('/health') && !res.headers['retry-after']) tally.noRetryAfter++;
    res.resume();
    res.on('end', () => setImmediate(one, i + 1));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { tally.errors++; setTimeout(one, 50, i + 1); });
}
function done() { process.stdout.write(JSON.stringify(tally)); process.exit(0); }
process.on('SIGTERM', () => { stop = true; });
for (let c = 0; c < clients; c++) { running++; one(c * 3); }
`;

interface Tally { byStatus: Record<string, number>; noRetryAfter: number; errors: number }

function startHammer(base: string, urls: Array<{ path: string; headers?: Record<string, string> }>): { proc: ChildProcess; stop(): Promise<Tally> } {
  const proc = spawn(process.execPath, ['-e', HAMMER], { env: { ...process.env, BASE: base, CLIENTS: String(CLIENTS), URLS: JSON.stringify(urls) }, stdio: ['ignore', 'pipe', 'inherit'] });
  // The hammering clients would be other machines: here they share two cores with the exporter,
  // so they run at a low priority and do not take the CPU the scrape is measured on.
  os.setPriority(proc.pid!, 15);
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  return {
    proc,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
      return JSON.parse(out || '{"byStatus":{},"noRetryAfter":0,"errors":-1}') as Tally;
    },
  };
}

/** One GET, timed from the request to the last byte. */
function timedGet(url: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false, timeout: 20_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode! }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 20 s`)));
    req.on('error', reject);
  });
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

let ex: RunningExporter;
beforeAll(async () => {
  ex = await startExporter({ config: config(), timeoutMs: 30_000 });
  // Every check has run once and the quarter that is never pinged has gone critical.
  await waitFor(async () => {
    const r = await fetch(`${ex.url}/api/v1/checks`);
    const body = await r.json() as { checks: Array<{ status: string }> };
    return body.checks.filter((c) => c.status === 'critical').length >= CHECKS / 4;
  }, 30_000, 500);
});
afterAll(async () => {
  await ex?.stop();
});

describe('expensive GETs', () => {
  it('16 clients hammering them keep the /metrics p99 under 250 ms', async () => {
    const hammer = startHammer(ex.url, [
      { path: '/api/v1/status?buckets=288' },
      { path: '/api/v1/status' },
      { path: '/health' },
      { path: '/health', headers: { accept: 'application/health+json' } },
      { path: '/health/svc3' },
      { path: '/api/v1/checks' },
      { path: '/api/v1/report', headers: { 'accept-encoding': 'gzip' } },
      { path: '/api/v1/report?format=csv' },
      { path: '/api/v1/report?table=incidents&format=csv&from=6h' },
      { path: '/api/v1/alerts/history' },
      { path: '/api/v1/alerts/history?format=csv' },
      { path: '/api/v1/checks/c1/history?buckets=1440' },
      { path: '/api/v1/status?buckets=288', headers: { 'accept-encoding': 'gzip' } },
      { path: '/api/v1/incidents?from=30d' },
      { path: '/api/v1/record/events?limit=1000' },
      { path: '/api/v1/record/events?format=csv&q=refused&limit=1000' },
      { path: '/api/v1/record/reliability' },
      { path: '/api/v1/trends?window=90d' },
      { path: '/api/v1/trends?window=7d&buckets=84' },
    ]);
    const scrapes: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 1000)); // let the hammer get going
      const end = performance.now() + WINDOW_MS;
      while (performance.now() < end) {
        const { ms, status } = await timedGet(`${ex.url}/metrics`);
        expect(status).toBe(200);
        scrapes.push(ms);
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      const tally = await hammer.stop();
      console.log('hammer', JSON.stringify(tally), 'scrapes', scrapes.length,
        'p50', percentile(scrapes, 50)?.toFixed(1), 'p99', percentile(scrapes, 99)?.toFixed(1), 'max', Math.max(...scrapes).toFixed(1));
      expect(tally.errors).toBe(0);
      expect(tally.noRetryAfter).toBe(0); // every 503 says when to come back
      expect(tally.byStatus['200']).toBeGreaterThan(CLIENTS); // the reads were answered, not just refused
      expect(Object.keys(tally.byStatus).every((s) => s === '200' || s === '503')).toBe(true);
    }
    expect(scrapes.length).toBeGreaterThan(40);
    expect(percentile(scrapes, 99)).toBeLessThan(250);
  }, 90_000);

  it('caps buckets and time ranges with a 400 that names the parameter and the limit', async () => {
    const cases: Array<{ path: string; mentions: RegExp }> = [
      { path: '/api/v1/status?buckets=289', mentions: /buckets.*288/ },
      { path: '/api/v1/status?buckets=1440', mentions: /buckets.*288/ },
      { path: '/api/v1/checks/c1/history?buckets=1441', mentions: /buckets.*1440/ },
      // history.retention (90 days by default) is longer than 31 days: it is the limit.
      { path: '/api/v1/report?from=91d', mentions: /from.*to.*90d \(history\.retention\)/ },
      { path: '/api/v1/checks/c1/history?since=91d', mentions: /since.*until.*90d/ },
      { path: '/api/v1/alerts/history?from=400d', mentions: /from.*to.*31d/ },
      { path: '/api/v1/record/events?from=400d', mentions: /from.*to.*(31|90)d/ },
      { path: '/api/v1/record/events?limit=1001', mentions: /limit.*1000/ },
      { path: '/api/v1/incidents?limit=501', mentions: /limit.*500/ },
      { path: '/api/v1/incidents?offset=100001', mentions: /offset.*100000/ },
      { path: '/api/v1/trends?buckets=91', mentions: /buckets.*90/ },
      { path: '/api/v1/trends?window=1y', mentions: /window.*7d.*30d.*90d/ },
    ];
    for (const c of cases) {
      const res = await fetch(`${ex.url}${c.path}`);
      const body = await res.json() as { error: string };
      expect({ path: c.path, status: res.status }).toEqual({ path: c.path, status: 400 });
      expect(body.error).toMatch(c.mentions);
    }
    // At the limits they are answered.
    for (const p of ['/api/v1/status?buckets=288', '/api/v1/checks/c1/history?buckets=1440', '/api/v1/report?from=90d', '/api/v1/alerts/history?from=31d']) {
      expect({ p, status: (await fetch(`${ex.url}${p}`)).status }).toEqual({ p, status: 200 });
    }
  });

  it('answers identical reads within a second from one computation', async () => {
    // Two reads that both fall within one second (a loaded CI box can spread two requests over
    // more than that: then the pair is taken again).
    let a!: Response, b!: Response, ja!: { generated_at: string }, jb!: { generated_at: string };
    for (let attempt = 0; attempt < 5; attempt++) {
      const t0 = performance.now();
      a = await fetch(`${ex.url}/api/v1/status`);
      b = await fetch(`${ex.url}/api/v1/status`);
      [ja, jb] = await Promise.all([a.json(), b.json()]) as Array<{ generated_at: string }>;
      if (performance.now() - t0 < 900) break;
    }
    expect(jb.generated_at).toBe(ja.generated_at);
    expect(Number(b.headers.get('age'))).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1200));
    const c = await (await fetch(`${ex.url}/api/v1/status`)).json() as { generated_at: string };
    expect(c.generated_at).not.toBe(ja.generated_at);
  });
});
