// Exporter benchmark (issue: foundation): 1 000 HTTP checks at a 1 s interval against a local
// target for 30 s — CPU seconds per 1 000 probes, RSS, /metrics latency while scraped — and the
// same probe rate through prometheus-blackbox-exporter's /probe as the yardstick.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHECKS = Number(process.env.BENCH_CHECKS ?? 1000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 30);
const TICKS = 100; // USER_HZ on Linux

/** CPU-seconds of process `pid` so far, or of its thread `tid`. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One scrape of /metrics as a scraper meets it: from the request to the last byte, the body
 * counted as it streams in and not kept (Prometheus parses while it reads), on a kept-alive
 * connection. The benches used fetch() and arrayBuffer() (or text()) before: undici's web
 * streams and the copy of a 1.8–18 MB body cost the bench's own process 5–15 ms a scrape at
 * 1 000 checks, more when its own GC ran, and all of it was counted as the exporter's latency
 * (1 000 checks at 1 s: p50 22 ms that way, 9 ms with curl, 13 ms this way).
 */
export function scrape(url: string, timeoutMs = 60_000): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function startScript(): string[] {
  return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start as string).split(' ');
}

/** The Node flags the exporter ships with (`npm start`), unless BENCH_NODE_FLAGS overrides them. */
export function benchNodeFlags(): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);
  return startScript().filter((t) => t.startsWith('--'));
}

/**
 * The environment the exporter ships with (`npm start`'s NAME=value before `node`: glibc's
 * malloc settings), unless BENCH_NODE_ENV overrides it (`BENCH_NODE_ENV=` for none).
 */
export function benchNodeEnv(): Record<string, string> {
  const words = process.env.BENCH_NODE_ENV !== undefined ? process.env.BENCH_NODE_ENV.split(' ').filter(Boolean) : startScript();
  const env: Record<string, string> = {};
  for (const w of words) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w);
    if (!m) break;
    env[m[1]] = m[2];
  }
  return env;
}

export async function waitHttp(url: string, timeoutMs = 15_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch { /* not up yet */ }
    await sleep(pollMs);
  }
  throw new Error(`${url} did not come up`);
}

