// Capacity bench (issue 18): the cost curve of one exporter at 1 000, 5 000 and 10 000 HTTP
// checks, each size at the same probe rate (interval = checks / 1 000 s, so 1 000 probes/s), with
// prometheus-blackbox-exporter's /probe driven at the rate Vigil reached as the yardstick in the
// same run. Per size: CPU per probe (and its ratio to blackbox), peak RSS, start-up (spawn to
// serving /metrics, and to /-/ready: every check ran once), the time of a reload that changes one
// check (and whether the others kept their run counters), /metrics size and scrape latency.
// CPU per probe is measured while scraped every 15 s, as deployed; the scrape latency in a second
// window under a scraper that asks 4×/s (its CPU is printed too, as cpu_*_scraped).
//
//   npm run bench -- capacity [--sizes=1000,5000,10000] [--window=30] [--series=full|lean]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchBlackbox, benchNodeEnv, benchNodeFlags, cpuSeconds, freePort, percentile, rssBytes, scrape, startTarget, stop, waitHttp } from './exporter.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 1000; // probes per second at every size
const TOKEN = 'capacity-bench-admin-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options { sizes: number[]; windowS: number; series: 'full' | 'lean' }

function parseOptions(argv: string[]): Options {
  const get = (k: string) => argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const sizes = (get('sizes') ?? '1000,5000,10000').split(',').map(Number).filter((n) => n > 0);
  const series = get('series') ?? 'full';
  if (series !== 'full' && series !== 'lean') throw new Error('--series is full or lean');
  return { sizes, windowS: Number(get('window') ?? 30), series };
}

function configYaml(checks: number, targetPort: number, series: string, changed = -1): string {
  const interval = checks / RATE;
  const lines = [
    `defaults: { interval: ${interval}s, timeout: 1s, retries: 0 }`,
    'scheduler: { concurrency: 1000 }',
    ...(series === 'lean' ? ['metrics: { series: lean }'] : []),
    'checks:',
  ];
  for (let i = 0; i < checks; i++) {
    // The changed check probes another path: a config change, not a no-op reload.
    const p = i === changed ? `p${i}-changed` : `p${i}`;
    lines.push(`  - { name: c${i}, type: http, component: comp${i % 20}, url: "http://127.0.0.1:${targetPort}/${p}" }`);
  }
  return `${lines.join('\n')}\n`;
}

/** check name -> vigil_check_runs_total, from one scrape. */
async function runsByCheck(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^vigil_check_runs_total\{check="([^"]+)"[^}]*\} (\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * Poll `path` until it answers 200. Each attempt may take 10 s: on a loaded box a busy exporter
 * answers late, and attempts given up after 1 s only piled up in its accept queue.
 */
async function waitOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(10_000) })).ok) return;
    } catch { /* starting */ }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

