// DNS: one query in the wire format (support/dns-wire.ts) to the configured server or the
// system's first resolver; the answers checked against regexes. The series are those of
// blackbox_exporter's DNS prober: probe_dns_duration_seconds{phase=resolve|connect|request},
// the answer, authority and additional record counts, probe_dns_query_succeeded,
// probe_dns_serial for SOA queries, and the server address's resolution (probe_ip_protocol…).
import { getServers } from 'node:dns';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckCommon } from '../model/check.js';
import { hostPortTarget } from '../config/kinds.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { pattern, Pattern } from './support/pattern.js';
import { query, RCODES, RR_TYPES, type DnsResponse } from './support/dns-wire.js';
import { RESOLVE_METRICS, resolveSamples, resolveTarget } from './support/resolve.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'SOA'] as const;

const schema = z.object({
  /** The name to resolve. */
  query_name: z.string().min(1),
  record_type: z.enum(RECORD_TYPES).default('A'),
  /** DNS server as ip, ip:port or [ipv6]:port; default: the system's resolvers. */
  server: z.string().refine((s) => net.isIP(s) !== 0 || /^(\d{1,3}(\.\d{1,3}){3}):\d+$/.test(s) || /^\[[0-9a-fA-F:]+\]:\d+$/.test(s), 'expected an IP address, ip:port or [ipv6]:port').optional(),
  /** Every regex must match at least one answer (answers are shown as text: "10 mail.example.com" for MX). */
  expect_answers: z.array(pattern).default([]),
  /** No answer may match any of these. */
  fail_if_answer_matches: z.array(pattern).default([]),
  /** Fewer answers (of record_type) than this fail the check. */
  min_answers: z.number().int().min(0).default(1),
  /** The RD flag of the query (blackbox's recursion_desired). */
  recursion_desired: z.boolean().default(true),
});

export type DnsCheck = CheckCommon & z.output<typeof schema>;

