// Host resources via systeminformation: CPU utilisation, memory, disk per mount, load.
import os from 'node:os';
import { lazy, warm } from './support/lazy.js';
import { z } from 'zod';
import type { CheckCommon, Threshold } from '../model/check.js';
import { pattern, Pattern } from './support/pattern.js';
import type { ProbeDefinition } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';
import { formatValue } from '../model/units.js';

// Pseudo and read-only image filesystems: their "usage" says nothing about free space.
const DEFAULT_FS_EXCLUDE = '^(tmpfs|devtmpfs|squashfs|proc|sysfs|cgroup2?|nsfs|autofs|devpts|mqueue|fuse\\..*|iso9660|ramfs|overlay2?)$';

const schema = z.object({
  /** Which figures to collect. */
  collect: z.array(z.enum(['cpu', 'memory', 'disk', 'load'])).min(1).default(['cpu', 'memory', 'disk', 'load']),
  mounts: z.strictObject({
    include: pattern.optional(),
    exclude: pattern.default('^/(proc|sys|dev|run)($|/)|^/snap/'),
    fs_types_exclude: pattern.default(DEFAULT_FS_EXCLUDE),
  }).default({ exclude: '^/(proc|sys|dev|run)($|/)|^/snap/', fs_types_exclude: DEFAULT_FS_EXCLUDE }),
});

export type SystemCheck = CheckCommon & z.output<typeof schema>;

export const systemProbe: ProbeDefinition<SystemCheck> = {
  type: 'system',
  doc: {
    what: 'this host\'s CPU, memory, disks (per mount), load',
    thresholds: '`cpu_utilization` (90 %/98 %), `memory_used` (80 %/95 %), `disk_used` (85 %/95 %), `load1`, `load5`, `load15`',
  },
  schema,
  metrics: [
    { name: 'vigil_system_cpu_utilization_ratio', help: 'CPU busy ratio (0-1) since the previous run, all cores.' },
    { name: 'vigil_system_memory_used_ratio', help: 'Memory in use (total minus available) as a ratio of total.' },
    { name: 'vigil_system_memory_used_bytes', help: 'Memory in use: total minus available.' },
    { name: 'vigil_system_memory_total_bytes', help: 'Total memory.' },
    { name: 'vigil_system_disk_used_ratio', help: 'Used ratio of a mounted filesystem.', labels: ['mount'] },
    { name: 'vigil_system_disk_used_bytes', help: 'Used bytes of a mounted filesystem.', labels: ['mount'] },
    { name: 'vigil_system_disk_size_bytes', help: 'Size of a mounted filesystem.', labels: ['mount'] },
    { name: 'vigil_system_load1', help: '1-minute load average.' },
    { name: 'vigil_system_load5', help: '5-minute load average.' },
    { name: 'vigil_system_load15', help: '15-minute load average.' },
  ],
  thresholdKeys: () => ['cpu_utilization', 'memory_used', 'disk_used', 'load1', 'load5', 'load15'],
  defaultThresholds: (c) => ({
    ...(c.collect.includes('memory') ? { memory_used: { warning: 0.8, critical: 0.95, direction: 'above' as const } } : {}),
    ...(c.collect.includes('disk') ? { disk_used: { warning: 0.85, critical: 0.95, direction: 'above' as const } } : {}),
    ...(c.collect.includes('cpu') ? { cpu_utilization: { warning: 0.9, critical: 0.98, direction: 'above' as const } } : {}),
  }),
  reasons: [],
  headline: systemHeadline,
  pageDetails: ({ samples, thresholds }) => resources(samples, thresholds),
  create: (check) => {
    warm(loadSi);
    const { include, exclude, fs_types_exclude } = check.mounts;
    const mounts: MountFilter = {
      include: include === undefined ? undefined : Pattern.compile(include),
      exclude: Pattern.compile(exclude),
      fsExclude: Pattern.compile(fs_types_exclude),
    };
    return { run: () => probeSystem(check, mounts) };
  },
};

const loadSi = lazy(async () => (await import('systeminformation')).default);

interface MountFilter {
  include?: Pattern;
  exclude: Pattern;
  fsExclude: Pattern;
}

