// Soak benchmark (issue 12): the compiled exporter with 1 000 HTTP checks, a quarter of them at
// hostile peers on loopback (bench/fixtures/soak-targets.mjs), for 10 minutes, while a
// Prometheus-like scraper reads /metrics twice a second, a few status-page viewers hold an SSE
// stream and re-read /api/v1/status, and load-balancer-like readers poll /health.
//
// Hostile kinds, round-robin over the hostile quarter:
//   hang, reset, garbage, drip-head, drip-body (1 byte/s), big (64 MB body), refused (a closed
//   port), unresolvable. Half of the hang/drip/big checks assert on the body, half do not (an
//   assertion-free check must still not read 64 MB to the end).
// The unresolvable name has a 64-byte label under .invalid (RFC 2606): glibc refuses a label
// over 63 bytes before sending any query, so resolution fails at once and no packet leaves
// loopback (checked with `strace -e trace=network`: no connect/send to the nameserver; a plain
// `soak.invalid` WOULD be sent to the resolver in /etc/resolv.conf). A preflight checks that the
// name fails fast here.
//
// Figures: exporter exits (each one restarted and counted as a crash), scrape count and
// p50/p99/max (a failed scrape counts as its 10 s timeout), RSS and heap over time (after
// warm-up, split in thirds), event-loop delay (prom-client's nodejs_eventloop_lag_*), CPU, per
// kind of check: statuses and runs against what the interval allows (a dead peer must not
// starve the healthy checks).
// Goals: 0 crashes, scrape p99 < 250 ms, RSS flat after warm-up (median of the last third within
// 10 % of the second third's).
//
//   npm run bench -- soak [--duration=10m] [--checks=1000] [--interval=5s] [--timeout=3s]
//                         [--viewers=4] [--health-readers=2] [--scrape-interval=500ms] [--warmup=60s]
import { spawn, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatDuration, parseDuration } from '../exporter/model/units.js';
import { benchNodeEnv, benchNodeFlags, cpuSeconds, freePort, percentile, rssBytes } from './exporter.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/exporter/cli.js');
const TARGETS = path.join(ROOT, 'bench/fixtures/soak-targets.mjs');
const UNRESOLVABLE_HOST = `${'a'.repeat(64)}.soak.invalid`;
const SCRAPE_TIMEOUT_MS = 10_000;
const GOAL_SCRAPE_P99_MS = 250;
const GOAL_RSS_GROWTH = 0.10;

const HOSTILE_KINDS = ['hang', 'reset', 'garbage', 'drip-head', 'drip-body', 'big', 'refused', 'unresolvable'] as const;

export const SOAK_USAGE = `soak options (npm run bench -- soak --duration=60s):
  --duration=10m         how long the load runs (default 10m; warm-up included)
  --warmup=<d>           excluded from the RSS comparison (default 15 % of the duration, 10 s to 60 s)
  --checks=1000          HTTP checks …
  --hostile=0.25         … this share of them hostile (0 for an A/B run without)
  --kinds=hang,reset,…   only these hostile kinds (default all: ${HOSTILE_KINDS.join(',')})
  --interval=5s          check interval (and --timeout=3s probe timeout)
  --scrape-interval=500ms  /metrics scrapes, one at a time
  --viewers=4            status-page viewers: an SSE stream each, GET /api/v1/status every 10 s
  --health-readers=2     GET /health every 2 s each`;

type HostileKind = (typeof HOSTILE_KINDS)[number];
type Kind = 'ok' | HostileKind;

interface Options {
  durationMs: number;
  warmupMs: number;
  checks: number;
  hostile: number;
  kinds: HostileKind[];
  intervalMs: number;
  timeoutMs: number;
  scrapeIntervalMs: number;
  viewers: number;
  healthReaders: number;
}

