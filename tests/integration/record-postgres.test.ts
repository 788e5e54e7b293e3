// The compiled exporter with storage.type: postgres: the DSN comes from dsn_file and its
// password never appears in the logs, the record's backup route answers 501 (pg_dump backs up a
// PostgreSQL), a reload that changes the storage says it needs a restart, and an unreachable
// server at start leaves probing and /metrics running while the record counts write errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const PASSWORD = 'it-record-pg-pass-7f3a';
const ADMIN = 'record-postgres-admin-token-0123';
let server: PostgresServer;
const running: RunningExporter[] = [];
const dirs: string[] = [];
beforeAll(async () => { server = await startPostgres({ password: PASSWORD }); }, 90_000);
afterAll(async () => { await server?.stop(); });
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dsn: string, extra = ''): Promise<RunningExporter> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-record-pg-it-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'record.dsn'), `${dsn}\n`, { mode: 0o600 });
  const config = `server:\n  admin_token: ${ADMIN}\nstorage:\n  type: postgres\n  dsn_file: record.dsn\n  connect_timeout: 5s\n${extra}checks:\n  - { name: c, type: tcp, host: 127.0.0.1, port: 1, interval: 200ms, timeout: 200ms, retries: 0 }\n`;
  const ex = await startExporter({ config, dir });
  running.push(ex);
  return ex;
}

const admin = (ex: RunningExporter, route: string) =>
  fetch(`${ex.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, signal: AbortSignal.timeout(15_000) });

describe('the record in PostgreSQL (compiled exporter)', () => {
  it('writes there; backup answers 501 pointing to pg_dump; a storage change on reload needs a restart; the password never shows', async () => {
    const ex = await start(server.url);
    await waitFor(async () => {
      const c = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 3_000 });
      await c.connect();
      try { return Number((await c.query('SELECT count(*) AS n FROM results')).rows[0].n) > 0; } finally { await c.end(); }
    }, 20_000); // a connection (5 s at most: 1 s was tight for a loaded CI box), a run and a flush
    const backup = await admin(ex, '/api/v1/record/backup');
    expect(backup.status).toBe(501);
    expect(((await backup.json()) as { error: string }).error).toMatch(/pg_dump/);

    // The same config but the SQLite file: applied at the next start, said so now.
    ex.writeConfig(`server:\n  admin_token: ${ADMIN}\nchecks:\n  - { name: c, type: tcp, host: 127.0.0.1, port: 1, interval: 200ms, timeout: 200ms, retries: 0 }\n`);
    const reload = await admin(ex, '/-/reload');
    expect(reload.status).toBe(200);
    const body = (await reload.json()) as { ok: boolean; restart_needed?: string[] };
    expect(body.ok).toBe(true);
    expect(body.restart_needed?.[0]).toMatch(/storage section changed .*needs a restart: the record stays in postgres 127\.0\.0\.1:\d+\/postgres/);
    expect(ex.logs()).toMatch(/"level":"warn","msg":"config reload: the storage section changed/);
    expect(ex.logs()).not.toContain(PASSWORD);
  });

  it('an unreachable server: probing and /metrics go on, the record counts write errors, no password in the logs', async () => {
    const ex = await start(server.url.replace(/:\d+\//, ':1/'));
    await waitFor(async () => /^vigil_storage_write_errors_total\{store="record"\} [1-9]/m.test(await (await fetch(`${ex.url}/metrics`)).text()));
    await waitFor(async () => ((await (await fetch(`${ex.url}/api/v1/checks/c`)).json()) as { last_run: string | null }).last_run ?? undefined);
    expect(ex.logs()).toMatch(/record: cannot write check results.*127\.0\.0\.1:1\/postgres/);
    expect(ex.logs()).not.toContain(PASSWORD);
  });
});
