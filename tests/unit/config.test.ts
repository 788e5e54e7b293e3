import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../support/config.js';
import { ConfigError } from '../../exporter/config/errors.js';
import { DEFAULT_CONFIG_YAML } from '../../exporter/config/default.js';
import { clearSecrets, redact } from '../../exporter/config/secrets.js';
import { probeTypes } from '../../exporter/probes/index.js';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, 'vigil.yml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('config loading', () => {
  it('parses the built-in default config', () => {
    const cfg = parseConfig(DEFAULT_CONFIG_YAML, 'default', { env: {} });
    expect(cfg.checks.map((c) => c.name)).toEqual(['cpu', 'memory', 'disk', 'exporter']);
    const memory = cfg.checks.find((c) => c.name === 'memory')!;
    expect(memory.thresholds.memory_used).toEqual({ warning: 0.8, critical: 0.95, direction: 'above' });
  });

  it('applies defaults and lets checks override them', () => {
    const cfg = parseConfig(`
defaults: { interval: 1m, timeout: 5s, retries: 1 }
checks:
  - { name: a, type: tcp, host: 127.0.0.1, port: 80 }
  - { name: b, type: tcp, host: 127.0.0.1, port: 81, interval: 10s, retries: 0, component: db }
`, 'vigil.yml', { env: {} });
    expect(cfg.checks[0]).toMatchObject({ interval: 60_000, timeout: 5_000, retries: 1, retry_delay: 1_000, component: 'a' });
    expect(cfg.checks[1]).toMatchObject({ interval: 10_000, retries: 0, component: 'db' });
    expect(cfg.components.map((c) => c.name).sort()).toEqual(['a', 'db']);
  });

  const cases: Array<{ name: string; yaml: string; expected: string[] }> = [
    {
      name: 'invalid URL names file, line, column and key',
      yaml: `checks:\n  - name: api\n    type: http\n    url: not a url\n`,
      expected: ['vigil.yml:4:10 checks[0].url: expected an http:// or https:// URL'],
    },
    {
      name: 'unknown keys are errors, pointing at the key',
      yaml: `checks:\n  - name: api\n    type: http\n    url: http://x\n    timout: 5s\n`,
      expected: ['vigil.yml:5:5 checks[0].timout: unknown key (check the spelling)'],
    },
    {
      name: 'unknown type lists the known ones',
      yaml: `checks:\n  - name: api\n    type: htp\n`,
      // The registry's list, so a new kind touches only its file, its tests and the list.
      expected: [`vigil.yml:3:11 checks[0].type: unknown check type "htp", expected one of ${probeTypes().join(', ')}`],
    },
    {
      // The labels of every kind's families are reserved: mount (system disks) would be written twice in one series.
      name: 'a label a kind\'s family sets is refused, pointing at the key',
      yaml: `checks:\n  - name: host\n    type: system\n    labels: { team: ops, mount: data }\n`,
      expected: ['vigil.yml:4:26 checks[0].labels.mount: label "mount" is reserved by Vigil (a label of vigil_system_disk_used_ratio); choose another name'],
    },
    {
      name: 'labels of other kinds and of the check families are reserved too',
      yaml: `checks:\n  - name: api\n    type: http\n    url: http://x\n    labels:\n      queue: q\n      type: t\n      check: c\n`,
      expected: [
        'vigil.yml:6:7 checks[0].labels.queue: label "queue" is reserved by Vigil (a label of vigil_queue_depth); choose another name',
        'vigil.yml:7:7 checks[0].labels.type: label "type" is reserved by Vigil (a label of vigil_check_info); choose another name',
        'vigil.yml:8:7 checks[0].labels.check: label "check" is reserved by Vigil (every check series has it); choose another name',
      ],
    },
    {
      name: 'duplicate check names',
      yaml: `checks:\n  - { name: a, type: tcp, host: h, port: 1 }\n  - { name: a, type: tcp, host: h, port: 2 }\n`,
      expected: ['vigil.yml:3:13 checks[1].name: duplicate check name "a" (first defined at checks[0])'],
    },
    {
      name: 'bad duration',
      yaml: `defaults:\n  interval: 15\n`,
      expected: ['vigil.yml:2:13 defaults.interval: expected a duration with a unit, e.g. 500ms, 15s, 5m'],
    },
    {
      name: 'unknown threshold key',
      yaml: `checks:\n  - name: a\n    type: tcp\n    host: h\n    port: 1\n    thresholds:\n      latency: { warning: 1s }\n`,
      expected: ['vigil.yml:7:7 checks[0].thresholds.latency: unknown threshold "latency" for type tcp, expected one of response_time'],
    },
    {
      name: 'warning past critical',
      yaml: `checks:\n  - name: a\n    type: tcp\n    host: h\n    port: 1\n    thresholds:\n      response_time: { warning: 2s, critical: 1s }\n`,
      expected: ['vigil.yml:7:22 checks[0].thresholds.response_time: warning must be reached before critical (warning <= critical for direction above, >= for below)'],
    },
    {
      name: 'dependency cycles',
      yaml: `components:\n  - { name: a, depends_on: [b] }\n  - { name: b, depends_on: [a] }\n`,
      expected: ['vigil.yml:2:28 components[0].depends_on: dependency cycle: a -> b -> a'],
    },
    {
      name: 'unknown dependency',
      yaml: `components:\n  - { name: a, depends_on: [nope] }\n`,
      expected: ['vigil.yml:2:29 components[0].depends_on[0]: unknown component "nope"'],
    },
    {
      name: 'missing env var',
      yaml: `checks:\n  - { name: a, type: http, url: "http://\${API_HOST}/" }\n`,
      expected: ['vigil.yml:2:33 checks[0].url: environment variable API_HOST is not set', 'vigil.yml:2:33 checks[0].url: expected an http:// or https:// URL'],
    },
    {
      name: 'YAML syntax errors carry positions',
      yaml: `checks:\n  - name: a\n   type: tcp\n`,
      expected: ['vigil.yml:3:1: YAML syntax: Sequence item without - indicator'],
    },
  ];
  for (const c of cases) it(c.name, () => expect(problems(c.yaml)).toEqual(c.expected));

  it('reports every problem at once', () => {
    const found = problems(`checks:\n  - { name: a, type: http, url: nope }\n  - { name: b, type: tcp, host: h }\n  - { name: c, type: nope }\n`);
    expect(found).toHaveLength(3);
    expect(found[1]).toMatch(/^vigil\.yml:3:\d+ checks\[1\]\.port: /);
  });

  it('interpolates ${ENV} and reads *_file secrets without ever printing them', () => {
    clearSecrets();
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cfg-'));
    writeFileSync(path.join(dir, 'token'), 'file-secret-123456\n');
    const yaml = `
server:
  admin_token_file: token
checks:
  - name: api
    type: http
    url: http://127.0.0.1:1/
    headers:
      Authorization: "Bearer \${API_TOKEN}"
`;
    let cfg;
    try {
      cfg = parseConfig(yaml, path.join(dir, 'vigil.yml'), { env: { API_TOKEN: 'env-secret-abcdef' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(cfg.server.admin_token).toBe('file-secret-123456');
    expect((cfg.checks[0] as any).headers.Authorization).toBe('Bearer env-secret-abcdef');
    expect(redact('got env-secret-abcdef and file-secret-123456')).toBe('got <redacted> and <redacted>');
  });
});
