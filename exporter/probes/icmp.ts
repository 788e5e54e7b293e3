// ICMP echo (ping), with blackbox_exporter's series: probe_icmp_duration_seconds{phase=resolve|
// setup|rtt} and probe_icmp_reply_hop_limit. Node has no ICMP sockets (raw or the Linux
// unprivileged datagram kind), so each run starts the system's `ping` (iputils, package
// iputils-ping) for one echo to the address resolved here: it holds the privilege ICMP needs
// (file capability cap_net_raw, or net.ipv4.ping_group_range) so the exporter needs none.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { CheckCommon } from '../model/check.js';
import type { ProbeResult, Sample } from '../model/result.js';
import { roundMicros } from '../model/units.js';
import { classifyError, errorMessage } from './support/errors.js';
import { ipProtocol, RESOLVE_METRICS, resolveSamples, resolveTarget, type Resolved } from './support/resolve.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';

/** The ping binary; VIGIL_PING_BIN overrides it (tests, unusual installs). */
const pingBin = () => process.env.VIGIL_PING_BIN || 'ping';
/** Output kept from ping: one echo's lines are well under this. */
const MAX_OUTPUT = 16 * 1024;

const schema = z.object({
  /** Host name or IP address to ping. */
  host: z.string().min(1).max(253),
  ip_protocol: ipProtocol,
  /** TTL (hop limit) of the echo request. */
  ttl: z.number().int().min(1).max(255).default(64),
  /** Bytes of payload after the ICMP header. */
  payload_size: z.number().int().min(0).max(65_500).default(56),
});

export type IcmpCheck = CheckCommon & z.output<typeof schema>;

const PHASES = ['resolve', 'setup', 'rtt'] as const;
const PHASE_LABELS: Record<(typeof PHASES)[number], Record<string, string>> = {
  resolve: Object.freeze({ phase: 'resolve' }), setup: Object.freeze({ phase: 'setup' }), rtt: Object.freeze({ phase: 'rtt' }),
};
// `rtt` is the key thresholds judge.
const PHASE_KEYS = { resolve: 'duration_resolve', setup: 'duration_setup', rtt: 'rtt' } as const;

export const icmpProbe: ProbeDefinition<IcmpCheck> = {
  type: 'icmp',
  doc: {
    what: 'ICMP echo (ping) through the system\'s `ping` (iputils-ping): round trip and reply TTL',
    thresholds: '`response_time`, `rtt` (the echo\'s round trip)',
  },
  schema,
  reasons: [],
  metrics: [
    { name: 'probe_icmp_duration_seconds', help: 'Duration of each phase of the ICMP echo: resolve, setup (starting ping), rtt.', labels: ['phase'] },
    { name: 'probe_icmp_reply_hop_limit', help: 'TTL (IPv4) or hop limit (IPv6) of the echo reply (only when one came).' },
    ...RESOLVE_METRICS,
  ],
  thresholdKeys: () => ['rtt'],
  targetOf: (c) => c.host,
  target: {
    keys: ['host'],
    example: '127.0.0.1',
    parse: (t) => {
      const host = t.replace(/^\[(.+)\]$/, '$1');
      if (!net.isIP(host) && !/^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_.])?$/.test(host)) return 'expected a host name or IP address';
      return { fields: { host }, host };
    },
  },
  create: (check) => ({ run: (ctx) => probeIcmp(check, ctx) }),
};

async function probeIcmp(check: IcmpCheck, ctx: ProbeRunContext): Promise<ProbeResult> {
  const durations = { resolve: 0, setup: 0, rtt: 0 };
  const samples = (address: Resolved | undefined, failedAfter = 0, hopLimit?: number): Sample[] => [
    ...PHASES.map((p) => ({ key: PHASE_KEYS[p], metric: 'probe_icmp_duration_seconds', value: roundMicros(durations[p]), labels: PHASE_LABELS[p] })),
    ...resolveSamples(address, roundMicros(failedAfter)),
    ...(hopLimit === undefined ? [] : [{ key: 'reply_hop_limit', metric: 'probe_icmp_reply_hop_limit', value: hopLimit }]),
  ];
  const t0 = performance.now();
  let address: Resolved;
  try {
    address = await resolveTarget(check.host, check.ip_protocol, ctx.signal);
  } catch (err) {
    durations.resolve = (performance.now() - t0) / 1000;
    return { ok: false, reason: classifyError(err), message: `${check.host}: ${errorMessage(err)}`, samples: samples(undefined, durations.resolve) };
  }
  durations.resolve = address.seconds;
  // ping's own wait ends before the run's deadline, so its "no reply" wins over the runner's timeout.
  const waitSeconds = Math.max(0.001, ctx.remaining() / 1000);
  const args = ['-n', '-c', '1', '-W', waitSeconds.toFixed(3), '-t', String(check.ttl), '-s', String(check.payload_size), address.family === 6 ? '-6' : '-4', address.address];
  const tStart = performance.now();
  let out: { code: number | null; stdout: string };
  try {
    out = await runPing(args, ctx.signal);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = e.code === 'ENOENT' ? `${pingBin()} not found: the icmp kind needs the system's ping (Debian: apt-get install iputils-ping)` : errorMessage(err);
    return { ok: false, reason: classifyError(err), message: `${check.host}: ${message}`, samples: samples(address) };
  }
  const elapsed = (performance.now() - tStart) / 1000;
  const reply = /bytes from .*?ttl=(\d+).*?time=([\d.]+) ms/s.exec(out.stdout);
  if (out.code === 0 && reply) {
    durations.rtt = Number(reply[2]) / 1000;
    durations.setup = Math.max(0, elapsed - durations.rtt);
    return { ok: true, samples: samples(address, 0, Number(reply[1])), info: { address: address.address } };
  }
  durations.setup = elapsed;
  const where = `${check.host}${address.address !== check.host ? ` (${address.address})` : ''}`;
  const unreachable = /unreachable|exceeded/i.exec(out.stdout);
  if (unreachable) return { ok: false, reason: 'connect', message: `${where}: ${unreachable[0].toLowerCase()} (${firstLine(out.stdout, /unreachable|exceeded/i)})`, samples: samples(address) };
  if (out.code === 1) return { ok: false, reason: 'timeout', message: `${where}: no echo reply within ${waitSeconds.toFixed(1)}s`, samples: samples(address) };
  return { ok: false, reason: 'error', message: `${where}: ping exited with ${out.code}: ${out.stdout.trim().split('\n').pop() ?? ''}`.slice(0, 300), samples: samples(address) };
}

function firstLine(text: string, re: RegExp): string {
  return text.split('\n').find((l) => re.test(l))?.trim().slice(0, 200) ?? '';
}

/** One ping; its output (stdout and stderr, bounded) and exit code. Killed when the signal fires. */
function runPing(args: string[], signal: AbortSignal): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(pingBin(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    let output = '';
    const take = (d: Buffer) => { if (output.length < MAX_OUTPUT) output += d.toString('utf8'); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => { signal.removeEventListener('abort', onAbort); reject(err); });
    child.once('close', (code) => { signal.removeEventListener('abort', onAbort); resolve({ code, stdout: output }); });
  });
}
