// Application performance of the apps instrumented with vigil/instrument (one Prometheus job per
// app, the `$service` variable): request rate, errors and latency by service and route (RED),
// outbound HTTP calls, database calls, the Node runtime and background jobs.
//
// Names are what the instrumentation really exports (docs/instrumentation.md, "Metrics, as on /metrics"):
// http_server_request_duration_seconds, http_client_request_duration_seconds,
// db_client_operation_duration_seconds (histograms), nodejs_eventloop_*, v8js_*, process_*, and
// vigil_job_*. The app's own `job` label of vigil_job_* collides with Prometheus' target label,
// so Prometheus stores it as `exported_job`.

import {
  COLOR, ERROR_RATIO_STEPS, UNIT, instant, queryVariable, range, sel, statPanel, steps,
  tableQuery, tablePanel, timeseriesPanel,
} from './common.js';

export const APPS_UID = 'vigil-apps';

const SERVER = 'http_server_request_duration_seconds';
const CLIENT = 'http_client_request_duration_seconds';
const DB = 'db_client_operation_duration_seconds';

/** Matchers of the selected apps and routes. */
const S = 'job=~"$service", http_route=~"$route"';
/** Matchers of the selected apps. */
const APP = 'job=~"$service"';

export const serviceVariable = () =>
  queryVariable('service', `label_values(${SERVER}_count, job)`, {
    label: 'Service',
    description: 'Prometheus job of each instrumented app (OTEL_SERVICE_NAME is in target_info).',
  });

export const routeVariable = () =>
  queryVariable('route', `label_values(${SERVER}_count{job=~"$service"}, http_route)`, {
    label: 'Route',
    description: 'Route templates (http_route) of the selected services.',
  });

const rate = (metric: string, matchers: string, by: string) =>
  `sum by (${by}) (rate(${metric}${sel(matchers)}[$__rate_interval]))`;

/** errors / total with 0 (not "no data") when there are requests but no errors. */
const errorRatio = (metric: string, matchers: string, errorMatcher: string, by: string) =>
  `(\n  ${rate(metric, `${matchers}, ${errorMatcher}`, by)}\n  or ${rate(metric, matchers, by)} * 0\n)\n/ ${rate(metric, matchers, by)}`;

const quantile = (q: number, metric: string, matchers: string, by: string) =>
  `histogram_quantile(${q}, ${rate(`${metric}_bucket`, matchers, `${by}, le`)})`;

const SERVER_ERROR = 'http_response_status_code=~"5.."';
const CALL_ERROR = 'error_type!=""';

// ---- RED by service --------------------------------------------------------------------------

export const requestRateNow = () =>
  statPanel({
    title: 'Requests',
    description: 'Requests per second served by each app now.',
    w: 8, h: 5,
    queries: [instant(rate(`${SERVER}_count`, S, 'job'), '{{job}}')],
    unit: UNIT.reqps, thresholds: steps(COLOR.info), sparkline: true,
  });

export const errorRatioNow = () =>
  statPanel({
    title: 'Errors',
    description: 'Share of requests answered 5xx by each app now (the error definition of the VigilAppErrorRateHigh alert).',
    w: 8, h: 5,
    queries: [instant(errorRatio(`${SERVER}_count`, S, SERVER_ERROR, 'job'), '{{job}}')],
    unit: UNIT.ratio, thresholds: ERROR_RATIO_STEPS, sparkline: true,
  });

export const p95Now = () =>
  statPanel({
    title: 'Latency p95',
    description: '95th percentile request duration of each app now (VigilAppLatencyHigh warns above 500 ms, pages above 1 s).',
    w: 8, h: 5,
    queries: [instant(quantile(0.95, SERVER, S, 'job'), '{{job}}')],
    unit: UNIT.seconds, thresholds: steps(COLOR.ok, [0.5, COLOR.warning], [1, COLOR.critical]), sparkline: true,
  });

export const requestRate = () =>
  timeseriesPanel({
    title: 'Request rate by service',
    description: 'Requests per second served by each app (http_server_request_duration_seconds_count).',
    w: 8, h: 8,
    queries: [range(rate(`${SERVER}_count`, S, 'job'), '{{job}}')],
    unit: UNIT.reqps, min: 0,
  });

export const errorRate = () =>
  timeseriesPanel({
    title: 'Error ratio by service',
    description: 'Share of requests answered 5xx by each app.',
    w: 8, h: 8,
    queries: [range(errorRatio(`${SERVER}_count`, S, SERVER_ERROR, 'job'), '{{job}}')],
    unit: UNIT.ratio, min: 0, thresholds: ERROR_RATIO_STEPS,
  });

