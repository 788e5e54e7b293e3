// Issue 12, items 7 and 8 from outside: the compiled CLI and a running exporter given special
// files, oversized and explosive configs, a zero interval and YAML errors on a line holding a
// secret. Each gives a clear error in bounded time and memory; a running exporter keeps its old
// config, keeps serving /metrics and keeps running its checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';

const SECRET = 'Pl4nted-DB-passw0rd-77';
const ADMIN = 'admin-token-0123456789abcdef';

let dir: string;
let target: HttpTarget;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-limits-cli-'));
  target = await startHttpTarget();
});
afterAll(async () => {
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

const mkfifo = (p: string) => execFileSync('mkfifo', [p]);

/**
 * Each bad config: `write(file)` puts it at `file` (a FIFO replaces the file), `expected` is the
 * problem line after "<file>" (so file, line and key are checked too).
 */
interface BadConfig { name: string; write: (file: string) => void; expected: (file: string) => RegExp }

// Every config carries the admin token, so POST /-/reload stays allowed whatever is reloaded.
const HEAD = `server: { admin_token: "${ADMIN}" }\n`;
const checkLine = () => `  - { name: one, type: http, url: "${target.url}/", interval: 500ms }\n`;
const bad: BadConfig[] = [
  {
    name: '/dev/zero as a password_file',
    write: (f) => writeFileSync(f, `${HEAD}checks:\n${checkLine()}  - name: db\n    type: postgres\n    dsn: postgres://vigil@127.0.0.1:1/x\n    password_file: /dev/zero\n`),
    expected: (f) => new RegExp(`${f}:7:20 checks\\[1\\]\\.password_file: /dev/zero is a character device, expected a regular file`),
  },
  {
    name: 'a FIFO as a password_file',
    write: (f) => {
      const p = `${f}.pw-fifo`;
      rmSync(p, { force: true });
      mkfifo(p);
      writeFileSync(f, `${HEAD}checks:\n${checkLine()}  - name: db\n    type: postgres\n    dsn: postgres://vigil@127.0.0.1:1/x\n    password_file: ${p}\n`);
    },
    expected: (f) => new RegExp(`${f}:7:20 checks\\[1\\]\\.password_file: ${f}\\.pw-fifo is a FIFO \\(named pipe\\), expected a regular file`),
  },
  {
    name: 'a FIFO as the config file',
    write: (f) => { rmSync(f, { force: true }); mkfifo(f); },
    expected: (f) => new RegExp(`${f}: config refused: ${f} is a FIFO \\(named pipe\\), expected a regular file`),
  },
  {
    name: 'a 3 MiB config',
    write: (f) => {
      const lines = [HEAD.trimEnd(), 'checks:', checkLine().trimEnd()];
      for (let i = 0, size = 0; size < 3 * 1024 * 1024; i++) {
        const line = `  - { name: c${i}, type: tcp, host: 127.0.0.1, port: ${target.port}, interval: 1h }`;
        lines.push(line);
        size += line.length + 1;
      }
      writeFileSync(f, lines.join('\n'));
    },
    expected: (f) => new RegExp(`${f}: config refused: ${f} is larger than the 2 MiB limit`),
  },
  {
    name: 'a billion-laughs alias bomb',
    write: (f) => writeFileSync(f, [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
      `${HEAD}checks:\n${checkLine()}`,
    ].join('\n')),
    expected: (f) => new RegExp(`${f}: YAML syntax: too many alias expansions`),
  },
  {
    name: 'interval: 0ms',
    write: (f) => writeFileSync(f, `${HEAD}checks:\n  - { name: one, type: http, url: "${target.url}/", interval: 0ms }\n`),
    expected: (f) => new RegExp(`${f}:3:\\d+ checks\\[0\\]\\.interval: interval must be at least 100ms`),
  },
  {
    // Checks pasted without `checks:`: the old message was 'Unexpected double-quoted-scalar token
    // in YAML stream: "\"postgres://vigil:<password>@…"'.
    name: 'a YAML syntax error on a line with a DSN password',
    write: (f) => writeFileSync(f, `- name: db\n  type: postgres\ndsn: "postgres://vigil:${SECRET}@127.0.0.1:1/x"\n`),
    expected: (f) => new RegExp(`${f}:3:6: YAML syntax: unexpected quoted value here`),
  },
  {
    name: 'a YAML syntax error after a quoted password literal',
    write: (f) => writeFileSync(f, `${HEAD}checks:\n${checkLine()}  - name: cache\n    type: redis\n    dsn: redis://127.0.0.1:1\n    password: "${SECRET}"\n  oops\n`),
    expected: (f) => new RegExp(`${f}:\\d+:\\d+: YAML syntax: `),
  },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('--check-config on hostile inputs', () => {
  for (const c of bad) {
    it(`${c.name}: a clear error, exit 1, in bounded time and memory`, () => {
      const file = path.join(dir, `check-${c.name.replace(/\W+/g, '-')}.yml`);
      c.write(file);
      // A 64 MB heap: the old code needed GBs (/dev/zero, 55 MB config) or never returned (FIFO).
      const r = spawnSync(process.execPath, ['--max-old-space-size=64', CLI, '--check-config', `--config.file=${file}`], { encoding: 'utf8', timeout: 20_000 });
      expect(r.signal, `killed by ${r.signal}: ${r.stderr}`).toBeNull();
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(c.expected(escape(file)));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    });
  }
});

describe('reloading a running exporter with hostile inputs', () => {
  let exp: RunningExporter;
  afterAll(async () => { await exp?.stop(); });

  it('answers every bad reload with the problem, keeps the old config, and keeps scraping and probing', async () => {
    const good = `${HEAD}checks:\n${checkLine()}`;
    exp = await startExporter({ config: good });
    await waitFor(async () => (await (await fetch(`${exp.url}/api/v1/checks/one`)).json()).status === 'healthy', 20_000);
    const runs = async () => Number(/^vigil_check_runs_total\{check="one"[^}]*\} (\d+)$/m.exec(await (await fetch(`${exp.url}/metrics`)).text())?.[1]);

    for (const c of bad) {
      c.write(exp.configFile);
      const before = await runs();
      const res = await fetch(`${exp.url}/-/reload`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` }, signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      expect(res.status, `${c.name}: ${body}`).toBe(400);
      expect(body, c.name).not.toContain(SECRET);
      const problems = (JSON.parse(body) as { problems: string[] }).problems.join('\n');
      expect(problems, c.name).toMatch(c.expected(escape(exp.configFile)));

      const logged = exp.logs().split('\n').length;
      exp.proc.kill('SIGHUP');
      await waitFor(() => exp.logs().split('\n').slice(logged - 1).some((l) => l.includes('config reload failed')), 10_000);

      const metrics = await fetch(`${exp.url}/metrics`, { signal: AbortSignal.timeout(15_000) });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^vigil_config_last_reload_successful 0$/m);
      // The old config's check keeps running (interval 500 ms).
      await waitFor(async () => (await runs()) > before, 15_000); // a run or two; 5 s was tight beside a loaded CI box's reloads
      if (c.name === 'a FIFO as the config file') unlinkSync(exp.configFile);
    }
    expect(exp.proc.exitCode).toBeNull();
    expect(exp.logs()).not.toContain(SECRET);

    exp.writeConfig(good);
    const ok = await fetch(`${exp.url}/-/reload`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(200);
  }, 120_000);
});
