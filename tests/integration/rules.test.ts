// Prometheus side of the alerting config: rules/*.yml pass `promtool check rules`, every
// rules/tests/*.test.yml passes `promtool test rules`, the rules follow the house conventions
// (STYLE.md), every alert is tested firing and not firing, prometheus/prometheus.yml passes
// `promtool check config` (as the loopback copy the stack tests use), and the critical path fits
// the 30 s detection budget (docs/alerting.md#detection-budget). A missing promtool fails.
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTMANAGER_CONFIG, REPO_ROOT } from '../support/alertmanager-config.js';
import { PROMETHEUS_CONFIG, writePrometheusTestConfig } from '../support/prometheus-config.js';

const RULES_DIR = path.join(REPO_ROOT, 'rules');
const RULE_TESTS_DIR = path.join(RULES_DIR, 'tests');
const RUNBOOKS = path.join(REPO_ROOT, 'docs/runbooks.md');
/** The one configurable base of every runbook_url (npm run docs applies it to the rules). */
const RUNBOOK_BASE = (JSON.parse(readFileSync(path.join(RULES_DIR, 'config.json'), 'utf8')) as { runbook_url_base: string }).runbook_url_base;
/** Rule files whose alerts are about one check (so their descriptions name check and component). */
const CHECK_RULE_FILES = ['vigil-checks.yml', 'vigil-resources.yml', 'vigil-availability.yml'];
/** Seconds from target breaking to the page that the probe itself may take (interval + timeout). */
const PROBE_SHARE_S = 8;

interface Run { code: number | null; stdout: string; stderr: string }
function run(bin: string, args: string[], cwd = REPO_ROOT, timeout = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? String(err) : '') });
    });
  });
}

function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

/** Prometheus duration ("1h30m", "10s", "0s") in seconds. */
function seconds(d: string | undefined): number {
  if (d === undefined) return NaN;
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let consumed = '';
  for (const m of d.matchAll(re)) { total += Number(m[1]) * units[m[2]!]!; consumed += m[0]; }
  if (consumed !== d) throw new Error(`not a duration: ${d}`);
  return total;
}

