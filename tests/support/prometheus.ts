// Start the Debian `prometheus` binary on a loopback port with a temp TSDB; wait for /-/ready;
// query helpers; stop() kills it by pid and removes the temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';

import { freePort } from './ports.js';

export { freePort };

export interface ManagedProcess {
  proc: ChildProcess;
  logs(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  kill(graceMs?: number): Promise<void>;
}

/** Spawn a binary, keep the tail of its output, fail fast with that output if it exits early. */
export function spawnManaged(bin: string, args: string[], opts: { cwd?: string; keepBytes?: number } = {}): ManagedProcess {
  const proc = spawn(bin, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = opts.keepBytes ?? 256 * 1024;
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > keep) out = out.slice(-keep);
  };
  proc.stdout!.on('data', add);
  proc.stderr!.on('data', add);
  proc.on('error', (err) => { out += `\nspawn error: ${err.message}`; });
  return {
    proc,
    logs: () => out,
    kill: async (graceMs = 5000) => {
      if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Poll `url` until it answers 200, the process exits, or `timeoutMs` passes. */
export async function waitReady(url: string, mp: ManagedProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (mp.proc.exitCode !== null || mp.proc.signalCode !== null) {
      throw new Error(`${name} exited (${mp.proc.exitCode ?? mp.proc.signalCode}) before it was ready:\n${mp.logs().slice(-4000)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready within ${timeoutMs} ms (${last}):\n${mp.logs().slice(-4000)}`);
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface RunningPrometheus {
  url: string;
  port: number;
  dir: string;
  logs(): string;
  /** Instant query; throws on an API error. */
  query(expr: string): Promise<PromSample[]>;
  /** Active alerts (pending and firing) as Prometheus sees them. */
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  configFile: string;
  /** Port to listen on (default: a free one). Pass it when the config must know it in advance. */
  port?: number;
  args?: string[];
  readyTimeoutMs?: number;
}

export interface Daemon {
  dir: string;
  port: number;
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Start a Prometheus-family binary on 127.0.0.1 in a temp dir and wait for its /-/ready;
 * stop() kills it and removes the dir (also when it never became ready).
 */
export async function startDaemon(
  name: string, bin: string, args: (d: { dir: string; port: number; url: string }) => string[],
  opts: { port?: number; readyTimeoutMs?: number } = {},
): Promise<Daemon> {
  const dir = mkdtempSync(path.join(tmpdir(), `vigil-${name}-`));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const mp = spawnManaged(bin, args({ dir, port, url }), { cwd: dir });
  const stop = async () => {
    await mp.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${url}/-/ready`, mp, name, opts.readyTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, port, url, logs: mp.logs, stop };
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const { dir, port, url, logs, stop } = await startDaemon('prometheus', PROMETHEUS_BIN, (d) => [
    `--config.file=${opts.configFile}`,
    `--storage.tsdb.path=${path.join(d.dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${d.port}`,
    `--web.external-url=${d.url}`,
    '--log.level=warn',
    ...(opts.args ?? []),
  ], opts);
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(url + p, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    port,
    dir,
    logs,
    query: async (expr) => (await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    stop,
  };
}
