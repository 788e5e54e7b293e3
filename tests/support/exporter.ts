// Spawn the real, compiled exporter (dist/exporter/cli.js) on a random loopback port with a temp
// config and storage dir; stop() kills it and removes the temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/exporter/cli.js');

export interface RunningExporter {
  url: string;
  port: number;
  dir: string;
  configFile: string;
  proc: ChildProcess;
  /** Everything written to stderr/stdout so far. */
  logs(): string;
  /** Replace the config file (then send SIGHUP or POST /-/reload). */
  writeConfig(yaml: string): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  config?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Reuse a storage dir (restart tests). */
  dir?: string;
  timeoutMs?: number;
  /** Run node through this command (e.g. unshare with a mount script), node and its flags appended. */
  launcher?: string[];
  /** Node's own flags, before the CLI (a bench runs the exporter with the ones `npm start` ships). */
  nodeArgs?: string[];
}

export async function startExporter(opts: StartOptions = {}): Promise<RunningExporter> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'vigil-test-'));
  const configFile = path.join(dir, 'vigil.yml');
  if (opts.config !== undefined) writeFileSync(configFile, opts.config);
  const args = [CLI, '--web.listen-address=127.0.0.1:0', `--storage.path=${path.join(dir, 'data')}`, '--log.level=debug'];
  if (opts.config !== undefined) args.push(`--config.file=${configFile}`);
  args.push(...(opts.args ?? []));
  const [cmd, ...pre] = opts.launcher ? [...opts.launcher, process.execPath] : [process.execPath];
  const proc = spawn(cmd, [...pre, ...(opts.nodeArgs ?? []), ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => { output += d; });
  proc.stderr!.on('data', (d) => { output += d; });
  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      proc.kill('SIGKILL');
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`exporter did not start in time:\n${output}`)), opts.timeoutMs ?? 15_000);
    const onData = () => {
      const m = /"msg":"listening".*?"port":(\d+)/.exec(output);
      if (m && !settled) { settled = true; clearTimeout(timer); resolve(Number(m[1])); }
    };
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => { clearTimeout(timer); fail(new Error(`exporter exited with ${code}:\n${output}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    configFile,
    proc,
    logs: () => output,
    writeConfig: (yaml) => writeFileSync(configFile, yaml),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes (then throw with the last error). */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}