export const latency = () =>
  timeseriesPanel({
    title: 'Latency p50 / p95 / p99 by service',
    description: 'Request duration percentiles of each app, from the histogram buckets.',
    w: 8, h: 8,
    queries: [
      range(quantile(0.5, SERVER, S, 'job'), '{{job}} p50'),
      range(quantile(0.95, SERVER, S, 'job'), '{{job}} p95'),
      range(quantile(0.99, SERVER, S, 'job'), '{{job}} p99'),
    ],
    unit: UNIT.seconds, min: 0,
  });

// ---- routes ----------------------------------------------------------------------------------

export const routeRate = () =>
  timeseriesPanel({
    title: 'Requests by route and status',
    description: 'Requests per second by route template and status code.',
    w: 12, h: 8,
    queries: [range(rate(`${SERVER}_count`, S, 'job, http_route, http_response_status_code'), '{{job}} {{http_route}} {{http_response_status_code}}')],
    unit: UNIT.reqps, min: 0, stack: true, legendRight: true,
  });

export const routeLatency = () =>
  timeseriesPanel({
    title: 'Latency p95 by route',
    description: '95th percentile request duration by route template.',
    w: 12, h: 8,
    queries: [range(quantile(0.95, SERVER, S, 'job, http_route'), '{{job}} {{http_route}}')],
    unit: UNIT.seconds, min: 0, legendRight: true,
  });

export const routes = () =>
  tablePanel({
    title: 'Routes',
    description: 'Per route over the selected time range: request rate, error ratio and latency percentiles.',
    w: 24, h: 8,
    queries: [
      tableQuery(`sum by (job, http_route) (rate(${SERVER}_count${sel(S)}[$__range]))`),
      tableQuery(`(\n  sum by (job, http_route) (rate(${SERVER}_count${sel(S, SERVER_ERROR)}[$__range]))\n  or sum by (job, http_route) (rate(${SERVER}_count${sel(S)}[$__range])) * 0\n)\n/ sum by (job, http_route) (rate(${SERVER}_count${sel(S)}[$__range]))`),
      tableQuery(`histogram_quantile(0.5, sum by (job, http_route, le) (rate(${SERVER}_bucket${sel(S)}[$__range])))`),
      tableQuery(`histogram_quantile(0.95, sum by (job, http_route, le) (rate(${SERVER}_bucket${sel(S)}[$__range])))`),
      tableQuery(`histogram_quantile(0.99, sum by (job, http_route, le) (rate(${SERVER}_bucket${sel(S)}[$__range])))`),
    ],
    columns: [
      { field: 'job', title: 'Service' },
      { field: 'http_route', title: 'Route' },
      { field: 'Value #A', title: 'Requests/s', unit: UNIT.reqps },
      { field: 'Value #B', title: 'Errors', unit: UNIT.ratio, thresholds: ERROR_RATIO_STEPS, colored: true },
      { field: 'Value #C', title: 'p50', unit: UNIT.seconds },
      { field: 'Value #D', title: 'p95', unit: UNIT.seconds },
      { field: 'Value #E', title: 'p99', unit: UNIT.seconds },
    ],
    sortBy: { field: 'Requests/s', desc: true },
  });

// ---- outbound HTTP ---------------------------------------------------------------------------

export const outboundRate = () =>
  timeseriesPanel({
    title: 'Outbound calls by host',
    description: 'Outbound HTTP requests per second by destination host (http_client_request_duration_seconds_count, server_address).',
    w: 8, h: 8,
    queries: [range(rate(`${CLIENT}_count`, APP, 'job, server_address'), '{{job}} → {{server_address}}')],
    unit: UNIT.reqps, min: 0,
  });

export const outboundErrors = () =>
  timeseriesPanel({
    title: 'Outbound errors by host',
    description: 'Share of outbound calls that failed (a connection error or a 5xx answer; error_type is set).',
    w: 8, h: 8,
    queries: [range(errorRatio(`${CLIENT}_count`, APP, CALL_ERROR, 'job, server_address'), '{{job}} → {{server_address}}')],
    unit: UNIT.ratio, min: 0, thresholds: ERROR_RATIO_STEPS,
  });

export const outboundLatency = () =>
  timeseriesPanel({
    title: 'Outbound latency p95 by host',
    description: '95th percentile time until the response headers arrived, by destination host.',
    w: 8, h: 8,
    queries: [range(quantile(0.95, CLIENT, APP, 'job, server_address'), '{{job}} → {{server_address}}')],
    unit: UNIT.seconds, min: 0,
  });

// ---- database --------------------------------------------------------------------------------

export const dbRate = () =>
  timeseriesPanel({
    title: 'Database operations',
    description: 'Database client operations per second by system and operation (db_client_operation_duration_seconds_count).',
    w: 8, h: 8,
    queries: [range(rate(`${DB}_count`, APP, 'job, db_system_name, db_operation_name'), '{{job}} {{db_system_name}} {{db_operation_name}}')],
    unit: UNIT.ops, min: 0, stack: true,
  });

