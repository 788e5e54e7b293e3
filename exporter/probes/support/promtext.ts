// Just enough of the Prometheus text exposition format (0.0.4, and the OpenMetrics text that
// most exporters also serve) to pick samples out of an app's /metrics: sample lines with label
// escapes, NaN/±Inf values, optional timestamps and exemplars. Comments, HELP and TYPE are
// skipped. Series selectors use PromQL's syntax: name{label="v", other=~"re", x!="y"}; regex
// matchers are RE2 and match the whole label value, as in Prometheus.
import { Pattern, patternProblem } from './pattern.js';

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  re?: Pattern;
}

export interface Selector {
  name: string;
  matchers: Matcher[];
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parse `name{a="x",b=~"y.*"}`; returns an error message for bad input. */
export function parseSelector(text: string): Selector | string {
  const s = text.trim();
  const m = NAME_RE.exec(s);
  if (!m) return 'expected a metric name, e.g. http_requests_total{code=~"5.."}';
  let i = m[0].length;
  const matchers: Matcher[] = [];
  if (i < s.length) {
    if (s[i] !== '{') return `unexpected "${s[i]}" after the metric name`;
    i++;
    for (;;) {
      while (s[i] === ' ' || s[i] === ',') i++;
      if (s[i] === '}') { i++; break; }
      if (i >= s.length) return 'missing "}"';
      const l = LABEL_RE.exec(s.slice(i));
      if (!l) return `expected a label name at "${s.slice(i, i + 10)}"`;
      i += l[0].length;
      while (s[i] === ' ') i++;
      const op = ['=~', '!~', '!=', '='].find((o) => s.startsWith(o, i)) as Matcher['op'] | undefined;
      if (!op) return `expected =, !=, =~ or !~ after ${l[0]}`;
      i += op.length;
      while (s[i] === ' ') i++;
      const q = readQuoted(s, i);
      if (!q) return `expected a quoted value for ${l[0]}`;
      i = q.end;
      const matcher: Matcher = { label: l[0], op, value: q.value };
      if (op === '=~' || op === '!~') {
        // Compiled on its own and matched against the whole value, rather than spliced into
        // ^(?:…)$, so that a value such as `a)|(b` cannot break out of the anchors.
        const problem = patternProblem(q.value);
        if (problem) return `invalid regular expression for ${l[0]}: ${problem}`;
        matcher.re = Pattern.compile(q.value, { whole: true });
      }
      matchers.push(matcher);
    }
    if (s.slice(i).trim()) return `unexpected text after "}": ${s.slice(i, i + 20)}`;
  }
  return { name: m[0], matchers };
}

function readQuoted(s: string, i: number): { value: string; end: number } | undefined {
  if (s[i] !== '"') return undefined;
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') {
      const n = s[++j];
      out += n === 'n' ? '\n' : n ?? '';
    } else if (c === '"') return { value: out, end: j + 1 };
    else out += c;
  }
  return undefined;
}

export function selectorMatches(sel: Selector, labels: Record<string, string>, name = sel.name): boolean {
  if (name !== sel.name) return false;
  for (const m of sel.matchers) {
    const v = labels[m.label] ?? '';
    const ok = m.op === '=' ? v === m.value
      : m.op === '!=' ? v !== m.value
        : m.op === '=~' ? m.re!.test(v)
          : !m.re!.test(v);
    if (!ok) return false;
  }
  return true;
}

function parseValue(t: string): number {
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (t === 'NaN') return NaN;
  return Number(t);
}

/** One sample line, or undefined for comments, blanks and lines that don't parse. */
export function parseSampleLine(line: string): PromSample | undefined {
  if (!line || line[0] === '#') return undefined;
  const m = NAME_RE.exec(line);
  if (!m) return undefined;
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const l = LABEL_RE.exec(line.slice(i));
      if (!l) return undefined;
      i += l[0].length;
      if (line[i] !== '=') return undefined;
      const q = readQuoted(line, i + 1);
      if (!q) return undefined;
      labels[l[0]] = q.value;
      i = q.end;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (!rest[0]) return undefined;
  const value = parseValue(rest[0]);
  if (Number.isNaN(value) && rest[0] !== 'NaN') return undefined;
  return { name, labels, value };
}

/** Feed body chunks; complete lines go to `onSample` (nothing else is kept). */
export class LineSplitter {
  private rest = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private onLine: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  end(): void {
    const last = this.rest + this.decoder.decode();
    this.rest = '';
    if (last) this.onLine(last);
  }
}
