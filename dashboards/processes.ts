// Processes and data stores: are the PM2 processes online and stable, are the databases and Redis
// answering fast with a healthy pool, are queues draining, and did the scheduled jobs check in?
// Reads the pm2, postgres / mysql / redis, sql and heartbeat checks.

import {
  COLOR, COMPONENT, PROBE_COMPONENT, UNIT, instant, range, sel, statPanel, steps, tableQuery, tablePanel,
  thresholdLines, timeseriesPanel, upMappings, UP_STEPS, valueMap,
} from './common.js';

export const PROCESSES_UID = 'vigil-processes';

const DB_TYPES = 'type=~"postgres|mysql|redis"';

// ---- PM2 -------------------------------------------------------------------------------------

export const pm2Up = () =>
  statPanel({
    title: 'PM2 processes',
    description: 'Is each PM2 process online (vigil_pm2_process_up)?',
    w: 8, h: 6,
    queries: [instant(`max by (process) (vigil_pm2_process_up${sel(COMPONENT)})`, '{{process}}')],
    mappings: upMappings('Online', 'Down'),
    thresholds: UP_STEPS,
    noValue: 'No pm2 check',
  });

export const pm2Table = () =>
  tablePanel({
    title: 'PM2 process state',
    description: 'PM2 state of each process (online, launching, stopping, stopped, errored, waiting restart, one-launch-status), restarts over the time range and uptime.',
    w: 16, h: 6,
    queries: [
      tableQuery(`max by (component, process, state) (vigil_pm2_process_status${sel(COMPONENT)} == 1)`),
      tableQuery(`max by (component, process) (increase(vigil_pm2_process_restarts_total${sel(COMPONENT)}[$__range]))`),
      tableQuery(`max by (component, process) (vigil_pm2_process_uptime_seconds${sel(COMPONENT)})`),
    ],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'process', title: 'Process' },
      { field: 'state', title: 'State', colored: true, mappings: [valueMap({
        online: { text: 'online', color: COLOR.ok },
        launching: { text: 'launching', color: COLOR.warning },
        stopping: { text: 'stopping', color: COLOR.warning },
        stopped: { text: 'stopped', color: COLOR.critical },
        errored: { text: 'errored', color: COLOR.critical },
        'waiting restart': { text: 'waiting restart', color: COLOR.warning },
        'one-launch-status': { text: 'one-launch-status', color: COLOR.unknown },
      })] },
      { field: 'Value #B', title: 'Restarts', decimals: 0, thresholds: steps(COLOR.ok, [1, COLOR.warning], [4, COLOR.critical]), colored: true },
      { field: 'Value #C', title: 'Uptime', unit: UNIT.duration },
    ],
    noValue: 'No pm2 check',
  });

export const pm2Cpu = () =>
  timeseriesPanel({
    title: 'PM2 CPU',
    description: 'CPU used by each process, as a ratio of one core (vigil_pm2_process_cpu_ratio).',
    w: 8, h: 7,
    queries: [range(`max by (process) (vigil_pm2_process_cpu_ratio${sel(COMPONENT)})`, '{{process}}')],
    unit: UNIT.ratio, min: 0,
  });

export const pm2Memory = () =>
  timeseriesPanel({
    title: 'PM2 memory',
    description: 'Resident memory of each process (vigil_pm2_process_memory_bytes).',
    w: 8, h: 7,
    queries: [range(`max by (process) (vigil_pm2_process_memory_bytes${sel(COMPONENT)})`, '{{process}}')],
    unit: UNIT.bytes, min: 0,
  });

export const pm2Restarts = () =>
  timeseriesPanel({
    title: 'PM2 restarts',
    description: 'Restarts per interval (vigil_pm2_process_restarts_total); more than 3 in 15 minutes raises VigilPM2CrashLoop.',
    w: 8, h: 7,
    queries: [range(`max by (process) (increase(vigil_pm2_process_restarts_total${sel(COMPONENT)}[$__rate_interval]))`, '{{process}}')],
    unit: UNIT.short, min: 0, bars: true, legendCalcs: ['sum'],
  });

