// Checks: drill-down by $component / $check. Why is this check unhealthy, since when, and is it
// getting slower? Status history, latency by phase against the configured thresholds, success
// ratio and failure reasons, TLS certificate expiry and extracted response headers.

import {
  AVAILABILITY_STEPS, CHECK, CHECK_ID, COLOR, PROBE_CHECK, STATUS_MAPPINGS, STATUS_STEPS, UNIT,
  instant, promAnnotation, range, sel, stateTimelinePanel, statPanel, statusCode, steps,
  tableQuery, tablePanel, thresholdLines, timeseriesPanel, valueMap,
} from './common.js';

export const CHECKS_UID = 'vigil-checks';

/** Alerts of the selected checks as annotations on every time series. */
export const alertAnnotation = () =>
  promAnnotation(
    'Alerts',
    `ALERTS${sel('alertstate="firing"', 'component=~"$component"', 'check=~"$check"')}`,
    '{{alertname}}',
    '{{severity}}: {{component}} / {{check}}',
    COLOR.critical,
  );

export const checkStatus = () =>
  statPanel({
    title: 'Status',
    description: 'Current status of each selected check (vigil_check_status).',
    w: 24, h: 4,
    queries: [instant(statusCode('vigil_check_status', CHECK, 'check'), '{{check}}')],
    mappings: STATUS_MAPPINGS,
    thresholds: STATUS_STEPS,
    noValue: 'No check selected',
  });

export const statusHistory = () =>
  stateTimelinePanel({
    title: 'Status history',
    description: 'Status of each check over time: when it turned degraded or critical and for how long.',
    w: 24, h: 8,
    queries: [range(statusCode('vigil_check_status', CHECK, 'check'), '{{check}}')],
    mappings: STATUS_MAPPINGS,
    thresholds: STATUS_STEPS,
  });

export const checkInfo = () =>
  tablePanel({
    title: 'Thresholds',
    description: 'The warning and critical levels configured in vigil.yml for the selected checks (vigil_check_threshold), in the unit of the compared metric.',
    w: 24, h: 6,
    queries: [
      tableQuery(`max by (component, check, key, metric, direction, severity) (vigil_check_threshold${sel(CHECK)})`),
    ],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'check', title: 'Check' },
      { field: 'key', title: 'Threshold' },
      { field: 'severity', title: 'Severity' },
      { field: 'direction', title: 'Direction' },
      { field: 'Value', title: 'Level' },
      { field: 'metric', title: 'Compared metric' },
    ],
    noValue: 'No thresholds configured',
  });

export const checkTypes = () =>
  tablePanel({
    title: 'Checks',
    description: 'Type and interval of each selected check (vigil_check_info).',
    w: 24, h: 5,
    queries: [tableQuery(`max by (component, check, type, interval_seconds) (vigil_check_info${sel(CHECK)})`)],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'check', title: 'Check' },
      { field: 'type', title: 'Type' },
      { field: 'interval_seconds', title: 'Interval (s)' },
    ],
  });

export const latencyByPhase = () =>
  timeseriesPanel({
    title: 'Probe latency by phase',
    description: 'Where the time of an HTTP probe goes (probe_http_duration_seconds: resolve, connect, tls, processing = time to first byte, transfer), and of a TCP probe (vigil_tcp_duration_seconds), stacked; the dashed lines are the response_time thresholds configured in vigil.yml.',
    w: 12, h: 9,
    queries: [
      range(`max by (check, phase) (probe_http_duration_seconds${sel(PROBE_CHECK)})`, '{{check}} {{phase}}'),
      range(`max by (check, phase) (vigil_tcp_duration_seconds${sel(CHECK)})`, '{{check}} tcp {{phase}}'),
      ...thresholdLines(`${CHECK}, key="response_time"`, 'check', '{{check}}'),
    ],
    unit: UNIT.seconds,
    stack: true,
  });

export const responseTime = () =>
  timeseriesPanel({
    title: 'Response time',
    description: 'Duration of the last run of every check type (probe_duration_seconds) against its response_time thresholds (dashed).',
    w: 12, h: 9,
    queries: [
      range(`max by (check) (probe_duration_seconds${sel(PROBE_CHECK)})`, '{{check}}'),
      ...thresholdLines(`${CHECK}, key="response_time"`, 'check', '{{check}}'),
    ],
    unit: UNIT.seconds,
  });

export const latencyAnomaly = () =>
  timeseriesPanel({
    title: 'Latency anomaly (z-score)',
    description: 'How many standard deviations the last 5 minutes of response time sit above the check\'s own last hour (check:probe_duration_seconds:zscore5m). Above 3 for 10 minutes raises VigilCheckLatencyAnomaly (info).',
    w: 12, h: 7,
    queries: [range(`max by (check) (check:probe_duration_seconds:zscore5m${sel(CHECK_ID)})`, '{{check}}')],
    unit: UNIT.none,
    thresholds: steps(COLOR.ok, [3, COLOR.warning]),
  });

