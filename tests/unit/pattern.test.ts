// User-supplied patterns run on RE2 (issue 12, item 2): Go regexp semantics as blackbox_exporter
// and Prometheus, linear time whatever the pattern and the text, and unsupported syntax refused
// with RE2's own words.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGlob, globFiles } from '../../exporter/probes/file.js';
import { Pattern, pattern, patternProblem } from '../../exporter/probes/support/pattern.js';
import { parseSelector, selectorMatches, type Selector } from '../../exporter/probes/support/promtext.js';

describe('Pattern semantics (Go regexp without flags)', () => {
  const cases: Array<{ name: string; source: string; text: string; expected: boolean; whole?: boolean }> = [
    { name: 'unanchored search', source: 'systems go', text: 'all systems go', expected: true },
    { name: '^ and $ match at the ends of the text only', source: '^ok$', text: 'status\nok\n', expected: false },
    { name: '(?m) makes ^ and $ match at line ends', source: '(?m)^ok$', text: 'status\nok\n', expected: true },
    { name: '$ does not match before a final newline', source: 'ok$', text: 'ok\n', expected: false },
    { name: '. does not match a newline', source: 'a.c', text: 'a\nc', expected: false },
    { name: '(?s) lets . match a newline', source: '(?s)a.c', text: 'a\nc', expected: true },
    { name: '(?i) inline flag', source: '(?i)^HEALTHY', text: 'healthy', expected: true },
    { name: '\\d is ASCII', source: '^\\d+$', text: '٣', expected: false },
    { name: '\\s is [\\t\\n\\f\\r ] (no NBSP, unlike JS)', source: 'a\\sb', text: 'a\u00a0b', expected: false },
    { name: 'Perl named groups', source: '(?P<code>\\d{3})', text: 'status 200', expected: true },
    { name: 'JS-style named groups', source: '(?<code>\\d{3})', text: 'status 200', expected: true },
    { name: 'POSIX classes', source: '^[[:alpha:]]+$', text: 'abc', expected: true },
    { name: 'Unicode classes', source: '^\\p{Greek}+$', text: 'αβγ', expected: true },
    { name: 'whole: must match all of the text', source: 'a|ab', text: 'ab', expected: true, whole: true },
    { name: 'whole: a substring is not enough', source: 'b', text: 'ab', expected: false, whole: true },
  ];
  it.each(cases)('$name', ({ source, text, expected, whole }) => {
    expect(Pattern.compile(source, { whole }).test(text)).toBe(expected);
  });

  it('shows as /source/ in messages', () => {
    expect(`${Pattern.compile('^ok$')}`).toBe('/^ok$/');
  });
});

