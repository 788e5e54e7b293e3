// A throwaway PostgreSQL server for tests: initdb in a temp dir, listen on 127.0.0.1:<random>,
// trust auth, no fsync. As root the server runs as the `postgres` user (runuser), as PostgreSQL
// refuses to run as root. Every wait is bounded; stop() (and, as a safety net, process exit)
// shuts it down and removes the directory.
//
//   const pg = await startPostgres();   // { url, port, host, user, database, dataDir, stop() }
//   ... new pg.Client({ connectionString: pg.url }) ...
//   await pg.stop();

import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  dataDir: string;
  /** Fast shutdown (bounded), then the temp dir is removed. Idempotent. */
  stop(): Promise<void>;
  /** Stop the server but keep its data dir and port (fault injection); `resume()` starts it again. */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Start a halted server again on the same port with the same data. */
  resume(): Promise<void>;
}

function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin/postgres'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run tests/support/setup.sh, or apt-get install postgresql)');
  }
  return path.join(base, versions[0]!, 'bin');
}

import { freePort } from './ports.js';

export { freePort };

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} failed: ${err.message.split('\n')[0]} ${String(stderr).trim().slice(-500)}`));
      else resolve(String(stdout));
    });
  });
}

const running = new Set<string>(); // data dirs, for the exit safety net

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of running) {
      const pid = postmasterPid(path.join(dir, 'data'));
      if (pid) {
        try {
          process.kill(pid, 'SIGQUIT'); // immediate shutdown
        } catch {
          /* already gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export async function startPostgres(opts: {
  startTimeoutMs?: number;
  /** Listen on this port instead of a random free one. */
  port?: number;
  /** Password for the postgres user; TCP connections then need it (scram-sha-256), and `url` carries it. */
  password?: string;
} = {}): Promise<PostgresServer> {
  const bin = pgBin();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pg-'));
  if (isRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const dataDir = path.join(dir, 'data');
  running.add(dir);
  installExitHook();
  try {
    const auth = ['-A', 'trust'];
    if (opts.password !== undefined) {
      const pwfile = path.join(dir, 'pwfile');
      writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
      if (isRoot) chownSync(pwfile, postgresIds().uid, postgresIds().gid);
      auth.splice(0, 2, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
    }
    await run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', ...auth, '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], 60_000);
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = opts.port ?? (await freePort()); // racy by nature: retried when another process took it
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      const start = () => run(
        path.join(bin, 'pg_ctl'),
        ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', String(Math.ceil((opts.startTimeoutMs ?? 30_000) / 1000)), '-o', options, 'start'],
        (opts.startTimeoutMs ?? 30_000) + 5_000,
      );
      try {
        await start();
      } catch (err) {
        lastErr = err;
        continue;
      }
      let stopped = false;
      const server: PostgresServer = {
        url: `postgresql://postgres${opts.password !== undefined ? `:${encodeURIComponent(opts.password)}` : ''}@127.0.0.1:${port}/postgres`,
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: 'postgres',
        dataDir,
        async stop() {
          if (stopped) return;
          stopped = true;
          try {
            await run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '15', 'stop'], 20_000);
          } catch {
            const pid = postmasterPid(dataDir);
            if (pid) {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {
                /* gone */
              }
            }
          }
          running.delete(dir);
          rmSync(dir, { recursive: true, force: true });
        },
        async halt(mode = 'fast') {
          await run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '15', 'stop'], 20_000);
        },
        async resume() {
          await start();
        },
      };
      return server;
    }
    throw lastErr;
  } catch (err) {
    running.delete(dir);
    const pid = postmasterPid(dataDir);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
    let log = '';
    try {
      log = readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-500);
    } catch {
      /* no log */
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL: ${(err as Error).message}${log ? ` (server.log: ${log})` : ''}`);
  }
}

function postgresIds(): { uid: number; gid: number } {
  const out = execFileSync('id', ['postgres'], { encoding: 'utf8', timeout: 5000 });
  const uid = Number(/uid=(\d+)/.exec(out)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(out)?.[1]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('no postgres user (apt-get install postgresql creates it)');
  return { uid, gid };
}
