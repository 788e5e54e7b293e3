// Config inputs are bounded (issue 12, item 7) and never echo secrets (item 8): special files,
// oversized files, YAML bombs, a zero interval, and YAML syntax errors on a line holding a secret.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { MAX_CONFIG_BYTES, MAX_SECRET_BYTES } from '../../exporter/config/files.js';
import { loadConfigFile, parseConfig } from '../support/config.js';
import { clearSecrets, redact } from '../../exporter/config/secrets.js';
import { createLogger } from '../../exporter/log.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-limits-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearSecrets());

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

const fifo = (name: string) => {
  const p = path.join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};

const withPasswordFile = (file: string) =>
  `checks:\n  - name: db\n    type: postgres\n    dsn: "postgres://vigil@127.0.0.1:1/x"\n    password_file: ${file}\n`;

describe('files the config points at', () => {
  const cases = [
    { name: '/dev/zero as a password_file', file: () => '/dev/zero', expected: /^vigil\.yml:5:20 checks\[0\]\.password_file: \/dev\/zero is a character device, expected a regular file$/ },
    { name: 'a FIFO as a password_file', file: () => fifo('secret.fifo'), expected: /^vigil\.yml:5:20 checks\[0\]\.password_file: \S+secret\.fifo is a FIFO \(named pipe\), expected a regular file$/ },
    { name: 'a directory as a password_file', file: () => dir, expected: /^vigil\.yml:5:20 checks\[0\]\.password_file: \S+ is a directory, expected a regular file$/ },
    {
      name: 'a password_file over the 64 KiB cap',
      file: () => {
        const p = path.join(dir, 'huge-secret');
        writeFileSync(p, 'x'.repeat(MAX_SECRET_BYTES + 1));
        return p;
      },
      expected: /^vigil\.yml:5:20 checks\[0\]\.password_file: \S+huge-secret is larger than the 64 KiB limit$/,
    },
    { name: 'a missing password_file', file: () => path.join(dir, 'nope'), expected: /^vigil\.yml:5:20 checks\[0\]\.password_file: cannot read \S+nope: ENOENT$/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with file, line and key`, () => {
      const problems = problemsOf(() => parseConfig(withPasswordFile(c.file()), 'vigil.yml', { env: {} }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(c.expected);
    });
  }

  it('still reads a regular password_file at the cap (and strips one trailing newline)', () => {
    const p = path.join(dir, 'ok-secret');
    writeFileSync(p, 's'.repeat(MAX_SECRET_BYTES - 1) + '\n');
    const cfg = parseConfig(withPasswordFile(p), 'vigil.yml', { env: {} });
    expect((cfg.checks[0] as unknown as { password: string }).password).toBe('s'.repeat(MAX_SECRET_BYTES - 1));
  });

  it('refuses a FIFO, a device or a directory as the config file', () => {
    const cases = [
      { file: fifo('vigil.fifo'), kind: 'a FIFO (named pipe)' },
      { file: '/dev/zero', kind: 'a character device' },
      { file: dir, kind: 'a directory' },
    ];
    for (const c of cases) {
      expect(problemsOf(() => loadConfigFile(c.file, { env: {} }))).toEqual([`${c.file}: config refused: ${c.file} is ${c.kind}, expected a regular file`]);
    }
  });

  it('refuses a config file over the 2 MiB cap before parsing it', () => {
    const file = path.join(dir, 'huge.yml');
    writeFileSync(file, `checks: []\n#${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(problemsOf(() => loadConfigFile(file, { env: {} }))).toEqual([`${file}: config refused: ${file} is larger than the 2 MiB limit`]);
  });

  it('follows a symlink to a regular file', () => {
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'real.yml'), 'checks: []\n');
    execFileSync('ln', ['-sf', path.join(sub, 'real.yml'), path.join(sub, 'link.yml')]);
    expect(loadConfigFile(path.join(sub, 'link.yml'), { env: {} }).checks).toEqual([]);
  });
});

describe('YAML that costs more than it says', () => {
  it('refuses dense YAML over the token cap (1.5 tokens a byte) before building a tree', () => {
    const yaml = `x: [${'1,'.repeat(700_000)}1]\n`; // 1.4 MB: under the byte cap, ~2.1 M tokens
    expect(problemsOf(() => parseConfig(yaml, 'vigil.yml', { env: {} }))).toEqual([
      'vigil.yml: config refused: more than 1000000 YAML tokens (about 25 000 checks)',
    ]);
  });

  it('refuses a billion-laughs alias bomb', () => {
    const yaml = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'checks: []',
    ].join('\n');
    expect(problemsOf(() => parseConfig(yaml, 'vigil.yml', { env: {} }))).toEqual([
      'vigil.yml: YAML syntax: too many alias expansions (more than 100): nested anchors like this are refused',
    ]);
  });

  it('finds duplicate keys in a large mapping (linear, not the library\'s quadratic check)', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `  k${i}: v`).join('\n');
    const problems = problemsOf(() => parseConfig(`labels:\n${keys}\n  k7: again\n`, 'vigil.yml', { env: {} }));
    expect(problems).toEqual(['vigil.yml:30002:3: YAML syntax: duplicate key "k7"']);
  });
});

