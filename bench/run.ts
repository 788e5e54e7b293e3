// npm run bench [-- name ...]: runs the benchmarks and prints their figures. Not part of npm test:
// speed and memory are goals measured here, never timed assertions in tests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES: Array<{ name: string; file: string; fn: string }> = [
  { name: 'exporter', file: 'exporter.ts', fn: 'benchExporter' },
  { name: 'statuspage', file: 'statuspage.ts', fn: 'benchStatusPage' },
  { name: 'instrument', file: 'instrument.ts', fn: 'benchInstrument' },
  { name: 'alerting', file: 'alerting.ts', fn: 'benchAlerting' },
];

async function main() {
  const wanted = process.argv.slice(2);
  const results: Record<string, Record<string, number | string> | string> = {};
  for (const b of BENCHES) {
    if (wanted.length && !wanted.includes(b.name)) continue;
    const file = path.join(here, b.file);
    if (!existsSync(file)) continue;
    console.log(`\n=== ${b.name} ===`);
    const t0 = Date.now();
    try {
      const mod = await import(pathToFileURL(file).href);
      results[b.name] = await mod[b.fn]();
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