// ---- databases and Redis ---------------------------------------------------------------------

/** Joined to a check-level series: keeps database checks only and adds their `type`. */
const DB_CHECKS = `* on (component, check) group_left (type)\n  max by (component, check, type) (vigil_check_info${sel(COMPONENT, DB_TYPES)})`;

export const dbLatency = () =>
  timeseriesPanel({
    title: 'Database and Redis latency',
    description: 'Duration of each PostgreSQL / MySQL / Redis check (connect if needed, then the query or PING: probe_duration_seconds), against its response_time thresholds (dashed).',
    w: 12, h: 8,
    queries: [
      range(`max by (check, type) (\n  max by (component, check) (probe_duration_seconds${sel(PROBE_COMPONENT)})\n  ${DB_CHECKS}\n)`, '{{check}} ({{type}})'),
      range(`max by (check, severity) (\n  max by (component, check, severity) (vigil_check_threshold${sel(COMPONENT, 'key="response_time"')})\n  ${DB_CHECKS}\n)`, '{{check}} · {{severity}}'),
    ],
    unit: UNIT.seconds, min: 0,
  });

export const dbPool = () =>
  timeseriesPanel({
    title: 'Probe connection pools',
    description: 'Connections in each database check\'s own pool by state (vigil_db_pool_connections: total, idle, waiting).',
    w: 12, h: 8,
    queries: [range(`max by (check, state) (vigil_db_pool_connections${sel(COMPONENT)})`, '{{check}} {{state}}')],
    unit: UNIT.short, min: 0,
  });

export const dbServers = () =>
  tablePanel({
    title: 'Database servers',
    description: 'Server version reported to every database check (vigil_db_server_info).',
    w: 12, h: 6,
    queries: [
      tableQuery(`max by (component, check, version) (vigil_db_server_info${sel(COMPONENT)})`),
    ],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'check', title: 'Check' },
      { field: 'version', title: 'Version' },
    ],
    noValue: 'No database check',
  });

export const dbReconnects = () =>
  timeseriesPanel({
    title: 'Probe reconnects',
    description: 'Connections a database probe had to rebuild (vigil_db_reconnects_total): the server restarted or the connection broke.',
    w: 12, h: 6,
    queries: [range(`max by (check) (increase(vigil_db_reconnects_total${sel(COMPONENT)}[$__rate_interval]))`, '{{check}}')],
    unit: UNIT.short, min: 0, bars: true, legendCalcs: ['sum'],
  });

export const sqlValues = () =>
  timeseriesPanel({
    title: 'SQL values',
    description: 'Values returned by the named read-only queries of sql checks (vigil_sql_value), with their thresholds (dashed).',
    w: 24, h: 7,
    queries: [
      range(`max by (check, name) (vigil_sql_value${sel(COMPONENT)})`, '{{check}} {{name}}'),
      ...thresholdLines(`${COMPONENT}, metric="vigil_sql_value"`, 'check, key', '{{check}} {{key}}'),
    ],
    unit: UNIT.short,
  });

// ---- queues ----------------------------------------------------------------------------------

export const queueDepth = () =>
  timeseriesPanel({
    title: 'Queue depth',
    description: 'Jobs in each Redis queue by state (vigil_queue_depth: waiting, active, failed, delayed, completed, or length), with the thresholds configured per state (dashed).',
    w: 12, h: 7,
    queries: [
      range(`max by (queue, state) (vigil_queue_depth${sel(COMPONENT)})`, '{{queue}} {{state}}'),
      ...thresholdLines(`${COMPONENT}, metric="vigil_queue_depth"`, 'check, key', '{{check}} {{key}}'),
    ],
    unit: UNIT.short, min: 0,
  });

