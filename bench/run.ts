// npm run bench [-- name ...] [-- --option=value ...]: runs the benchmarks and prints their
// figures. Not part of npm test: speed and memory are goals measured here, never timed
// assertions in tests. Options (`--duration=60s`) go to every bench that was asked for.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SOAK_USAGE } from './soak.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES: Array<{ name: string; file: string; fn: string; about: string; onlyWhenNamed?: boolean }> = [
  { name: 'exporter', file: 'exporter.ts', fn: 'benchExporter', about: '1 000 http checks at 1 s: CPU per probe beside blackbox_exporter, RSS, /metrics latency' },
  { name: 'capacity', file: 'capacity.ts', fn: 'benchCapacity', about: 'cost curve at 1 000 / 5 000 / 10 000 http checks (1 000 probes/s): CPU per probe beside blackbox_exporter, RSS, start-up, reload, /metrics (only when named)', onlyWhenNamed: true },
  { name: 'statuspage', file: 'statuspage.ts', fn: 'benchStatusPage', about: 'status page load, change latency, history memory, 100 viewers' },
  { name: 'instrument', file: 'instrument.ts', fn: 'benchInstrument', about: 'overhead of --import vigil/instrument on an app' },
  { name: 'writer', file: 'writer.ts', fn: 'benchWriter', about: '500 results/s through the record: main-loop delay with SQLite on the main thread vs in its worker' },
  { name: 'alerting', file: 'alerting.ts', fn: 'benchAlerting', about: 'break a target -> PagerDuty page through Prometheus and Alertmanager' },
  { name: 'soak', file: 'soak.ts', fn: 'benchSoak', about: '1 000 checks, a quarter hostile, scraped and viewed for 10 min (only when named)', onlyWhenNamed: true },
  { name: 'storage', file: 'storage.ts', fn: 'benchStorage', about: 'the record: size at 500 checks @10 s for 90 days, 90-day report and status page, write CPU, RSS (only when named)', onlyWhenNamed: true },
];

const USAGE = `usage: npm run bench [-- <name> ...] [--option=value ...]
With no name, every bench except those marked "only when named" runs.
${BENCHES.map((b) => `  ${b.name.padEnd(11)} ${b.about}`).join('\n')}

${SOAK_USAGE}`;

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const options = argv.filter((a) => a.startsWith('-'));
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
  if (unknown.length) {
    console.error(`unknown bench: ${unknown.join(', ')}\n\n${USAGE}`);
    process.exit(2);
  }
  const results: Record<string, Record<string, number | string> | string> = {};
  for (const b of BENCHES) {
    if (wanted.length ? !wanted.includes(b.name) : b.onlyWhenNamed) continue;
    const file = path.join(here, b.file);
    if (!existsSync(file)) continue;
    console.log(`\n=== ${b.name} ===`);
    const t0 = Date.now();
    try {
      const mod = await import(pathToFileURL(file).href);
      results[b.name] = await mod[b.fn](options);
    } catch (err) {
      results[b.name] = `failed: ${(err as Error).message}`;
      console.error(`${b.name} failed:`, err);
    }
    console.log(`(${b.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  console.log('\n=== summary ===');
  for (const [name, r] of Object.entries(results)) {
    if (typeof r === 'string') { console.log(`${name}: ${r}`); continue; }
    for (const [k, v] of Object.entries(r)) console.log(`${name}.${k} = ${typeof v === 'number' ? +v.toFixed(3) : v}`);
  }
  process.exit(Object.values(results).some((r) => typeof r === 'string') ? 1 : 0);
}

void main();
