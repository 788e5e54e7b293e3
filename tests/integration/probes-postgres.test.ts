// postgres and sql probes against a real PostgreSQL: ping, version, pool figures, read-only
// enforcement by the server, password redaction, and a server restart seen by a running exporter.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheck, makeProbe, sample } from '../support/checks.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { runCheck } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';

const PASSWORD = 'pg-Secret-4711-xyzzy';
let server: PostgresServer;

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
  server = await startPostgres({ password: PASSWORD });
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(`
    CREATE TABLE jobs (id serial PRIMARY KEY, status text NOT NULL);
    INSERT INTO jobs (status) VALUES ('queued'), ('queued'), ('queued'), ('done');
    CREATE SEQUENCE ticket;
    CREATE FUNCTION sneaky_write() RETURNS int LANGUAGE sql AS $$ INSERT INTO jobs (status) VALUES ('sneaky') RETURNING id $$;
    CREATE FUNCTION escape_read_only() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN SET TRANSACTION READ WRITE; INSERT INTO jobs (status) VALUES ('escaped'); RETURN 1; END $$;
  `);
  await c.end();
});

afterAll(async () => {
  await server?.stop();
});

describe('postgres probe', () => {
  it('pings, and reports version and pool figures', async () => {
    const r = await run({ type: 'postgres', dsn: server.url });
    expect(r.status).toBe('healthy');
    expect(r.info?.server_version).toMatch(/^\d+\.\d+/);
    expect(r.samples.find((s) => s.metric === 'vigil_db_server_info')?.labels?.version).toBe(r.info?.server_version);
    expect(sample(r, 'pool_total', { state: 'total' })).toBe(1);
    expect(sample(r, 'pool_idle', { state: 'idle' })).toBe(1);
    expect(sample(r, 'reconnects')).toBe(0);
  });

  it('keeps its connection between runs and close() releases it', async () => {
    const check = makeCheck({ type: 'postgres', dsn: server.url, retries: 0 });
    const probe = makeProbe(check);
    const vigilConnections = async () => {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      const n = (await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vigil'")).rows[0].n as number;
      await c.end();
      return n;
    };
    for (let i = 0; i < 3; i++) expect((await runCheck(check, probe, { log: silentLogger })).status).toBe('healthy');
    expect(await vigilConnections()).toBe(1);
    await probe.close?.();
    await waitFor(async () => (await vigilConnections()) === 0, 10_000, 20); // the server ends the backend in its own time
  });

  it('a wrong password is an auth failure whose message holds no password', async () => {
    const dsn = server.url.replace(encodeURIComponent(PASSWORD), 'Wrong-Passw0rd-123');
    const r = await run({ type: 'postgres', dsn, connect_attempts: 1 });
    expect(r).toMatchObject({ ok: false, status: 'critical', reason: 'auth' });
    expect(r.message).toMatch(/password authentication failed/);
    expect(r.message).toContain(`127.0.0.1:${server.port}/postgres`);
    expect(r.message).not.toContain('Wrong-Passw0rd-123');
    expect(r.message).not.toContain(PASSWORD);
  });

  it('a password field overrides the DSN and never shows up', async () => {
    const dsn = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    expect((await run({ type: 'postgres', dsn, password: PASSWORD })).status).toBe('healthy');
  });

  it('a refused connection says where and how often it tried', async () => {
    const r = await run({ type: 'postgres', dsn: 'postgres://u:Another-Secret-99@127.0.0.1:1/db', connect_attempts: 2, connect_retry_delay: '50ms' });
    expect(r).toMatchObject({ ok: false, reason: 'connect' });
    expect(r.message).toMatch(/^postgres 127\.0\.0\.1:1\/db: connect ECONNREFUSED .*\(2 connect attempts\)$/);
    expect(r.message).not.toContain('Another-Secret-99');
  });
});

describe('sql probe on PostgreSQL', () => {
  const base = () => ({ type: 'sql', dsn: server.url });

  it('exports named values and applies thresholds in either direction', async () => {
    const r = await run({
      ...base(),
      queries: [
        { name: 'jobs_queued', query: "SELECT count(*) FROM jobs WHERE status = 'queued'" },
        { name: 'done_ratio', query: "SELECT avg((status = 'done')::int) FROM jobs" },
      ],
      thresholds: { jobs_queued: { warning: 2, critical: 10 }, done_ratio: { warning: '50%', direction: 'below' } },
    });
    expect(sample(r, 'jobs_queued', { name: 'jobs_queued' })).toBe(3);
    expect(sample(r, 'done_ratio', { name: 'done_ratio' })).toBe(0.25);
    expect(r.status).toBe('degraded');
    expect(r.violations.map((v) => v.message).sort()).toEqual(['done_ratio done_ratio 0.25 < warning 0.5', 'jobs_queued jobs_queued 3 > warning 2']);
  });

  it('empty results follow on_empty; text is not a number', async () => {
    const q = (extra: Record<string, unknown>) => run({ ...base(), queries: [{ name: 'v', query: "SELECT id FROM jobs WHERE status = 'nope'", ...extra }] });
    const fail = await q({});
    expect(fail).toMatchObject({ ok: false, reason: 'missing' });
    expect(fail.message).toMatch(/query v returned no row, expected a number/);
    expect((await q({ on_empty: 'ok' })).status).toBe('healthy');
    expect(sample(await q({ on_empty: 'value', empty_value: 0 }), 'v')).toBe(0);
    const text = await run({ ...base(), queries: [{ name: 't', query: "SELECT 'abc'" }] });
    expect(text).toMatchObject({ ok: false, reason: 'invalid_result' });
    expect(text.message).toMatch(/returned "abc" \(text\), expected a number/);
  });

  // The server refuses these because the transaction is READ ONLY (SQLSTATE 25006), not because
  // Vigil recognised the SQL: the message is PostgreSQL's own.
  const writes = [
    { name: 'INSERT', query: "INSERT INTO jobs (status) VALUES ('x') RETURNING id" },
    { name: 'UPDATE', query: "WITH u AS (UPDATE jobs SET status = 'x' RETURNING id) SELECT count(*) FROM u" },
    { name: 'SELECT ... FOR UPDATE', query: 'SELECT id FROM jobs WHERE id = 1 FOR UPDATE' },
    { name: 'a function that writes', query: 'SELECT sneaky_write()' },
    { name: 'nextval()', query: "SELECT nextval('ticket')" },
    { name: 'switching the transaction to read-write', query: 'SET TRANSACTION READ WRITE' },
    { name: 'a function that switches to read-write first', query: 'SELECT escape_read_only()' },
  ];
  it.each(writes)('refuses to write: $name', async ({ query }) => {
    const r = await run({ ...base(), queries: [{ name: 'w', query }] });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/in a read-only transaction|read-write mode must be set before any query/);
  });

  it('runs one statement per query (no piggy-backed writes) and left the table untouched', async () => {
    const r = await run({ ...base(), queries: [{ name: 'w', query: "SELECT 1; DELETE FROM jobs" }] });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/multiple commands|cannot insert multiple/i);
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const rows = (await c.query('SELECT count(*)::int AS n FROM jobs')).rows;
    await c.end();
    expect(rows[0].n).toBe(4);
  });

  it('a statement over the timeout is cancelled by the server', async () => {
    const r = await run({ ...base(), timeout: '1s', queries: [{ name: 'slow', query: 'SELECT 1 FROM pg_sleep(5)' }] });
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(r.message).toMatch(/statement timeout|timed out/);
  });
});

