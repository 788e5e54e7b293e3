// The status page's triage views (issue 16): the broken-now order (root causes first), the
// server-rendered summary (escaped, no raw timestamps), badges, and the detail's configuration
// with its credentials redacted.
import { afterEach, describe, expect, it } from 'vitest';
import { clearSecrets, registerSecret } from '../../exporter/config/secrets.js';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckCommon } from '../../exporter/model/check.js';
import type { CheckResult } from '../../exporter/model/result.js';
import type { Status } from '../../exporter/model/status.js';
import { badgeSvg, uptimeBadge, uptimeOfRows } from '../../exporter/views/badge.js';
import { configSummary } from '../../exporter/views/check-config.js';
import { checkDiff } from '../../exporter/views/status.js';
import { brokenNow, humanDuration, humanTimes, serverSummary } from '../../exporter/views/summary.js';

const S = 1000;
const T = Date.UTC(2026, 11, 3, 8, 10);
const check = (name: string, component: string, extra: Partial<CheckCommon> = {}): CheckCommon => ({
  name, type: 'http', component, interval: 10 * S, timeout: S, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true, ...extra,
});
const result = (name: string, status: Status, t: number, message?: string): CheckResult => ({
  check: name, ok: status !== 'critical', status, violations: [], duration: 0.01, samples: [], attempts: 1, startedAt: t - 10, finishedAt: t,
  reason: status === 'critical' ? 'status' : undefined, message,
});

/** network <- database <- api, web <- database; jobs alone. */
function system() {
  const s = new StateStore();
  const checks = [check('lb', 'network'), check('db', 'database'), check('orders', 'api'), check('home', 'web'), check('nightly', 'jobs'), check('replica', 'database')];
  const components = [
    { name: 'network', depends_on: [] }, { name: 'database', depends_on: ['network'] }, { name: 'api', depends_on: ['database'] },
    { name: 'web', depends_on: ['database'] }, { name: 'jobs', depends_on: [] },
  ];
  s.applyConfig({ checks, components, history: { max_points: 1000, retention: 86_400_000 } } as never, new Set());
  for (const c of checks) s.record(result(c.name, 'healthy', T - 60 * S));
  return s;
}

afterEach(() => clearSecrets());

describe('broken now', () => {
  it('lists every critical or degraded check, root causes first, then critical before degraded, then the longest failing', () => {
    const s = system();
    s.record(result('orders', 'degraded', T)); // api, impacted by database
    s.record(result('db', 'critical', T + S, 'status 500, expected 2xx')); // the root cause
    s.record(result('nightly', 'degraded', T - 5 * S)); // a root of its own, degraded
    s.record(result('replica', 'critical', T + 2 * S, 'timed out')); // database too, later
    const list = brokenNow(s);
    expect(list.map((b) => b.name)).toEqual(['db', 'replica', 'nightly', 'orders']);
    expect(list.find((b) => b.name === 'orders')!.impacted_by).toEqual(['database']);
    expect(list.find((b) => b.name === 'db')!.impacted_by).toEqual([]);
    // Healthy checks (home: web depends on database but is fine) are never listed.
    expect(list.map((b) => b.name)).not.toContain('home');
  });

  it('renders the no-JS summary: title, counts and the list, escaped, times as UTC clock, never "Loading"', () => {
    const s = system();
    s.record(result('db', 'critical', T, 'GET http://x/<script>alert(1)</script> failed at 2026-12-03T08:09:58.540Z'));
    const sum = serverSummary(s);
    expect(sum.status).toBe('critical');
    expect(sum.title).toBe('Outage in 1 component');
    expect(sum.detail).toBe('6 checks: 5 healthy · 0 degraded · 1 critical · 0 unknown');
    expect(sum.brokenCount).toBe(1);
    expect(sum.brokenHtml).toContain('href="#/check/db"');
    expect(sum.brokenHtml).toContain('database · since 08:10 UTC');
    expect(sum.brokenHtml).not.toContain('<script>');
    expect(sum.brokenHtml).toContain('&#60;script&#62;');
    expect(sum.brokenHtml).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(sum.brokenHtml).toContain('failed at 08:09:58 UTC');
    // The banner's lines the page's scripts write, so their first render moves nothing.
    expect(sum.affectedHtml).toBe('Critical: <a href="#comp-database">database</a>');
    expect(sum.plannedHtml).toBe('');
    expect(sum.allPlanned).toBe(false);
  });

  it('names planned work in the banner: a note for failing components in a window, and "Planned maintenance" when that is all', () => {
    const s = system();
    s.record(result('db', 'critical', T, 'refused'));
    const end = Date.UTC(2026, 11, 3, 22, 30);
    const sum = serverSummary(s, [{ title: 'PG <16> upgrade', end, components: ['database'] }]);
    expect(sum.plannedHtml).toBe('<p class="banner-maint">Planned maintenance: database (PG &#60;16&#62; upgrade, until 22:30 UTC)</p>');
    expect(sum.allPlanned).toBe(true);
    expect(sum.title).toBe('Planned maintenance');
    s.record(result('nightly', 'degraded', T + S));
    const both = serverSummary(s, [{ title: 'PG upgrade', end, components: ['database'] }]);
    expect(both.allPlanned).toBe(false);
    expect(both.title).toBe('Outage in 1 component');
    expect(both.plannedHtml).toContain('database (PG upgrade, until 22:30 UTC)');
  });
});

