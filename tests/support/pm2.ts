// A real PM2 daemon with PM2_HOME in a temp dir, driven through the pm2 CLI of node_modules.
// stop() runs `pm2 kill` (daemon and its apps) and removes the dir.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './exporter.js';

const run = promisify(execFile);
export const PM2_BIN = path.join(ROOT, 'node_modules/.bin/pm2');

export interface Pm2Daemon {
  /** PM2_HOME of this daemon. */
  home: string;
  /** Scratch dir for app scripts. */
  dir: string;
  /** Run the pm2 CLI against this daemon; resolves with stdout. */
  pm2(...args: string[]): Promise<string>;
  /** Write a script into `dir` and start it under `name`. */
  startApp(name: string, source: string, extra?: string[]): Promise<void>;
  /** Kill the daemon (and its apps) but keep the dir. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPm2(opts: { start?: boolean } = {}): Promise<Pm2Daemon> {
  const home = mkdtempSync(path.join(tmpdir(), 'vigil-pm2-'));
  const dir = path.join(home, 'apps');
  const env = { ...process.env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true', PM2_PROGRAMMATIC: 'true' };
  const pm2 = async (...args: string[]) => (await run(process.execPath, [PM2_BIN, ...args], { env, timeout: 30_000 })).stdout;
  if (opts.start !== false) await pm2('ping');
  const kill = async () => {
    await pm2('kill').catch(() => undefined);
  };
  return {
    home,
    dir,
    pm2,
    startApp: async (name, source, extra = []) => {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}.cjs`);
      writeFileSync(file, source);
      await pm2('start', file, '--name', name, ...extra);
    },
    kill,
    stop: async () => {
      await kill();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
