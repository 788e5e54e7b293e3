// Storage benchmark (issue 14): the record's size bound and its reads, measured.
//   1. 500 checks at 10 s, 90 days of history: the last 48 h as raw results written through the
//      real write path (CheckRecord.addResult/flush, rolled up and pruned by rollUp/prune as the
//      synthetic clock moves); the older hours and days as the rows the roller writes
//      (tierRowStatement, the same statement) with sketches of synthetic response times, since
//      90 days of raw results at 10 s (388 M rows) cannot be written in minutes. Then: the
//      database size, checkpointed (goal < 300 MB), and the rows and bytes per tier.
//   2. A real exporter (dist/exporter/cli.js) opened on that database with the same 500 checks
//      (http, 10 s, against a local target): the status page's first load (/ and
//      /api/v1/status) and /api/v1/report for 90 days, p95 over REQUESTS requests, each a
//      distinct cache key so none is answered from the read cache (goal < 300 ms).
//   3. CPU of the write path per result against an http probe's own CPU (runCheck of the http
//      kind against a local server in another process, in this process), goal < 5 %: in bulk
//      (phase 1's addResult + flush + rollUp + prune, measured with process.cpuUsage), and at the
//      exporter's cadence (the record's own timers in real time on the phase 1 database: the
//      slope between 50 and 500 results a second in alternating windows, plus the merges of the
//      staged results and a round of retention, each timed apart, per result it moved; ~6 min).
//   4. RSS of a real exporter running 1 000 http checks at 1 s on a record holding 3 h of their
//      history (written through the write path first), goal < 150 MB.
//
//   npm run bench -- storage          (options: --checks=500 --days=90 --rss-checks=1000 --rss-hours=3 --requests=25;
//                                      --raw-hours=6 --skip-rss=1 for a quick look at the reads, --only-rss=1, --keep=1,
//                                      --cadence-seconds=20 (the low rate's windows; the high rate's are twice as long),
//                                      --cadence-pairs=3)
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createLogger } from '../exporter/log.js';
import type { CheckResult } from '../exporter/model/result.js';
import { RECORD_FILE } from '../exporter/db/schema.js';
import { openSqliteRecord } from '../exporter/db/sqlite.js';
import { CheckRecord, recordRetentionOf } from '../exporter/record/record.js';
import { estimateRecordBytes } from '../exporter/record/size.js';
import { Sketch } from '../exporter/record/sketch.js';
import { DAY_MS, HOUR_MS, progressStatement, tierRowStatement } from '../exporter/record/tiers.js';
import { parseConfig } from '../exporter/config/load.js';
import { PROBE_KINDS } from '../exporter/probes/index.js';
import { httpProbe } from '../exporter/probes/http.js';
import { runCheck } from '../exporter/engine/runner.js';
import { benchNodeEnv, benchNodeFlags, cpuSeconds, freePort, percentile, rssBytes } from './exporter.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1e6;

function opt(options: string[], name: string, fallback: number): number {
  const o = options.find((a) => a.startsWith(`--${name}=`));
  return o ? Number(o.slice(name.length + 3)) : fallback;
}

/** A deterministic pseudo-random stream (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Check c's response-time model: a base of 5-200 ms, log-normal-ish spread, a slow tail. */
function durationOf(c: number, r: () => number): number {
  const base = 0.005 * 40 ** ((c * 37 % 100) / 100);
  const u = r();
  const spread = Math.exp((r() + r() + r() - 1.5) * 0.4);
  return base * spread * (u < 0.01 ? 5 : 1);
}

const FAIL_MESSAGE = 'connect ECONNREFUSED 10.0.0.1:5432';

/** Check c is failing at time t: a 2-minute outage every ~11 h per check, at a time of its own. */
function failingAt(c: number, t: number): boolean {
  const period = 11 * HOUR_MS + c * 97_000;
  return (t + c * 7_919_000) % period < 120_000;
}

function checkResult(check: string, t: number, duration: number, failing: boolean): CheckResult {
  return {
    check, ok: !failing, status: failing ? 'critical' : 'healthy', violations: [], duration, samples: [], attempts: 1,
    startedAt: t - Math.round(duration * 1000), finishedAt: t, ...(failing ? { reason: 'connect', message: FAIL_MESSAGE } : {}),
  };
}

interface WriteFigures { results: number; cpu_us_per_result: number; wall_s: number }