describe('times and durations for people', () => {
  it('one unit style', () => {
    expect([0, 45, 105, 600, 725, 3600, 7500, 86400, 97200].map(humanDuration))
      .toEqual(['0 s', '45 s', '1 min 45 s', '10 min', '12 min', '1 h', '2 h 5 min', '1 d', '1 d 3 h']);
  });
  it('RFC 3339 stamps inside a message become clock times', () => {
    expect(humanTimes('no success since 2026-12-03T08:12:58.540Z; expected by 2026-12-03T08:13:00Z'))
      .toBe('no success since 08:12:58 UTC; expected by 08:13:00 UTC');
  });
});

describe('the live diff says thresholds as numbers with their unit', () => {
  it('carries violations and the last success', () => {
    const s = system();
    s.record({
      ...result('orders', 'degraded', T), samples: [{ key: 'response_time', metric: 'probe_duration_seconds', value: 0.812 }],
      violations: [{ key: 'response_time', severity: 'warning', value: 0.812, level: 0.5, direction: 'above', message: 'response_time 812 ms > warning 500 ms' }],
    });
    const d = checkDiff(s.get('orders')!);
    expect(d.violations).toEqual([{ key: 'response_time', severity: 'warning', value: 0.812, level: 0.5, direction: 'above', unit: 's', labels: undefined }]);
    expect(d.last_success).toBe(new Date(T).toISOString());
  });
});

describe('badges', () => {
  it('an uptime over less data than the window says how much data it is', () => {
    expect(uptimeBadge('30d', 0.417, 240, 30 * 86_400_000)).toEqual({ label: 'uptime 30d', message: '41.7 % · 4 min of data', status: 'critical' });
    expect(uptimeBadge('24h', 0.9995, 86_000, 86_400_000)).toEqual({ label: 'uptime 24h', message: '99.95 %', status: 'healthy' });
    expect(uptimeBadge('7d', null, 0, 7 * 86_400_000).message).toBe('no data');
  });
  it('a component sums its checks\' up and observed time', () => {
    const row = (observed: number, healthy: number, degraded: number) => ({ r: { observed_seconds: observed, seconds_by_status: { healthy, degraded } } });
    expect(uptimeOfRows([row(86_400, 86_400, 0), row(86_400, 43_200, 0)], '24h').message).toBe('75.0 %');
  });
  it('escapes its text', () => {
    const svg = badgeSvg({ label: 'a<b', message: '"x"&', status: 'healthy' });
    expect(svg).toContain('<title>a&#60;b: &#34;x&#34;&#38;</title>');
    expect(svg).not.toContain('a<b');
  });
});

describe('the detail\'s configuration', () => {
  it('replaces credential fields and redacts URL passwords and registered secrets in every string', () => {
    registerSecret('s3cr3t-from-env');
    const cfg = configSummary({
      ...check('db', 'database', { thresholds: { response_time: { warning: 0.5, critical: 2, direction: 'above' } } }),
      url: 'postgres://vigil:hunter2@db:5432/app', password: 'literal-pw', headers: { Authorization: 'Bearer abc', 'X-Note': 'key s3cr3t-from-env' },
      dsn: 'host=db password=x', timeout: 2500,
    } as CheckCommon);
    const text = JSON.stringify(cfg);
    for (const secret of ['hunter2', 'literal-pw', 'Bearer abc', 's3cr3t-from-env', 'password=x']) expect(text).not.toContain(secret);
    expect(cfg.password).toBe('<redacted>');
    expect(cfg.url).toBe('postgres://vigil:<redacted>@db:5432/app');
    expect(cfg.timeout).toBe('2500ms');
    expect(cfg.interval).toBe('10s');
    expect(cfg.thresholds).toEqual({ response_time: 'warning > 500ms, critical > 2s' });
    expect(cfg).not.toHaveProperty('name'); // shown in the header already
  });
});
