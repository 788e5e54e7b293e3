// Every example config must pass `vigil --check-config` (exit 0) with the environment variables
// it references set. A Vigil config is any YAML under examples/ with a top-level `checks:` key.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/exporter.js';

// Values that satisfy each variable's field (a DSN needs its scheme, tokens their length).
const ENV: Record<string, string> = {
  DATABASE_URL: 'postgres://vigil:example-password@db.internal:5432/app',
  DATABASE_READONLY_URL: 'postgres://vigil_ro:example-password@db.internal:5432/app',
  REDIS_URL: 'redis://:example-password@redis.internal:6379/0',
  SMS_API_KEY: 'sk_test_example_key',
  VIGIL_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  VIGIL_HEARTBEAT_TOKEN: 'heartbeat-token-0123456789ab',
  PROMETHEUS_URL: 'http://prometheus.internal:9090',
};

function exampleConfigs(dir = path.join(ROOT, 'examples')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    // examples/compose/ reads its secrets from /run/secrets: tests/integration/compose.test.ts
    // checks it with those files in place.
    if (e.isDirectory() && e.name !== 'node_modules' && p !== path.join(ROOT, 'examples/compose')) out.push(...exampleConfigs(p));
    else if (/\.ya?ml$/.test(e.name) && /^checks:/m.test(readFileSync(p, 'utf8'))) out.push(p);
  }
  return out.sort();
}

const configs = exampleConfigs();

describe('example configs', () => {
  it('include the typical stack and the minimal config', () => {
    expect(configs.map((c) => path.relative(ROOT, c))).toEqual(expect.arrayContaining(['examples/minimal.yml', 'examples/vigil.yml']));
  });

  it.each(configs.map((c) => [path.relative(ROOT, c), c]))('%s passes --check-config', (_rel, file) => {
    const text = readFileSync(file, 'utf8');
    const referenced = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g)].filter((m) => !m[2]).map((m) => m[1]);
    const unknown = referenced.filter((v) => !(v in ENV));
    expect(unknown, 'add a value for these variables to ENV in this test').toEqual([]);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    for (const v of referenced) env[v] = ENV[v];
    const r = spawnSync(process.execPath, [CLI, '--check-config', `--config.file=${file}`], { env, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: OK, \d+ checks in \d+ components/);
  });

  it('the typical stack covers every component probe type and puts promql checks in "performance"', () => {
    const text = readFileSync(path.join(ROOT, 'examples/vigil.yml'), 'utf8');
    for (const type of ['http', 'postgres', 'sql', 'redis', 'pm2', 'heartbeat', 'promql', 'metrics', 'file', 'dns', 'websocket']) {
      expect(text).toMatch(new RegExp(`^\\s+type: ${type}$`, 'm'));
    }
    expect(text).toMatch(/type: promql\n\s+component: performance/);
  });
});
