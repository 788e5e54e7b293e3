// A throwaway MariaDB server for tests: mariadb-install-db in a temp dir, mariadbd as root
// (--user=root) on 127.0.0.1:<random>, root without a password over TCP. Every wait is bounded;
// stop() (and, as a safety net, process exit) kills it and removes the directory.
//
//   const db = await startMariaDB();   // { url, port, dir, stop(), halt(), resume(), query() }
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './postgres.js';

export interface MariaDBServer {
  /** mysql://root@127.0.0.1:<port>/ */
  url: string;
  host: string;
  port: number;
  dir: string;
  /** Run statements as root (multipleStatements on); resolves with the rows of the last one. */
  query(sql: string): Promise<unknown>;
  /** SIGTERM (then SIGKILL after 10 s), temp dir removed. Idempotent. */
  stop(): Promise<void>;
  /** Stop the server but keep its data dir and port; `resume()` starts it again. */
  halt(): Promise<void>;
  resume(): Promise<void>;
}

const INSTALL = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((p) => existsSync(p));
const SERVER = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startMariaDB(opts: { startTimeoutMs?: number } = {}): Promise<MariaDBServer> {
  if (!INSTALL || !SERVER) throw new Error('MariaDB not found (run tests/support/setup.sh, or apt-get install mariadb-server)');
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-mariadb-'));
  const dataDir = path.join(dir, 'data');
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    execFile(INSTALL, ['--no-defaults', `--datadir=${dataDir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'],
      { timeout: 60_000, killSignal: 'SIGKILL' }, (err, _out, stderr) => {
        if (err) reject(new Error(`mariadb-install-db failed: ${err.message.split('\n')[0]} ${String(stderr).slice(-400)}`));
        else resolve();
      });
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `mysql://root@127.0.0.1:${port}/`;

  const launch = async () => {
    const c = spawn(SERVER, ['--no-defaults', '--user=root', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${path.join(dir, 'mysqld.sock')}`, `--pid-file=${path.join(dir, 'mysqld.pid')}`, `--log-error=${path.join(dir, 'error.log')}`,
      '--skip-name-resolve', '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0', '--innodb-buffer-pool-size=32M', '--performance-schema=OFF'],
    { stdio: 'ignore' });
    child = c;
    children.set(c, dir);
    installExitHook();
    let exited = false;
    c.once('exit', () => { exited = true; });
    const deadline = Date.now() + timeoutMs;
    while (!exited && Date.now() < deadline) {
      try {
        const conn = await mysql.createConnection({ uri: url, connectTimeout: 500 });
        await conn.end();
        return;
      } catch {
        await sleep(50);
      }
    }
    let log = '';
    try { log = readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-500); } catch { /* none */ }
    await kill(c);
    throw new Error(`mariadbd did not come up on port ${port}: ${log}`);
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let stopped = false;
  return {
    url,
    host: '127.0.0.1',
    port,
    dir,
    async query(sql) {
      const conn = await mysql.createConnection({ uri: url, multipleStatements: true, connectTimeout: 5_000 });
      try {
        const [rows] = await conn.query(sql);
        return rows;
      } finally {
        await conn.end();
      }
    },
    async halt() {
      if (child) await kill(child);
    },
    async resume() {
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) {
        await kill(child);
        children.delete(child);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function kill(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await Promise.race([exited, sleep(15_000)]);
  clearTimeout(timer);
}
