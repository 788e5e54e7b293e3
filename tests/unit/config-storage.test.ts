// The storage section of vigil.yml: the embedded SQLite file by default, PostgreSQL with its
// connection URL read from dsn_file (a secret: never echoed in an error), and clear errors
// naming the key for the mistakes one makes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { clearSecrets, redact } from '../../exporter/config/secrets.js';
import { parseConfig } from '../support/config.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'vigil-cfg-storage-')); clearSecrets(); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); clearSecrets(); });

const parse = (yaml: string) => parseConfig(yaml, path.join(dir, 'vigil.yml'), { env: {} });
function problems(yaml: string): string[] {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('storage config', () => {
  it('defaults to the embedded SQLite file', () => {
    expect(parse('checks: []\n').storage).toEqual({ type: 'sqlite', connect_timeout: 5_000, statement_timeout: 10_000, pool_size: 3 });
  });

  it('postgres reads its connection URL from dsn_file, a secret from then on', () => {
    writeFileSync(path.join(dir, 'record.dsn'), 'postgres://vigil:pg-pass-0123@db.internal:5432/vigil\n');
    const cfg = parse('storage:\n  type: postgres\n  dsn_file: record.dsn\n  connect_timeout: 2s\n');
    expect(cfg.storage).toMatchObject({ type: 'postgres', dsn: 'postgres://vigil:pg-pass-0123@db.internal:5432/vigil', connect_timeout: 2_000 });
    expect(redact('connecting to postgres://vigil:pg-pass-0123@db.internal:5432/vigil failed')).not.toContain('pg-pass-0123');
  });

  it('postgres without a dsn, a dsn that is not a postgres URL (never echoed), a dsn with sqlite: errors naming file, line and key', () => {
    expect(problems('storage:\n  type: postgres\n')).toEqual([expect.stringMatching(/vigil\.yml:2:\d+ storage\.type: storage\.type postgres needs dsn_file/)]);
    writeFileSync(path.join(dir, 'bad.dsn'), 'mysql://root:hunter2-secret@db/vigil\n');
    const bad = problems('storage:\n  type: postgres\n  dsn_file: bad.dsn\n');
    expect(bad).toEqual([expect.stringMatching(/storage\.dsn: expected a connection URL starting with postgres:\/\//)]);
    expect(bad.join('\n')).not.toContain('hunter2-secret');
    writeFileSync(path.join(dir, 'ok.dsn'), 'postgres://u:p4ssword@h/db\n');
    expect(problems('storage:\n  dsn_file: ok.dsn\n')).toEqual([expect.stringMatching(/storage\.dsn: dsn is only used with storage\.type: postgres/)]);
    expect(problems('storage:\n  type: mysql\n')).toEqual([expect.stringMatching(/vigil\.yml:2:\d+ storage\.type: /)]);
    expect(problems('storage:\n  type: postgres\n  dsn_file: missing.dsn\n')[0]).toMatch(/storage\.dsn_file: /);
    expect(problems('storage:\n  statement_timeout: 10m\n')).toEqual([expect.stringMatching(/storage\.statement_timeout: statement_timeout must be at most 5m/)]);
  });
});