/** GitHub's heading anchor. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

interface Rule {
  file: string;
  group: string;
  groupInterval?: string;
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).sort();
const testFiles = readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith('.test.yml')).sort();
const rules: Rule[] = ruleFiles.flatMap((file) => {
  const doc = parse(readFileSync(path.join(RULES_DIR, file), 'utf8')) as { groups: Array<{ name: string; interval?: string; rules: Rule[] }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ ...r, file, group: g.name, groupInterval: g.interval })));
});
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const records = rules.filter((r): r is Rule & { record: string } => r.record !== undefined);
const alertNames = [...new Set(alerts.map((a) => a.alert))].sort();

describe('promtool', () => {
  it('is installed (tests/support/setup.sh installs the Debian package "prometheus")', () => {
    expect(onPath('promtool'), 'promtool not found on PATH').toBeDefined();
  });

  it('check rules: every rule file is valid', async () => {
    const r = await run('promtool', ['check', 'rules', ...ruleFiles.map((f) => path.join('rules', f))]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/FAILED/);
    expect(r.stdout.match(/SUCCESS/g)).toHaveLength(ruleFiles.length);
  });

  // All files at once: on a loaded 2-core box the long ones (90 days of samples) take over 30 s.
  it.concurrent.each(testFiles)('test rules: %s', async (file) => {
    const r = await run('promtool', ['test', 'rules', path.join('rules/tests', file)], REPO_ROOT, 150_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS/);
  }, 160_000);
});

describe('rule conventions', () => {
  it('finds the rule files and their tests', () => {
    expect(ruleFiles).toEqual(expect.arrayContaining(['vigil-checks.yml', 'vigil-resources.yml', 'vigil-availability.yml', 'apps.yml', 'meta.yml']));
    expect(alerts.length).toBeGreaterThan(20);
  });

  it.each(alerts.map((a) => [`${a.alert} (${a.labels?.severity})`, a] as const))('%s: name, severity, annotations, for', (_, a) => {
    expect(a.alert).toMatch(/^Vigil[A-Z][A-Za-z0-9]+$/);
    const severity = a.labels?.severity;
    if (a.alert === 'VigilWatchdog') {
      expect(severity).toBe('none');
    } else {
      expect(['info', 'warning', 'critical']).toContain(severity);
      expect(seconds(a.for), 'every alert but the Watchdog waits before firing').toBeGreaterThanOrEqual(10);
    }
    const ann = a.annotations ?? {};
    // value/threshold (issue 17): the measured value and the limit it crossed, short, for the chat
    // messages and the status page's alerts panel. Every alert has them but the always-firing
    // Watchdog, which measures nothing.
    if (a.alert === 'VigilWatchdog') {
      expect(Object.keys(ann).sort()).toEqual(['description', 'runbook_url', 'summary']);
    } else {
      expect(Object.keys(ann).sort()).toEqual(['description', 'runbook_url', 'summary', 'threshold', 'value']);
      expect(ann.value, 'value: one short templated line').toMatch(/^[^\n]{1,400}$/);
      expect(ann.value).toMatch(/\$value\b|\$labels\./);
      expect(ann.threshold, 'threshold: one short line').toMatch(/^[^\n]{1,400}$/);
    }
    // summary: one sentence on one line.
    expect(ann.summary).toMatch(/^[^\n]+\.$/);
    expect(ann.summary).not.toMatch(/\.\s+[A-Z]/);
    // description: the value, humanized, and where.
    expect(ann.description).toMatch(/\$value \| humanize(Duration|Percentage)?\b/);
    if (CHECK_RULE_FILES.includes(a.file)) {
      // VigilComponentDown is about a whole component: it has no check label.
      if (a.alert !== 'VigilComponentDown') expect(ann.description).toContain('$labels.check');
      expect(ann.description).toContain('$labels.component');
    } else if (a.alert !== 'VigilWatchdog') {
      // Where: the target, or the check (VigilCheckStale: per check, over the instances running it).
      expect(ann.description).toMatch(/\$labels\.(job|instance|check)/);
    }
    expect(ann.runbook_url).toBe(`${RUNBOOK_BASE}#${a.alert.toLowerCase()}`);
  });

  it('every runbook_url anchor is a heading of docs/runbooks.md', () => {
    const anchors = new Set([...readFileSync(RUNBOOKS, 'utf8').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
    const missing = alertNames.filter((n) => !anchors.has(n.toLowerCase()));
    expect(missing).toEqual([]);
  });

  it('recording rules are named level:metric:operations and include availability, RED and the anomaly signal', () => {
    for (const r of records) expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
    const names = new Set(records.map((r) => r.record));
    for (const level of ['check', 'component']) {
      for (const w of ['1h', '24h', '7d']) expect(names).toContain(`${level}:probe_success:avg_over_time${w}`);
    }
    for (const n of ['job:http_server_requests:rate5m', 'job:http_server_request_error_ratio:rate5m',
      'job:http_server_request_duration_seconds:p95_rate5m', 'job_route:http_server_request_duration_seconds:p95_rate5m',
      'check:probe_duration_seconds:zscore5m']) expect(names).toContain(n);
  });

  it('slowness is judged against the exported thresholds, never repeated numbers', () => {
    for (const a of alerts.filter((x) => ['VigilCheckSlow', 'VigilQueueBacklog', 'VigilMemoryHigh', 'VigilCPUHigh'].includes(x.alert))) {
      expect(a.expr).toMatch(/vigil_check_threshold\{[^}]*severity="(warning|critical)"/);
      expect(a.expr).toContain(`severity="${a.labels!.severity}"`);
      // Check series are joined per location (an HA pair and the vigil-probes copies aggregated
      // away first); a system check's host series stay per instance (each instance's own host).
      expect(a.expr).toMatch(/on \((job, instance|location), check, component/);
    }
  });

  it('every alert (and each of its severities) has a firing and a not-firing test case', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(path.join(RULE_TESTS_DIR, file), 'utf8')) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }> }>;
      };
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test ?? []) {
          if (!c.exp_alerts?.length) quiet.add(c.alertname);
          for (const e of c.exp_alerts ?? []) firing.add(`${c.alertname}/${e.exp_labels?.severity}`);
        }
      }
    }
    const untestedFiring = [...new Set(alerts.map((a) => `${a.alert}/${a.labels?.severity}`))].filter((k) => !firing.has(k));
    // The Watchdog fires at all times by design: it has no quiet case.
    const untestedQuiet = alertNames.filter((n) => n !== 'VigilWatchdog' && !quiet.has(n));
    expect(untestedFiring).toEqual([]);
    expect(untestedQuiet).toEqual([]);
  });

  it('the dependency-impact window equals the shortest `for` of the alerts that carry the impact labels', () => {
    const latch = records.find((r) => r.record === 'check:vigil_check_impacted:latch')!;
    const window = seconds(/min_over_time\(check:vigil_check_unhealthy:last_over_time15s\[(\w+)\]\)/.exec(latch.expr)![1]);
    const labelled = alerts.filter((a) => a.expr.includes('check:vigil_check_impact:labels'));
    expect(labelled.map((a) => a.alert)).toContain('VigilCheckCritical');
    // Alerts joining the labels are evaluated in the same group, after the latch.
    for (const a of labelled) expect(a.group).toBe(latch.group);
    expect(Math.min(...labelled.map((a) => seconds(a.for)))).toBe(window);
  });
});

describe('prometheus/prometheus.yml', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-prom-config-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  const shipped = parse(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as Record<string, any>;

  it('scrapes the exporter, the demo app, Alertmanager and itself, loads the rules and alerts Alertmanager', () => {
    const targets = Object.fromEntries((shipped.scrape_configs as Array<Record<string, any>>)
      .map((j) => [j.job_name, j.static_configs.flatMap((s: { targets: string[] }) => s.targets)]));
    expect(targets).toEqual({
      vigil: ['vigil:9470'], 'demo-app': ['demo-app:9464'], alertmanager: ['alertmanager:9093'], prometheus: ['localhost:9090'],
      // Issue 15: the exporter again for blackbox dashboards, and its /probe endpoint.
      'vigil-probes': ['vigil:9470'], 'vigil-probe-endpoint': ['http://vigil:9470/-/healthy'],
    });
    expect(shipped.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(shipped.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
  });

  it('keeps probe_* once per check (issue 15): the vigil job drops them, vigil-probes keeps them as often', () => {
    const jobs = Object.fromEntries((shipped.scrape_configs as Array<Record<string, any>>).map((j) => [j.job_name, j]));
    const vigil = jobs.vigil!;
    const probes = jobs['vigil-probes']!;
    // The exporter's address never labels a probe_* series: no "all checks" row in 7587.
    expect(vigil.metric_relabel_configs).toEqual([{ source_labels: ['__name__'], regex: 'probe_.+', action: 'drop' }]);
    expect(probes.metric_relabel_configs).toContainEqual({ source_labels: ['check'], target_label: 'instance' });
    // The rules read probe_* from vigil-probes with last_over_time(...[15s]): as fresh as the vigil job's.
    expect(probes.scrape_interval).toBe(vigil.scrape_interval);
    for (const r of rules.filter((x) => /\bprobe_[a-z_]+\{/.test(x.expr))) {
      expect(r.expr, `${r.alert ?? r.record} reads probe_* of configured checks only`).not.toMatch(/\bprobe_[a-z_]+\{(?![^}]*check!="")/);
      expect(r.expr).not.toContain('exporter=""');
    }
  });

  it('passes promtool check config as a loopback copy with the repo rules', async () => {
    const { configFile, config } = await writePrometheusTestConfig({
      dir, ports: { vigil: 19470, 'vigil-probes': 19470, 'vigil-probe-endpoint': 19470, 'demo-app': 19464, alertmanager: 19093, prometheus: 19090 },
    });
    const endpoint = config.scrape_configs.find((j: { job_name: string }) => j.job_name === 'vigil-probe-endpoint');
    expect(endpoint.static_configs[0].targets).toEqual(['http://127.0.0.1:19470/-/healthy']);
    expect(config.scrape_configs.find((j: { job_name: string }) => j.job_name === 'vigil').static_configs[0].targets).toEqual(['127.0.0.1:19470']);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['127.0.0.1:19093']);
    const r = await run('promtool', ['check', 'config', configFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.stdout).not.toMatch(/FAILED/);
  });

  it('the loopback copy drops jobs without a port and alerting without an Alertmanager', async () => {
    const { config } = await writePrometheusTestConfig({ dir: path.join(dir, 'partial'), ports: { vigil: 1234 }, global: { scrape_interval: '1s' } });
    expect(config.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual(['vigil']);
    expect(config.alerting).toBeUndefined();
    expect(config.global.scrape_interval).toBe('1s');
  });

  it(`critical detection fits the 30 s budget: scrape + evaluation + for + group_wait <= ${30 - PROBE_SHARE_S} s`, () => {
    const vigilJob = (shipped.scrape_configs as Array<Record<string, any>>).find((j) => j.job_name === 'vigil')!;
    const scrape = seconds(vigilJob.scrape_interval ?? shipped.global.scrape_interval);
    const critical = alerts.find((a) => a.alert === 'VigilCheckCritical')!;
    const evaluation = seconds(critical.groupInterval ?? shipped.global.evaluation_interval);
    const am = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as Record<string, any>;
    const pd = (am.route.routes as Array<Record<string, any>>).find((r) => r.receiver === 'pagerduty')!;
    const groupWait = seconds(pd.group_wait ?? am.route.group_wait);
    const budget = { scrape, evaluation, for: seconds(critical.for), groupWait };
    expect(budget).toEqual({ scrape: 5, evaluation: 5, for: 10, groupWait: 2 });
    expect(scrape + evaluation + budget.for + groupWait).toBeLessThanOrEqual(30 - PROBE_SHARE_S);
  });
});