export const dbErrors = () =>
  timeseriesPanel({
    title: 'Database errors',
    description: 'Failed database operations per second by system and error type (e.g. ECONNREFUSED while the server is down).',
    w: 8, h: 8,
    queries: [range(rate(`${DB}_count`, `${APP}, ${CALL_ERROR}`, 'job, db_system_name, error_type'), '{{job}} {{db_system_name}} {{error_type}}')],
    unit: UNIT.ops, min: 0, stack: true,
  });

export const dbLatency = () =>
  timeseriesPanel({
    title: 'Database latency p95',
    description: '95th percentile duration of database operations by system and operation.',
    w: 8, h: 8,
    queries: [range(quantile(0.95, DB, APP, 'job, db_system_name, db_operation_name'), '{{job}} {{db_system_name}} {{db_operation_name}}')],
    unit: UNIT.seconds, min: 0,
  });

// ---- runtime ---------------------------------------------------------------------------------

export const eventLoop = () =>
  timeseriesPanel({
    title: 'Event-loop delay p99',
    description: 'p99 event-loop delay of each app instance (nodejs_eventloop_delay_p99_seconds): a busy or blocked loop delays every request.',
    w: 6, h: 7,
    queries: [range(`max by (job, instance) (nodejs_eventloop_delay_p99_seconds${sel(APP)})`, '{{job}} {{instance}}')],
    unit: UNIT.seconds, min: 0,
  });

export const eventLoopUtilization = () =>
  timeseriesPanel({
    title: 'Event-loop utilization',
    description: 'Share of time the event loop was busy (nodejs_eventloop_utilization_ratio).',
    w: 6, h: 7,
    queries: [range(`max by (job, instance) (nodejs_eventloop_utilization_ratio${sel(APP)})`, '{{job}} {{instance}}')],
    unit: UNIT.ratio, min: 0, max: 1,
  });

export const appCpu = () =>
  timeseriesPanel({
    title: 'CPU',
    description: 'CPU time used per second by each app instance (process_cpu_time_seconds_total; 100 % = one core).',
    w: 6, h: 7,
    queries: [range(`sum by (job, instance) (rate(process_cpu_time_seconds_total${sel(APP)}[$__rate_interval]))`, '{{job}} {{instance}}')],
    unit: UNIT.ratio, min: 0,
  });

export const appMemory = () =>
  timeseriesPanel({
    title: 'Memory',
    description: 'Resident memory (process_memory_usage_bytes) and V8 heap in use (v8js_memory_heap_used_bytes) of each app instance.',
    w: 6, h: 7,
    queries: [
      range(`max by (job, instance) (process_memory_usage_bytes${sel(APP)})`, '{{job}} {{instance}} rss'),
      range(`sum by (job, instance) (v8js_memory_heap_used_bytes${sel(APP)})`, '{{job}} {{instance}} heap'),
    ],
    unit: UNIT.bytes, min: 0,
  });

// ---- background jobs -------------------------------------------------------------------------

export const jobRuns = () =>
  timeseriesPanel({
    title: 'Background job runs',
    description: 'Runs of the app\'s background jobs by outcome (vigil_job_runs_total; the job name is in exported_job).',
    w: 8, h: 7,
    queries: [range(`sum by (job, exported_job, outcome) (increase(vigil_job_runs_total${sel(APP)}[$__rate_interval]))`, '{{exported_job}} {{outcome}}')],
    unit: UNIT.short, min: 0, bars: true, stack: true, legendCalcs: ['sum'],
  })
    .overrideByRegexp('.* failure$', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.critical } }])
    .overrideByRegexp('.* success$', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.ok } }]);

export const jobDuration = () =>
  timeseriesPanel({
    title: 'Background job duration p95',
    description: '95th percentile duration of the app\'s background jobs (vigil_job_duration_seconds).',
    w: 8, h: 7,
    queries: [range(quantile(0.95, 'vigil_job_duration_seconds', APP, 'job, exported_job'), '{{exported_job}}')],
    unit: UNIT.seconds, min: 0,
  });

export const jobLastSuccess = () =>
  statPanel({
    title: 'Background jobs: since last success',
    description: 'Time since each background job last succeeded (vigil_job_last_success_timestamp_seconds).',
    w: 8, h: 7,
    queries: [instant(`max by (job, exported_job) (time() - vigil_job_last_success_timestamp_seconds${sel(APP)})`, '{{exported_job}}')],
    unit: UNIT.duration, thresholds: steps(COLOR.ok, [3600, COLOR.warning], [86400, COLOR.critical]),
    noValue: 'No successful run yet',
  });
