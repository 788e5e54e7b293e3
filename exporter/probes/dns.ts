// DNS: resolve a name with node:dns (a Resolver per run, against the configured server or the
// system's), check the answers against regexes, and report lookup time and answer count with
// blackbox_exporter's names (probe_dns_lookup_time_seconds, probe_dns_answer_rrs).
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckCommon } from '../model/check.js';
import { abortError, classifyError, errorMessage } from './support/errors.js';
import { pattern, Pattern } from './support/pattern.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV'] as const;

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
  /** Fewer answers than this fail the check. */
  min_answers: z.number().int().min(0).default(1),
});

export type DnsCheck = CheckCommon & z.output<typeof schema>;

export const dnsProbe: ProbeDefinition<DnsCheck> = {
  type: 'dns',
  doc: {
    what: 'a DNS lookup with expected answers',
    thresholds: '`lookup_time`, `answers`',
  },
  schema,
  reasons: ['assertion'],
  metrics: [
    { name: 'probe_dns_lookup_time_seconds', help: 'Time taken by the DNS lookup.' },
    { name: 'probe_dns_answer_rrs', help: 'Number of records in the answer.' },
  ],
  thresholdKeys: () => ['lookup_time', 'answers'],
  create: (check) => {
    const patterns: AnswerPatterns = { expect: check.expect_answers.map((p) => Pattern.compile(p)), fail: check.fail_if_answer_matches.map((p) => Pattern.compile(p)) };
    return { run: (ctx) => probeDns(check, patterns, ctx) };
  },
};

interface AnswerPatterns {
  expect: Pattern[];
  fail: Pattern[];
}

/** Answers as comparable text, one string per record. */
async function resolveText(r: Resolver, n: string, type: DnsCheck['record_type']): Promise<string[]> {
  switch (type) {
    case 'A': return r.resolve4(n);
    case 'AAAA': return r.resolve6(n);
    case 'CNAME': return r.resolveCname(n);
    case 'NS': return r.resolveNs(n);
    case 'MX': return (await r.resolveMx(n)).map((m) => `${m.priority} ${m.exchange}`);
    case 'TXT': return (await r.resolveTxt(n)).map((chunks) => chunks.join(''));
    case 'SRV': return (await r.resolveSrv(n)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`);
  }
}

async function probeDns(check: DnsCheck, patterns: AnswerPatterns, ctx: ProbeRunContext): Promise<ProbeResult> {
  const resolver = new Resolver({ timeout: ctx.remaining(0), tries: 1 });
  if (check.server) resolver.setServers([check.server]);
  const onAbort = () => resolver.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const where = `${check.record_type} ${check.query_name}${check.server ? ` @${check.server}` : ''}`;
  const t0 = performance.now();
  let answers: string[];
  try {
    answers = await resolveText(resolver, check.query_name, check.record_type);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const lookup: Sample = { key: 'lookup_time', metric: 'probe_dns_lookup_time_seconds', value: (performance.now() - t0) / 1000 };
    if (ctx.signal.aborted || e.code === 'ECANCELLED') throw abortError();
    if (e.code === 'ENODATA' || e.code === 'ENOTFOUND') {
      // Not a transport failure: the server answered, with nothing (NXDOMAIN or no such record).
      const samples = [lookup, { key: 'answers', metric: 'probe_dns_answer_rrs', value: 0 }];
      if (check.min_answers === 0 && !check.expect_answers.length) return { ok: true, samples };
      return { ok: false, reason: 'dns', message: `${where}: ${e.code === 'ENOTFOUND' ? 'no such name (NXDOMAIN)' : 'no records of this type'}, expected at least ${Math.max(1, check.min_answers)} answer(s)`, samples };
    }
    return { ok: false, reason: e.code === 'ETIMEOUT' ? 'timeout' : classifyError(err) === 'error' ? 'dns' : classifyError(err), message: `${where}: ${errorMessage(err)}`, samples: [lookup] };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const samples: Sample[] = [
    { key: 'lookup_time', metric: 'probe_dns_lookup_time_seconds', value: (performance.now() - t0) / 1000 },
    { key: 'answers', metric: 'probe_dns_answer_rrs', value: answers.length },
  ];
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
