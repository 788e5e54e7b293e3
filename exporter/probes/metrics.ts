// Metrics: scrape an app's Prometheus endpoint (e.g. the OTel instrumentation's :9464/metrics)
// and turn named series selections into values with thresholds, for setups without Prometheus.
// Modes: the current value (sum/avg/min/max/count over matching series), a rate from counter
// deltas between runs (per second or per minute), a histogram's average over the last interval
// (delta of _sum / delta of _count) and a ratio of two counters' deltas (error ratio).
// The body is parsed line by line as it arrives and never held whole; its size is capped.
import { z } from 'zod';
import { name } from '../config/common.js';
import type { CheckCommon } from '../model/check.js';
import { publicUrl, redact } from '../config/secrets.js';
import { size } from '../config/units.js';
import { classifyError, errorMessage } from './support/errors.js';
import { authHeaders, boundedGet, BodyTooLarge, httpAuthFields, httpAuthProblems, prepareHttpGet } from './support/httpget.js';
import { LineSplitter, parseSampleLine, parseSelector, selectorMatches, type Selector } from './support/promtext.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';
import { namedValueProblems } from './support/named.js';

const selector = z.string().min(1).superRefine((s, ctx) => {
  const r = parseSelector(s);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: `invalid series selector: ${r}` });
});

const MODES = ['value', 'rate', 'rate_per_minute', 'histogram_avg', 'ratio'] as const;

const valueSpec = z.strictObject({
  name,
  /** Series selector: metric{label="v",other=~"re"}. For histogram_avg, the histogram's name (without _sum/_count). */
  series: selector,
  /** How matching series combine into one number. */
  aggregate: z.enum(['sum', 'avg', 'min', 'max', 'count']).default('sum'),
  /** value | rate (per second) | rate_per_minute | histogram_avg (seconds) | ratio (series / denominator, 0-1). */
  mode: z.enum(MODES).default('value'),
  /** For mode ratio: the total the series is a part of, e.g. all requests. */
  denominator: selector.optional(),
  /** No series matched: fail the check (default), skip the value (ok), or use empty_value (value). */
  on_empty: z.enum(['fail', 'ok', 'value']).default('fail'),
  empty_value: z.number().default(0),
});
type ValueSpec = z.output<typeof valueSpec>;

const schema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  values: z.array(valueSpec).min(1),
  max_body_bytes: size.default(10 * 1024 * 1024),
  ...httpAuthFields,
});

export type MetricsCheck = CheckCommon & z.output<typeof schema>;

export const metricsProbe: ProbeDefinition<MetricsCheck> = {
  type: 'metrics',
  doc: {
    what: 'values computed from an app\'s own `/metrics` (no Prometheus needed)',
    thresholds: 'the value names',
  },
  schema,
  reasons: ['protocol', 'status', 'missing'],
  metrics: [{ name: 'vigil_metrics_value', help: 'A value computed from series scraped from an application\'s metrics endpoint.', labels: ['name'] }],
  thresholdKeys: (c) => c.values.map((v) => v.name),
  validate: (c) => {
    const problems = namedValueProblems(c.values, 'values', 'value');
    c.values.forEach((v, i) => {
      if (v.mode === 'ratio' && !v.denominator) problems.push([['values', i, 'denominator'], 'mode ratio needs a denominator selector (the total)']);
      if (v.mode !== 'ratio' && v.denominator) problems.push([['values', i, 'denominator'], 'denominator is only used with mode: ratio']);
      if ((v.mode === 'rate' || v.mode === 'rate_per_minute' || v.mode === 'ratio' || v.mode === 'histogram_avg') && v.aggregate !== 'sum') {
        problems.push([['values', i, 'aggregate'], `mode ${v.mode} works on sums of counters; use aggregate: sum`]);
      }
    });
    problems.push(...httpAuthProblems(c));
    return problems;
  },
  targetOf: (c) => publicUrl(c.url),
  create: (check) => {
    prepareHttpGet(check);
    const previous = new Map<string, Reading>();
    // Selectors (and their regexes) are compiled once per check, not per run.
    const selections = check.values.map(selectionFor);
    return { run: (ctx) => probeMetrics(check, selections, previous, ctx) };
  },
};

interface Acc { sum: number; count: number; min: number; max: number }
const newAcc = (): Acc => ({ sum: 0, count: 0, min: Infinity, max: -Infinity });
interface Reading { t: number; num: number; den: number }

/** The series one value is computed from. */
interface Selection {
  spec: ValueSpec;
  num: Selector;
  den?: Selector;
}

interface Plan extends Selection {
  numAcc: Acc;
  denAcc: Acc;
}

