// A reload that edits one check parses that check alone (exporter/config/yaml-splice.ts). The
// promise is exactness: whatever the edit, the config (or the error) is the one a full parse of
// the new text gives. Checked on hand-picked edits and on random ones against the full parse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { spliceParse, type SpliceBase } from '../../exporter/config/yaml-splice.js';
import { parseConfig } from '../support/config.js';

const ENV = { TOKEN: 'env-token-123' };

function config(n: number): string {
  const lines = ['defaults: { interval: 10s, timeout: 2s, retries: 0 }', 'components:', '  - { name: web }', 'checks:'];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      lines.push(`  - name: c${i}`, '    type: http', `    component: web`, `    url: "http://127.0.0.1:1/c${i}"  # check ${i}`, '    labels: { team: a }');
    } else {
      lines.push(`  - { name: c${i}, type: tcp, component: svc${i % 4}, host: 127.0.0.1, port: ${1000 + i} }`);
    }
  }
  lines.push('  - { name: with-env, type: http, url: "http://127.0.0.1:1/x", headers: { authorization: "Bearer ${TOKEN}" } }');
  lines.push('maintenance: []');
  return lines.join('\n') + '\n';
}

/** The config (or the error message) of `text` parsed whole, and the same after a parse of `before` with the splice holder. */
function both(before: string, text: string) {
  const outcome = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (err) {
      if (err instanceof ConfigError) return { error: err.message };
      throw err;
    }
  };
  const holder: { base?: SpliceBase } = {};
  parseConfig(before, 'vigil.yml', { env: ENV, splice: holder });
  const base = holder.base!;
  return {
    full: outcome(() => parseConfig(text, 'vigil.yml', { env: ENV })),
    spliced: outcome(() => parseConfig(text, 'vigil.yml', { env: ENV, splice: holder })),
    usedSplice: spliceParse(base, text) !== undefined,
    holder,
  };
}

describe('config reload: an edit inside one check parses that check alone', () => {
  const before = config(300);

  it('edits of a value inside a check are spliced and give the full parse\'s config', () => {
    const edits: Array<[string, string]> = [
      ['port: 1101 }', 'port: 2101 }'], // a flow item
      ['url: "http://127.0.0.1:1/c150"', 'url: "http://127.0.0.1:1/c150-moved"'], // a block item
      ['labels: { team: a }\n  - { name: c151', 'labels: { team: b, tier: "1" }\n  - { name: c151'], // labels, in the middle
      ['    type: http\n    component: web\n    url: "http://127.0.0.1:1/c153"', '    type: http\n    component: web\n    timeout: 5s\n    url: "http://127.0.0.1:1/c153"'], // a key added
    ];
    for (const [from, to] of edits) {
      expect(before.includes(from), from).toBe(true);
      const after = before.replace(from, to);
      const r = both(before, after);
      expect(r.usedSplice, to).toBe(true);
      expect(r.spliced, to).toEqual(r.full);
      expect('ok' in r.full, to).toBe(true);
    }
    const r = both(before, before.replace('port: 1101 }', 'port: 2101 }'));
    const c = (r.spliced as { ok: { checks: Array<{ name: string; port?: number }> } }).ok.checks.find((x) => x.name === 'c101');
    expect(c?.port).toBe(2101);
  });

  it('a splice after a splice still matches the full parse (item ranges move with the edits)', () => {
    const holder: { base?: SpliceBase } = {};
    let text = before;
    parseConfig(text, 'vigil.yml', { env: ENV, splice: holder });
    for (const [from, to] of [['port: 1005 }', 'port: 9005, timeout: 1s }'], ['c150"', 'c150/longer/path"'], ['port: 1299 }', 'port: 7 }'], ['port: 1002 }', 'port: 3 }']]) {
      const next = text.replace(from, to);
      expect(spliceParse(holder.base!, next), to).toBeDefined();
      expect(parseConfig(next, 'vigil.yml', { env: ENV, splice: holder })).toEqual(parseConfig(next, 'vigil.yml', { env: ENV }));
      text = next;
    }
  });

  it('edits outside one check, or at its edges, take the full parse', () => {
    const cases = [
      before.replace('interval: 10s', 'interval: 20s'), // defaults
      before.replace('  - { name: c1, type: tcp', '  - { name: c1a, type: tcp, component: x, host: a, port: 1 }\n  - { name: c1, type: tcp'), // an item added
      before.replace('port: 1001 }', 'port: 2001 }').replace('port: 1002 }', 'port: 2002 }'), // two items
      before.replace('maintenance: []', 'maintenance: []\n# a comment'), // after the checks
      before + '  - { name: last, type: tcp, host: a, port: 1 }\n', // appended (invalid YAML place, too)
    ];
    for (const [i, after] of cases.entries()) {
      const r = both(before, after);
      expect(r.usedSplice, `case ${i}`).toBe(false);
      expect(r.spliced).toEqual(r.full);
    }
  });

  it('anchors and aliases anywhere turn splicing off', () => {
    const withAnchor = before.replace('port: 1001 }', 'port: &p 1001 }');
    const holder: { base?: SpliceBase } = {};
    parseConfig(withAnchor, 'vigil.yml', { env: ENV, splice: holder });
    expect(holder.base!.items).toBeUndefined();
    // An alias brought into one check by an edit: not spliced, and the full parse decides.
    const r = both(before, before.replace('port: 1101 }', 'port: *nowhere }'));
    expect(r.usedSplice).toBe(false);
    expect(r.spliced).toEqual(r.full);
    expect(r.full).toHaveProperty('error');
  });

  it('a bad edit inside one check is reported with its line and key, as a full parse reports it, and keeps the old base', () => {
    const r = both(before, before.replace('port: 1101 }', 'port: "many" }'));
    expect(r.spliced).toEqual(r.full);
    expect((r.full as { error: string }).error).toMatch(/vigil\.yml:\d+:\d+.*checks\[\d+\]\.port/);
    expect(r.holder.base!.text).toBe(before);
    // A duplicate key inside the edited check, and a second item smuggled into it.
    for (const after of [before.replace('port: 1101 }', 'port: 1101, port: 2 }'), before.replace('port: 1101 }', 'port: 1101 }\n  - { name: sneaky, type: tcp, host: a, port: 1 }')]) {
      const x = both(before, after);
      expect(x.spliced).toEqual(x.full);
    }
  });

  it('environment variables are read again on every reload, spliced or not', () => {
    const holder: { base?: SpliceBase } = {};
    parseConfig(before, 'vigil.yml', { env: ENV, splice: holder });
    const after = before.replace('port: 1101 }', 'port: 2101 }');
    const cfg = parseConfig(after, 'vigil.yml', { env: { TOKEN: 'rotated-456' }, splice: holder });
    const c = cfg.checks.find((x) => x.name === 'with-env') as unknown as { headers: Record<string, string> };
    expect(c.headers.authorization).toBe('Bearer rotated-456');
  });

  it('random edits: the spliced parse always equals the full parse (config or error)', () => {
    const small = config(12);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: small.length }),
        fc.integer({ min: 0, max: 6 }),
        fc.string({ maxLength: 8 }).map((s) => s.replace(/\r/g, '')),
        (at, cut, insert) => {
          const after = small.slice(0, at) + insert + small.slice(Math.min(small.length, at + cut));
          const r = both(small, after);
          expect(r.spliced).toEqual(r.full);
        },
      ),
      { numRuns: 400, seed: 20261203 },
    );
  });
});
