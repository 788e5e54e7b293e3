// A loopback copy of prometheus/prometheus.yml for tests: the scrape targets and the Alertmanager
// point to 127.0.0.1 ports, and the rule files are read from the repo's rules/. Job names,
// intervals and everything else stay as shipped (the rules match on job="vigil").
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './alertmanager-config.js';

export const PROMETHEUS_CONFIG = path.join(REPO_ROOT, 'prometheus/prometheus.yml');
export const RULES_GLOB = path.join(REPO_ROOT, 'rules/*.yml');

/** Loopback ports by scrape job name of prometheus.yml. */
export interface PrometheusTestPorts {
  /** The Vigil exporter (job `vigil`); several for an HA pair, shards or locations. */
  vigil?: number | number[];
  /**
   * The Vigil exporter again, as blackbox dashboards see it (job `vigil-probes`: instance =
   * check). The rules and dashboards read probe_* from here: give it the same port(s) as `vigil`.
   */
  'vigil-probes'?: number | number[];
  /** Vigil's GET /probe (job `vigil-probe-endpoint`): the exporter's port; its targets are rewritten to it too. */
  'vigil-probe-endpoint'?: number;
  /** The instrumented demo app (job `demo-app`). */
  'demo-app'?: number;
  /** Alertmanager: scraped (job `alertmanager`) and sent alerts to. */
  alertmanager?: number;
  /** Prometheus itself (job `prometheus`). */
  prometheus?: number;
}

export interface PrometheusTestConfigOptions {
  /** Directory for the copy (created if missing); usually a mkdtemp. */
  dir: string;
  /** Jobs without a port are dropped; without `alertmanager`, alerting is dropped too. */
  ports: PrometheusTestPorts;
  /** Rule files (globs allowed). Default: the repo's rules/*.yml. */
  ruleFiles?: string[];
  /**
   * Merged into `global`, e.g. `{ scrape_interval: '1s' }` for faster stack tests. Jobs that set their own
   * interval keep it (the `vigil` job scrapes every 5s, timeout 4s). Rule groups keep their own `interval`.
   */
  global?: Record<string, string>;
  /** Loopback host. Default 127.0.0.1. */
  host?: string;
}

export interface PrometheusTestConfig {
  /** The copy to pass as --config.file. */
  configFile: string;
  /** The parsed copy, for assertions. */
  config: Record<string, any>;
}

/** Write the loopback copy of prometheus.yml into `opts.dir`. */
export async function writePrometheusTestConfig(opts: PrometheusTestConfigOptions): Promise<PrometheusTestConfig> {
  const host = opts.host ?? '127.0.0.1';
  const config = parse(await readFile(PROMETHEUS_CONFIG, 'utf8')) as Record<string, any>;
  const ports = opts.ports as Record<string, number | number[] | undefined>;

  config.rule_files = opts.ruleFiles ?? [RULES_GLOB];
  if (opts.global) Object.assign(config.global, opts.global);

  config.scrape_configs = (config.scrape_configs as Array<Record<string, any>>)
    .filter((job) => ports[job.job_name] !== undefined)
    .map((job) => {
      const addresses = [ports[job.job_name]!].flat().map((port) => `${host}:${port}`);
      const address = addresses[0];
      if (job.metrics_path !== '/probe') return { ...job, static_configs: [{ targets: addresses }] };
      // A /probe job: its targets are URLs handed to the exporter, which itself is __address__.
      const targets = (job.static_configs as Array<{ targets: string[] }>).flatMap((c) => c.targets).map((t) => {
        const u = new URL(t);
        u.host = address;
        return u.toString();
      });
      const relabel = (job.relabel_configs as Array<Record<string, string>>).map((r) => (r.target_label === '__address__' ? { ...r, replacement: address } : r));
      return { ...job, static_configs: [{ targets }], relabel_configs: relabel };
    });

  if (ports.alertmanager !== undefined) {
    for (const am of config.alerting.alertmanagers) am.static_configs = [{ targets: [`${host}:${ports.alertmanager}`] }];
  } else {
    delete config.alerting;
  }

  await mkdir(opts.dir, { recursive: true });
  const configFile = path.join(opts.dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config, { lineWidth: 0 }));
  return { configFile, config };
}