export function parseSoakArgs(args: string[]): Options {
  const flags = new Map<string, string>();
  for (const a of args) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`soak: unknown argument "${a}"\n${SOAK_USAGE}`);
    flags.set(m[1], m[2]);
  }
  const known = ['duration', 'warmup', 'checks', 'hostile', 'kinds', 'interval', 'timeout', 'scrape-interval', 'viewers', 'health-readers'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`soak: unknown option --${k}\n${SOAK_USAGE}`);
  const dur = (k: string, def: string) => {
    const v = parseDuration(flags.get(k) ?? def);
    if (v === undefined || v <= 0) throw new Error(`soak: --${k} expects a duration such as 90s or 10m, got "${flags.get(k)}"`);
    return v;
  };
  const int = (k: string, def: number, min: number) => {
    const v = Number(flags.get(k) ?? def);
    if (!Number.isInteger(v) || v < min) throw new Error(`soak: --${k} expects an integer >= ${min}, got "${flags.get(k)}"`);
    return v;
  };
  const durationMs = dur('duration', '10m');
  return {
    durationMs,
    warmupMs: flags.has('warmup') ? dur('warmup', '60s') : Math.min(60_000, Math.max(10_000, durationMs * 0.15)),
    checks: int('checks', 1000, 8),
    hostile: (() => {
      const v = Number(flags.get('hostile') ?? 0.25);
      if (!(v >= 0 && v <= 1)) throw new Error(`soak: --hostile expects a share from 0 to 1, got "${flags.get('hostile')}"`);
      return v;
    })(),
    kinds: (() => {
      const ks = (flags.get('kinds') ?? HOSTILE_KINDS.join(',')).split(',').filter(Boolean);
      const bad = ks.filter((k) => !(HOSTILE_KINDS as readonly string[]).includes(k));
      if (bad.length || !ks.length) throw new Error(`soak: --kinds takes a comma list of ${HOSTILE_KINDS.join(', ')}; got "${flags.get('kinds')}"`);
      return ks as HostileKind[];
    })(),
    intervalMs: dur('interval', '5s'),
    timeoutMs: dur('timeout', '3s'),
    scrapeIntervalMs: dur('scrape-interval', '500ms'),
    viewers: int('viewers', 4, 0),
    healthReaders: int('health-readers', 2, 0),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => percentile(xs, 50);
const mb = (bytes: number) => bytes / 1e6;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

/** The checks, named by kind so the end report can group them. */
function checkPlan(n: number, share: number, kinds: readonly HostileKind[] = HOSTILE_KINDS): Array<{ name: string; kind: Kind; index: number }> {
  const hostile = Math.round(n * share);
  const plan: Array<{ name: string; kind: Kind; index: number }> = [];
  // Interleave hostile checks with healthy ones so both spread over components and the schedule.
  for (let i = 0, h = 0, ok = 0; i < n; i++) {
    if (h < Math.round((i + 1) * share)) {
      const kind = kinds[h % kinds.length];
      plan.push({ name: `${kind}-${String(h).padStart(4, '0')}`, kind, index: h++ });
    } else {
      plan.push({ name: `ok-${String(ok).padStart(4, '0')}`, kind: 'ok', index: ok++ });
    }
  }
  return plan;
}

function config(opts: Options, ports: Record<string, number>, refusedPort: number): string {
  const lines = [
    `defaults: { interval: ${opts.intervalMs}ms, timeout: ${opts.timeoutMs}ms, retries: 0 }`,
    'components:',
    ...Array.from({ length: 20 }, (_, c) => `  - { name: svc${c} }`),
    'checks:',
  ];
  const urls: Record<Exclude<Kind, 'ok'>, string> = {
    hang: `http://127.0.0.1:${ports.hang}/`,
    reset: `http://127.0.0.1:${ports.reset}/`,
    garbage: `http://127.0.0.1:${ports.garbage}/`,
    'drip-head': `http://127.0.0.1:${ports.drip}/head`,
    'drip-body': `http://127.0.0.1:${ports.drip}/body`,
    big: `http://127.0.0.1:${ports.big}/`,
    refused: `http://127.0.0.1:${refusedPort}/`,
    unresolvable: `http://${UNRESOLVABLE_HOST}/`,
  };
  checkPlan(opts.checks, opts.hostile, opts.kinds).forEach((c, i) => {
    const component = `svc${i % 20}`;
    if (c.kind === 'ok') {
      // Every fourth healthy check reads and asserts on its body.
      const expect = c.index % 4 === 0 ? ', expect: { body_regex: "\\"status\\":\\"ok\\"" }' : '';
      lines.push(`  - { name: ${c.name}, type: http, component: ${component}, url: "http://127.0.0.1:${ports.healthy}/${c.name}"${expect} }`);
    } else {
      // Every other hostile check of each kind asserts on its body (kinds go round-robin).
      const expect = Math.floor(c.index / opts.kinds.length) % 2 === 0 ? ', expect: { body_regex: "never-there" }' : '';
      lines.push(`  - { name: ${c.name}, type: http, component: ${component}, url: "${urls[c.kind]}"${expect} }`);
    }
  });
  return lines.join('\n') + '\n';
}

/** Resolution of the unresolvable name must fail, and fast (no resolver round trip). */
async function preflightUnresolvable(): Promise<number> {
  const t0 = performance.now();
  try {
    const r = await Promise.race([lookup(UNRESOLVABLE_HOST), sleep(2000).then(() => 'timeout' as const)]);
    if (r === 'timeout') throw new Error(`resolving ${UNRESOLVABLE_HOST} took over 2 s: this resolver sends it to the network`);
    throw new Error(`${UNRESOLVABLE_HOST} resolved to ${JSON.stringify(r)}: the "unresolvable" targets would not be`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTFOUND' && (err as NodeJS.ErrnoException).code !== 'EAI_AGAIN') throw err;
  }
  return performance.now() - t0;
}

function startTargets(role: 'healthy' | 'hostile'): Promise<{ proc: ChildProcess; ports: Record<string, number> }> {
  // Own process group: a Ctrl-C reaches the bench only, which then stops everything in order.
  // stdin is a pipe so the targets also exit if the bench dies without cleaning up.
  const proc = spawn(process.execPath, [TARGETS], { env: { ...process.env, ROLE: role }, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${role} targets did not start`)); }, 10_000);
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ proc, ports: JSON.parse(line) as Record<string, number> });
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${role} targets exited with ${code}`)); });
  });
}