async function benchSize(checks: number, targetPort: number, o: Options) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-capacity-'));
  const file = path.join(dir, 'vigil.yml');
  writeFileSync(file, configYaml(checks, targetPort, o.series));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...benchNodeFlags(), path.join(ROOT, 'dist/exporter/cli.js'), `--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${dir}/data`, '--log.level=warn'],
    { stdio: 'ignore', env: { ...process.env, ...benchNodeEnv(), VIGIL_ADMIN_TOKEN: TOKEN } });
  try {
    await waitOk(`${url}/-/healthy`, 300_000);
    const startupS = (performance.now() - t0) / 1000;
    await waitOk(`${url}/-/ready`, 300_000);
    const readyS = (performance.now() - t0) / 1000;
    // Warm-up: one whole interval after every check ran once, so the rate is the steady one.
    await sleep(Math.max(5000, (checks / RATE) * 1000));

    // Two windows. First the probing cost as deployed: scraped every 15 s (Prometheus' default
    // interval), so CPU per probe is what probing costs, as blackbox's is. Then the scrape latency
    // under a scraper that asks again 250 ms after each answer — a load ~50× Prometheus' at
    // 10 000 checks, whose own CPU is reported apart (cpu_*_scraped) rather than charged to probing.
    const window = async (pauseMs: number) => {
      const scrapeMs: number[] = [];
      let rss = rssBytes(proc.pid!);
      const cpu0 = cpuSeconds(proc.pid!);
      const runs0 = sum(await runsByCheck(url));
      const w0 = performance.now();
      let bytes = 0;
      // runsByCheck() above and below each read /metrics too: the window's own scrapes come between.
      let nextScrape = w0 + pauseMs;
      while (performance.now() - w0 < o.windowS * 1000) {
        if (performance.now() >= nextScrape) {
          const s = await scrape(`${url}/metrics`);
          bytes = s.bytes;
          scrapeMs.push(s.ms);
          nextScrape = performance.now() + pauseMs;
        }
        rss = Math.max(rss, rssBytes(proc.pid!));
        await sleep(Math.min(250, Math.max(0, nextScrape - performance.now())));
      }
      const elapsed = (performance.now() - w0) / 1000;
      const cpu = cpuSeconds(proc.pid!) - cpu0;
      const runs = await runsByCheck(url);
      return { scrapeMs, bytes, elapsed, cpu, probes: sum(runs) - runs0, runs, rss };
    };
    const probing = await window(15_000);
    const scraped = await window(250);
    const before = scraped.runs;
    const { probes, elapsed, cpu } = probing;
    const scrapeMs = scraped.scrapeMs;
    const metricsBytes = scraped.bytes;

    // Reload with one check changed: timed as the POST /-/reload round trip (the reload is synchronous).
    writeFileSync(file, configYaml(checks, targetPort, o.series, 0));
    const r0 = performance.now();
    const res = await fetch(`${url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(30_000) });
    const reloadS = (performance.now() - r0) / 1000;
    if (!res.ok) throw new Error(`reload answered ${res.status}: ${await res.text()}`);
    const after = await runsByCheck(url);
    // Unchanged checks keep counting from where they were; the changed one starts again.
    let reset = 0;
    for (const [name, n] of before) if (name !== 'c0' && (after.get(name) ?? 0) < n) reset++;
    const changedRestarted = (after.get('c0') ?? 0) < (before.get('c0') ?? 0);
    return {
      probes,
      probes_per_s: probes / elapsed,
      cpu_s_per_1000_probes: (cpu / probes) * 1000,
      cpu_cores_used: cpu / elapsed,
      cpu_s_per_1000_probes_scraped: (scraped.cpu / scraped.probes) * 1000,
      cpu_cores_used_scraped: scraped.cpu / scraped.elapsed,
      rss_mb: Math.max(probing.rss, scraped.rss) / 1e6,
      rss_mb_probing: probing.rss / 1e6,
      rss_mb_scraped: scraped.rss / 1e6,
      startup_s: startupS,
      ready_s: readyS,
      reload_s: reloadS,
      reload_others_reset: reset,
      reload_changed_restarted: changedRestarted ? 1 : 0,
      metrics_bytes: metricsBytes,
      metrics_p50_ms: percentile(scrapeMs, 50),
      metrics_p99_ms: percentile(scrapeMs, 99),
      metrics_scrapes: scrapeMs.length,
    };
  } finally {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchCapacity(argv: string[] = []): Promise<Record<string, number | string>> {
  const o = parseOptions(argv);
  const targetPort = await freePort();
  const target = startTarget(targetPort);
  const out: Record<string, number | string> = {};
  const rows: string[] = [];
  try {
    await waitHttp(`http://127.0.0.1:${targetPort}/`);
    console.log(`capacity: sizes ${o.sizes.join(', ')} at ${RATE} probes/s, ${o.series} series, window ${o.windowS} s (node ${[...Object.entries(benchNodeEnv()).map(([k, v]) => `${k}=${v}`), ...benchNodeFlags()].join(' ') || 'without flags'})`);
    for (const checks of o.sizes) {
      console.log(`capacity: ${checks} http checks at ${checks / RATE} s …`);
      const v = await benchSize(checks, targetPort, o);
      console.log(`  vigil    ${fmt(v)}`);
      const bb = await benchBlackbox(targetPort, Math.round(v.probes_per_s), { checks, windowS: o.windowS });
      console.log(`  blackbox ${fmt(bb)}`);
      const ratio = v.cpu_s_per_1000_probes / bb.cpu_s_per_1000_probes;
      for (const [k, x] of Object.entries(v)) out[`${checks}_vigil_${k}`] = x;
      out[`${checks}_blackbox_cpu_s_per_1000_probes`] = bb.cpu_s_per_1000_probes;
      out[`${checks}_cpu_ratio_vigil_to_blackbox`] = ratio;
      rows.push(`| ${checks.toLocaleString('en').replace(/,/g, ' ')} @ ${checks / RATE} s | ${v.cpu_s_per_1000_probes.toFixed(2)} / ${bb.cpu_s_per_1000_probes.toFixed(2)} = **${ratio.toFixed(2)}** | ${v.cpu_s_per_1000_probes_scraped.toFixed(2)} | ${v.rss_mb.toFixed(0)} MB | ${v.startup_s.toFixed(1)} s / ${v.ready_s.toFixed(1)} s | ${(v.reload_s * 1000).toFixed(0)} ms (${v.reload_others_reset} reset) | ${(v.metrics_bytes / 1e6).toFixed(2)} MB | ${v.metrics_p50_ms.toFixed(0)} / ${v.metrics_p99_ms.toFixed(0)} ms |`);
    }
  } finally {
    await stop(target);
  }
  console.log('\n| checks @ interval | CPU-s per 1 000 probes vigil / blackbox = ratio | vigil scraped 4×/s | peak RSS | start-up: serving / ready | reload of 1 check | /metrics size | scrape p50 / p99 |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  return out;
}

function fmt(o: Record<string, number>): string {
  return Object.entries(o).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`).join(' ');
}
