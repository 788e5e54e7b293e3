// The log watch probe end to end against the compiled exporter: files the test writes are
// followed (an app log and PM2-style *-error.log files), matches show in
// vigil_log_lines_total{check,pattern} and the per-minute rate makes the check degraded past its
// threshold, GET /api/v1/logs finds the kept lines (behind status_page_auth, bad parameters
// refused with 400) and finds them again after an exporter restart, which resumes at the stored
// position: lines written while it was down are read once, none twice.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const PAGE_TOKEN = 'page-token-for-log-search-0123';
let dir: string;
let logs: string;
let exporter: RunningExporter | undefined;

const config = () => `
server:
  status_page_auth: { token: ${PAGE_TOKEN} }
# Every second with a 1 s timeout (a 2 s default is cut to the interval): the tests read the check
# healthy, and at 200 ms a stall of a loaded CI box read "timed out".
defaults: { interval: 1s, timeout: 1s }
components:
  - { name: shop }
checks:
  - name: shop-log
    type: log
    component: shop
    paths: ["${logs}/app.log", "${logs}/pm2/*-error.log"]
    patterns:
      - { name: error, regex: "(?i)\\\\berror\\\\b" }
      - { name: timeout, plain: ETIMEDOUT }
    rate_window: 1m
    thresholds: { error: { warning: 10 } }
`;

const auth = { authorization: `Bearer ${PAGE_TOKEN}` };
const search = async (query: string) => {
  const res = await fetch(`${exporter!.url}/api/v1/logs?${query}`, { headers: auth });
  return { status: res.status, body: (await res.json()) as { lines?: Array<{ line: string; check: string; file: string; patterns: string[]; time: string }>; error?: string } };
};
const metric = async (pattern: string) => {
  const text = await (await fetch(`${exporter!.url}/metrics`)).text();
  const m = text.match(new RegExp(`^vigil_log_lines_total\\{check="shop-log",component="shop",pattern="${pattern}"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : undefined;
};
const status = async () => ((await (await fetch(`${exporter!.url}/api/v1/checks/shop-log`, { headers: auth })).json()) as { status: string; last_run: string | null }).status;
const runs = async () => Number((await (await fetch(`${exporter!.url}/metrics`)).text()).match(/^vigil_check_runs_total\{check="shop-log"[^}]*\} (\d+)/m)?.[1] ?? 0);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-log-e2e-'));
  logs = path.join(dir, 'logs');
  mkdirSync(path.join(logs, 'pm2'), { recursive: true });
  writeFileSync(path.join(logs, 'app.log'), 'error from before the exporter started\n');
  writeFileSync(path.join(logs, 'pm2', 'api-error.log'), '');
  exporter = await startExporter({ config: config(), dir });
  await waitFor(async () => (await runs()) >= 1, 20_000);
});
afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('log watch probe (compiled exporter)', () => {
  it('counts appended matches per pattern into vigil_log_lines_total, not what was there before it started', async () => {
    appendFileSync(path.join(logs, 'app.log'), 'GET /cart 200\nError: payment gateway ETIMEDOUT\n');
    appendFileSync(path.join(logs, 'pm2', 'api-error.log'), 'TypeError: cannot read error of undefined\n');
    await waitFor(async () => (await metric('error')) === 2 && (await metric('timeout')) === 1, 20_000);
    expect(await status()).toBe('healthy');
  });

  it('goes degraded past the rate threshold (more than 10 errors a minute)', async () => {
    appendFileSync(path.join(logs, 'app.log'), 'error burst\n'.repeat(12));
    await waitFor(async () => (await status()) === 'degraded', 20_000);
    const text = await (await fetch(`${exporter!.url}/metrics`)).text();
    expect(text).toMatch(/^vigil_log_matches_per_minute\{check="shop-log",component="shop",pattern="error"\} 14$/m);
  });

  it('GET /api/v1/logs: full-text search behind the status page auth, bad parameters refused', async () => {
    expect((await fetch(`${exporter!.url}/api/v1/logs?q=payment`)).status).toBe(401);
    const found = await search('check=shop-log&q=payment%20ETIMEDOUT');
    expect(found.status).toBe(200);
    expect(found.body.lines!.map((l) => l.line)).toEqual(['Error: payment gateway ETIMEDOUT']);
    expect(found.body.lines![0]).toMatchObject({ check: 'shop-log', file: path.join(logs, 'app.log'), patterns: ['error', 'timeout'] });
    expect((await search('q=undefined')).body.lines!.map((l) => l.file)).toEqual([path.join(logs, 'pm2', 'api-error.log')]);
    expect((await search('q=burst&limit=5')).body.lines).toHaveLength(5);
    expect((await search('q=burst&since=2099-01-01T00:00:00Z')).body.lines).toEqual([]);
    expect((await search('q=payment&since=1h')).body.lines).toHaveLength(1);
    // A live tail: only what came after the newest id it has.
    const newest = (await search('limit=1')).body.lines![0] as unknown as { id: number };
    expect((await search(`after=${newest.id}`)).body.lines).toEqual([]);
    appendFileSync(path.join(logs, 'app.log'), 'error for the tail\n');
    await waitFor(async () => (await search(`after=${newest.id}`)).body.lines!.length === 1, 20_000);
    expect((await search(`after=${newest.id}`)).body.lines!.map((l) => l.line)).toEqual(['error for the tail']);
    expect((await search('check=nope')).status).toBe(404);
    expect((await search('since=yesterday')).status).toBe(400);
    expect((await search('limit=100000')).status).toBe(400);
    expect((await search('q=a&q=b')).status).toBe(400);
  });

  it('after a restart: resumes at the stored position (lines written while down counted once) and search still finds the old lines', async () => {
    await exporter!.stop();
    exporter = undefined;
    appendFileSync(path.join(logs, 'app.log'), 'error written while the exporter was down\n');
    exporter = await startExporter({ config: config(), dir });
    await waitFor(async () => (await metric('error')) === 1, 20_000);
    // A few more runs: still exactly one (nothing read twice).
    const after = await runs();
    await waitFor(async () => (await runs()) >= after + 3, 20_000);
    expect(await metric('error')).toBe(1);
    const old = await search('q=payment');
    expect(old.body.lines!.map((l) => l.line)).toEqual(['Error: payment gateway ETIMEDOUT']);
    expect((await search('q=down')).body.lines!.map((l) => l.line)).toEqual(['error written while the exporter was down']);
    expect((await search('q=burst&limit=1000')).body.lines).toHaveLength(12);
    expect((await search('q=tail')).body.lines).toHaveLength(1);
  }, 60_000); // a stop, a start and three runs a second apart
});