const counterSuccess = (by: string) => {
  const runs = `sum by (${by}) (rate(vigil_check_runs_total${sel(CHECK)}[$__rate_interval]))`;
  const failures = `sum by (${by}) (rate(vigil_check_failures_total${sel(CHECK)}[$__rate_interval]))`;
  return `1 - (\n  ${failures}\n  or ${runs} * 0\n) / ${runs}`;
};

export const successRatio = () =>
  timeseriesPanel({
    title: 'Success ratio',
    description: 'Share of runs that succeeded (1 − vigil_check_failures_total / vigil_check_runs_total), counting every run, not just the scraped ones.',
    w: 12, h: 7,
    queries: [range(counterSuccess('check'), '{{check}}')],
    unit: UNIT.ratio,
    min: 0,
    max: 1,
    thresholds: AVAILABILITY_STEPS,
  });

export const successRatioRange = () =>
  statPanel({
    title: 'Success over the time range',
    description: 'Share of scrapes in the selected time range at which the check\'s last run had succeeded (avg_over_time(probe_success[$__range])).',
    w: 12, h: 5,
    queries: [instant(`min by (check) (avg_over_time(probe_success${sel(PROBE_CHECK)}[$__range]))`, '{{check}}')],
    unit: UNIT.ratio,
    decimals: 2,
    thresholds: AVAILABILITY_STEPS,
  });

export const availabilityTable = () =>
  tablePanel({
    title: 'Availability',
    description: 'Share of time each check succeeded over 1 hour, 24 hours and 7 days (rules/vigil-availability.yml).',
    w: 12, h: 5,
    queries: ['1h', '24h', '7d'].map((w) =>
      tableQuery(`max by (component, check) (check:probe_success:avg_over_time${w}${sel(CHECK_ID)})`)),
    columns: [
      { field: 'check', title: 'Check' },
      { field: 'Value #A', title: '1 h', unit: UNIT.ratio, decimals: 2, thresholds: AVAILABILITY_STEPS, colored: true },
      { field: 'Value #B', title: '24 h', unit: UNIT.ratio, decimals: 2, thresholds: AVAILABILITY_STEPS, colored: true },
      { field: 'Value #C', title: '7 d', unit: UNIT.ratio, decimals: 2, thresholds: AVAILABILITY_STEPS, colored: true },
    ],
  });

export const failuresByReason = () =>
  timeseriesPanel({
    title: 'Failures by reason',
    description: 'Failed runs per interval by bounded reason (dns, connect, tls, timeout, status, assertion, protocol, auth, threshold, ...).',
    w: 12, h: 7,
    queries: [range(`max by (check, reason) (increase(vigil_check_failures_total${sel(CHECK)}[$__rate_interval]))`, '{{check}} {{reason}}')],
    unit: UNIT.short,
    bars: true,
    stack: true,
    legendCalcs: ['sum'],
  });

export const sinceLastSuccess = () =>
  statPanel({
    title: 'Since last success',
    description: 'Time since each check last succeeded (vigil_check_last_success_timestamp_seconds).',
    w: 12, h: 5,
    queries: [instant(`max by (check) (time() - vigil_check_last_success_timestamp_seconds${sel(CHECK)})`, '{{check}}')],
    unit: UNIT.duration,
    thresholds: steps(COLOR.ok, [300, COLOR.warning], [900, COLOR.critical]),
    noValue: 'Never succeeded',
  });

export const httpStatus = () =>
  statPanel({
    title: 'HTTP status',
    description: 'Status code of the last response of each HTTP check (probe_http_status_code); 0 = no response.',
    w: 8, h: 6,
    queries: [instant(`max by (check) (probe_http_status_code${sel(PROBE_CHECK)})`, '{{check}}')],
    unit: UNIT.none,
    mappings: [valueMap({ '0': { text: 'No response', color: COLOR.critical } })],
    thresholds: steps(COLOR.critical, [100, COLOR.ok], [400, COLOR.warning], [500, COLOR.critical]),
    noValue: 'No HTTP check',
  });

export const certExpiry = () =>
  statPanel({
    title: 'TLS certificate expires in',
    description: 'Time left until the earliest certificate of the chain presented to each HTTPS / TLS check expires (probe_ssl_earliest_cert_expiry). Orange below 14 days, red below 3 days (the default cert_expires_in thresholds).',
    w: 8, h: 6,
    queries: [instant(`min by (check) (probe_ssl_earliest_cert_expiry${sel(PROBE_CHECK)}) - time()`, '{{check}}')],
    unit: UNIT.duration,
    thresholds: steps(COLOR.critical, [3 * 86400, COLOR.warning], [14 * 86400, COLOR.ok]),
    noValue: 'No TLS check',
  });

export const headerValues = () =>
  timeseriesPanel({
    title: 'Extracted response headers',
    description: 'Numeric response headers extracted by HTTP checks (vigil_http_header_value), e.g. X-RateLimit-Remaining, with their thresholds (dashed).',
    w: 8, h: 6,
    queries: [
      range(`max by (check, header) (vigil_http_header_value${sel(CHECK)})`, '{{check}} {{header}}'),
      ...thresholdLines(`${CHECK}, metric="vigil_http_header_value"`, 'check, key', '{{check}} {{key}}'),
    ],
    unit: UNIT.short,
    legendCalcs: ['lastNotNull', 'min'],
  });