export const queueWorkers = () =>
  statPanel({
    title: 'Queue workers',
    description: 'Worker connections attached to each queue (vigil_queue_workers); none while jobs wait raises VigilQueueNoWorkers.',
    w: 12, h: 7,
    queries: [instant(`max by (queue) (vigil_queue_workers${sel(COMPONENT)})`, '{{queue}}')],
    unit: UNIT.short,
    thresholds: steps(COLOR.critical, [1, COLOR.ok]),
    noValue: 'No queue watched',
  });

// ---- heartbeats ------------------------------------------------------------------------------

export const heartbeatDue = () =>
  statPanel({
    title: 'Heartbeats: time left',
    description: 'Time left until each heartbeat is missed (next expected time + grace − now); negative = overdue (VigilHeartbeatMissed).',
    w: 8, h: 7,
    queries: [instant(
      `max by (check) (\n  vigil_heartbeat_next_expected_timestamp_seconds${sel(COMPONENT)}\n  + on (job, instance, component, check) vigil_heartbeat_grace_seconds${sel(COMPONENT)}\n) - time()`,
      '{{check}}')],
    unit: UNIT.duration,
    thresholds: steps(COLOR.critical, [0, COLOR.warning], [60, COLOR.ok]),
    noValue: 'No heartbeat check',
  });

export const heartbeats = () =>
  tablePanel({
    title: 'Heartbeats',
    description: 'Every heartbeat: when the job last succeeded, when the next ping is expected, the grace, the last run\'s duration and exit code, and whether it is running now.',
    w: 16, h: 7,
    queries: [
      tableQuery(`max by (component, check) (time() - vigil_heartbeat_last_success_timestamp_seconds${sel(COMPONENT)})`),
      tableQuery(`max by (component, check) (vigil_heartbeat_next_expected_timestamp_seconds${sel(COMPONENT)} - time())`),
      tableQuery(`max by (component, check) (vigil_heartbeat_grace_seconds${sel(COMPONENT)})`),
      tableQuery(`max by (component, check) (vigil_heartbeat_last_duration_seconds${sel(COMPONENT)})`),
      tableQuery(`max by (component, check) (vigil_heartbeat_last_exit_code${sel(COMPONENT)})`),
      tableQuery(`max by (component, check) (vigil_heartbeat_running${sel(COMPONENT)})`),
    ],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'check', title: 'Heartbeat' },
      { field: 'Value #A', title: 'Last success', unit: UNIT.duration },
      { field: 'Value #B', title: 'Next expected in', unit: UNIT.duration, thresholds: steps(COLOR.warning, [0, COLOR.ok]), colored: true },
      { field: 'Value #C', title: 'Grace', unit: UNIT.duration },
      { field: 'Value #D', title: 'Last run took', unit: UNIT.seconds },
      { field: 'Value #E', title: 'Exit code', decimals: 0, thresholds: steps(COLOR.ok, [1, COLOR.critical]), colored: true },
      { field: 'Value #F', title: 'Running', mappings: upMappings('yes', 'no') },
    ],
    noValue: 'No heartbeat check',
  });

export const heartbeatAge = () =>
  timeseriesPanel({
    title: 'Heartbeat: last success vs expected',
    description: 'Age of the last successful ping of each heartbeat, and the age at which it becomes missed (expected interval + grace, dashed). The solid line crossing the dashed one is a missed heartbeat.',
    w: 24, h: 7,
    queries: [
      range(`max by (check) (time() - vigil_heartbeat_last_success_timestamp_seconds${sel(COMPONENT)})`, '{{check}}'),
      range(
        `max by (check) (\n  vigil_heartbeat_next_expected_timestamp_seconds${sel(COMPONENT)}\n  + on (job, instance, component, check) vigil_heartbeat_grace_seconds${sel(COMPONENT)}\n  - on (job, instance, component, check) vigil_heartbeat_last_success_timestamp_seconds${sel(COMPONENT)}\n)`,
        '{{check}} · critical'),
    ],
    unit: UNIT.duration, min: 0,
  });