function stopProc(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

interface Get { ms: number; status: number; error?: string; body?: string }

/** One GET with a deadline; the body is read to the end (kept only when asked for). */
function get(url: string, agent: http.Agent | undefined, timeoutMs: number, keepBody = false): Promise<Get> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<Get, 'ms'>) => { if (!done) { done = true; clearTimeout(timer); resolve({ ms: performance.now() - t0, ...r }); } };
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => { if (keepBody) chunks.push(d); });
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: keepBody ? Buffer.concat(chunks).toString('utf8') : undefined }));
      res.on('error', (err) => finish({ status: 0, error: err.message }));
    });
    const timer = setTimeout(() => { req.destroy(); finish({ status: 0, error: 'timeout' }); }, timeoutMs);
    req.on('error', (err) => finish({ status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}

class Latencies {
  ms: number[] = [];
  failed = 0;
  errors = new Map<string, number>();
  add(r: Get, timeoutMs: number) {
    if (r.status === 200) { this.ms.push(r.ms); return; }
    this.failed++;
    this.ms.push(r.error === 'timeout' ? timeoutMs : r.ms);
    const why = r.error ?? `HTTP ${r.status}`;
    this.errors.set(why, (this.errors.get(why) ?? 0) + 1);
  }
  summary() {
    return { count: this.ms.length, p50: percentile(this.ms, 50), p99: percentile(this.ms, 99), max: Math.max(0, ...this.ms), failed: this.failed };
  }
  line(name: string) {
    const s = this.summary();
    const errs = [...this.errors].map(([k, v]) => `${k} x${v}`).join(', ');
    return `${name.padEnd(16)} ${String(s.count).padStart(6)}  p50 ${f1(s.p50).padStart(7)} ms  p99 ${f1(s.p99).padStart(7)} ms  max ${f1(s.max).padStart(8)} ms  failed ${s.failed}${errs ? ` (${errs})` : ''}`;
  }
}

/** Nanoseconds the main (JavaScript) thread of `pid` has waited on a run queue for a CPU. */
function runQueueWaitNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
}

/** Microseconds during which some task on this machine waited for a CPU (Linux PSI), if available. */
function cpuPressureUs(): number | undefined {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function benchSoak(args: string[] = []): Promise<Record<string, number | string>> {
  const opts = parseSoakArgs(args);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run bench does)`);
  const dnsMs = await preflightUnresolvable();

  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-soak-'));
  const children: ChildProcess[] = [];
  let exporter: ChildProcess | undefined;
  let stopping = false;
  let loadOver = false;
  const liveRequests = new Set<http.ClientRequest>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let cleaned: Promise<void> | undefined;
  const cleanup = () => (cleaned ??= (async () => {
    stopping = true;
    loadOver = true;
    for (const r of liveRequests) r.destroy();
    agent.destroy();
    await Promise.all([stopProc(exporter), ...children.map(stopProc)]);
    rmSync(dir, { recursive: true, force: true });
  })());
  const onSignal = (sig: NodeJS.Signals) => {
    console.log(`\nsoak: ${sig}, stopping the exporter and targets and removing ${dir} …`);
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const healthy = await startTargets('healthy');
    children.push(healthy.proc);
    const hostile = await startTargets('hostile');
    children.push(hostile.proc);
    const refusedPort = await freePort();
    const ports = { ...healthy.ports, ...hostile.ports };
    const cfg = config(opts, ports, refusedPort);
    writeFileSync(path.join(dir, 'vigil.yml'), cfg);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const nodeFlags = benchNodeFlags();

    // The exporter; when it exits on its own it is counted and started again on the same port/storage.
    const crashes: Array<{ atS: number; code: number | null; signal: string | null; tail: string }> = [];
    let logTail = '';
    let launchedAt = performance.now();
    const t0 = performance.now();
    const elapsedS = () => (performance.now() - t0) / 1000;
    const launch = () => {
      launchedAt = performance.now();
      const p = spawn(process.execPath, [...nodeFlags, CLI, `--config.file=${dir}/vigil.yml`, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${dir}/data`, '--log.level=warn'],
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...benchNodeEnv() } });
      p.stderr!.on('data', (d) => { logTail = (logTail + d).slice(-4000); });
      p.once('exit', (code, signal) => {
        if (stopping) return;
        crashes.push({ atS: elapsedS(), code, signal, tail: logTail.slice(-1500) });
        console.log(`[${elapsedS().toFixed(0).padStart(5)} s] EXPORTER EXITED (code ${code}, signal ${signal}); restarting. Last log lines:\n${logTail.slice(-1500)}`);
        setTimeout(() => { if (!stopping) exporter = launch(); }, 1000);
      });
      return p;
    };
    const hostileCount = checkPlan(opts.checks, opts.hostile, opts.kinds).filter((c) => c.kind !== 'ok').length;
    console.log(`soak: ${opts.checks} http checks (${hostileCount} hostile: ${opts.kinds.join(', ')}) every ${formatDuration(opts.intervalMs)}, timeout ${formatDuration(opts.timeoutMs)}, `
      + `for ${formatDuration(opts.durationMs)} (warm-up ${formatDuration(opts.warmupMs)}); /metrics every ${formatDuration(opts.scrapeIntervalMs)}, `
      + `${opts.viewers} viewers, ${opts.healthReaders} /health readers; node ${nodeFlags.join(' ') || '(no flags)'}; `
      + `"${UNRESOLVABLE_HOST.slice(0, 12)}….invalid" fails locally in ${dnsMs.toFixed(0)} ms`);
    exporter = launch();
    {
      const deadline = Date.now() + 20_000;
      while ((await get(`${url}/-/healthy`, undefined, 1000)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`exporter did not come up:\n${logTail}`);
        await sleep(100);
      }
    }
    const start = performance.now();
    const runFor = (ms: number) => performance.now() - start < ms;
    /** A sleep that ends early when the load is over. */
    const pause = async (ms: number) => {
      const end = performance.now() + ms;
      while (!loadOver && performance.now() < end) await sleep(Math.min(250, end - performance.now()));
    };

    // --- load ---------------------------------------------------------------------------------
    const scrapes = new Latencies();
    // prom-client's default metrics: nodejs_eventloop_lag_seconds is one setImmediate delay taken
    // at the scrape; _max is the worst timer delay since the previous scrape, from a histogram
    // with a 10 ms resolution that the value includes (0 when it has no sample at all).
    const LAG_RESOLUTION_MS = 10;
    const lagNow: number[] = [];
    const lagMax: number[] = [];
    const heap: Array<{ t: number; v: number }> = [];
    const scraper = (async () => {
      let next = performance.now();
      while (!loadOver && runFor(opts.durationMs)) {
        const r = await get(`${url}/metrics`, agent, SCRAPE_TIMEOUT_MS, true);
        scrapes.add(r, SCRAPE_TIMEOUT_MS);
        if (r.body) {
          const now = metricValue(r.body, 'nodejs_eventloop_lag_seconds');
          const max = metricValue(r.body, 'nodejs_eventloop_lag_max_seconds');
          const used = metricValue(r.body, 'nodejs_heap_size_used_bytes');
          if (now !== undefined) lagNow.push(now * 1000);
          if (max) lagMax.push(Math.max(0, max * 1000 - LAG_RESOLUTION_MS));
          if (used !== undefined) heap.push({ t: performance.now() - start, v: used });
        }
        next += opts.scrapeIntervalMs;
        const wait = next - performance.now();
        if (wait > 0) await pause(wait);
        else next = performance.now(); // a slow scrape: go on at once, as Prometheus does, without catching up
      }
    })();

    const status = new Latencies();
    const sse = { connects: 0, refused: 0, ended: 0, events: 0, bytes: 0, open: 0 };
    const viewer = async (i: number) => {
      // The page's live feed; reconnects after 2 s like EventSource when the server ends it.
      const stream = (async () => {
        while (!loadOver && runFor(opts.durationMs)) {
          await new Promise<void>((resolve) => {
            const req = http.get(`${url}/api/v1/events`, { headers: { accept: 'text/event-stream' } }, (res) => {
              if (res.statusCode !== 200) { sse.refused++; res.resume(); res.once('end', resolve); return; }
              sse.connects++;
              sse.open++;
              let idle = setTimeout(() => req.destroy(), 45_000); // keep-alive comments come every 15 s
              res.on('data', (d: Buffer) => {
                sse.bytes += d.length;
                sse.events += d.toString('utf8').split('\n').filter((l) => l.startsWith('event:')).length;
                clearTimeout(idle);
                idle = setTimeout(() => req.destroy(), 45_000);
              });
              res.once('close', () => { clearTimeout(idle); sse.open--; if (!loadOver) sse.ended++; resolve(); });
            });
            liveRequests.add(req);
            req.once('close', () => { liveRequests.delete(req); resolve(); });
            req.on('error', () => resolve());
          });
          await pause(2000);
        }
      })();
      await pause((i * 10_000) / Math.max(1, opts.viewers)); // stagger the status reads
      while (!loadOver && runFor(opts.durationMs)) {
        status.add(await get(`${url}/api/v1/status`, undefined, SCRAPE_TIMEOUT_MS), SCRAPE_TIMEOUT_MS);
        await pause(10_000);
      }
      await stream;
    };
    const health = new Latencies();
    const healthReader = async (i: number) => {
      await pause((i * 2000) / Math.max(1, opts.healthReaders));
      while (!loadOver && runFor(opts.durationMs)) {
        // /health answers 503 when something is critical, which a quarter of the checks are: any
        // complete answer (200 or 503) counts, only errors and timeouts fail.
        const r = await get(`${url}/health`, undefined, SCRAPE_TIMEOUT_MS);
        health.add(r.status === 503 ? { ...r, status: 200 } : r, SCRAPE_TIMEOUT_MS);
        await pause(2000);
      }
    };
    const loads = [scraper, ...Array.from({ length: opts.viewers }, (_, i) => viewer(i)), ...Array.from({ length: opts.healthReaders }, (_, i) => healthReader(i))];

    // --- sampling and progress ----------------------------------------------------------------
    const samples: Array<{ t: number; rss: number; cpu: number; wait: number; pressure?: number; pid: number }> = [];
    const load0 = loadavg()[0];
    const benchCpu0 = process.cpuUsage();
    const targetsCpu0 = children.map((c) => cpuSeconds(c.pid!));
    let nextProgress = Math.max(30_000, opts.durationMs / 10);
    while (runFor(opts.durationMs)) {
      await sleep(1000);
      const pid = exporter?.pid;
      if (pid && exporter!.exitCode === null) {
        try {
          samples.push({ t: performance.now() - start, rss: rssBytes(pid), cpu: cpuSeconds(pid), wait: runQueueWaitNs(pid), pressure: cpuPressureUs(), pid });
        } catch { /* exited between the check and the read */ }
      }
      const t = performance.now() - start;
      if (t >= nextProgress) {
        nextProgress += Math.max(30_000, opts.durationMs / 10);
        const s = scrapes.summary();
        const last = samples.at(-1);
        console.log(`[${(t / 1000).toFixed(0).padStart(5)} s] scrapes ${s.count} (p99 ${f1(s.p99)} ms, failed ${s.failed}); RSS ${last ? f1(mb(last.rss)) : '?'} MB; `
          + `SSE open ${sse.open}; crashes ${crashes.length}`);
      }
    }
    loadOver = true;
    for (const r of liveRequests) r.destroy(); // the SSE streams
    await Promise.all(loads);
    const windowS = (performance.now() - start) / 1000;
    const benchCpu = process.cpuUsage(benchCpu0);
    const targetsCpu = children.map((c, i) => cpuSeconds(c.pid!) - targetsCpu0[i]);

    // --- what the checks did ------------------------------------------------------------------
    const byKind = new Map<Kind, { n: number; statuses: Map<string, number>; reasons: Map<string, number>; runs: number[] }>();
    const checksRes = await get(`${url}/api/v1/checks`, undefined, 30_000, true);
    const metricsRes = await get(`${url}/metrics`, agent, 30_000, true);
    const runs = new Map<string, number>();
    for (const m of (metricsRes.body ?? '').matchAll(/^vigil_check_runs_total\{([^}]*)\} (\S+)/gm)) {
      const name = /check="([^"]+)"/.exec(m[1])?.[1];
      if (name) runs.set(name, (runs.get(name) ?? 0) + Number(m[2]));
    }
    if (checksRes.status === 200) {
      const kinds = new Map(checkPlan(opts.checks, opts.hostile, opts.kinds).map((c) => [c.name, c.kind]));
      for (const c of (JSON.parse(checksRes.body!) as { checks: Array<{ name: string; status: string; reason: string | null }> }).checks) {
        const kind = kinds.get(c.name);
        if (!kind) continue;
        const k = byKind.get(kind) ?? { n: 0, statuses: new Map<string, number>(), reasons: new Map<string, number>(), runs: [] as number[] };
        k.n++;
        k.statuses.set(c.status, (k.statuses.get(c.status) ?? 0) + 1);
        if (c.reason) k.reasons.set(c.reason, (k.reasons.get(c.reason) ?? 0) + 1);
        k.runs.push(runs.get(c.name) ?? 0);
        byKind.set(kind, k);
      }
    }

    // --- report -------------------------------------------------------------------------------
    const after = samples.filter((s) => s.t >= opts.warmupMs && s.pid === samples.at(-1)?.pid);
    const third = Math.floor(after.length / 3);
    const thirds = [after.slice(0, third), after.slice(third, 2 * third), after.slice(2 * third)].map((xs) => median(xs.map((s) => s.rss)));
    const rssGrowth = (thirds[2] - thirds[1]) / thirds[1];
    const heapAfter = heap.filter((h) => h.t >= opts.warmupMs);
    const ht = Math.floor(heapAfter.length / 3);
    const heapThirds = [heapAfter.slice(0, ht), heapAfter.slice(ht, 2 * ht), heapAfter.slice(2 * ht)].map((xs) => median(xs.map((h) => h.v)));
    const a0 = after[0];
    const a1 = after.at(-1);
    const afterS = a0 && a1 && a1 !== a0 ? (a1.t - a0.t) / 1000 : NaN;
    const cpuWindow = a0 && a1 ? (a1.cpu - a0.cpu) / afterS : NaN;
    // How much of the wall time the exporter's JS thread sat runnable without a CPU, and the
    // machine's CPU pressure: on a shared box these say whether a slow scrape was the exporter's
    // doing or other processes'.
    const waitShare = a0 && a1 ? (a1.wait - a0.wait) / 1e9 / afterS : NaN;
    const pressureShare = a0?.pressure !== undefined && a1?.pressure !== undefined ? (a1.pressure - a0.pressure) / 1e6 / afterS : NaN;
    const cpuTotal = samples.length >= 2 && samples[0].pid === samples.at(-1)!.pid ? (samples.at(-1)!.cpu - samples[0].cpu) / ((samples.at(-1)!.t - samples[0].t) / 1000) : NaN;
    const sc = scrapes.summary();
    // Runs are counted by the exporter since it (last) started.
    const expectedRuns = (performance.now() - Math.max(start, launchedAt)) / opts.intervalMs;

    console.log(`\nsoak results (${windowS.toFixed(0)} s of load, warm-up ${formatDuration(opts.warmupMs)}):`);
    console.log(`  exporter exits        ${crashes.length}${crashes.length ? ` (${crashes.map((c) => `${c.atS.toFixed(0)} s: code ${c.code} signal ${c.signal}`).join('; ')})` : ''}`);
    console.log(`  ${scrapes.line('GET /metrics')}`);
    console.log(`  ${status.line('GET /api/v1/status')}`);
    console.log(`  ${health.line('GET /health')}`);
    console.log(`  SSE                   ${sse.connects} connects, ${sse.refused} refused, ${sse.ended} ended by the server, ${sse.events} events, ${f1(mb(sse.bytes))} MB`);
    const series = Array.from({ length: 11 }, (_, i) => samples[Math.min(samples.length - 1, Math.round((i * (samples.length - 1)) / 10))]).filter(Boolean);
    console.log(`  RSS over time (MB)    ${series.map((s) => `${(s.t / 1000).toFixed(0)}s:${mb(s.rss).toFixed(0)}`).join('  ')}`);
    console.log(`  RSS after warm-up     thirds (median) ${thirds.map((x) => f1(mb(x))).join(' / ')} MB; last vs second third ${(rssGrowth * 100).toFixed(1)} %; max ${f1(mb(Math.max(0, ...samples.map((s) => s.rss))))} MB`);
    console.log(`  heap used             thirds (median) ${heapThirds.map((x) => f1(mb(x))).join(' / ')} MB`);
    console.log(`  event-loop delay      at each scrape p50 ${f1(median(lagNow))} ms, p99 ${f1(percentile(lagNow, 99))} ms; `
      + `worst between scrapes: median ${f1(median(lagMax))} ms, max ${f1(Math.max(0, ...lagMax))} ms`);
    console.log(`  CPU                   exporter ${f1(cpuWindow * 100)} % of a core after warm-up (${f1(cpuTotal * 100)} % overall); `
      + `targets ${targetsCpu.map((c) => f1((c / windowS) * 100)).join(' / ')} % (healthy / hostile); this bench ${f1(((benchCpu.user + benchCpu.system) / 1e6 / windowS) * 100)} %`);
    console.log(`  machine               load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs; CPU pressure (some task waiting) ${f1(pressureShare * 100)} % of the time; `
      + `the exporter's JS thread waited for a CPU ${f1(waitShare * 100)} % of the time (after warm-up)${waitShare > 0.05 ? ' — other load inflates the latencies' : ''}`);
    console.log(`  checks by kind        (runs per check since the exporter ${crashes.length ? 'last ' : ''}started: median, of ${f1(expectedRuns)} possible at the interval)`);
    for (const kind of ['ok', ...HOSTILE_KINDS] as Kind[]) {
      const k = byKind.get(kind);
      if (!k) continue;
      const count = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`).join(', ');
      const reasons = k.reasons.size ? ` (reason: ${count(k.reasons)})` : '';
      console.log(`    ${kind.padEnd(13)} ${String(k.n).padStart(4)}  runs ${f1(median(k.runs)).padStart(6)} (min ${Math.min(...k.runs)})  ${count(k.statuses)}${reasons}`);
    }
    const goals = [
      { name: 'exporter crashes = 0', ok: crashes.length === 0, seen: `${crashes.length}` },
      { name: `scrape p99 < ${GOAL_SCRAPE_P99_MS} ms`, ok: sc.p99 < GOAL_SCRAPE_P99_MS, seen: `${f1(sc.p99)} ms over ${sc.count} scrapes, ${sc.failed} failed` },
      { name: `RSS flat after warm-up (last third within ${GOAL_RSS_GROWTH * 100} % of the second)`, ok: Number.isFinite(rssGrowth) && rssGrowth <= GOAL_RSS_GROWTH, seen: `${(rssGrowth * 100).toFixed(1)} %` },
    ];
    console.log('  goals');
    for (const g of goals) console.log(`    ${g.ok ? 'PASS' : 'MISS'}  ${g.name}: ${g.seen}`);

    const out: Record<string, number | string> = {
      duration_s: windowS,
      crashes: crashes.length,
      scrapes: sc.count,
      scrapes_failed: sc.failed,
      scrape_p50_ms: sc.p50,
      scrape_p99_ms: sc.p99,
      scrape_max_ms: sc.max,
      status_p99_ms: status.summary().p99,
      health_p99_ms: health.summary().p99,
      rss_mb_second_third: mb(thirds[1]),
      rss_mb_last_third: mb(thirds[2]),
      rss_growth_pct: rssGrowth * 100,
      rss_max_mb: mb(Math.max(0, ...samples.map((s) => s.rss))),
      eventloop_delay_p50_ms: median(lagNow),
      eventloop_delay_p99_ms: percentile(lagNow, 99),
      eventloop_delay_worst_ms: Math.max(0, ...lagMax),
      cpu_cores_after_warmup: cpuWindow,
      exporter_runqueue_wait_pct: waitShare * 100,
      machine_cpu_pressure_pct: pressureShare * 100,
      goals: goals.every((g) => g.ok) ? 'PASS' : `MISS (${goals.filter((g) => !g.ok).map((g) => g.name).join('; ')})`,
    };
    for (const kind of ['ok', ...HOSTILE_KINDS] as Kind[]) {
      const k = byKind.get(kind);
      if (k) out[`runs_median_${kind}`] = median(k.runs);
    }
    return out;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