describe('unsupported syntax is refused with the RE2 reason', () => {
  const cases: Array<{ source: string; problem: RegExp }> = [
    { source: 'ok(?=!)', problem: /^invalid or unsupported Perl syntax: `\(\?=` \(RE2 syntax: no lookahead, lookbehind or backreferences\)$/ },
    { source: 'ok(?!x)', problem: /^invalid or unsupported Perl syntax: `\(\?!`/ },
    { source: '(?<=a)b', problem: /`\(\?<=a\)b`.*no lookahead, lookbehind/ },
    { source: '(a)\\1', problem: /^invalid escape sequence: `\\1` \(RE2 syntax/ },
    { source: '(', problem: /^missing closing \): `\(`$/ },
    { source: 'a{1001}', problem: /^invalid repeat count/ },
    { source: 'x*+', problem: /^invalid nested repetition operator/ },
  ];
  it.each(cases)('$source', ({ source, problem }) => {
    expect(patternProblem(source)).toMatch(problem);
    expect(() => Pattern.compile(source)).toThrow(/^invalid regular expression \//);
  });
  it('valid patterns have no problem', () => {
    expect(patternProblem('^(a+)+$')).toBeUndefined();
  });
});

describe('matching is linear in the text', () => {
  // Each of these takes seconds to forever on a backtracking engine (V8's RegExp).
  const evil: Array<{ name: string; source: string; text: string; whole?: boolean }> = [
    { name: 'nested quantifier, the issue\'s body', source: '(a+)+$', text: `${'a'.repeat(29)}!` },
    { name: 'nested quantifier, 1 MiB', source: '(a+)+$', text: `${'a'.repeat(1 << 20)}!` },
    { name: 'overlapping alternation', source: '^(a|aa)*$', text: `${'a'.repeat(100_000)}b` },
    { name: 'overlapping repeats', source: '^(x+x+)+y', text: 'x'.repeat(100_000) },
    { name: 'many wildcards (a glob as regex)', source: '.*a.*a.*a.*a.*a.*a.*a.*a.*a.*a.*b', text: 'a'.repeat(20_000), whole: true },
    { name: 'DFA state blow-up', source: '[ab]*a[ab]{20}c', text: 'ab'.repeat(1 << 19) },
  ];
  it.each(evil)('$name', ({ source, text, whole }) => {
    const p = Pattern.compile(source, { whole });
    const t0 = performance.now();
    expect(p.test(text)).toBe(false);
    // Generous: measured at 3-30 ms on a busy 2-core box; a backtracking engine never returns.
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});

describe('globs run on RE2 too', () => {
  let dir: string;
  const longName = 'a'.repeat(200);
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-glob-'));
    writeFileSync(path.join(dir, longName), '');
    writeFileSync(path.join(dir, 'db-1.sql.gz'), '');
    writeFileSync(path.join(dir, '[x].log'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a many-star file glob over a long name finishes at once', async () => {
    // As a backtracking RegExp, ^[^/]*a[^/]*a…b$ over 200 "a"s is C(200, 10) steps.
    const t0 = performance.now();
    expect(await globFiles(`${dir}/*a*a*a*a*a*a*a*a*a*a*b`, 1000)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect((await globFiles(`${dir}/db-?.sql.*`, 1000)).map((f) => path.basename(f.file))).toEqual(['db-1.sql.gz']);
    expect((await globFiles(`${dir}/[[]x].log`, 1000)).map((f) => path.basename(f.file))).toEqual(['[x].log']);
  });

  it('a many-star PM2 glob over a long name finishes at once', () => {
    const t0 = performance.now();
    expect(Pattern.glob('*a*a*a*a*a*a*a*a*a*a*b').test(longName)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('glob segments are compiled once into patterns and literals', () => {
    const segs = compileGlob('/var/backups/**/db-*.gz');
    expect(segs.slice(0, 2)).toEqual(['var', 'backups']);
    expect(typeof segs[2]).toBe('symbol');
    expect(segs[3]).toMatchObject({ text: 'db-*.gz' });
  });
});

describe('PromQL label matchers', () => {
  const sel = (s: string) => parseSelector(s) as Selector;
  it('=~ and !~ match the whole value (anchored, as in Prometheus)', () => {
    expect(selectorMatches(sel('x{code=~"5.."}'), { code: '503' })).toBe(true);
    expect(selectorMatches(sel('x{code=~"5.."}'), { code: '5030' })).toBe(false);
    expect(selectorMatches(sel('x{code!~"2.."}'), { code: '200' })).toBe(false);
  });
  it('a value cannot break out of the anchors', () => {
    // Spliced into ^(?:…)$ this would read ^(?:a)|(b)$ and match "xxb".
    expect(parseSelector('x{l=~"a)|(b"}')).toMatch(/^invalid regular expression for l: /);
    expect(selectorMatches(sel('x{l=~"a|b"}'), { l: 'xxb' })).toBe(false);
  });
  it('unsupported syntax is a selector error', () => {
    expect(parseSelector('x{l=~"(?!a).*"}')).toMatch(/^invalid regular expression for l: invalid or unsupported Perl syntax/);
  });
});

describe('any pattern text', () => {
  // Regex-heavy alphabet so that the generator hits groups, classes, repeats and escapes often.
  const regexish = fc.string({ unit: fc.constantFrom(...'ab.*+?|()[]{}^$\\-,:=!<>P0123dswbBz\n'.split('')), maxLength: 24 });
  it('is either refused with a reason or compiles and matches without throwing', () => {
    fc.assert(fc.property(regexish, fc.string({ maxLength: 64 }), (source, text) => {
      const problem = patternProblem(source);
      expect(pattern.safeParse(source).success).toBe(problem === undefined);
      if (problem !== undefined) {
        expect(problem.length).toBeGreaterThan(0);
        expect(() => Pattern.compile(source)).toThrow(/^invalid regular expression/);
        return;
      }
      expect(typeof Pattern.compile(source).test(text)).toBe('boolean');
      expect(typeof Pattern.compile(source, { whole: true }).test(text)).toBe('boolean');
    }), { numRuns: 500 });
  });
});