/** The target runs in its own process so its CPU is not billed to the prober. */
export function startTarget(port: number): ChildProcess {
  const code = `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"status":"ok"}')}).listen(${port},'127.0.0.1')`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

export function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

async function runsTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^vigil_check_runs_total\{[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}

async function benchVigil(targetPort: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
  const lines = ['defaults: { interval: 1s, timeout: 1s, retries: 0 }', 'scheduler: { concurrency: 1000 }', 'checks:'];
  for (let i = 0; i < CHECKS; i++) lines.push(`  - { name: c${i}, type: http, component: comp${i % 20}, url: "http://127.0.0.1:${targetPort}/p${i}" }`);
  writeFileSync(path.join(dir, 'vigil.yml'), lines.join('\n'));
  const port = await freePort();
  const nodeFlags = benchNodeFlags();
  const proc = spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'dist/exporter/cli.js'), `--config.file=${dir}/vigil.yml`, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${dir}/data`, '--log.level=warn'], { stdio: 'ignore', env: { ...process.env, ...benchNodeEnv() } });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(`${url}/-/healthy`);
    await sleep(5000); // warm-up: first runs spread, JIT settles
    const scrapeMs: number[] = [];
    const cpu0 = cpuSeconds(proc.pid!);
    const runs0 = await runsTotal(url);
    const t0 = performance.now();
    let rssMax = 0;
    while (performance.now() - t0 < WINDOW_S * 1000) {
      scrapeMs.push((await scrape(`${url}/metrics`)).ms);
      rssMax = Math.max(rssMax, rssBytes(proc.pid!));
      await sleep(250);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(proc.pid!) - cpu0;
    const runs = (await runsTotal(url)) - runs0;
    const metricsBytes = (await (await fetch(`${url}/metrics`)).text()).length;
    return {
      probes: runs,
      probes_per_s: runs / elapsed,
      cpu_s_per_1000_probes: (cpu / runs) * 1000,
      cpu_cores_used: cpu / elapsed,
      rss_mb: rssMax / 1e6,
      metrics_p50_ms: percentile(scrapeMs, 50),
      metrics_p99_ms: percentile(scrapeMs, 99),
      metrics_scrapes: scrapeMs.length,
      metrics_bytes: metricsBytes,
    };
  } finally {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** blackbox_exporter's /probe driven at `rate` probes/s over `checks` distinct targets. */
export async function benchBlackbox(targetPort: number, rate: number, { checks = CHECKS, windowS = WINDOW_S } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'blackbox-bench-'));
  writeFileSync(path.join(dir, 'blackbox.yml'), 'modules:\n  http_2xx:\n    prober: http\n    timeout: 1s\n    http:\n      preferred_ip_protocol: ip4\n');
  const port = await freePort();
  const proc = spawn('prometheus-blackbox-exporter', [`--config.file=${dir}/blackbox.yml`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  let done = 0;
  let failed = 0;
  const probe = (i: number) => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, agent, path: `/probe?module=http_2xx&target=${encodeURIComponent(`http://127.0.0.1:${targetPort}/p${i}`)}`, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { done++; if (!/^probe_success 1$/m.test(body)) failed++; resolve(); });
    });
    req.on('error', () => { failed++; resolve(); });
    req.on('timeout', () => req.destroy());
  });
  try {
    await waitHttp(`http://127.0.0.1:${port}/-/healthy`);
    const drive = async (seconds: number) => {
      const pending: Promise<void>[] = [];
      const start = performance.now();
      let sent = 0;
      while (performance.now() - start < seconds * 1000) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        while (sent < due) pending.push(probe(sent++ % checks));
        await sleep(5);
      }
      await Promise.all(pending);
    };
    await drive(3); // warm-up
    done = 0;
    failed = 0;
    const cpu0 = cpuSeconds(proc.pid!);
    const t0 = performance.now();
    await drive(windowS);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(proc.pid!) - cpu0;
    return { probes: done, failed, probes_per_s: done / elapsed, cpu_s_per_1000_probes: (cpu / done) * 1000, rss_mb: rssBytes(proc.pid!) / 1e6 };
  } finally {
    agent.destroy();
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchExporter(): Promise<Record<string, number | string>> {
  const targetPort = await freePort();
  const target = startTarget(targetPort);
  try {
    await waitHttp(`http://127.0.0.1:${targetPort}/`);
    console.log(`exporter: ${CHECKS} http checks at 1 s for ${WINDOW_S} s (node ${benchNodeFlags().join(' ') || 'without flags'}) …`);
    const vigil = await benchVigil(targetPort);
    console.log('  vigil    ', fmt(vigil));
    console.log(`exporter: blackbox_exporter /probe at ${Math.round(vigil.probes_per_s)}/s for ${WINDOW_S} s …`);
    const bb = await benchBlackbox(targetPort, Math.round(vigil.probes_per_s));
    console.log('  blackbox ', fmt(bb));
    const ratio = vigil.cpu_s_per_1000_probes / bb.cpu_s_per_1000_probes;
    console.log(`  CPU per probe vigil/blackbox = ${ratio.toFixed(2)} (goal <= 0.5); /metrics p99 ${vigil.metrics_p99_ms.toFixed(1)} ms (goal < 25); RSS ${vigil.rss_mb.toFixed(0)} MB (goal < 120)`);
    const out: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(vigil)) out[`vigil_${k}`] = v;
    for (const [k, v] of Object.entries(bb)) out[`blackbox_${k}`] = v;
    out.cpu_ratio_vigil_to_blackbox = ratio;
    return out;
  } finally {
    await stop(target);
  }
}

function fmt(o: Record<string, number>): string {
  return Object.entries(o).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`).join(' ');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  benchExporter().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
}