async function probeSystem(check: SystemCheck, { include, exclude, fsExclude }: MountFilter): Promise<ProbeResult> {
  const si = await loadSi();
  const samples: Sample[] = [];
  const want = new Set(check.collect);
  const [load, mem, fs] = await Promise.all([
    want.has('cpu') ? si.currentLoad() : undefined,
    want.has('memory') ? si.mem() : undefined,
    want.has('disk') ? si.fsSize() : undefined,
  ]);
  if (load) samples.push({ key: 'cpu_utilization', metric: 'vigil_system_cpu_utilization_ratio', value: load.currentLoad / 100 });
  if (mem) {
    const used = mem.total - mem.available;
    samples.push(
      { key: 'memory_used', metric: 'vigil_system_memory_used_ratio', value: used / mem.total },
      { key: 'memory_used_bytes', metric: 'vigil_system_memory_used_bytes', value: used },
      { key: 'memory_total_bytes', metric: 'vigil_system_memory_total_bytes', value: mem.total },
    );
  }
  if (fs) {
    const seen = new Set<string>();
    for (const f of fs) {
      if (!f.mount || seen.has(f.mount) || !(f.size > 0)) continue;
      if (fsExclude.test(f.type) || exclude.test(f.mount) || (include && !include.test(f.mount))) continue;
      seen.add(f.mount);
      const labels = { mount: f.mount };
      samples.push(
        { key: 'disk_used', metric: 'vigil_system_disk_used_ratio', value: f.used / f.size, labels },
        { key: 'disk_used_bytes', metric: 'vigil_system_disk_used_bytes', value: f.used, labels },
        { key: 'disk_size_bytes', metric: 'vigil_system_disk_size_bytes', value: f.size, labels },
      );
    }
  }
  if (want.has('load')) {
    const [l1, l5, l15] = os.loadavg();
    samples.push(
      { key: 'load1', metric: 'vigil_system_load1', value: l1 },
      { key: 'load5', metric: 'vigil_system_load5', value: l5 },
      { key: 'load15', metric: 'vigil_system_load15', value: l15 },
    );
  }
  return { ok: true, samples };
}

/** "CPU 12 % · mem 40 % · / 71 %" (the fullest disk), or the load when nothing else was collected. */
function systemHeadline(samples: Sample[]): string | null {
  const parts: string[] = [];
  const get = (k: string) => samples.find((s) => s.key === k);
  const cpu = get('cpu_utilization');
  const mem = get('memory_used');
  const disks = samples.filter((s) => s.key === 'disk_used');
  if (cpu) parts.push(`CPU ${formatValue(cpu.metric, cpu.value)}`);
  if (mem) parts.push(`mem ${formatValue(mem.metric, mem.value)}`);
  if (disks.length) {
    const fullest = disks.reduce((a, b) => (b.value > a.value ? b : a));
    parts.push(`${fullest.labels?.mount ?? 'disk'} ${formatValue(fullest.metric, fullest.value)}`);
  }
  const load = get('load1');
  if (!parts.length && load) parts.push(`load ${formatValue(load.metric, load.value)}`);
  return parts.length ? parts.join(' · ') : null;
}

/** The status page's resources panel: CPU, memory, disks by mount, and their levels. */
export interface ResourcesView {
  cpu?: number;
  memory?: number;
  memory_used_bytes?: number;
  memory_total_bytes?: number;
  load1?: number;
  disks: Array<{ mount: string; used: number; used_bytes?: number; size_bytes?: number }>;
  /** Warning/critical levels of cpu_utilization, memory_used, disk_used (ratios). */
  thresholds: Record<string, { warning?: number; critical?: number }>;
}

function resources(samples: Sample[], thresholds: Record<string, Threshold>): ResourcesView {
  const out: ResourcesView = { disks: [], thresholds: {} };
  const byMount = new Map<string, ResourcesView['disks'][number]>();
  for (const x of samples) {
    switch (x.key) {
      case 'cpu_utilization': out.cpu = x.value; break;
      case 'memory_used': out.memory = x.value; break;
      case 'memory_used_bytes': out.memory_used_bytes = x.value; break;
      case 'memory_total_bytes': out.memory_total_bytes = x.value; break;
      case 'load1': out.load1 = x.value; break;
      case 'disk_used': case 'disk_used_bytes': case 'disk_size_bytes': {
        const mount = x.labels?.mount ?? '?';
        const d = byMount.get(mount) ?? { mount, used: 0 };
        if (x.key === 'disk_used') d.used = x.value;
        else if (x.key === 'disk_used_bytes') d.used_bytes = x.value;
        else d.size_bytes = x.value;
        byMount.set(mount, d);
        break;
      }
    }
  }
  out.disks = [...byMount.values()].sort((a, b) => a.mount.localeCompare(b.mount));
  for (const k of ['cpu_utilization', 'memory_used', 'disk_used']) {
    const t = thresholds[k];
    if (t) out.thresholds[k] = { warning: t.warning, critical: t.critical };
  }
  return out;
}