describe('a running exporter watching PostgreSQL', () => {
  let exporter: RunningExporter;
  afterAll(async () => { await exporter?.stop(); });

  it('goes critical when the server stops and healthy again when it is back, without a restart', async () => {
    // The password is inline in the YAML (not from ${ENV}): the probe itself must redact it.
    exporter = await startExporter({
      // Runs every 2 s with a 2 s timeout (a default timeout over the interval is cut to it: 1500ms
      // was 500 ms, and on a loaded CI box reconnecting and querying in 500 ms failed run after run).
      config: `
defaults: { interval: 2s, timeout: 2s, retries: 0 }
checks:
  - name: db
    type: postgres
    dsn: ${server.url}
    connect_retry_delay: 100ms
  - name: queue
    type: sql
    component: db
    dsn: ${server.url}
    queries: [{ name: jobs_queued, query: "SELECT count(*) FROM jobs WHERE status = 'queued'" }]
    thresholds: { jobs_queued: { warning: 100 } }
`,
    });
    const health = async () => (await (await fetch(`${exporter.url}/health`)).json()) as { status: string; components: Record<string, { checks: Record<string, { status: string; last_error: string | null }> }> };
    const db = async () => (await health()).components.db.checks;
    await waitFor(async () => { const c = await db(); return c.db.status === 'healthy' && c.queue.status === 'healthy'; }, 20_000);

    await server.halt('fast');
    const stoppedAt = Date.now();
    const down = await waitFor(async () => { const c = await db(); return c.db.status === 'critical' && c.queue.status === 'critical' && c; }, 15_000, 50);
    expect(Date.now() - stoppedAt).toBeLessThan(2000 + 2000 + 3000); // one interval + timeout (+ slack for a busy machine)
    expect(down.db.last_error).toMatch(new RegExp(`^postgres 127\\.0\\.0\\.1:${server.port}/postgres: .*(ECONNREFUSED|terminat|shutdown)`, 'i'));

    await server.resume();
    await waitFor(async () => { const c = await db(); return c.db.status === 'healthy' && c.queue.status === 'healthy'; }, 15_000, 50);

    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_db_reconnects_total\{check="db",component="db"\} [1-9]/);
    expect(metrics).toMatch(/vigil_sql_value\{check="queue",component="db",name="jobs_queued"\} 3/);
    expect(metrics).toMatch(/vigil_db_server_info\{check="db",component="db",version="\d+\.\d+"\} 1/);
    expect(metrics).toMatch(/vigil_db_pool_connections\{check="db",component="db",state="total"\} 1/);
    const everything = metrics + JSON.stringify(await health()) + exporter.logs();
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(encodeURIComponent(PASSWORD));
  }, 90_000); // a start, a stop and a restart of the server, and three waits on 2 s runs
});