function selectionFor(spec: ValueSpec): Selection {
  const sel = parseSelector(spec.series) as Selector;
  if (spec.mode === 'histogram_avg') {
    const base = sel.name.replace(/_(sum|count|bucket)$/, '');
    return { spec, num: { ...sel, name: `${base}_sum` }, den: { ...sel, name: `${base}_count` } };
  }
  return { spec, num: sel, den: spec.denominator ? (parseSelector(spec.denominator) as Selector) : undefined };
}

async function probeMetrics(check: MetricsCheck, selections: Selection[], previous: Map<string, Reading>, ctx: ProbeRunContext): Promise<ProbeResult> {
  const plans: Plan[] = selections.map((s) => ({ ...s, numAcc: newAcc(), denAcc: newAcc() }));
  const wanted = new Map<string, Array<{ sel: Selector; acc: Acc }>>();
  const want = (sel: Selector, acc: Acc) => {
    const list = wanted.get(sel.name) ?? [];
    list.push({ sel, acc });
    wanted.set(sel.name, list);
  };
  for (const p of plans) {
    want(p.num, p.numAcc);
    if (p.den) want(p.den, p.denAcc);
  }
  let lines = 0;
  const splitter = new LineSplitter((line) => {
    lines++;
    if (!line || line[0] === '#') return;
    const sp = line.indexOf('{');
    const end = sp >= 0 ? sp : line.indexOf(' ');
    const targets = wanted.get(line.slice(0, end < 0 ? undefined : end));
    if (!targets) return;
    const s = parseSampleLine(line);
    if (!s) return;
    for (const { sel, acc } of targets) {
      if (!selectorMatches(sel, s.labels, s.name)) continue;
      acc.sum += s.value;
      acc.count++;
      acc.min = Math.min(acc.min, s.value);
      acc.max = Math.max(acc.max, s.value);
    }
  });

  const target = new URL(check.url);
  let res;
  try {
    res = await boundedGet(check.url, {
      headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', ...authHeaders(check) },
      signal: ctx.signal, maxBytes: check.max_body_bytes, insecure: check.tls.insecure_skip_verify,
      onChunk: (c) => splitter.push(c),
    });
    splitter.end();
  } catch (err) {
    if (err instanceof BodyTooLarge) return { ok: false, reason: 'protocol', message: `${target.host}${target.pathname}: ${err.message}`, samples: [] };
    return { ok: false, reason: classifyError(err), message: redact(`GET ${target.origin}${target.pathname}: ${errorMessage(err)}`), samples: [] };
  }
  if (res.status === 401 || res.status === 403) return { ok: false, reason: 'auth', message: `GET ${target.origin}${target.pathname}: status ${res.status}, expected 200`, samples: [] };
  if (res.status !== 200) return { ok: false, reason: 'status', message: `GET ${target.origin}${target.pathname}: status ${res.status}, expected 200`, samples: [] };

  const now = Date.now();
  const samples: Sample[] = [];
  const problems: string[] = [];
  for (const p of plans) {
    const { spec } = p;
    const push = (value: number) => samples.push({ key: spec.name, metric: 'vigil_metrics_value', value, labels: { name: spec.name } });
    if (p.numAcc.count === 0 || (p.den && p.denAcc.count === 0)) {
      previous.delete(spec.name);
      const missing = p.numAcc.count === 0 ? p.num : p.den!;
      if (spec.on_empty === 'value') push(spec.empty_value);
      else if (spec.on_empty === 'fail') problems.push(`${spec.name}: no series matches ${formatSelector(missing)} (${lines} lines scraped)`);
      continue;
    }
    if (spec.mode === 'value') {
      const a = p.numAcc;
      push(spec.aggregate === 'sum' ? a.sum : spec.aggregate === 'avg' ? a.sum / a.count : spec.aggregate === 'min' ? a.min : spec.aggregate === 'max' ? a.max : a.count);
      continue;
    }
    // Delta modes: the first run only sets the baseline; counter resets count from zero.
    const reading: Reading = { t: now, num: p.numAcc.sum, den: p.denAcc.sum };
    const prev = previous.get(spec.name);
    previous.set(spec.name, reading);
    if (!prev) continue;
    const dNum = reading.num >= prev.num ? reading.num - prev.num : reading.num;
    const dDen = reading.den >= prev.den ? reading.den - prev.den : reading.den;
    const dt = (reading.t - prev.t) / 1000;
    if (spec.mode === 'rate' || spec.mode === 'rate_per_minute') {
      if (dt > 0) push((dNum / dt) * (spec.mode === 'rate_per_minute' ? 60 : 1));
    } else if (dDen > 0) {
      push(dNum / dDen); // histogram_avg: seconds per observation; ratio: part of the total
    }
    // No new observations (dDen = 0): no value this run, which is not a failure (no traffic).
  }
  if (problems.length) return { ok: false, reason: 'missing', message: problems.join('; '), samples };
  return { ok: true, samples };
}

function formatSelector(s: Selector): string {
  return s.matchers.length ? `${s.name}{${s.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}` : s.name;
}

