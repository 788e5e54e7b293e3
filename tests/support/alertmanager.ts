// Start the Debian `prometheus-alertmanager` binary on a loopback port, without gossip
// (--cluster.listen-address=), with a temp storage dir; wait for /-/ready; stop() kills it by pid
// and removes the temp dir. Use tests/support/alertmanager-config.ts for the config copy.
import { startDaemon } from './prometheus.js';

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? 'prometheus-alertmanager';

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  startsAt: string;
  endsAt: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
  receivers: Array<{ name: string }>;
}

export interface RunningAlertmanager {
  url: string;
  port: number;
  dir: string;
  logs(): string;
  /** GET /api/v2/alerts (active, silenced and inhibited). */
  alerts(): Promise<AmAlert[]>;
  /** Its own /metrics, as text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartAlertmanagerOptions {
  configFile: string;
  port?: number;
  args?: string[];
  readyTimeoutMs?: number;
}

export async function startAlertmanager(opts: StartAlertmanagerOptions): Promise<RunningAlertmanager> {
  const { dir, port, url, logs, stop } = await startDaemon('alertmanager', ALERTMANAGER_BIN, (d) => [
    `--config.file=${opts.configFile}`,
    `--storage.path=${d.dir}`,
    `--web.listen-address=127.0.0.1:${d.port}`,
    `--web.external-url=${d.url}`,
    '--cluster.listen-address=',
    '--log.level=debug',
    ...(opts.args ?? []),
  ], opts);
  return {
    url,
    port,
    dir,
    logs,
    alerts: async () => (await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) })).json() as Promise<AmAlert[]>,
    metrics: async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text(),
    stop,
  };
}
