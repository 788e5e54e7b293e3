// System resources: is a host running out of CPU, memory or disk, and when will a disk be full?
// Reads the `system` checks (vigil_system_*) with their configured thresholds, and the
// exporter's own `process` check.

import {
  CHECK, COLOR, UNIT, instant, range, sel, statPanel, steps, tableQuery, tablePanel,
  thresholdLines, timeseriesPanel,
} from './common.js';

export const SYSTEM_UID = 'vigil-system';

/** Restricts the component / check variables to system checks. */
export const SYSTEM_CHECKS = 'type="system"';

const usage = steps(COLOR.ok, [0.8, COLOR.warning], [0.95, COLOR.critical]);

export const cpuNow = () =>
  statPanel({
    title: 'CPU',
    description: 'CPU busy ratio of each host at its last run (vigil_system_cpu_utilization_ratio).',
    w: 6, h: 5,
    queries: [instant(`max by (check) (vigil_system_cpu_utilization_ratio${sel(CHECK)})`, '{{check}}')],
    unit: UNIT.ratio, min: 0, max: 1, thresholds: usage, sparkline: true,
  });

export const memoryNow = () =>
  statPanel({
    title: 'Memory',
    description: 'Memory in use: (total − available) / total (vigil_system_memory_used_ratio).',
    w: 6, h: 5,
    queries: [instant(`max by (check) (vigil_system_memory_used_ratio${sel(CHECK)})`, '{{check}}')],
    unit: UNIT.ratio, min: 0, max: 1, thresholds: usage, sparkline: true,
  });

export const fullestDisk = () =>
  statPanel({
    title: 'Fullest disk',
    description: 'The fullest mount of each host (vigil_system_disk_used_ratio).',
    w: 6, h: 5,
    queries: [instant(`max by (check) (vigil_system_disk_used_ratio${sel(CHECK)})`, '{{check}}')],
    unit: UNIT.ratio, min: 0, max: 1, thresholds: usage, sparkline: true,
  });

export const loadNow = () =>
  statPanel({
    title: 'Load (1 min)',
    description: '1-minute load average (vigil_system_load1).',
    w: 6, h: 5,
    queries: [instant(`max by (check) (vigil_system_load1${sel(CHECK)})`, '{{check}}')],
    unit: UNIT.short, decimals: 2, thresholds: steps(COLOR.info), sparkline: true,
  });

export const cpu = () =>
  timeseriesPanel({
    title: 'CPU utilization',
    description: 'CPU busy ratio since the previous run, against the cpu_utilization thresholds (dashed).',
    w: 12, h: 8,
    queries: [
      range(`max by (check) (vigil_system_cpu_utilization_ratio${sel(CHECK)})`, '{{check}}'),
      ...thresholdLines(`${CHECK}, key="cpu_utilization"`, 'check', '{{check}}'),
    ],
    unit: UNIT.ratio, min: 0, max: 1,
  });

export const load = () =>
  timeseriesPanel({
    title: 'Load average',
    description: 'Load averages over 1, 5 and 15 minutes, with the load thresholds if configured (dashed).',
    w: 12, h: 8,
    queries: [
      range(`max by (check) (vigil_system_load1${sel(CHECK)})`, '{{check}} 1m'),
      range(`max by (check) (vigil_system_load5${sel(CHECK)})`, '{{check}} 5m'),
      range(`max by (check) (vigil_system_load15${sel(CHECK)})`, '{{check}} 15m'),
      ...thresholdLines(`${CHECK}, key=~"load1|load5|load15"`, 'check, key', '{{check}} {{key}}'),
    ],
    unit: UNIT.short,
  });

export const memory = () =>
  timeseriesPanel({
    title: 'Memory used',
    description: 'Share of memory in use, against the memory_used thresholds (dashed).',
    w: 12, h: 8,
    queries: [
      range(`max by (check) (vigil_system_memory_used_ratio${sel(CHECK)})`, '{{check}}'),
      ...thresholdLines(`${CHECK}, key="memory_used"`, 'check', '{{check}}'),
    ],
    unit: UNIT.ratio, min: 0, max: 1,
  });

export const memoryBytes = () =>
  timeseriesPanel({
    title: 'Memory used / total',
    description: 'Bytes in use (total − available) and installed (vigil_system_memory_used_bytes, vigil_system_memory_total_bytes).',
    w: 12, h: 8,
    queries: [
      range(`max by (check) (vigil_system_memory_used_bytes${sel(CHECK)})`, '{{check}} used'),
      range(`max by (check) (vigil_system_memory_total_bytes${sel(CHECK)})`, '{{check}} total'),
    ],
    unit: UNIT.bytes, min: 0,
  });

