// /metrics per check: the lean series set (metrics.series: lean) serves exactly the documented
// families, and a reload re-renders only the checks it changed — the output is the same bytes a
// full re-render gives, apart from where a changed check's lines sit.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StateStore } from '../../exporter/engine/state.js';
import { getProbeDefinition } from '../../exporter/probes/index.js';
import { CHECK_FAMILIES } from '../../exporter/model/metric.js';
import type { CheckResult, Sample } from '../../exporter/model/result.js';
import type { VigilConfig } from '../../exporter/config/schema.js';
import { Metrics } from '../../exporter/telemetry/metrics.js';
import { CheckSeries } from '../../exporter/telemetry/check-series.js';
import { DETAIL_FAMILIES } from '../../exporter/telemetry/series-sets.js';
import { TextBody } from '../../exporter/telemetry/text-body.js';
import { parseConfig } from '../support/config.js';

const ROOT = path.resolve(__dirname, '../..');

const CHECKS = `
  - { name: web, type: http, url: "https://api.example.com/health", thresholds: { response_time: { warning: 1, critical: 2 } } }
  - { name: plain, type: http, url: "http://api.example.com/" }
  - { name: db, type: tcp, host: db.internal, port: 5432 }
  - { name: ns, type: dns, query_name: example.com, server: "10.0.0.53:53" }
  - { name: ping, type: icmp, host: 127.0.0.1 }
`;

function config(series: 'full' | 'lean' | undefined, checks = CHECKS): VigilConfig {
  return parseConfig(`${series ? `metrics: { series: ${series} }\n` : ''}checks:${checks}`, 'vigil.yml');
}

/** A result with one sample of every family the check's kind declares (labels filled in). */
function everyFamily(check: VigilConfig['checks'][number], finishedAt: number, value = 1): CheckResult {
  const samples: Sample[] = getProbeDefinition(check.type)!.metrics.map((m) => ({
    key: m.name, metric: m.name, value, labels: m.labels ? Object.fromEntries(m.labels.map((l) => [l, 'x'])) : undefined,
  }));
  samples.push({ key: 'response_time', metric: 'probe_duration_seconds', value: 0.01 });
  return { check: check.name, ok: true, status: 'healthy', violations: [], duration: 0.01, attempts: 1, startedAt: finishedAt - 10, finishedAt, samples };
}

/** The check series of a scrape, as served (the exporter's own families, which vary by the moment, cut off). */
async function scrape(m: Metrics): Promise<string> {
  const body = new TextBody();
  await m.writeTo(body);
  const text = body.bytes().toString('utf8');
  return text.slice(text.indexOf('# HELP probe_success '));
}

const familiesOf = (text: string, check: string) =>
  new Set([...text.matchAll(new RegExp(`^([a-z_]+)\\{check="${check}"`, 'gm'))].map((x) => x[1]));

