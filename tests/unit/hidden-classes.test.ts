// Objects Vigil keeps one of per check, or makes one of per run, share their hidden class (V8's
// map). Node 20's V8 gives the copy of an object spread whose source shapes vary a map of its own
// on every call: 10 000 checks carried 10 000 maps (~9 MB), and every probe run allocated one
// in old space. Whether two objects share a map is only visible to V8's natives syntax, so the
// assertions run in a child Node started with --allow-natives-syntax, on the sources (tsx).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/alertmanager-config.js';

const mod = (p: string) => JSON.stringify(pathToFileURL(path.join(REPO_ROOT, p)).href);

/** Runs `body` (an async function body that returns JSON-able data) with `same(a, b)` = %HaveSameMap. */
function natives(body: string): Promise<unknown> {
  const script = `
    const same = new Function('a', 'b', 'return %HaveSameMap(a, b)');
    const out = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
  });
}

describe('hidden classes of per-check and per-run objects', () => {
  it('every check parsed from a config shares one map', async () => {
    const differ = await natives(`
      const { parseConfig } = await import(${mod('exporter/config/load.ts')});
      const { PROBE_KINDS } = await import(${mod('exporter/probes/index.ts')});
      const lines = ['defaults: { interval: 10s }', 'checks:'];
      for (let i = 0; i < 300; i++) lines.push('  - { name: c' + i + ', type: http, component: comp' + (i % 20) + ', url: "http://127.0.0.1:1/p' + i + '" }');
      const { checks } = parseConfig(lines.join('\\n') + '\\n', 'vigil.yml', { kinds: PROBE_KINDS });
      return checks.filter((c) => !same(checks[0], c)).length;`);
    expect(differ).toBe(0);
  }, 60_000);

  it('probe results with their samples, and the results the state store keeps, share maps however the runs went', async () => {
    const out = await natives(`
      const { withSamples } = await import(${mod('exporter/model/result.ts')});
      const { StateStore } = await import(${mod('exporter/engine/state.ts')});
      // Passed and failed runs in turn, as a flapping target gives them.
      const results = [];
      for (let i = 0; i < 300; i++) results.push(withSamples(i % 3 ? { ok: true } : { ok: false, reason: 'connect', message: 'refused' }, []));
      const passed = results.filter((r) => r.ok);
      const state = new StateStore();
      const checks = [];
      for (let i = 0; i < 300; i++) checks.push({ name: 'c' + i, type: 'tcp', component: 'db', interval: 1000, timeout: 1000, retries: 0, retry_delay: 1000, enabled: true, labels: {}, thresholds: {}, on_failure: 'critical' });
      state.applyConfig({ checks, components: [], history: { max_points: 10, retention: 3600000 } }, new Set());
      for (let i = 0; i < 300; i++) {
        const run = { check: 'c' + i, ok: i % 2 === 0, status: 'healthy', violations: [], duration: 0.001, attempts: 1, startedAt: 1, finishedAt: 2, samples: [{ key: 'response_time', metric: 'probe_duration_seconds', value: 0.001 }] };
        if (!run.ok) Object.assign(run, { reason: 'connect', message: 'refused' });
        state.record(run);
      }
      const kept = state.list().map((s) => s.last);
      return { results: passed.filter((r) => !same(passed[0], r)).length, kept: kept.filter((r) => !same(kept[0], r)).length };`);
    expect(out).toEqual({ results: 0, kept: 0 });
  }, 60_000);
});
