import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });

let dir: string;
let target: HttpTarget;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
  target = await startHttpTarget();
});
afterAll(async () => {
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vigil CLI', () => {
  it('prints its version and help', () => {
    expect(run(['--version']).stdout).toMatch(/^vigil version \d+\.\d+\.\d+ \(revision .*, node v20/);
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--config.file', '--web.listen-address', '--log.level', '--check-config', '--storage.path', '--storage.backup.keep']) expect(help.stdout).toContain(flag);
  });

  it('rejects unknown flags with usage, exit 1', () => {
    const r = run(['--bogus']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Unknown option '--bogus'/);
  });

  it('--check-config lists every problem with file:line and exits 1, never a stack trace', () => {
    const file = path.join(dir, 'bad.yml');
    writeFileSync(file, 'checks:\n  - name: api\n    type: http\n    url: nope\n  - name: db\n    type: tcp\n    host: h\n    prot: 1\n');
    const r = run(['--check-config', `--config.file=${file}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:4:10 checks[0].url: expected an http:// or https:// URL`);
    expect(r.stderr).toContain(`${file}:8:5 checks[1].prot: unknown key (check the spelling)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--check-config exits 0 on a clean config, and on the built-in default', () => {
    const file = path.join(dir, 'good.yml');
    writeFileSync(file, `checks:\n  - { name: api, type: http, url: "${target.url}/" }\n`);
    const r = run(['--check-config', `--config.file=${file}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/OK, 1 checks in 1 components/);
    expect(run(['--check-config']).status).toBe(0);
  });

  it('stops before binding a port on a bad config', () => {
    const file = path.join(dir, 'bad2.yml');
    writeFileSync(file, 'defaults: { interval: soon }\n');
    const r = run([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:1:23 defaults.interval: invalid duration "soon"`);
    expect(r.stderr).not.toContain('listening');
  });

  it('reports a missing config file clearly', () => {
    const r = run(['--config.file=/nonexistent/vigil.yml']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/nonexistent/vigil.yml: cannot read config: ENOENT');
  });

  it('rejects a bad listen address', () => {
    const r = run(['--web.listen-address=nope']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--web.listen-address: invalid address "nope"/);
  });

  it('rejects a --storage.backup.keep that is not a whole number from 0', () => {
    for (const bad of ['-1', 'seven', '1.5']) {
      const r = run([`--storage.backup.keep=${bad}`, '--web.listen-address=127.0.0.1:0']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`--storage.backup.keep: "${bad}" is not a whole number from 0 to 10000`);
    }
  });
});

describe('running exporter', () => {
  let exp: RunningExporter;
  afterAll(async () => { await exp?.stop(); });

  it('serves /metrics and /health on the built-in default config', async () => {
    exp = await startExporter();
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${exp.url}/metrics`)).text();
      return /^probe_success\{check="memory",component="host"\} 1$/m.test(text) && text;
    }, 20_000);
    expect(metrics).toMatch(/^vigil_system_memory_used_ratio\{check="memory",component="host"\} 0\.\d+/m);
    expect(metrics).toMatch(/^vigil_build_info\{version="[^"]+",revision="[^"]+",nodejs="v20/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    const health = await (await fetch(`${exp.url}/health`)).json();
    expect(Object.keys(health.components).sort()).toEqual(['host', 'vigil']);
    const lines = exp.logs().trim().split('\n').filter((l) => l.startsWith('{'));
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    await exp.stop();
  });

  it('reloads on SIGHUP, keeps the old config when the new one is bad, and never prints secrets', async () => {
    const secret = 'sup3r-s3cret-header-value';
    // Checks every 2 s (so a 2 s timeout): at 500 ms a stall of a loaded CI box read "timed out"
    // where the test waits for healthy.
    exp = await startExporter({
      config: `checks:\n  - { name: one, type: http, url: "${target.url}/", interval: 2s, headers: { Authorization: "Bearer \${API_TOKEN}" } }\n`,
      env: { API_TOKEN: secret },
    });
    await waitFor(async () => (await (await fetch(`${exp.url}/api/v1/checks/one`)).json()).status === 'healthy', 15_000);
    exp.writeConfig(`checks:\n  - { name: one, type: http, url: "${target.url}/", interval: 2s }\n  - { name: two, type: tcp, host: 127.0.0.1, port: ${target.port}, interval: 2s }\n`);
    exp.proc.kill('SIGHUP');
    await waitFor(async () => (await fetch(`${exp.url}/api/v1/checks/two`)).status === 200, 15_000);
    exp.writeConfig('checks: [ { name: broken, type: tcp } ]\n');
    exp.proc.kill('SIGHUP');
    await waitFor(() => exp.logs().includes('config reload failed'), 15_000);
    expect((await fetch(`${exp.url}/api/v1/checks/two`)).status).toBe(200);
    expect(await (await fetch(`${exp.url}/metrics`)).text()).toMatch(/^vigil_config_last_reload_successful 0$/m);
    expect(exp.logs()).toMatch(/"level":"error","msg":"config reload failed, keeping the running config","problems":\[".*vigil\.yml:1:\d+ checks\[0\]\.host/);
    expect(exp.logs()).not.toContain(secret);
    await exp.stop();
  }, 60_000);
});

void execFile; void promisify;
