// mysql and sql probes against a real MariaDB: ping, version, pool figures, read-only enforcement
// by the server, password redaction, and a server restart seen by a running exporter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheck, makeProbe, sample } from '../support/checks.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startMariaDB, type MariaDBServer } from '../support/mariadb.js';
import { runCheck } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';

const PASSWORD = 'my-Secret-0815-plugh';
let server: MariaDBServer;
let dsn: string;

async function run(fields: Record<string, unknown>) {
  const check = makeCheck({ retries: 0, timeout: '3s', connect_retry_delay: '100ms', ...fields });
  const probe = makeProbe(check);
  try {
    return await runCheck(check, probe, { log: silentLogger });
  } finally {
    await probe.close?.();
  }
}

beforeAll(async () => {
  server = await startMariaDB();
  await server.query(`
    CREATE DATABASE app;
    CREATE TABLE app.jobs (id INT PRIMARY KEY AUTO_INCREMENT, status VARCHAR(20) NOT NULL);
    INSERT INTO app.jobs (status) VALUES ('queued'), ('queued'), ('done');
    CREATE FUNCTION app.sneaky_write() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO app.jobs (status) VALUES ('sneaky'); RETURN 1; END;
    CREATE USER 'vigil'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
    GRANT ALL ON app.* TO 'vigil'@'127.0.0.1';
  `);
  dsn = `mysql://vigil:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/app`;
});

afterAll(async () => {
  await server?.stop();
});

describe('mysql probe (MariaDB)', () => {
  it('pings, and reports version and pool figures', async () => {
    const r = await run({ type: 'mysql', dsn });
    expect(r.status).toBe('healthy');
    expect(r.info?.server_version).toMatch(/MariaDB/);
    expect(sample(r, 'pool_total', { state: 'total' })).toBe(1);
    expect(sample(r, 'pool_idle', { state: 'idle' })).toBe(1);
    expect(sample(r, 'pool_waiting', { state: 'waiting' })).toBe(0);
  });

  it('accepts mariadb:// and a separate password field', async () => {
    const r = await run({ type: 'mysql', dsn: `mariadb://vigil@127.0.0.1:${server.port}/app`, password: PASSWORD });
    expect(r.status).toBe('healthy');
  });

  it('a wrong password is an auth failure whose message holds no password', async () => {
    const r = await run({ type: 'mysql', dsn: `mysql://vigil:Wrong-Passw0rd-456@127.0.0.1:${server.port}/app`, connect_attempts: 1 });
    expect(r).toMatchObject({ ok: false, reason: 'auth' });
    expect(r.message).toMatch(new RegExp(`^mysql 127\\.0\\.0\\.1:${server.port}/app: .*Access denied`));
    expect(r.message).not.toContain('Wrong-Passw0rd-456');
  });
});

describe('sql probe on MariaDB', () => {
  it('exports named values with thresholds (driver from the DSN scheme)', async () => {
    const r = await run({
      type: 'sql', dsn,
      queries: [{ name: 'jobs_queued', query: "SELECT count(*) FROM jobs WHERE status = 'queued'" }],
      thresholds: { jobs_queued: { warning: 5, critical: 1 , direction: 'below' } },
    });
    expect(sample(r, 'jobs_queued', { name: 'jobs_queued' })).toBe(2);
    expect(r.status).toBe('degraded');
  });

  const writes = [
    { name: 'INSERT', query: "INSERT INTO jobs (status) VALUES ('x')" },
    { name: 'UPDATE', query: "UPDATE jobs SET status = 'x'" },
    { name: 'SELECT ... FOR UPDATE', query: 'SELECT id FROM jobs WHERE id = 1 FOR UPDATE' },
    { name: 'a function that writes', query: 'SELECT sneaky_write()' },
  ];
  it.each(writes)('refuses to write: $name', async ({ query }) => {
    const r = await run({ type: 'sql', driver: 'mysql', dsn, queries: [{ name: 'w', query }] });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/Cannot execute statement in a READ ONLY transaction/);
  });

  it('runs one statement per query and left the table untouched', async () => {
    const r = await run({ type: 'sql', dsn, queries: [{ name: 'w', query: 'SELECT 1; DELETE FROM jobs' }] });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/syntax/i);
    expect(await server.query('SELECT count(*) AS n FROM app.jobs')).toEqual([{ n: 3 }]);
  });
});

describe('a running exporter watching MariaDB', () => {
  let exporter: RunningExporter;
  afterAll(async () => { await exporter?.stop(); });

  it('goes critical when the server stops and healthy again when it is back, without a restart', async () => {
    exporter = await startExporter({
      // Runs every 2 s with a 2 s timeout (a default timeout over the interval is cut to it: 1500ms
      // was 500 ms, and on a loaded CI box reconnecting and querying in 500 ms failed run after run).
      config: `
defaults: { interval: 2s, timeout: 2s, retries: 0 }
checks:
  - { name: db, type: mysql, dsn: "${dsn}", connect_retry_delay: 100ms }
  - name: queue
    type: sql
    component: db
    dsn: "\${QUEUE_DSN}"
    queries: [{ name: jobs_queued, query: "SELECT count(*) FROM jobs WHERE status = 'queued'" }]
`,
      env: { QUEUE_DSN: dsn },
    });
    const checks = async () => ((await (await fetch(`${exporter.url}/health/db`)).json()) as { checks: Record<string, { status: string; last_error: string | null }> }).checks;
    await waitFor(async () => { const c = await checks(); return c.db.status === 'healthy' && c.queue.status === 'healthy'; }, 20_000);

    await server.halt();
    const stoppedAt = Date.now();
    const down = await waitFor(async () => { const c = await checks(); return c.db.status === 'critical' && c.queue.status === 'critical' && c; }, 15_000, 50);
    expect(Date.now() - stoppedAt).toBeLessThan(2000 + 2000 + 3000); // one interval + timeout (+ slack for a busy machine)
    expect(down.db.last_error).toMatch(new RegExp(`^mysql 127\\.0\\.0\\.1:${server.port}/app: `));

    await server.resume();
    await waitFor(async () => { const c = await checks(); return c.db.status === 'healthy' && c.queue.status === 'healthy'; }, 15_000, 50);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_db_reconnects_total\{check="db",component="db"\} [1-9]/);
    expect(metrics).toMatch(/vigil_sql_value\{check="queue",component="db",name="jobs_queued"\} 2/);
    const everything = metrics + JSON.stringify(await checks()) + exporter.logs();
    expect(everything).not.toContain(PASSWORD);
  }, 90_000); // a start, a stop and a restart of the server, and three waits on 2 s runs
});
