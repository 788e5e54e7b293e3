// redis probe against a real Redis (with requirepass): ping, version, queue depths of lists,
// streams, sorted sets and Bull/BullMQ queues, worker counts from CLIENT LIST names, redaction,
// and a server restart seen by a running exporter.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCheck, makeProbe, sample } from '../support/checks.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { runCheck } from '../../exporter/engine/runner.js';
import { silentLogger } from '../../exporter/log.js';
import { workerMatcher } from '../../exporter/probes/redis.js';

const PASSWORD = 'rd-Secret-2718-frotz';
let server: RedisServer;
let admin: Redis;
const workers: Redis[] = [];

async function run(fields: Record<string, unknown>) {
  const check = makeCheck({ retries: 0, timeout: '3s', connect_retry_delay: '100ms', ...fields });
  const probe = makeProbe(check);
  try {
    return await runCheck(check, probe, { log: silentLogger });
  } finally {
    await probe.close?.();
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  server = await startRedis({ password: PASSWORD });
  admin = new Redis(server.url);
  admin.on('error', () => {}); // the restart test stops the server under it
  await admin.rpush('mail:outbox', 'a', 'b', 'c');
  await admin.xadd('events', '*', 'k', 'v');
  await admin.zadd('retry', 1, 'x', 2, 'y');
  await admin.set('not-a-list', 'x');
  // A BullMQ queue "emails" as BullMQ lays it out (prefix "bull").
  await admin.rpush('bull:emails:wait', '1', '2', '3', '4');
  await admin.zadd('bull:emails:prioritized', 1, '5');
  await admin.rpush('bull:emails:active', '6');
  await admin.zadd('bull:emails:failed', 1, '7', 2, '8');
  await admin.zadd('bull:emails:delayed', 1, '9');
  await admin.zadd('bull:emails:completed', 1, '10');
  // Two workers as BullMQ names their connections (one unnamed, one named), one of another queue.
  for (const name of [`bull:${b64('emails')}`, `bull:${b64('emails')}:w:worker-2`, `bull:${b64('sms')}`]) {
    const w = new Redis(server.url, { connectionName: name });
    w.on('error', () => {});
    await w.ping();
    workers.push(w);
  }
});

afterAll(async () => {
  for (const w of workers) w.disconnect();
  admin?.disconnect();
  await server?.stop();
});

describe('redis probe', () => {
  it('pings and reports the server version', async () => {
    const r = await run({ type: 'redis', dsn: server.url });
    expect(r.status).toBe('healthy');
    expect(r.info?.server_version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(sample(r, 'pool_total', { state: 'total' })).toBe(1);
  });

  it('measures queues and BullMQ workers, with thresholds per queue and state', async () => {
    const r = await run({
      type: 'redis', dsn: server.url,
      queues: [
        { name: 'outbox', key: 'mail:outbox' },
        { name: 'events', kind: 'stream' },
        { name: 'retry', kind: 'zset' },
        { name: 'emails', kind: 'bullmq' },
        { name: 'sms', kind: 'bullmq' },
      ],
      thresholds: {
        'outbox.length': { warning: 2, critical: 10 },
        'emails.failed': { critical: 1 },
        'sms.workers': { critical: 1, direction: 'below' },
      },
    });
    const depth = (queue: string, state: string) => sample(r, `${queue}.${state}`, { queue, state });
    expect(depth('outbox', 'length')).toBe(3);
    expect(depth('events', 'length')).toBe(1);
    expect(depth('retry', 'length')).toBe(2);
    expect(depth('emails', 'waiting')).toBe(5); // wait + paused + prioritized
    expect(depth('emails', 'active')).toBe(1);
    expect(depth('emails', 'failed')).toBe(2);
    expect(depth('emails', 'delayed')).toBe(1);
    expect(depth('emails', 'completed')).toBe(1);
    expect(depth('sms', 'waiting')).toBe(0); // missing keys are empty queues
    expect(sample(r, 'emails.workers', { queue: 'emails' })).toBe(2);
    expect(sample(r, 'sms.workers', { queue: 'sms' })).toBe(1);
    expect(r.status).toBe('critical');
    expect(r.violations.map((v) => v.message).sort()).toEqual(['emails.failed emails,failed 2 > critical 1', 'outbox.length outbox,length 3 > warning 2']);
  });

  it('a key of the wrong type is a clear failure', async () => {
    const r = await run({ type: 'redis', dsn: server.url, queues: [{ name: 'q', key: 'not-a-list' }] });
    expect(r).toMatchObject({ ok: false, reason: 'invalid_result' });
    expect(r.message).toMatch(/queue q: key not-a-list holds another type, expected a list/);
  });

  it('a wrong password is an auth failure whose message holds no password', async () => {
    const r = await run({ type: 'redis', dsn: `redis://:Wrong-Passw0rd-789@127.0.0.1:${server.port}`, connect_attempts: 1 });
    expect(r).toMatchObject({ ok: false, reason: 'auth' });
    expect(r.message).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:${server.port}: .*WRONGPASS`));
    expect(r.message).not.toContain('Wrong-Passw0rd-789');
  });

  it('matches worker names the way BullMQ does', () => {
    const m = workerMatcher({ name: 'q', prefix: 'bull' });
    expect([`bull:${b64('q')}`, `bull:${b64('q')}:w:a`, `bull:${b64('q')}x`, 'vigil', ''].map(m)).toEqual([true, true, false, false, false]);
    expect(workerMatcher({ name: 'q', prefix: 'bull', worker_client_name: '^mailer-' })('mailer-3')).toBe(true);
  });
});

describe('a running exporter watching Redis', () => {
  let exporter: RunningExporter;
  afterAll(async () => { await exporter?.stop(); });

  it('goes critical when the server stops and healthy again when it is back, without a restart', async () => {
    exporter = await startExporter({
      // Runs every 2 s with a 2 s timeout (a default timeout over the interval is cut to it: 1500ms
      // was 500 ms, and on a loaded CI box reconnecting and querying in 500 ms failed run after run).
      config: `
defaults: { interval: 2s, timeout: 2s, retries: 0 }
checks:
  - name: cache
    type: redis
    dsn: \${REDIS_URL}
    connect_retry_delay: 100ms
    queues: [{ name: emails, kind: bullmq }]
`,
      env: { REDIS_URL: server.url },
    });
    const check = async () => ((await (await fetch(`${exporter.url}/api/v1/checks/cache`)).json()) as { status: string; last_error: string | null });
    await waitFor(async () => (await check()).status === 'healthy', 20_000);

    await server.halt();
    const stoppedAt = Date.now();
    const down = await waitFor(async () => { const c = await check(); return c.status === 'critical' && c; }, 15_000, 50);
    expect(Date.now() - stoppedAt).toBeLessThan(2000 + 2000 + 3000); // one interval + timeout (+ slack for a busy machine)
    expect(down.last_error).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:${server.port}: .*(ECONNREFUSED|Connection is closed)`));

    await server.resume();
    await waitFor(async () => (await check()).status === 'healthy', 15_000, 50);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_db_reconnects_total\{check="cache",component="cache"\} [1-9]/);
    expect(metrics).toMatch(/vigil_queue_depth\{check="cache",component="cache",queue="emails",state="waiting"\} 0/);
    const everything = metrics + JSON.stringify(await check()) + exporter.logs();
    expect(everything).not.toContain(PASSWORD);
  }, 90_000); // a start, a stop and a restart of the server, and three waits on 2 s runs
});
