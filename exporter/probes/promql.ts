// PromQL: named instant queries against a Prometheus-compatible API, each yielding one number
// (vigil_promql_value{name}) compared to thresholds keyed by the name. Meant for application
// figures that Prometheus already has: error ratio, request rate, latency percentiles. Put these
// checks in the `performance` component so GET /health/performance shows them together.
import { z } from 'zod';
import { name } from '../config/common.js';
import type { CheckCommon } from '../model/check.js';
import { size } from '../config/units.js';
import { publicUrl, redact } from '../config/secrets.js';
import { classifyError, errorMessage } from './support/errors.js';
import { authHeaders, boundedGetBuffer, BodyTooLarge, httpAuthFields, httpAuthProblems, prepareHttpGet } from './support/httpget.js';
import type { FailureReason, ProbeResult, Sample } from '../model/result.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import { namedValueProblems } from './support/named.js';

const query = z.strictObject({
  name,
  /** An instant query returning one series or a scalar (wrap vectors in sum()/max() as needed). */
  query: z.string().min(1),
  /** No series or NaN: fail the check (default), skip the value (ok), or use empty_value (value). */
  on_empty: z.enum(['fail', 'ok', 'value']).default('fail'),
  empty_value: z.number().default(0),
});

const schema = z.object({
  /** Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  queries: z.array(query).min(1),
  max_body_bytes: size.default(1024 * 1024),
  ...httpAuthFields,
});

export type PromqlCheck = CheckCommon & z.output<typeof schema>;

export const promqlProbe: ProbeDefinition<PromqlCheck> = {
  type: 'promql',
  doc: {
    what: 'named PromQL instant queries against Prometheus',
    thresholds: 'the query names',
  },
  schema,
  reasons: ['protocol', 'status', 'missing'],
  metrics: [{ name: 'vigil_promql_value', help: 'Result of a named PromQL instant query.', labels: ['name'] }],
  thresholdKeys: (c) => c.queries.map((q) => q.name),
  validate: (c) => {
    const problems = namedValueProblems(c.queries, 'queries', 'query');
    problems.push(...httpAuthProblems(c));
    return problems;
  },
  targetOf: (c) => publicUrl(c.url),
  create: (check) => {
    prepareHttpGet(check);
    return { run: (ctx) => probePromql(check, ctx) };
  },
};

type Outcome = { value?: number; failure?: { reason: FailureReason; message: string } };

async function probePromql(check: PromqlCheck, ctx: ProbeRunContext): Promise<ProbeResult> {
  const outcomes = await Promise.all(check.queries.map((q) => runQuery(check, q, ctx)));
  const samples: Sample[] = [];
  let failure: Outcome['failure'];
  outcomes.forEach((o, i) => {
    const q = check.queries[i];
    if (o.value !== undefined) samples.push({ key: q.name, metric: 'vigil_promql_value', value: o.value, labels: { name: q.name } });
    failure ??= o.failure;
  });
  if (failure) return { ok: false, reason: failure.reason, message: redact(failure.message), samples };
  return { ok: true, samples };
}

async function runQuery(check: PromqlCheck, q: z.output<typeof query>, ctx: ProbeRunContext): Promise<Outcome> {
  const base = check.url.replace(/\/+$/, '');
  // Prometheus stops evaluating at `timeout` too (its durations take no decimals: use ms).
  const timeoutMs = Math.max(100, Math.floor(ctx.remaining()));
  const url = `${base}/api/v1/query?${new URLSearchParams({ query: q.query, timeout: `${timeoutMs}ms` })}`;
  const where = `query ${q.name}`;
  let res;
  try {
    res = await boundedGetBuffer(url, { headers: { accept: 'application/json', ...authHeaders(check) }, signal: ctx.signal, maxBytes: check.max_body_bytes, insecure: check.tls.insecure_skip_verify });
  } catch (err) {
    if (err instanceof BodyTooLarge) return { failure: { reason: 'protocol', message: `${where}: ${err.message}` } };
    return { failure: { reason: classifyError(err), message: `${where}: ${new URL(base).host}: ${errorMessage(err)}` } };
  }
  let doc: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    return { failure: { reason: res.status >= 300 ? 'status' : 'protocol', message: `${where}: HTTP ${res.status}, body is not the Prometheus API's JSON` } };
  }
  if (res.status === 401 || res.status === 403) return { failure: { reason: 'auth', message: `${where}: HTTP ${res.status} from Prometheus (check basic_auth/bearer_token)` } };
  if (res.status >= 300 || doc.status !== 'success') {
    return { failure: { reason: 'status', message: `${where}: HTTP ${res.status}, ${doc.errorType ?? 'error'}: ${doc.error ?? 'no error text'}` } };
  }
  const { resultType, result } = doc.data ?? {};
  let value: number | undefined;
  if (resultType === 'scalar') value = Number((result as [number, string])[1]);
  else if (resultType === 'vector') {
    const vec = result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    if (vec.length > 1) {
      const labels = vec.slice(0, 3).map((s) => JSON.stringify(s.metric)).join(', ');
      return { failure: { reason: 'invalid_result', message: `${where} returned ${vec.length} series (${labels}${vec.length > 3 ? ', …' : ''}), expected one: aggregate it, e.g. sum(...) or max(...)` } };
    }
    if (vec.length === 1) value = Number(vec[0].value[1]);
  } else {
    return { failure: { reason: 'invalid_result', message: `${where} returned a ${resultType ?? 'missing'} result, expected a vector or scalar` } };
  }
  if (value === undefined || Number.isNaN(value)) {
    const seen = value === undefined ? 'no series' : 'NaN';
    if (q.on_empty === 'ok') return {};
    if (q.on_empty === 'value') return { value: q.empty_value };
    return { failure: { reason: 'missing', message: `${where} returned ${seen}, expected a number (on_empty: ok or value allows that)` } };
  }
  return { value };
}