/** The check series of a scrape (not the exporter's own families), by line. */
const checkLines = (text: string) => text.split('\n').filter((l) => /\{check="/.test(l)).sort();

describe('metrics.series', () => {
  it('lean serves every family full does except the documented detail families, and full serves them all', async () => {
    const out: Record<string, string> = {};
    for (const series of ['full', 'lean'] as const) {
      const cfg = config(series);
      const state = new StateStore();
      state.applyConfig(cfg, new Set());
      const metrics = new Metrics(state);
      metrics.applyConfig(cfg);
      for (const c of cfg.checks) state.record(everyFamily(c, 1_000_000));
      out[series] = await scrape(metrics);
    }
    for (const check of ['web', 'plain', 'db', 'ns', 'ping']) {
      const full = familiesOf(out.full, check);
      const lean = familiesOf(out.lean, check);
      const type = config('full').checks.find((c) => c.name === check)!.type;
      const declared = getProbeDefinition(type)!.metrics.map((m) => m.name);
      for (const f of declared) expect(full.has(f), `${check}: full serves ${f}`).toBe(true);
      expect([...lean].sort()).toEqual([...full].filter((f) => !DETAIL_FAMILIES.has(f)).sort());
      // Every family every check has stays.
      for (const f of CHECK_FAMILIES) if (full.has(f.name)) expect(lean.has(f.name)).toBe(true);
    }
    // The http check really loses its detail: lean has about half the lines.
    const count = (t: string, c: string) => t.split('\n').filter((l) => l.includes(`{check="${c}"`)).length;
    expect(count(out.lean, 'plain')).toBeLessThan(count(out.full, 'plain') * 0.6);
    // No header of a family lean leaves out.
    for (const f of DETAIL_FAMILIES) expect(out.lean).not.toContain(`# TYPE ${f} `);
  });

  it('the detail families are the ones docs/metrics.md marks "full only", and no shipped alerting rule queries one', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8');
    const marked = [...doc.matchAll(/^\| `([a-z_]+)` \|[^\n]*\| full only \|/gm)].map((x) => x[1]);
    expect(marked.sort()).toEqual([...DETAIL_FAMILIES].sort());
    const rules = readdirSync(path.join(ROOT, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => readFileSync(path.join(ROOT, 'rules', f), 'utf8')).join('\n');
    for (const f of DETAIL_FAMILIES) expect(rules, f).not.toMatch(new RegExp(`\\b${f}\\b`));
  });

  it('full is the default', () => {
    expect(config(undefined).metrics.series).toBe('full');
    expect(() => config('fat' as never)).toThrow(/metrics\.series|series/);
  });
});

describe('reload and /metrics', () => {
  it('re-renders only the changed check: the others keep their rows, and the text equals a full re-render but for line order', async () => {
    const before = config(undefined);
    const state = new StateStore();
    state.applyConfig(before, new Set());
    const metrics = new Metrics(state);
    metrics.applyConfig(before);
    for (let run = 0; run < 3; run++) for (const c of before.checks) state.record(everyFamily(c, 1_000_000 + run, run));
    const first = await scrape(metrics);

    // A reload that changes nothing serves the same bytes.
    const same = config(undefined);
    const all = new Set(same.checks.map((c) => c.name));
    state.applyConfig(same, all);
    metrics.applyConfig(same, all);
    expect(await scrape(metrics)).toBe(first);

    // `db` changes port: its state starts again; everyone else's lines are untouched.
    const after = config(undefined, CHECKS.replace('port: 5432', 'port: 5433'));
    const unchanged = new Set(after.checks.map((c) => c.name).filter((n) => n !== 'db'));
    state.applyConfig(after, unchanged);
    const updates = vi.spyOn(CheckSeries.prototype, 'update');
    try {
      metrics.applyConfig(after, unchanged);
      // Only the changed check is rendered again (a reload of one check of 10 000 rendered them all).
      expect(updates.mock.calls.map((c) => c[0])).toEqual(['db']);
    } finally {
      updates.mockRestore();
    }
    const reloaded = await scrape(metrics);
    const others = (t: string) => checkLines(t).filter((l) => !l.includes('check="db"'));
    expect(others(reloaded)).toEqual(others(first));
    expect(reloaded).toMatch(/^vigil_check_runs_total\{check="db",component="db"\} 0$/m);
    expect(first).toMatch(/^vigil_check_runs_total\{check="db",component="db"\} 3$/m);

    // The same state rendered from scratch: same lines, same family order.
    const fresh = new Metrics(state);
    fresh.applyConfig(after);
    const scratch = await scrape(fresh);
    expect(checkLines(reloaded)).toEqual(checkLines(scratch));
    const headers = (t: string) => t.split('\n').filter((l) => l.startsWith('# TYPE ') && /^# TYPE (probe_|vigil_check_|vigil_http|vigil_tcp|vigil_tls)/.test(l));
    expect(headers(reloaded)).toEqual(headers(scratch));

    // A removed check's series go.
    const fewer = config(undefined, CHECKS.split('\n').filter((l) => !l.includes('name: ping')).join('\n'));
    const kept = new Set(fewer.checks.map((c) => c.name).filter((n) => n !== 'db'));
    state.applyConfig(fewer, kept);
    metrics.applyConfig(fewer, kept);
    expect(await scrape(metrics)).not.toContain('check="ping"');
  });

  it('switching the series set on reload re-renders every check in the new set', async () => {
    const full = config('full');
    const state = new StateStore();
    state.applyConfig(full, new Set());
    const metrics = new Metrics(state);
    metrics.applyConfig(full);
    for (const c of full.checks) state.record(everyFamily(c, 1_000_000));
    expect(await scrape(metrics)).toContain('probe_http_duration_seconds{check="plain"');
    const lean = config('lean');
    const all = new Set(lean.checks.map((c) => c.name));
    state.applyConfig(lean, all);
    metrics.applyConfig(lean, all);
    const text = await scrape(metrics);
    expect(text).not.toContain('probe_http_duration_seconds');
    expect(text).toMatch(/^vigil_check_runs_total\{check="plain",component="plain"\} 1$/m);
  });
});
