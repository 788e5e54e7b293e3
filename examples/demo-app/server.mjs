// Vigil demo app: a small koa service the compose stack and the stack tests watch.
//
//   OTEL_SERVICE_NAME=demo-app node --import vigil/instrument examples/demo-app/server.mjs
//
// It uses PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), calls an outbound "provider"
// (PROVIDER_URL; by default its own /provider routes), runs a job every JOB_INTERVAL_MS and
// simulates message deliveries every DELIVERY_INTERVAL_MS. Faults can be injected at start (env)
// or at run time (POST /admin/faults). It keeps serving, and reports errors, while PostgreSQL or
// Redis are down. App on PORT (3000); metrics on :9464/metrics (vigil/instrument).
// See examples/demo-app/README.md.

import Koa from 'koa';
import Router from '@koa/router';
import pg from 'pg';
import { Redis } from 'ioredis';
import { recordDelivery, trackJob } from 'vigil/api';

const env = process.env;
const PORT = Number(env.PORT ?? 3000);
const HOST = env.HOST ?? '0.0.0.0';
const DATABASE_URL = env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOB_INTERVAL_MS = Number(env.JOB_INTERVAL_MS ?? 5000);
const DELIVERY_INTERVAL_MS = Number(env.DELIVERY_INTERVAL_MS ?? 2000);
const PROVIDER_TIMEOUT_MS = Number(env.PROVIDER_TIMEOUT_MS ?? 2000);
const ADMIN_TOKEN = env.ADMIN_TOKEN ?? '';
const CHANNELS = ['email', 'sms', 'webhook'];
const MAX_ATTEMPTS = 3;

// ---- faults -------------------------------------------------------------------------------------

/** name -> [env variable, min, max] */
const FAULTS = {
  latency_ms: ['FAULT_LATENCY_MS', 0, 60_000],
  error_rate: ['FAULT_ERROR_RATE', 0, 1],
  delivery_failure_rate: ['FAULT_DELIVERY_FAILURE_RATE', 0, 1],
  delivery_drop_rate: ['FAULT_DELIVERY_DROP_RATE', 0, 1],
  job_failure_rate: ['FAULT_JOB_FAILURE_RATE', 0, 1],
  provider_latency_ms: ['FAULT_PROVIDER_LATENCY_MS', 0, 60_000],
  provider_error_rate: ['FAULT_PROVIDER_ERROR_RATE', 0, 1],
};

function checkFaults(input, source) {
  const out = {};
  const problems = [];
  for (const [key, value] of Object.entries(input)) {
    const spec = FAULTS[key];
    if (!spec) {
      problems.push(`${source}: unknown fault "${key}" (known: ${Object.keys(FAULTS).join(', ')})`);
      continue;
    }
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < spec[1] || n > spec[2]) {
      problems.push(`${source}: ${key} must be a number from ${spec[1]} to ${spec[2]}`);
      continue;
    }
    out[key] = n;
  }
  return { out, problems };
}

function faultsFromEnv() {
  const raw = {};
  for (const [key, [name]] of Object.entries(FAULTS)) if (env[name] !== undefined && env[name] !== '') raw[key] = env[name];
  const { out, problems } = checkFaults(raw, 'env');
  for (const p of problems) log('warn', p);
  return { ...Object.fromEntries(Object.keys(FAULTS).map((k) => [k, 0])), ...out };
}

const defaultFaults = faultsFromEnv();
let faults = { ...defaultFaults };

// ---- helpers ------------------------------------------------------------------------------------

function log(level, msg, fields = {}) {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + '\n');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chance = (rate) => rate > 0 && Math.random() < rate;

/** Logs a dependency's state only when it changes (no log flood while it is down). */
function stateTracker(name) {
  let up;
  return {
    ok() {
      if (up !== true) log('info', `${name} is up`);
      up = true;
    },
    fail(err) {
      if (up !== false) log('error', `${name} is down`, { error: err?.message ?? String(err) });
      up = false;
    },
    get up() {
      return up === true;
    },
  };
}

async function readJson(ctx, limit = 16 * 1024) {
  let size = 0;
  const chunks = [];
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    ctx.throw(400, 'body must be a JSON object');
  }
}

// ---- dependencies -------------------------------------------------------------------------------

const pgState = stateTracker('postgresql');
const redisState = stateTracker('redis');

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 });
pool.on('error', (err) => pgState.fail(err)); // an idle client lost its connection: never crash

async function db(text, values) {
  try {
    const r = await pool.query(text, values);
    pgState.ok();
    return r;
  } catch (err) {
    if (!err.code || !/^[0-9A-Z]{5}$/.test(err.code)) pgState.fail(err); // not an SQL error: the server is unreachable
    throw err;
  }
}

const redis = new Redis(REDIS_URL, {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false, // fail fast while Redis is down instead of queueing
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(times * 200, 2000),
});
redis.on('error', (err) => redisState.fail(err));
redis.on('ready', () => redisState.ok());

