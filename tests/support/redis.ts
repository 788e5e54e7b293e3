// A throwaway Redis server for tests: 127.0.0.1:<random>, no persistence, its own temp dir.
// Ready when it answers PING (bounded); stop() (and, as a safety net, process exit) kills it and
// removes the directory.
//
//   const redis = await startRedis();   // { url, port, host, dir, stop() }
//   ... new Redis(redis.url) ...
//   await redis.stop();

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './postgres.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stop the server but keep its dir and port (fault injection); `resume()` starts it again. */
  halt(): Promise<void>;
  /** Start a halted server again on the same port. */
  resume(): Promise<void>;
}

const BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

const children = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [child, dir] of children) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Sends PING; true on +PONG within timeoutMs. */
export function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** True when anything answers a PING within timeoutMs (also -NOAUTH from a password-protected server). */
function answers(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', () => done(true));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRedis(opts: {
  startTimeoutMs?: number;
  /** Listen on this port instead of a random free one. */
  port?: number;
  /** requirepass; `url` then carries it. */
  password?: string;
} = {}): Promise<RedisServer> {
  if (!BIN) throw new Error('redis-server not found (run tests/support/setup.sh, or apt-get install redis-server)');
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-redis-'));
    const port = opts.port ?? (await freePort());
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'];
    if (opts.password !== undefined) args.push('--requirepass', opts.password);
    let exited = false;
    const launch = async (): Promise<boolean> => {
      const c = spawn(BIN, args, { stdio: 'ignore' });
      child = c;
      children.set(c, dir);
      installExitHook();
      exited = false;
      c.once('exit', () => (exited = true));
      const deadline = Date.now() + timeoutMs;
      while (!exited && Date.now() < deadline) {
        // With requirepass, PING answers -NOAUTH: any answer means the server is up.
        if (await (opts.password !== undefined ? answers(port, 300) : ping(port, 300))) return true;
        await sleep(20);
      }
      return false;
    };
    let child!: ChildProcess;
    const ready = await launch();
    if (ready) {
      let stopped = false;
      return {
        url: `redis://${opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : ''}127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        dir,
        async stop() {
          if (stopped) return;
          stopped = true;
          await kill(child);
          children.delete(child);
          rmSync(dir, { recursive: true, force: true });
        },
        async halt() {
          await kill(child);
          children.delete(child);
        },
        async resume() {
          if (!(await launch())) throw new Error(`redis-server did not restart on port ${port}`);
        },
        get pid() {
          return child.pid!;
        },
      };
    }
    try {
      lastErr = readFileSync(path.join(dir, 'redis.log'), 'utf8').slice(-400);
    } catch {
      lastErr = exited ? 'redis-server exited' : 'no PONG in time';
    }
    await kill(child);
    children.delete(child);
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`could not start redis-server: ${lastErr}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await Promise.race([exited, sleep(10_000)]);
  clearTimeout(timer);
}
