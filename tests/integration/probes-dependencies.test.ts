// The dependency map end to end: /health shows which critical dependency impacts a component
// (root cause first), /metrics exports vigil_component_dependency and vigil_component_impacted,
// and both clear when the dependency recovers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

let exporter: RunningExporter;
let dir: string;

type Health = { status: string; components: Record<string, { status: string; depends_on: string[]; impacted_by: string[] }> };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-deps-'));
  writeFileSync(path.join(dir, 'present'), 'x');
  // file checks stand in for real ones: "db" and "disk" fail while their marker file is missing.
  // Every second (so a 1 s timeout): at 300 ms a stall of a loaded CI box read "timed out" on the
  // checks the tests expect healthy.
  exporter = await startExporter({
    config: `
defaults: { interval: 1s, timeout: 1s, retries: 0 }
components:
  - { name: web, depends_on: [api] }
  - { name: api, depends_on: [db] }
  - { name: db, depends_on: [disk] }
  - { name: disk }
checks:
  - { name: web-up, type: file, component: web, path: ${dir}/present }
  - { name: api-up, type: file, component: api, path: ${dir}/present }
  - { name: db-up, type: file, component: db, path: ${dir}/db-ok }
  - { name: disk-ok, type: file, component: disk, path: ${dir}/disk-ok }
`,
  });
});

afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const health = async () => {
  const res = await fetch(`${exporter.url}/health`);
  return { code: res.status, body: (await res.json()) as Health };
};

describe('dependency map', () => {
  it('reports impacted components with the root cause first, in /health and /metrics', async () => {
    const { code, body } = await waitFor(async () => {
      const h = await health();
      const s = Object.fromEntries(Object.entries(h.body.components).map(([n, c]) => [n, c.status]));
      return s.web === 'healthy' && s.api === 'healthy' && s.db === 'critical' && s.disk === 'critical' && h;
    }, 15_000, 50);
    expect(code).toBe(503);
    expect(body.components.api).toEqual(expect.objectContaining({ status: 'healthy', depends_on: ['db'], impacted_by: ['disk', 'db'] }));
    expect(body.components.web.impacted_by).toEqual(['disk', 'db']);
    expect(body.components.db.impacted_by).toEqual(['disk']);
    expect(body.components.disk.impacted_by).toEqual([]);

    const one = await (await fetch(`${exporter.url}/health/api`)).json() as { status: string; impacted_by: string[] };
    expect(one).toMatchObject({ status: 'healthy', impacted_by: ['disk', 'db'] });

    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_component_dependency\{component="api",depends_on="db"\} 1$/m);
    expect(metrics).toMatch(/^vigil_component_dependency\{component="web",depends_on="api"\} 1$/m);
    expect(metrics).toMatch(/^vigil_component_impacted\{component="web",root_cause="disk"\} 1$/m);
    expect(metrics).toMatch(/^vigil_component_impacted\{component="api",root_cause="db"\} 1$/m);
    expect(metrics).not.toMatch(/^vigil_component_impacted\{component="disk"/m);
  });

  it('clears when the dependency recovers', async () => {
    writeFileSync(path.join(dir, 'disk-ok'), 'x');
    const mid = await waitFor(async () => { const h = await health(); return h.body.components.disk.status === 'healthy' && h; }, 15_000, 50);
    expect(mid.body.components.api.impacted_by).toEqual(['db']);
    writeFileSync(path.join(dir, 'db-ok'), 'x');
    const { code, body } = await waitFor(async () => { const h = await health(); return h.body.status === 'healthy' && h; }, 15_000, 50);
    expect(code).toBe(200);
    for (const c of Object.values(body.components)) expect(c.impacted_by).toEqual([]);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).not.toMatch(/^vigil_component_impacted\{/m);
  });
});
