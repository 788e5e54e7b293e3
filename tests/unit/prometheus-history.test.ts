// The Prometheus side of long windows (exporter/record/prometheus-history.ts) against a local
// HTTP server standing in for the query API: the queries it sends, how answers map to checks
// and buckets, and every way an answer can be unusable (an error, not JSON, too large, too
// slow) turned into PrometheusUnavailable, never with the URL's credentials in the message.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusHistory, PrometheusUnavailable, windowQueries } from '../../exporter/record/prometheus-history.js';
import { parseConfig } from '../support/config.js';
import { ConfigError } from '../../exporter/config/errors.js';

const servers: http.Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.closeAllConnections(), s.close(); });

type Handler = (req: { path: string; params: URLSearchParams; auth?: string }, res: http.ServerResponse) => void;
async function api(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => handler({ path: req.url!, params: new URLSearchParams(body), auth: req.headers.authorization }, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const ok = (res: http.ServerResponse, resultType: string, result: unknown) => res.end(JSON.stringify({ status: 'success', data: { resultType, result } }));

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('PrometheusHistory', () => {
  it('asks the recording rules with the selector and maps answers to checks and daily buckets', async () => {
    const seen: Array<{ path: string; params: URLSearchParams; auth?: string }> = [];
    const url = await api((req, res) => {
      seen.push(req);
      const q = req.params.get('query')!;
      if (req.path === '/api/v1/query') return ok(res, 'vector', [{ metric: { check: 'db' }, value: [NOW / 1000, q.includes('probe_success') ? '0.975' : '0.125'] }, { metric: {}, value: [0, '1'] }]);
      const start = Number(req.params.get('start'));
      const step = Number(req.params.get('step'));
      return ok(res, 'matrix', [{ metric: { check: 'db' }, values: [[start, q.includes('probe_success') ? '0.5' : '0.2'], [start + 6 * step, 'NaN']] }]);
    });
    const p = new PrometheusHistory({ url: url.replace('http://', 'http://reader:s3cr%2Ft@'), timeoutMs: 2_000, selector: 'job="vigil"' });
    const out = await p.windows({ window: '7d', now: NOW, buckets: 7 });
    expect([...out.keys()]).toEqual(['db']);
    const db = out.get('db')!;
    expect(db).toMatchObject({ availability: 0.975, response_time: 0.125 });
    expect(db.trend).toHaveLength(7);
    expect(db.trend[0]).toEqual({ t: NOW - 7 * 86_400_000, availability: 0.5, response_time: 0.2 });
    expect(db.trend[6]).toEqual({ t: NOW - 86_400_000, availability: null, response_time: null }); // NaN is no data
    const queries = seen.map((r) => r.params.get('query'));
    expect(queries).toContain('max by (check) (check:probe_success:avg_over_time7d{job="vigil"})');
    expect(queries).toContain('max by (check) (avg_over_time(check:probe_duration_seconds:avg_over_time1h{job="vigil"}[604800s:1h]))');
    expect(seen.find((r) => r.path === '/api/v1/query_range')!.params.get('step')).toBe('86400');
    expect(seen.every((r) => r.auth === `Basic ${Buffer.from('reader:s3cr/t').toString('base64')}`)).toBe(true);
    expect(seen.every((r) => r.params.get('timeout') === '2s')).toBe(true);
  });

  it('the 30 d and 90 d windows read their recording rules', () => {
    expect(windowQueries('30d', 86_400_000).availability).toBe('max by (check) (check:probe_success:avg_over_time30d{})');
    expect(windowQueries('90d', 86_400_000, 'job="v"').availabilityTrend).toBe('max by (check) (avg_over_time(check:probe_success:avg_over_time1h{job="v"}[86400s:1h]))');
  });

  it.each([
    ['an API error', (res: http.ServerResponse) => { res.statusCode = 422; res.end(JSON.stringify({ status: 'error', error: 'parse error: unknown function' })); }, /HTTP 422: parse error/],
    ['not the query API', (res: http.ServerResponse) => res.end('<html>login</html>'), /not a query API answer/],
    ['an answer too large', (res: http.ServerResponse) => res.end(`{"status":"success","data":{"result":[${'0,'.repeat(40_000)}0]}}`), /larger than 65536 bytes/],
    ['no answer in time', (_res: http.ServerResponse) => { /* never answers */ }, /no answer within 300 ms/],
  ])('%s: PrometheusUnavailable, without the credentials', async (_name, handler, message) => {
    const url = await api((_req, res) => handler(res));
    // A short bound only where the wait is the point (a loaded machine may take longer than 300 ms to answer at all).
    const timeoutMs = /no answer/.test(_name) ? 300 : 5_000;
    const p = new PrometheusHistory({ url: url.replace('http://', 'http://reader:pr0m-pass@'), timeoutMs, maxBytes: 65_536 });
    const started = Date.now();
    const err = await p.windows({ window: '30d', now: NOW, buckets: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusUnavailable);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('pr0m-pass');
    expect(Date.now() - started).toBeLessThan(timeoutMs + 3_000);
  });

  it('nobody listening: PrometheusUnavailable naming the refusal', async () => {
    const url = await api(() => {});
    servers[0].close();
    const err = await new PrometheusHistory({ url, timeoutMs: 1_000 }).windows({ window: '7d', now: NOW, buckets: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusUnavailable);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe('history.prometheus_* config', () => {
  const problems = (yaml: string) => {
    try {
      parseConfig(yaml, 'vigil.yml', { env: {} });
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.message.split('\n');
      throw err;
    }
  };
  it('accepts a URL, a timeout and label matchers; refuses what is not', () => {
    const cfg = parseConfig('history:\n  prometheus_url: https://thanos.example:10902\n  prometheus_selector: job="vigil", instance=~"vigil-.*"\n', 'vigil.yml', { env: {} });
    expect(cfg.history).toMatchObject({ prometheus_url: 'https://thanos.example:10902', prometheus_timeout: 5_000, prometheus_selector: 'job="vigil", instance=~"vigil-.*"' });
    expect(problems('history:\n  prometheus_url: ftp://prom\n')).toEqual([expect.stringMatching(/vigil\.yml:2:\d+ history\.prometheus_url: expected an http:\/\/ or https:\/\/ URL/)]);
    expect(problems('history:\n  prometheus_selector: \'job="a"} or vector(1) {\'\n')).toEqual([expect.stringMatching(/history\.prometheus_selector: expected label matchers/)]);
    expect(problems('history:\n  prometheus_timeout: 2m\n')).toEqual([expect.stringMatching(/history\.prometheus_timeout: prometheus_timeout must be at most 60s/)]);
  });
});
