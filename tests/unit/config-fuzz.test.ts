// Property-based fuzzing of the config loader (issue 12): whatever the input, parseConfig returns
// a config or throws ConfigError (never another exception, never a hang), and no message ever
// contains a secret planted in a credential field, an ${ENV} value or a *_file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { parseConfig } from '../support/config.js';
import { clearSecrets } from '../../exporter/config/secrets.js';
import { probeTypes } from '../../exporter/probes/index.js';

const SECRET = 'Zq7-planted-SECRET-9xK';
const ENV_SECRET = 'Ev4-planted-ENV-2wQ';
const FILE_SECRET = 'Fi8-planted-FILE-3rT';
const planted = [SECRET, ENV_SECRET, FILE_SECRET];

let dir: string;
let secretFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-fuzz-'));
  secretFile = path.join(dir, 'pw');
  writeFileSync(secretFile, `${FILE_SECRET}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A secret registered by an earlier run would be scrubbed by redact() and hide a leak.
beforeEach(() => clearSecrets());

/** Parse and classify: 'ok', or the ConfigError's message. Anything else thrown fails the property. */
function load(text: string): { ok: true } | { ok: false; message: string } {
  clearSecrets();
  try {
    parseConfig(text, path.join(dir, 'vigil.yml'), { env: { DB_PASS: ENV_SECRET, HOST: '127.0.0.1' } });
    return { ok: true };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, message: err.message };
    throw new Error(`parseConfig threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  }
}

const leaks = (message: string) => planted.some((s) => message.includes(s) || message.includes(s.slice(0, 12)));

// Fragments that make YAML interesting: indicators, quoting, anchors, tags, flow and block
// collections, the keys Vigil knows, and lines carrying each kind of planted secret.
const FRAGMENTS = [
  ':', ': ', '-', '- ', ' ', '  ', '\n', '\n  ', '\n    ', '\t', '"', "'", '[', ']', '{', '}', ',', '#', '|', '>', '?', '&a ', '*a', '!!str ', '!!map ', '!x ',
  '%YAML 1.2\n---\n', '---\n', '...\n', '<<: ', '\\', '\\q', '@', '`', '\u0000', '\uFEFF', 'é',
  'checks', 'defaults', 'server', 'scheduler', 'components', 'name', 'type', 'interval', 'timeout', 'url', 'host', 'port',
  'http', 'tcp', 'postgres', 'redis', '30s', '0ms', '-1s', '1e400', 'null', 'true', '12', '0x1F', '~',
  `password: "${SECRET}"`, `password: '${SECRET}'`, `password: ${SECRET}`, `dsn: "postgres://vigil:${SECRET}@db/x"`,
  `dsn: postgres://vigil:${SECRET}@db/x`, 'password: "${DB_PASS}"', 'token: ${DB_PASS}', `password_file: PWFILE`,
  `admin_token: "${SECRET}"`, `headers: { Authorization: "Bearer ${SECRET}" }`,
];

const yamlish = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 60 }).map((parts) => parts.join(''));

/** Whether some mapping key of the (possibly broken) document contains one of the secrets. */
function secretInKey(text: string, secrets: string[] = [SECRET]): boolean {
  let found = false;
  for (const doc of YAML.parseAllDocuments(text, { uniqueKeys: false })) {
    if (!('contents' in doc)) continue;
    YAML.visit(doc, {
      Pair(_, pair) {
        const k = YAML.isScalar(pair.key) ? String(pair.key.value) : pair.key ? String(pair.key) : '';
        if (secrets.some((secret) => k.includes(secret))) found = true;
      },
    });
  }
  return found;
}