describe('intervals and timeouts', () => {
  const cases = [
    { name: 'interval 0ms', yaml: 'checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, interval: 0ms }\n', expected: ['vigil.yml:2:63 checks[0].interval: interval must be at least 100ms'] },
    { name: 'interval 50ms', yaml: 'defaults: { interval: 50ms }\n', expected: ['vigil.yml:1:23 defaults.interval: interval must be at least 100ms'] },
    { name: 'timeout 0s', yaml: 'checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, timeout: 0s }\n', expected: ['vigil.yml:2:62 checks[0].timeout: timeout must be greater than 0'] },
    { name: 'interval 100ms is the floor', yaml: 'checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, interval: 100ms, timeout: 100ms }\n', expected: [] },
  ];
  for (const c of cases) it(c.name, () => expect(problemsOf(() => parseConfig(c.yaml, 'vigil.yml', { env: {} }))).toEqual(c.expected));
});

describe('secrets in errors and logs', () => {
  const SECRET = 'Planted-s3cret-Value';

  const syntaxCases = [
    { name: 'trailing text after a quoted DSN', yaml: `checks:\n  - { name: db, type: postgres, dsn: "postgres://vigil:${SECRET}@db/x" x }\n` },
    { name: 'a stray scalar token (…token in YAML stream: "…")', yaml: `- a\nb: postgres://vigil:${SECRET}@db\n` },
    { name: 'an unclosed quote', yaml: `server:\n  admin_token: "${SECRET}\n` },
    { name: 'a bad escape', yaml: `server:\n  admin_token: "\\q${SECRET}"\n` },
    { name: 'a bad block scalar header', yaml: `server:\n  admin_token: |x ${SECRET}\n   y\n` },
    { name: 'an anchor in a flow sequence', yaml: `x: &${SECRET} [*${SECRET} x]\n` },
    { name: 'a tab indent', yaml: `server:\n\tadmin_token: ${SECRET}\n` },
    // Found by the fuzzer: a mapping used as a key used to be printed as the key's name.
    { name: 'a stray "?" making a mapping the key', yaml: `?\n    password: '${SECRET}'\n` },
    { name: 'a flow mapping as a key', yaml: `checks:\n  - { name: a, type: http, url: "http://x/", { password: ${SECRET} }: 1 }\n` },
  ];
  for (const c of syntaxCases) {
    it(`a YAML syntax error never quotes the source: ${c.name}`, () => {
      const problems = problemsOf(() => parseConfig(c.yaml, 'vigil.yml', { env: {} }));
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) {
        expect(p).toMatch(/^vigil\.yml:\d+:\d+: YAML syntax: /);
        expect(p).not.toContain(SECRET);
        expect(p).not.toContain(SECRET.slice(0, 10));
      }
    });
  }

  it('a value an edit turned into a key is shown by its length, not its text (found by the fuzzer)', () => {
    const yaml = `checks:\n  - name: api\n    type: http\n    url: http://127.0.0.1:1/\n    headers: { Authorization:" "Bearer ${SECRET.slice(0, 8)}"${SECRET.slice(8)}" }\n`;
    const problems = problemsOf(() => parseConfig(yaml, 'vigil.yml', { env: {} }));
    expect(problems).toEqual([expect.stringMatching(/^vigil\.yml:5:\d+ checks\[0\]\.headers\.<malformed key of \d+ characters>: /)]);
    for (const p of problems) for (const part of [SECRET.slice(0, 8), SECRET.slice(8)]) expect(p).not.toContain(part);
  });

  it('keeps the library\'s wording when it quotes nothing', () => {
    expect(problemsOf(() => parseConfig('checks:\n  - name: a\n   type: tcp\n', 'vigil.yml', { env: {} })))
      .toEqual(['vigil.yml:3:1: YAML syntax: Sequence item without - indicator']);
  });

  it('a credential written inline is redacted everywhere after the config is loaded', () => {
    parseConfig(`server:\n  status_page_auth: { username: u, password: "${SECRET}" }\n`, 'vigil.yml', { env: {} });
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).error('probe said', { error: `login failed for u with ${SECRET}` });
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(redact(`x ${SECRET} y`)).toBe('x <redacted> y');
  });

  it('the password of a DSN is redacted even where it appears without its URL', () => {
    parseConfig(`checks:\n  - { name: db, type: postgres, dsn: "postgres://vigil:${SECRET}@127.0.0.1:1/x" }\n`, 'vigil.yml', { env: {} });
    expect(redact(`auth failed (password ${SECRET})`)).not.toContain(SECRET);
  });

  const redactCases = [
    { name: 'a quoted literal inside a JSON log line', text: JSON.stringify({ msg: `bad line: password: "${SECRET}"` }) },
    { name: 'a single-quoted literal in a JSON log line', text: JSON.stringify({ msg: `password: '${SECRET}'` }) },
    { name: 'a quoted literal with spaces', text: `password: "${SECRET} and more"` },
    { name: 'an unterminated quoted literal', text: `token: "${SECRET}` },
    { name: 'an Authorization header with its scheme', text: `authorization: Bearer ${SECRET}` },
    { name: 'JSON key and value', text: JSON.stringify({ password: SECRET }) },
    { name: 'userinfo with an empty user', text: `redis://:${SECRET}@127.0.0.1:6379` },
  ];
  for (const c of redactCases) it(`redact() scrubs ${c.name}`, () => expect(redact(c.text)).not.toContain(SECRET.slice(0, 8)));
});