/**
 * Feed `checks` checks every `intervalMs` over [from, to) through the real write path, the
 * record's clock following the synthetic time; rollUp and prune run as they would each second.
 */
export async function feedRaw(r: CheckRecord, clock: { now: number }, checks: number, intervalMs: number, from: number, to: number): Promise<WriteFigures> {
  const rand = rng(42);
  const names = Array.from({ length: checks }, (_, c) => `c${c}`);
  const batchMs = Math.max(intervalMs, Math.floor(200_000 / checks) * intervalMs); // ~200 000 results a flush
  let results = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastLog = t0;
  for (let t = from; t < to; t += intervalMs) {
    clock.now = t;
    for (let c = 0; c < checks; c++) {
      const at = t + (c * 17) % intervalMs;
      r.addResult(checkResult(names[c], at, durationOf(c, rand), failingAt(c, at)), 3 * intervalMs);
    }
    results += checks;
    if ((t - from) % batchMs === batchMs - intervalMs || t + intervalMs >= to) {
      clock.now = t + intervalMs;
      await r.flush();
      await r.rollUp(checks * 4);
      await r.prune(200);
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        console.log(`  … ${((t - from) / (to - from) * 100).toFixed(0)} % (${(results / 1e6).toFixed(1)} M results)`);
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { results, cpu_us_per_result: (cpu.user + cpu.system) / results, wall_s: (performance.now() - t0) / 1000 };
}

/** CPU of this process's main thread so far (ms; Linux clock ticks, 10 ms). */
const mainThreadCpuMs = () => cpuSeconds(process.pid, process.pid) * 1000;

interface CadenceFigures {
  /** Results a second fed at the low and the high rate, and the process's CPU a second (ms) at each, over all their windows; of it, the main thread's. */
  low: { rate: number; seconds: number; cpu_ms_per_s: number; main_ms_per_s: number; merges: number };
  high: { rate: number; seconds: number; cpu_ms_per_s: number; main_ms_per_s: number; merges: number };
  /** The slope between the two rates: CPU per result written (µs), merges left out; of it, the main thread's. */
  us_per_result: number;
  main_us_per_result: number;
  /** The merges of what each high window staged, timed apart: their CPU above that window's rate, per result merged. */
  merge: { merges: number; results: number; cpu_ms: number; us_per_result: number };
  /** A round of retention, timed apart: its CPU above the low rate's (ms), the raw results it deleted, and so per result. */
  retention: { cpu_ms: number; results: number; us_per_result: number; seconds: number };
  /** Windows a retention sweep ran in (0 unless the windows outlasted the time between two rounds). */
  windows_with_retention: number;
}

/**
 * The write path as the exporter runs it, in real time: the record's own timers (a flush a
 * second, retention and rollups on theirs, checkpoints in its worker) on the database in `dir`,
 * fed `low` and `high` results a second across `checks` checks.
 *
 * Retention costs by the rows that expire (here the history written at 50 a second, whatever the
 * rate now) and comes in rounds (pruneRoundMs: an hour with the default 48 h), so it is kept out
 * of the windows and timed apart. After a minute's warm-up (which holds the first round: what
 * expired since the database was written) and once that round is over, `pairs` pairs of windows
 * alternate the two rates (`lowS` then `highS` seconds, 5 s to settle after each change); the
 * slope between the rates' CPU a second is the cost per result of writing it. Alternating takes
 * drift of the box out. Merges of the staged results come one per MERGE_ROWS results or
 * MERGE_EVERY_MS, so a window holds one or none by chance: each settling period begins with a
 * merge of everything staged, and the merge after a high window (its ~20 000 results, what five
 * minutes at 50 results a second or 40 s at 500 stage) is timed, its CPU above that window's rate
 * per result merged. Then, at the low rate and once the staged results are merged, the record's
 * clock is moved on by a round's time: the round that then falls due (and anything else due an
 * hour on, such as an hour's rollups) is timed, its CPU above the low rate's per raw result it
 * deleted. Each result is written, merged and deleted once, so the three add up to the write
 * path's cost per result.
 */
export async function writeAtCadence(dir: string, checks: number, o: { low: number; high: number; lowS: number; highS: number; pairs: number }): Promise<CadenceFigures> {
  const log = createLogger({ level: 'warn' });
  let shift = 0;
  const record = new CheckRecord({ dir, log, report: { countWriteError: () => { throw new Error('write error in the bench'); } }, now: () => Date.now() + shift });
  record.configure(recordRetentionOf({ retention: 90 * DAY_MS, raw_retention: 48 * HOUR_MS }));
  await record.open();
  record.start();
  const names = Array.from({ length: checks }, (_, c) => `c${c}`);
  // One result object a check, given each run's time and duration: the probe makes the result in
  // the exporter, so making one here would count in the write path's slope (the record keeps
  // none of them: addResult copies what it needs).
  const results = names.map((name) => checkResult(name, 0, 0, false));
  const rand = rng(11);
  const TICK_MS = 100; // the same timer wake-ups at every rate: the difference between rates is the results' own cost
  let rate = o.low;
  let c = 0;
  let fed = 0;
  const feed = setInterval(() => {
    const now = Date.now();
    for (let i = 0; i < rate * TICK_MS / 1000; i++) {
      const r = results[c];
      r.duration = durationOf(c, rand);
      r.finishedAt = now;
      r.startedAt = now - Math.round(r.duration * 1000);
      record.addResult(r, 3 * checks / rate * 1000);
      c = (c + 1) % checks;
      fed++;
    }
  }, TICK_MS);
  const SETTLE_S = 5;
  const sums = { low: { s: 0, cpu: 0, main: 0, n: 0, merges: 0 }, high: { s: 0, cpu: 0, main: 0, n: 0, merges: 0 } };
  let windowsWithRetention = 0;
  const merged = { merges: 0, results: 0, cpu_ms: 0 };
  let windowCpuPerS = 0;
  // A merge of everything staged (and the last second's pending results with it), its CPU above the last window's rate.
  const mergeNow = async () => {
    const results = record.stagedResults + record.pending;
    const merges0 = record.merges;
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await record.flush('now');
    const cpu = process.cpuUsage(cpu0);
    return { done: record.merges > merges0, results, cpu_ms: (cpu.user + cpu.system) / 1000 - windowCpuPerS * (performance.now() - w0) / 1000 };
  };
  const addMerge = (m: { done: boolean; results: number; cpu_ms: number }) => {
    if (!m.done) return;
    merged.merges++;
    merged.results += m.results;
    merged.cpu_ms += m.cpu_ms;
  };
  try {
    await sleep(60_000);
    while (record.pruning) await sleep(1_000);
    const roundsBefore = record.pruneStats.rounds;
    // The pairs that fit before the next round (a round begins pruneRoundMs after the last began).
    const free = record.pruneStats.lastRoundAt + record.pruneRoundMs - Date.now() - 5_000;
    const pairs = Math.max(1, Math.min(o.pairs, Math.floor(free / ((o.lowS + o.highS + 2 * SETTLE_S) * 1000))));
    if (pairs < o.pairs) console.log(`  ${pairs} pairs of windows fit before the next round of retention, not ${o.pairs}`);
    for (let k = 0; k < 2 * pairs; k++) {
      const which = k % 2 === 0 ? 'low' : 'high';
      // Everything staged merged before the window; timed after a high one.
      const m = await mergeNow();
      if (which === 'low' && k > 0) addMerge(m);
      rate = o[which];
      await sleep(SETTLE_S * 1000);
      const fed0 = fed;
      const merges0 = record.merges;
      const pruned0 = record.pruneStats.results;
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadCpuMs();
      const w0 = performance.now();
      await sleep((which === 'low' ? o.lowS : o.highS) * 1000);
      const cpu = process.cpuUsage(cpu0);
      const sum = sums[which];
      windowCpuPerS = (cpu.user + cpu.system) / 1000 / ((performance.now() - w0) / 1000);
      sum.s += (performance.now() - w0) / 1000;
      sum.cpu += (cpu.user + cpu.system) / 1000;
      sum.main += mainThreadCpuMs() - main0;
      sum.n += fed - fed0;
      // None expected (each window starts just after a merge); reported in case.
      sum.merges += record.merges - merges0;
      if (record.pruneStats.results !== pruned0 || record.pruneStats.rounds !== roundsBefore) windowsWithRetention++;
    }
    // The last high window's merge, then the next round at the low rate: the record's clock a round on, from then to just after it ends.
    addMerge(await mergeNow());
    rate = o.low;
    await sleep(3_000);
    const pruned0 = record.pruneStats.results;
    const cpu0 = process.cpuUsage();
    const r0 = performance.now();
    shift += record.pruneRoundMs;
    while (record.pruneStats.rounds === roundsBefore && performance.now() - r0 < 30_000) await sleep(200);
    while (record.pruning) await sleep(200);
    await sleep(2_000);
    const roundCpu = process.cpuUsage(cpu0);
    const roundS = (performance.now() - r0) / 1000;
    const lowCpuPerS = sums.low.cpu / sums.low.s;
    const roundMs = (roundCpu.user + roundCpu.system) / 1000 - lowCpuPerS * roundS;
    const deleted = record.pruneStats.results - pruned0;
    const low = { rate: sums.low.n / sums.low.s, seconds: sums.low.s, cpu_ms_per_s: lowCpuPerS, main_ms_per_s: sums.low.main / sums.low.s, merges: sums.low.merges };
    const high = { rate: sums.high.n / sums.high.s, seconds: sums.high.s, cpu_ms_per_s: sums.high.cpu / sums.high.s, main_ms_per_s: sums.high.main / sums.high.s, merges: sums.high.merges };
    return {
      low, high,
      us_per_result: ((high.cpu_ms_per_s - low.cpu_ms_per_s) * 1000) / (high.rate - low.rate),
      main_us_per_result: ((high.main_ms_per_s - low.main_ms_per_s) * 1000) / (high.rate - low.rate),
      merge: { ...merged, us_per_result: merged.results ? (merged.cpu_ms * 1000) / merged.results : 0 },
      retention: { cpu_ms: roundMs, results: deleted, us_per_result: deleted ? (roundMs * 1000) / deleted : 0, seconds: roundS },
      windows_with_retention: windowsWithRetention,
    };
  } finally {
    clearInterval(feed);
    await record.stop();
  }
}

/** Hour and day rows older than the raw window, as the roller writes them, with sketches of the same model. */
export async function writeOldTiers(dir: string, checks: number, days: number, rawFrom: number, hourKeepMs: number): Promise<number> {
  const sql = await openSqliteRecord(dir, createLogger({ level: 'error', write: () => {} }));
  const rand = rng(7);
  let rows = 0;
  try {
    await sql.transaction(Array.from({ length: checks }, (_, c) => ({ sql: 'INSERT INTO checks (name) VALUES (?) ON CONFLICT DO NOTHING', params: [`c${c}`] })));
    const hourFrom = Math.max(rawFrom - hourKeepMs, rawFrom - days * DAY_MS);
    const dayFrom = Math.floor((rawFrom - days * DAY_MS) / DAY_MS) * DAY_MS;
    const perHour = HOUR_MS / 10_000;
    for (let c = 0; c < checks; c++) {
      // A few hours' worth of sketches per check, reused round the clock (building 90 days of them costs minutes).
      const hours = Array.from({ length: 8 }, () => {
        const s = new Sketch();
        let sum = 0;
        let max = 0;
        for (let i = 0; i < perHour; i++) { const d = durationOf(c, rand); s.add(d); sum += d; max = Math.max(max, d); }
        return { s, sum, max };
      });
      const day = new Sketch();
      for (let k = 0; k < 24; k++) day.merge(hours[k % hours.length].s);
      const dayBytes = day.encode();
      const hourBytes = hours.map((h) => h.s.encode());
      const statements = [];
      for (let t = dayFrom; t + DAY_MS <= Math.floor(rawFrom / DAY_MS) * DAY_MS; t += DAY_MS) {
        const failures = failingAt(c, t) ? 12 : 0;
        statements.push(tierRowStatement('day', { checkId: c + 1, period: t / DAY_MS, runs: 24 * perHour, failures, ms: [DAY_MS - failures * 10_000, 0, 0, failures * 10_000],
          rtSumUs: hours.reduce((a, h) => a + h.sum, 0) * 3e6, rtMaxUs: Math.max(...hours.map((h) => h.max)) * 1e6, sketch: dayBytes }));
      }
      for (let t = Math.floor(hourFrom / HOUR_MS) * HOUR_MS; t < Math.floor(rawFrom / HOUR_MS) * HOUR_MS; t += HOUR_MS) {
        const h = hours[(t / HOUR_MS) % hours.length];
        const failures = failingAt(c, t) ? 12 : 0;
        statements.push(tierRowStatement('hour', { checkId: c + 1, period: t / HOUR_MS, runs: perHour, failures, ms: [HOUR_MS - failures * 10_000, 0, 0, failures * 10_000],
          rtSumUs: h.sum * 1e6, rtMaxUs: h.max * 1e6, sketch: hourBytes[(t / HOUR_MS) % hours.length] }));
      }
      rows += statements.length;
      await sql.transaction(statements);
    }
    // Days before the raw window are done; the roller carries on from there.
    await sql.transaction([progressStatement('day', Math.floor(rawFrom / DAY_MS), 0)]);
  } finally {
    await sql.close();
  }
  return rows;
}

function checkpointedSize(dir: string): { bytes: number; tables: Record<string, number> } {
  const file = path.join(dir, RECORD_FILE);
  const d = new Database(file);
  d.pragma('wal_checkpoint(TRUNCATE)');
  const tables: Record<string, number> = {};
  for (const r of d.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>) tables[r.name] = r.bytes;
  const counts: Record<string, number> = {};
  for (const t of ['results', 'rollup_minute', 'rollup_hour', 'rollup_day', 'events']) counts[t] = d.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
  d.close();
  const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
  for (const [t, n] of Object.entries(counts)) tables[`${t}_rows`] = n;
  return { bytes: statSync(file).size + wal, tables };
}

function startTarget(port: number): ChildProcess {
  const code = `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain'});s.end('ok')}).listen(${port},'127.0.0.1')`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

async function waitHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try { if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return; } catch { /* not yet */ }
    await sleep(200);
  }
  throw new Error(`${url} did not come up in ${timeoutMs / 1000} s`);
}

/** Processes this bench stopped itself: their exit is no news. */
const stopping = new WeakSet<ChildProcess>();

function stop(p: ChildProcess): Promise<void> {
  stopping.add(p);
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

function exporterConfig(checks: number, interval: string, target: string, maxPoints?: number): string {
  const lines = [`defaults: { interval: ${interval}, timeout: 900ms, retries: 0 }`, `scheduler: { concurrency: ${Math.min(checks, 1000)} }`];
  if (maxPoints) lines.push(`history: { max_points: ${maxPoints} }`);
  lines.push('checks:');
  for (let c = 0; c < checks; c++) lines.push(`  - { name: c${c}, type: http, component: svc${c % 20}, url: "${target}/c${c}" }`);
  return lines.join('\n') + '\n';
}

async function startVigil(dir: string, config: string): Promise<{ proc: ChildProcess; url: string }> {
  writeFileSync(path.join(dir, 'vigil.yml'), config);
  const port = await freePort();
  const log = openSync(path.join(dir, 'exporter.log'), 'a');
  const proc = spawn(process.execPath, [...benchNodeFlags(), path.join(ROOT, 'dist/exporter/cli.js'), `--config.file=${dir}/vigil.yml`,
    `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${dir}`, '--log.level=warn'], { stdio: ['ignore', log, log], env: { ...process.env, ...benchNodeEnv() } });
  closeSync(log);
  proc.once('exit', (code, signal) => {
    if (!stopping.has(proc)) console.error(`exporter exited (${code ?? signal}); its log:\n${readFileSync(path.join(dir, 'exporter.log'), 'utf8').split('\n').slice(-30).join('\n')}`);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // Restoring 1 000 checks on a loaded box takes a while before the server listens.
    await waitHttp(`${url}/-/healthy`, 180_000);
  } catch (err) {
    await stop(proc); // not left running when it never came up
    throw err;
  }
  return { proc, url };
}

async function timed(url: string): Promise<{ ms: number; body: string; status: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  const body = await res.text();
  return { ms: performance.now() - t0, body, status: res.status };
}

/** CPU of one http probe run (runCheck of the http kind) against a local server in another process. */
async function probeCpuUs(targetUrl: string, runs: number): Promise<number> {
  const cfg = parseConfig(`checks:\n  - { name: p, type: http, url: "${targetUrl}/p", timeout: 2s, retries: 0 }\n`, 'bench.yml', { kinds: PROBE_KINDS });
  const check = cfg.checks[0] as Parameters<typeof httpProbe.create>[0];
  const log = createLogger({ level: 'error', write: () => {} });
  const probe = httpProbe.create(check, { log, storagePath: tmpdir(), stores: {} });
  const batch = async (n: number) => { for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => runCheck(check, probe, { log }))); };
  await batch(200); // warm-up
  const cpu0 = process.cpuUsage();
  await batch(runs);
  const cpu = process.cpuUsage(cpu0);
  await probe.close?.();
  return (cpu.user + cpu.system) / runs;
}

export async function benchStorage(options: string[] = []): Promise<Record<string, number | string>> {
  const checks = opt(options, 'checks', 500);
  const days = opt(options, 'days', 90);
  const rssChecks = opt(options, 'rss-checks', 1000);
  const rssHours = opt(options, 'rss-hours', 3);
  const requests = opt(options, 'requests', 25);
  // Raw results written through the write path (48 h = history.raw_retention; fewer for a quick look at the reads).
  const rawHours = opt(options, 'raw-hours', 48);
  const out: Record<string, number | string> = {};
  const rows: Array<[string, string, string, boolean | undefined]> = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-storage-'));
  const rssDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-storage-rss-'));
  const targetPort = await freePort();
  const target = startTarget(targetPort);
  const targetUrl = `http://127.0.0.1:${targetPort}`;
  let vigil: { proc: ChildProcess; url: string } | undefined;
  const rssPhase = async () => {
    console.log(`storage: ${rssChecks} checks at 1 s, ${rssHours} h of history through the write path …`);
    const rssClock = { now: Date.now() - rssHours * HOUR_MS };
    const rssRecord = new CheckRecord({ dir: rssDir, log: createLogger({ level: 'warn' }), report: { countWriteError: () => {} }, now: () => rssClock.now });
    rssRecord.configure(recordRetentionOf({ retention: days * DAY_MS, raw_retention: 48 * HOUR_MS }));
    const rssEnd = Math.floor(Date.now() / 1_000) * 1_000;
    await feedRaw(rssRecord, rssClock, rssChecks, 1_000, rssEnd - rssHours * HOUR_MS, rssEnd);
    await rssRecord.stop();
    // With the default history.max_points (300: 5 minutes at 1 s in each check's ring, the
    // record answering for the rest), and with the 8 640 of earlier versions for comparison.
    for (const maxPoints of [undefined, 8640]) {
      vigil = await startVigil(rssDir, exporterConfig(rssChecks, '1s', targetUrl, maxPoints));
      await sleep(20_000);
      let rss = 0;
      for (let i = 0; i < 20; i++) { rss = Math.max(rss, rssBytes(vigil.proc.pid!)); await sleep(500); }
      await stop(vigil.proc);
      vigil = undefined;
      out[`rss_${rssChecks}_checks_max_points_${maxPoints ?? 'default'}_mb`] = rss / MB;
      rows.push([`RSS, ${rssChecks} checks at 1 s, ${rssHours} h of history, max_points ${maxPoints ?? '300 (default)'}`, `${(rss / MB).toFixed(0)} MB`, '< 150 MB', maxPoints ? undefined : rss < 150 * MB]);
    }
};
  try {
    if (opt(options, 'only-rss', 0)) { await rssPhase(); return out; }
    // 1. The database.
    const history = { retention: days * DAY_MS, raw_retention: 48 * HOUR_MS };
    const retention = recordRetentionOf(history);
    const end = Math.floor(Date.now() / 10_000) * 10_000;
    const rawFrom = end - rawHours * HOUR_MS;
    console.log(`storage: ${checks} checks at 10 s, ${days} days: older hour and day rows …`);
    const oldRows = await writeOldTiers(dir, checks, days, rawFrom, retention.hourMs!);
    console.log(`  ${oldRows} rows; now ${rawHours} h of raw results through the write path …`);
    const clock = { now: rawFrom };
    const record = new CheckRecord({ dir, log: createLogger({ level: 'warn' }), report: { countWriteError: () => { throw new Error('write error in the bench'); } }, now: () => clock.now });
    record.configure(retention);
    const write = await feedRaw(record, clock, checks, 10_000, rawFrom, end);
    clock.now = end;
    while (await record.rollUp(10_000) > 0 || await record.prune(1_000) > 0) { /* everything due */ }
    await record.stop();
    const size = checkpointedSize(dir);
    const estimate = estimateRecordBytes(Array.from({ length: checks }, () => ({ interval: 10_000 })), retention);
    out.db_mb = size.bytes / MB;
    out.estimate_mb = estimate / MB;
    for (const [k, v] of Object.entries(size.tables)) if (!k.startsWith('sqlite_')) out[k.endsWith('_rows') ? k : `${k}_mb`] = k.endsWith('_rows') ? v : v / MB;
    out.write_results = write.results;
    out.write_wall_s = write.wall_s;
    rows.push(['database size (500 checks @10 s, 90 d)', `${(size.bytes / MB).toFixed(1)} MB (estimate ${(estimate / MB).toFixed(1)} MB)`, '< 300 MB', size.bytes < 300 * MB]);

    // 2. Reads against a real exporter on that database.
    console.log('storage: exporter on that database …');
    vigil = await startVigil(dir, exporterConfig(checks, '10s', targetUrl));
    await waitHttp(`${vigil.url}/-/ready`, 120_000).catch(() => { /* ready once every check ran: reads are measured either way */ });
    const first = await timed(`${vigil.url}/`);
    const firstStatus = await timed(`${vigil.url}/api/v1/status`);
    // The exporter's own CPU per request beside the wall time: on a shared, loaded box the wall
    // time is mostly waiting for a core, the CPU time is the work a request costs.
    const pid = vigil.proc.pid!;
    const statusMs: number[] = [];
    let cpu0 = cpuSeconds(pid);
    for (let i = 0; i < requests; i++) statusMs.push((await timed(`${vigil.url}/api/v1/status?buckets=${40 + i}`)).ms);
    out.status_cpu_ms_per_request = ((cpuSeconds(pid) - cpu0) * 1000) / requests;
    cpu0 = cpuSeconds(pid);
    const reportMs: number[] = [];
    let sample: { source?: string; runs?: number; availability?: number; response_time_ms?: { p95: number } } | undefined;
    for (let i = 0; i < requests; i++) {
      const to = new Date(Date.now() - i * 1_000).toISOString();
      const from = new Date(Date.now() - days * DAY_MS + 2 * HOUR_MS - i * 1_000).toISOString();
      const r = await timed(`${vigil.url}/api/v1/report?from=${from}&to=${to}`);
      if (r.status !== 200) throw new Error(`report: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      reportMs.push(r.ms);
      sample ??= JSON.parse(r.body).checks[0];
    }
    out.report_cpu_ms_per_request = ((cpuSeconds(pid) - cpu0) * 1000) / requests;
    out.page_html_ms = first.ms;
    out.status_first_ms = firstStatus.ms;
    out.status_p95_ms = percentile(statusMs, 95);
    out.report_90d_p95_ms = percentile(reportMs, 95);
    out.report_90d_p50_ms = percentile(reportMs, 50);
    // The first one reads every day row; the others find the whole days in the record's day cache.
    out.report_90d_first_ms = reportMs[0];
    out.report_sample = JSON.stringify({ source: sample?.source, runs: sample?.runs, availability: sample?.availability, p95_ms: sample?.response_time_ms?.p95 });
    rows.push(['status page first load (/ + /api/v1/status)', `${(first.ms + firstStatus.ms).toFixed(0)} ms; /api/v1/status p95 ${out.status_p95_ms.toFixed(0)} ms, CPU ${(out.status_cpu_ms_per_request as number).toFixed(0)} ms a request`, '< 300 ms', first.ms + firstStatus.ms < 300 && (out.status_p95_ms as number) < 300]);
    rows.push([`/api/v1/report, ${days} d, p95 of ${requests}`, `${(out.report_90d_p95_ms as number).toFixed(0)} ms (p50 ${(out.report_90d_p50_ms as number).toFixed(0)}, first ${(out.report_90d_first_ms as number).toFixed(0)}; CPU ${(out.report_cpu_ms_per_request as number).toFixed(0)} ms a request)`, '< 300 ms', (out.report_90d_p95_ms as number) < 300]);
    await stop(vigil.proc);
    vigil = undefined;

    // 3. CPU of the write path per result against an http probe's.
    console.log('storage: http probe CPU for comparison …');
    const probeUs = await probeCpuUs(targetUrl, 3_000);
    out.write_cpu_us_per_result = write.cpu_us_per_result;
    out.probe_cpu_us = probeUs;
    out.write_to_probe_percent = (write.cpu_us_per_result / probeUs) * 100;
    rows.push(['write path CPU per result, bulk (~200 000 results a flush)', `${write.cpu_us_per_result.toFixed(1)} µs = ${(out.write_to_probe_percent as number).toFixed(1)} % of an http probe (${probeUs.toFixed(0)} µs)`, '< 5 %', (out.write_to_probe_percent as number) < 5]);
    // The same at the exporter's cadence, in real time on the 90-day record: a flush a second
    // with one result of each check at most (writeAtCadence says how it is timed).
    const lowS = opt(options, 'cadence-seconds', 20);
    const highS = lowS * 2;
    const pairs = opt(options, 'cadence-pairs', 3);
    console.log(`storage: the write path at the exporter's cadence (real time, about ${Math.round((60 + pairs * (lowS + highS + 10) + 80) / 60)} min) …`);
    const cad = await writeAtCadence(dir, checks, { low: checks / 10, high: checks, lowS, highS, pairs });
    const cadenceUs = cad.us_per_result + cad.merge.us_per_result + cad.retention.us_per_result;
    out.cadence_low_cpu_ms_per_s = cad.low.cpu_ms_per_s;
    out.cadence_high_cpu_ms_per_s = cad.high.cpu_ms_per_s;
    out.cadence_high_merges = cad.high.merges;
    out.cadence_low_merges = cad.low.merges;
    out.cadence_writes_us_per_result = cad.us_per_result;
    out.cadence_writes_main_thread_us_per_result = cad.main_us_per_result;
    out.cadence_merge_us_per_result = cad.merge.us_per_result;
    out.cadence_merges_timed = cad.merge.merges;
    out.cadence_merged_results = cad.merge.results;
    out.cadence_retention_us_per_result = cad.retention.us_per_result;
    out.cadence_retention_round_cpu_ms = cad.retention.cpu_ms;
    out.cadence_retention_round_results = cad.retention.results;
    out.cadence_windows_with_retention = cad.windows_with_retention;
    out.cadence_cpu_us_per_result = cadenceUs;
    out.cadence_to_probe_percent = (cadenceUs / probeUs) * 100;
    rows.push([`write path CPU per result at the exporter's cadence (${cad.low.rate.toFixed(0)} → ${cad.high.rate.toFixed(0)} results/s)`,
      `${cadenceUs.toFixed(1)} µs = ${(out.cadence_to_probe_percent as number).toFixed(1)} % (writes ${cad.us_per_result.toFixed(1)}, ${cad.main_us_per_result.toFixed(1)} of it on the main thread: process ${cad.low.cpu_ms_per_s.toFixed(1)} → ${cad.high.cpu_ms_per_s.toFixed(1)} ms of CPU a second, merges in the windows ${cad.low.merges} / ${cad.high.merges}; merges ${cad.merge.us_per_result.toFixed(1)}: ${cad.merge.merges} timed, ${cad.merge.results} results; retention ${cad.retention.us_per_result.toFixed(1)}: ${cad.retention.cpu_ms.toFixed(0)} ms a round for ${cad.retention.results} results${cad.windows_with_retention ? `; ${cad.windows_with_retention} windows held retention` : ''})`,
      '< 5 %', (out.cadence_to_probe_percent as number) < 5]);

    // 4. RSS at 1 000 checks at 1 s with 3 h of history.
    if (!opt(options, 'skip-rss', 0)) await rssPhase();
  } finally {
    if (vigil) await stop(vigil.proc);
    await stop(target);
    if (opt(options, 'keep', 0)) console.log(`kept: ${dir} ${rssDir}`);
    else {
      rmSync(dir, { recursive: true, force: true });
      rmSync(rssDir, { recursive: true, force: true });
    }
  }
  console.log('\nstorage figures');
  console.log(`  ${'what'.padEnd(66)} ${'measured'.padEnd(60)} ${'goal'.padEnd(10)} result`);
  for (const [what, measured, goal, pass] of rows) console.log(`  ${what.padEnd(66)} ${measured.padEnd(60)} ${goal.padEnd(10)} ${pass === undefined ? '' : pass ? 'PASS' : 'FAIL'}`);
  console.log('  tiers (rows, MB):', ['results', 'rollup_minute', 'rollup_hour', 'rollup_day'].map((t) => `${t} ${out[`${t}_rows`]} / ${((out[`${t}_mb`] as number) ?? 0).toFixed(1)}`).join(', '));
  return out;
}
