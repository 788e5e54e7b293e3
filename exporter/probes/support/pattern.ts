// Every regular expression a user writes (body_regex, expect, label matchers, mount filters…)
// and every glob we turn into one runs on RE2 (re2js): matching is linear in the input, so no
// pattern and no response can stall the event loop the way a backtracking RegExp can
// (`(a+)+$` against "aaaa…!"). The syntax and semantics are Go's regexp, as in blackbox_exporter
// and Prometheus: no flags by default (`^`/`$` at the ends of the text, `.` not matching a
// newline), inline flags such as `(?i)` allowed, lookaround and backreferences rejected.
import { RE2JS, RE2JSException } from 're2js';
import { z } from 'zod';

/** Why `source` is not an RE2 pattern (the RE2 parser's own words), or undefined when it is one. */
export function patternProblem(source: string): string | undefined {
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    return describe(err);
  }
}

function describe(err: RE2JSException): string {
  const text = err.message.replace(/^error parsing regexp: /, '');
  // Lookaround and backreferences are the JavaScript habits RE2 refuses on purpose: say so.
  const why = /\(\?(=|!|<=|<!)|\\[1-9]/.test(text) ? ' (RE2 syntax: no lookahead, lookbehind or backreferences)' : '';
  return `${text}${why}`;
}

/** A compiled pattern. `whole` matches only when the entire text matches (PromQL's =~, globs). */
export class Pattern {
  private constructor(readonly source: string, private readonly re: RE2JS, private readonly whole: boolean) {}

  /** Throws when `source` is not valid RE2; config validation (the `pattern` field) rules that out first. */
  static compile(source: string, opts: { whole?: boolean } = {}): Pattern {
    let re: RE2JS;
    try {
      re = RE2JS.compile(source);
    } catch (err) {
      throw err instanceof RE2JSException ? new Error(`invalid regular expression /${source}/: ${describe(err)}`) : err;
    }
    return new Pattern(source, re, opts.whole ?? false);
  }

  /** A whole-text glob: `*` any run of characters, `?` one character, everything else literal. */
  static glob(glob: string): Pattern {
    let source = '';
    for (const c of glob) source += c === '*' ? '(?s:.)*' : c === '?' ? '(?s:.)' : RE2JS.quote(c);
    return Pattern.compile(source, { whole: true });
  }

  /** `text` as a pattern matching exactly itself. */
  static quote(text: string): string {
    return RE2JS.quote(text);
  }

  test(text: string): boolean {
    return this.whole ? this.re.testExact(text) : this.re.test(text);
  }

  /** As shown in messages: /source/. */
  toString(): string {
    return `/${this.source}/`;
  }
}

/** A config field holding a pattern; validated at load so a bad one names file, line and key. */
export const pattern = z.string().superRefine((s, ctx) => {
  const problem = patternProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${problem}` });
});