describe('config loader fuzzing', () => {
  it('any YAML-ish text: a config or a ConfigError, never a leaked secret', () => {
    fc.assert(
      fc.property(yamlish, (raw) => {
        const text = raw.replaceAll('PWFILE', secretFile);
        const r = load(text);
        if (!r.ok) {
          // A secret moved into a key by the fuzzer is a key, not a credential: skip those inputs.
          fc.pre(!secretInKey(text, planted));
          expect(leaks(r.message), r.message).toBe(false);
        }
      }),
      { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it('arbitrary unicode: a config or a ConfigError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => { load(text); }), { numRuns: 200 });
  });

  // Structurally valid YAML with random values in the places a config has them.
  const scalar = fc.oneof(
    fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.constantFrom('30s', '100ms', '0ms', '5m', '1h30m', 'soon', '', '127.0.0.1', 'http://127.0.0.1:1/', 'a..b', '(a+)+$', '80%', '1GiB'),
  );
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('warning', 'critical', 'direction', 'a', 'b'), tie('v'), { maxKeys: 3 })),
  })).v;
  const credential = fc.constantFrom<[string, string]>(
    ['password', SECRET], ['password', '${DB_PASS}'], ['password_file', 'PWFILE'], ['token', SECRET],
    ['dsn', `postgres://vigil:${SECRET}@127.0.0.1:5432/x`], ['dsn', `redis://:${SECRET}@127.0.0.1:6379`],
    ['url', `http://u:${SECRET}@127.0.0.1:1/`], ['headers', `{"Authorization":"Bearer ${SECRET}"}`],
  );
  const checkEntry = fc.record({
    name: fc.oneof(fc.constantFrom('api', 'db', 'cache', 'dup'), fc.string({ maxLength: 8 })),
    type: fc.oneof(fc.constantFrom(...probeTypes()), fc.string({ maxLength: 6 })),
    extra: fc.dictionary(
      fc.constantFrom('interval', 'timeout', 'retries', 'retry_delay', 'host', 'port', 'url', 'query', 'expect', 'thresholds', 'labels', 'component', 'enabled', 'on_failure', 'collect', 'path', 'method', 'status'),
      value, { maxKeys: 6 },
    ),
    creds: fc.array(credential, { maxLength: 2 }),
  }).map(({ name, type, extra, creds }) => {
    const entry: Record<string, unknown> = { name, type, ...extra };
    for (const [k, v] of creds) entry[k] = k === 'headers' ? JSON.parse(v) : v;
    return entry;
  });
  const config = fc.record({
    defaults: fc.option(fc.dictionary(fc.constantFrom('interval', 'timeout', 'retries', 'retry_delay', 'bogus'), value, { maxKeys: 3 }), { nil: undefined }),
    server: fc.option(fc.record({ admin_token: fc.constantFrom(SECRET, 'short', '${DB_PASS}'), status_page_auth: fc.constant({ username: 'u', password: SECRET }) }, { requiredKeys: [] }), { nil: undefined }),
    scheduler: fc.option(fc.dictionary(fc.constantFrom('concurrency', 'jitter'), value, { maxKeys: 2 }), { nil: undefined }),
    components: fc.option(fc.array(fc.record({ name: fc.constantFrom('api', 'db', 'x'), depends_on: fc.array(fc.constantFrom('api', 'db', 'nope'), { maxLength: 2 }) }), { maxLength: 3 }), { nil: undefined }),
    checks: fc.array(checkEntry, { maxLength: 5 }),
  }, { requiredKeys: ['checks'] });

  it('random but well-formed configs: a config or a ConfigError, never a leaked secret', () => {
    fc.assert(
      fc.property(config, (cfg) => {
        const text = YAML.stringify(cfg).replaceAll('PWFILE', secretFile);
        const r = load(text);
        if (!r.ok) expect(leaks(r.message), r.message).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('a well-formed config with a secret, corrupted by inserted YAML characters, never leaks it', () => {
    const base = [
      'server:',
      `  admin_token: "${SECRET}-admin"`,
      'checks:',
      `  - { name: db, type: postgres, dsn: "postgres://vigil:${SECRET}@127.0.0.1:5432/x" }`,
      '  - name: cache',
      '    type: redis',
      '    dsn: redis://127.0.0.1:6379',
      `    password: '${SECRET}'`,
      '  - name: api',
      '    type: http',
      '    url: http://127.0.0.1:1/',
      `    headers: { Authorization: "Bearer ${SECRET}" }`,
      '',
    ].join('\n');
    const insertion = fc.record({ at: fc.nat({ max: base.length }), text: fc.constantFrom('"', "'", ':', ': ', '\n', '\n ', '\t', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '- ', '\\', '%', '@', '`', '?') });
    fc.assert(
      fc.property(fc.array(insertion, { minLength: 1, maxLength: 3 }), (edits) => {
        let text = base;
        for (const e of [...edits].sort((a, b) => b.at - a.at)) text = text.slice(0, e.at) + e.text + text.slice(e.at);
        const r = load(text);
        if (!r.ok) {
          fc.pre(!secretInKey(text)); // the secret became (part of) a key: key names are shown in errors
          expect(leaks(r.message), r.message).toBe(false);
        }
      }),
      { numRuns: 120 },
    );
  });
});