export const diskUsed = () =>
  timeseriesPanel({
    title: 'Disk used by mount',
    description: 'Share of each mount in use, against the disk_used thresholds (dashed).',
    w: 12, h: 8,
    queries: [
      range(`max by (check, mount) (vigil_system_disk_used_ratio${sel(CHECK)})`, '{{check}} {{mount}}'),
      ...thresholdLines(`${CHECK}, key="disk_used"`, 'check', '{{check}}'),
    ],
    unit: UNIT.ratio, min: 0, max: 1,
  });

export const diskPredicted = () =>
  timeseriesPanel({
    title: 'Disk use predicted in 24 h',
    description: 'Where each mount will be in 24 hours at the linear trend of the last 6 hours (predict_linear of vigil_system_disk_used_bytes over the size). Above 100 % means it fills up within a day (VigilDiskFillingUp).',
    w: 12, h: 8,
    queries: [
      range(
        `max by (check, mount) (\n  predict_linear(vigil_system_disk_used_bytes${sel(CHECK)}[6h], 24 * 3600)\n  / vigil_system_disk_size_bytes${sel(CHECK)}\n)`,
        '{{check}} {{mount}}'),
    ],
    unit: UNIT.ratio, min: 0,
    thresholds: steps(COLOR.ok, [0.9, COLOR.warning], [1, COLOR.critical]),
  });

export const disks = () =>
  tablePanel({
    title: 'Disks',
    description: 'Every mount: size, used, and the time until it is full at the growth rate of the last 6 hours (empty when it is not growing).',
    w: 24, h: 7,
    queries: [
      tableQuery(`max by (check, mount) (vigil_system_disk_size_bytes${sel(CHECK)})`),
      tableQuery(`max by (check, mount) (vigil_system_disk_used_bytes${sel(CHECK)})`),
      tableQuery(`max by (check, mount) (vigil_system_disk_used_ratio${sel(CHECK)})`),
      tableQuery(
        `max by (check, mount) (\n  (vigil_system_disk_size_bytes${sel(CHECK)} - vigil_system_disk_used_bytes${sel(CHECK)})\n  / (deriv(vigil_system_disk_used_bytes${sel(CHECK)}[6h]) > 0)\n)`),
    ],
    columns: [
      { field: 'check', title: 'Check' },
      { field: 'mount', title: 'Mount' },
      { field: 'Value #A', title: 'Size', unit: UNIT.bytes },
      { field: 'Value #B', title: 'Used', unit: UNIT.bytes },
      { field: 'Value #C', title: 'Used %', unit: UNIT.ratio, thresholds: usage, colored: true },
      { field: 'Value #D', title: 'Full in', unit: UNIT.duration, thresholds: steps(COLOR.critical, [86400, COLOR.warning], [7 * 86400, COLOR.ok]), colored: true },
    ],
    sortBy: { field: 'Used %', desc: true },
  });

// The exporter's own process check (type process): selected by job only.
const PROCESS = 'job=~"$job"';

export const exporterMemory = () =>
  timeseriesPanel({
    title: 'Exporter memory',
    description: 'Resident memory of the Vigil exporter (vigil_process_resident_memory_bytes).',
    w: 8, h: 7,
    queries: [range(`max by (job, instance) (vigil_process_resident_memory_bytes${sel(PROCESS)})`, '{{instance}}')],
    unit: UNIT.bytes, min: 0,
  });

export const exporterHeap = () =>
  timeseriesPanel({
    title: 'Exporter heap used',
    description: 'V8 heap used / heap limit of the exporter, against the heap_used thresholds (dashed).',
    w: 8, h: 7,
    queries: [
      range(`max by (check) (vigil_process_heap_used_ratio${sel(PROCESS)})`, '{{check}}'),
      ...thresholdLines(`${PROCESS}, key="heap_used"`, 'check', '{{check}}'),
    ],
    unit: UNIT.ratio, min: 0,
  });

export const exporterEventLoop = () =>
  timeseriesPanel({
    title: 'Exporter event-loop delay (p99)',
    description: 'p99 event-loop delay of the exporter since its previous run, against the event_loop_delay thresholds (dashed).',
    w: 8, h: 7,
    queries: [
      range(`max by (check) (vigil_process_event_loop_delay_seconds${sel(PROCESS)})`, '{{check}}'),
      ...thresholdLines(`${PROCESS}, key="event_loop_delay"`, 'check', '{{check}}'),
    ],
    unit: UNIT.seconds, min: 0,
  });
