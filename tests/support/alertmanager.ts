// Start the Debian `prometheus-alertmanager` binary on a loopback port, without gossip
// (--cluster.listen-address=), with a temp storage dir; wait for /-/ready; stop() kills it by pid
// and removes the temp dir. Use tests/support/alertmanager-config.ts for the config copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnManaged, waitReady } from './prometheus.js';

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
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-am-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const mp = spawnManaged(ALERTMANAGER_BIN, [
    `--config.file=${opts.configFile}`,
    `--storage.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=${url}`,
    '--cluster.listen-address=',
    '--log.level=debug',
    ...(opts.args ?? []),
  ], { cwd: dir });
  const stop = async () => {
    await mp.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${url}/-/ready`, mp, 'alertmanager', opts.readyTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    dir,
    logs: mp.logs,
    alerts: async () => (await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) })).json() as Promise<AmAlert[]>,
    metrics: async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text(),
    stop,
  };
}