let schemaReady = false;
async function ensureSchema() {
  if (schemaReady) return;
  await db(`create table if not exists demo_items (id serial primary key, name text not null, price numeric not null default 1)`);
  await db(`create table if not exists demo_orders (id serial primary key, item_id int not null, created_at timestamptz not null default now())`);
  await db(`insert into demo_items (name, price) select n, 10 * i from unnest(array['anvil','rope','lamp','map']) with ordinality as t(n, i)
            where not exists (select 1 from demo_items)`);
  schemaReady = true;
}

// ---- provider -----------------------------------------------------------------------------------

// Default: this app's own /provider routes (set once the port is known, PORT may be 0).
let PROVIDER_URL = (env.PROVIDER_URL ?? `http://127.0.0.1:${PORT}/provider`).replace(/\/+$/, '');

async function callProvider(path, init = {}) {
  const res = await fetch(PROVIDER_URL + path, { ...init, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  const body = await res.text();
  if (!res.ok) {
    const err = new Error(`provider answered ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body ? JSON.parse(body) : {};
}

// ---- deliveries and the job -------------------------------------------------------------------

async function sendOnce(channel, message) {
  if (channel === 'webhook') {
    // A real outbound call (shows in http_client_request_duration_seconds).
    await callProvider('/webhook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
    if (chance(faults.delivery_failure_rate)) throw Object.assign(new Error('receiver rejected'), { reason: 'rejected' });
    return;
  }
  await sleep(20 + Math.random() * 80); // email / sms gateway latency
  if (chance(faults.delivery_failure_rate)) throw Object.assign(new Error('gateway timeout'), { reason: 'timeout' });
}

/** Delivers one message with up to MAX_ATTEMPTS attempts, recording every attempt. */
async function deliver(channel, message) {
  if (chance(faults.delivery_drop_rate)) {
    recordDelivery({ channel, outcome: 'dropped', reason: 'unsubscribed', attempt: 1, durationMs: 0 });
    return 'dropped';
  }
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const t0 = performance.now();
    try {
      await sendOnce(channel, message);
      recordDelivery({ channel, outcome: 'delivered', attempt, durationMs: performance.now() - t0 });
      return 'delivered';
    } catch (err) {
      const reason = err.reason ?? (err.status >= 500 ? 'provider_5xx' : err.name === 'TimeoutError' ? 'timeout' : 'error');
      const last = attempt === MAX_ATTEMPTS;
      recordDelivery({ channel, outcome: last ? 'failed' : 'retried', reason, attempt, durationMs: performance.now() - t0 });
      if (last) return 'failed';
    }
  }
  return 'failed';
}

let deliverySeq = 0;
function deliverSome(count = 1, channel) {
  const runs = [];
  for (let i = 0; i < count; i++) {
    const ch = channel ?? CHANNELS[deliverySeq++ % CHANNELS.length];
    runs.push(deliver(ch, { id: deliverySeq, text: 'your order shipped' }));
  }
  return Promise.all(runs);
}

async function cleanupJob() {
  return trackJob('cleanup', async () => {
    await ensureSchema();
    const r = await db(`delete from demo_orders where created_at < now() - interval '1 hour'`);
    await redis.set('demo:last-cleanup', String(Date.now()));
    if (chance(faults.job_failure_rate)) throw new Error('injected job failure');
    return r.rowCount ?? 0;
  });
}

// ---- HTTP ---------------------------------------------------------------------------------------

const app = new Koa();
const router = new Router();

app.on('error', () => {}); // errors are answered (and counted); no stack traces on stderr

app.use(async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    ctx.status = err.status && err.status < 600 ? err.status : 500;
    ctx.body = { error: err.expose ? err.message : ctx.status >= 500 ? 'internal error' : err.message };
  }
});

// Faults apply to the business routes only (not /healthz, /admin, /provider).
async function faulty(ctx, next) {
  if (faults.latency_ms > 0) await sleep(faults.latency_ms);
  if (chance(faults.error_rate)) ctx.throw(500, 'injected error');
  await next();
}

function admin(ctx, next) {
  if (ADMIN_TOKEN && ctx.get('authorization') !== `Bearer ${ADMIN_TOKEN}`) ctx.throw(401, 'admin token required');
  return next();
}

router.get('/', (ctx) => {
  ctx.body = {
    service: 'vigil demo app',
    routes: ['GET /healthz', 'GET /api/items', 'GET /api/items/:id', 'POST /api/orders', 'GET /api/quote',
      'GET|POST|DELETE /admin/faults', 'POST /admin/deliveries', 'POST /admin/jobs/cleanup'],
    faults,
  };
});

router.get('/healthz', async (ctx) => {
  const check = async (fn) => {
    try {
      await fn();
      return 'ok';
    } catch (err) {
      return err.message;
    }
  };
  const [postgres, redisStatus] = await Promise.all([check(() => db('select 1')), check(() => redis.ping())]);
  const ok = postgres === 'ok' && redisStatus === 'ok';
  ctx.status = ok ? 200 : 503;
  ctx.body = { status: ok ? 'ok' : 'degraded', postgres, redis: redisStatus };
});

router.get('/api/items', faulty, async (ctx) => {
  let cached = null;
  try {
    cached = await redis.get('demo:items');
  } catch {
    /* cache down: read the database */
  }
  if (cached) {
    ctx.body = { items: JSON.parse(cached), cached: true };
    return;
  }
  await ensureSchema();
  const { rows } = await db('select id, name, price from demo_items order by id');
  redis.set('demo:items', JSON.stringify(rows), 'EX', 5).catch(() => {});
  ctx.body = { items: rows, cached: false };
});

router.get('/api/items/:id', faulty, async (ctx) => {
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) ctx.throw(400, 'id must be a positive integer');
  await ensureSchema();
  const { rows } = await db('select id, name, price from demo_items where id = $1', [id]);
  if (rows.length === 0) ctx.throw(404, 'no such item');
  ctx.body = rows[0];
});

router.post('/api/orders', faulty, async (ctx) => {
  const body = await readJson(ctx);
  const itemId = Number(body.item_id ?? 1);
  if (!Number.isInteger(itemId) || itemId < 1) ctx.throw(400, 'item_id must be a positive integer');
  await ensureSchema();
  const quote = await callProvider(`/quote?item=${itemId}`);
  const { rows } = await db('insert into demo_orders (item_id) values ($1) returning id', [itemId]);
  await redis.incr('demo:orders');
  deliverSome(1, 'email').catch(() => {});
  ctx.status = 201;
  ctx.body = { id: rows[0].id, item_id: itemId, quote };
});

router.get('/api/quote', faulty, async (ctx) => {
  ctx.body = await callProvider(`/quote?item=${Number(ctx.query.item ?? 1) || 1}`);
});

// The fake third-party provider (PROVIDER_URL points here unless set).
async function providerFaults(ctx, next) {
  if (faults.provider_latency_ms > 0) await sleep(faults.provider_latency_ms);
  if (chance(faults.provider_error_rate)) ctx.throw(503, 'provider unavailable');
  await next();
}
router.get('/provider/quote', providerFaults, (ctx) => {
  ctx.body = { item: Number(ctx.query.item ?? 1), price: 10 + Math.round(Math.random() * 90), currency: 'EUR' };
});
router.post('/provider/webhook', providerFaults, async (ctx) => {
  await readJson(ctx);
  ctx.status = 202;
  ctx.body = { accepted: true };
});

router.get('/admin/faults', admin, (ctx) => {
  ctx.body = faults;
});
router.post('/admin/faults', admin, async (ctx) => {
  const { out, problems } = checkFaults(await readJson(ctx), 'body');
  if (problems.length > 0) ctx.throw(400, problems.join('; '));
  faults = { ...faults, ...out };
  log('info', 'faults changed', { faults });
  ctx.body = faults;
});
router.delete('/admin/faults', admin, (ctx) => {
  faults = { ...defaultFaults };
  ctx.body = faults;
});
router.post('/admin/deliveries', admin, async (ctx) => {
  const count = Math.min(Math.max(Number(ctx.query.count ?? 1) || 1, 1), 100);
  const channel = ctx.query.channel ? String(ctx.query.channel) : undefined;
  if (channel && !CHANNELS.includes(channel)) ctx.throw(400, `channel must be one of ${CHANNELS.join(', ')}`);
  const outcomes = await deliverSome(count, channel);
  ctx.body = { outcomes };
});
router.post('/admin/jobs/cleanup', admin, async (ctx) => {
  try {
    ctx.body = { outcome: 'success', deleted: await cleanupJob() };
  } catch (err) {
    ctx.status = 500;
    ctx.body = { outcome: 'failure', error: err.message };
  }
});

app.use(router.routes()).use(router.allowedMethods());

// ---- start and stop -----------------------------------------------------------------------------

const server = app.listen(PORT, HOST, () => {
  if (!env.PROVIDER_URL) PROVIDER_URL = `http://127.0.0.1:${server.address().port}/provider`;
  log('info', 'demo app listening', { port: server.address().port, provider: PROVIDER_URL });
  ensureSchema().catch(() => {}); // PostgreSQL may be down: the job retries
});

const timers = [];
if (JOB_INTERVAL_MS > 0) timers.push(setInterval(() => cleanupJob().catch(() => {}), JOB_INTERVAL_MS));
if (DELIVERY_INTERVAL_MS > 0) timers.push(setInterval(() => deliverSome(1).catch(() => {}), DELIVERY_INTERVAL_MS));

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log('info', 'stopping', { signal });
  for (const t of timers) clearInterval(t);
  const force = setTimeout(() => process.exit(0), 5000);
  force.unref();
  await new Promise((r) => server.close(r));
  await Promise.allSettled([pool.end(), redis.quit()]);
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