export const dnsProbe: ProbeDefinition<DnsCheck> = {
  type: 'dns',
  doc: {
    what: 'a DNS lookup with expected answers',
    thresholds: '`lookup_time` (the query\'s round trip), `answers`',
  },
  schema,
  reasons: ['assertion'],
  metrics: [
    { name: 'probe_dns_duration_seconds', help: 'Duration of each phase of the DNS query: resolve (the server\'s address), connect, request.', labels: ['phase'] },
    { name: 'probe_dns_answer_rrs', help: 'Number of records in the answer section.' },
    { name: 'probe_dns_authority_rrs', help: 'Number of records in the authority section.' },
    { name: 'probe_dns_additional_rrs', help: 'Number of records in the additional section.' },
    { name: 'probe_dns_query_succeeded', help: 'Whether the server answered the query (whatever the answer).' },
    { name: 'probe_dns_serial', help: 'Serial of the zone (SOA queries only).' },
    ...RESOLVE_METRICS,
  ],
  thresholdKeys: () => ['lookup_time', 'answers'],
  targetOf: (c) => c.server ?? '',
  // As blackbox: the target is the server asked (its port 53 unless given).
  target: {
    keys: ['server'],
    example: '127.0.0.1',
    parse: (t) => {
      const hp = hostPortTarget(t, 53);
      if (typeof hp === 'string') return hp;
      if (!net.isIP(hp.host)) return 'expected the DNS server as an IP address, ip:port or [ipv6]:port';
      return { fields: { server: net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}` }, ...hp };
    },
  },
  create: (check) => {
    const patterns: AnswerPatterns = { expect: check.expect_answers.map((p) => Pattern.compile(p)), fail: check.fail_if_answer_matches.map((p) => Pattern.compile(p)) };
    return { run: (ctx) => probeDns(check, patterns, ctx) };
  },
};

interface AnswerPatterns {
  expect: Pattern[];
  fail: Pattern[];
}

const PHASES = ['resolve', 'connect', 'request'] as const;
const PHASE_LABELS: Record<(typeof PHASES)[number], Record<string, string>> = {
  resolve: Object.freeze({ phase: 'resolve' }), connect: Object.freeze({ phase: 'connect' }), request: Object.freeze({ phase: 'request' }),
};
// `lookup_time` (the query's round trip) keeps its key so thresholds written for it still apply.
const PHASE_KEYS = { resolve: 'duration_resolve', connect: 'duration_connect', request: 'lookup_time' } as const;

/** The server as address and port: the configured one, else the system's first resolver. */
function serverOf(check: DnsCheck): { host: string; port: number } {
  const text = check.server ?? getServers()[0] ?? '127.0.0.1';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1], port: Number(v6[2]) };
  if (net.isIP(text)) return { host: text, port: 53 };
  const [host, port] = text.split(':');
  return { host, port: Number(port) };
}

async function probeDns(check: DnsCheck, patterns: AnswerPatterns, ctx: ProbeRunContext): Promise<ProbeResult> {
  const { host, port } = serverOf(check);
  const where = `${check.record_type} ${check.query_name}${check.server ? ` @${check.server}` : ''}`;
  const durations = { resolve: 0, connect: 0, request: 0 };
  const samples: Sample[] = [];
  const counts = (res: DnsResponse | undefined) => {
    for (const p of PHASES) samples.push({ key: PHASE_KEYS[p], metric: 'probe_dns_duration_seconds', value: durations[p], labels: PHASE_LABELS[p] });
    samples.push({ key: 'answers', metric: 'probe_dns_answer_rrs', value: res?.answer.length ?? 0 });
    samples.push({ key: 'authority_rrs', metric: 'probe_dns_authority_rrs', value: res?.authority.length ?? 0 });
    samples.push({ key: 'additional_rrs', metric: 'probe_dns_additional_rrs', value: res?.additional.length ?? 0 });
    samples.push({ key: 'query_succeeded', metric: 'probe_dns_query_succeeded', value: res ? 1 : 0 });
    const soa = res?.answer.find((a) => a.serial !== undefined);
    if (check.record_type === 'SOA' && soa) samples.push({ key: 'serial', metric: 'probe_dns_serial', value: soa.serial! });
    return samples;
  };
  let address;
  try {
    address = await resolveTarget(host, undefined, ctx.signal);
  } catch (err) {
    samples.push(...resolveSamples(undefined));
    return { ok: false, reason: 'dns', message: `${where}: server ${host}: ${errorMessage(err)}`, samples: counts(undefined) };
  }
  durations.resolve = address.seconds;
  samples.push(...resolveSamples(address));
  let res: DnsResponse;
  const t0 = performance.now();
  try {
    res = await query(address.address, address.family, port, check.query_name, RR_TYPES[check.record_type], check.recursion_desired, ctx.remaining(), ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw abortError();
    // As blackbox: the whole wait is the connect phase when no answer came.
    durations.connect = (performance.now() - t0) / 1000;
    const e = err as NodeJS.ErrnoException;
    return { ok: false, reason: e.code === 'ETIMEOUT' ? 'timeout' : classifyError(err) === 'error' ? 'dns' : classifyError(err), message: `${where}: ${errorMessage(err)}`, samples: counts(undefined) };
  }
  durations.connect = res.connect;
  durations.request = res.rtt;
  counts(res);
  const typed = res.answer.filter((a) => a.type === RR_TYPES[check.record_type]);
  const answers = typed.map((a) => a.text);
  if (res.rcode !== 0) {
    // NXDOMAIN is an answer (nothing there), any other code a failure of the server.
    if (res.rcode === 3 && check.min_answers === 0 && !check.expect_answers.length) return { ok: true, samples };
    const code = RCODES[res.rcode] ?? `rcode ${res.rcode}`;
    return { ok: false, reason: 'dns', message: `${where}: ${res.rcode === 3 ? 'no such name (NXDOMAIN)' : code}, expected at least ${Math.max(1, check.min_answers)} answer(s)`, samples };
  }
  if (!answers.length && (check.min_answers > 0 || check.expect_answers.length)) {
    return { ok: false, reason: 'dns', message: `${where}: no records of this type, expected at least ${Math.max(1, check.min_answers)} answer(s)`, samples };
  }
  const shown = () => answers.slice(0, 5).map((a) => JSON.stringify(a)).join(', ') + (answers.length > 5 ? ', …' : '');
  if (answers.length < check.min_answers) return { ok: false, reason: 'assertion', message: `${where}: ${answers.length} answers, expected at least ${check.min_answers}`, samples };
  for (const re of patterns.expect) {
    if (!answers.some((a) => re.test(a))) return { ok: false, reason: 'assertion', message: `${where}: no answer matches ${re} (got ${shown() || 'none'})`, samples };
  }
  for (const re of patterns.fail) {
    const bad = answers.find((a) => re.test(a));
    if (bad !== undefined) return { ok: false, reason: 'assertion', message: `${where}: answer ${JSON.stringify(bad)} matches ${re}, expected none to`, samples };
  }
  return { ok: true, samples, info: { answers: answers.slice(0, 10).join(', ') } };
}
