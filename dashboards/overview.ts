// Overview: is everything fine, and if not, what is broken? Overall and per-component status,
// the checks, firing alerts, availability over 24 h / 7 d, and whether the monitoring pipeline
// itself (exporter, Prometheus, Alertmanager, scrape targets) is up.

import {
  AVAILABILITY_STEPS, COLOR, COMPONENT, COMPONENT_ID, PROBE_COMPONENT, SEVERITY_MAPPINGS, STATUS_MAPPINGS, STATUS_STEPS, UNIT, UP_STEPS,
  drillDown, instant, sel, statPanel, statusCode, steps, tableQuery, tablePanel, upMappings,
} from './common.js';
import { CHECKS_UID } from './checks.js';
import { DEPENDENCIES_UID } from './dependencies.js';

export const OVERVIEW_UID = 'vigil-overview';

export const overallStatus = () =>
  statPanel({
    title: 'Overall status',
    description: 'Worst status of all components (vigil_overall_status): Healthy, Unknown (not run yet), Degraded (a warning threshold crossed) or Critical.',
    w: 5, h: 6,
    queries: [instant(statusCode('vigil_overall_status', 'job=~"$job"', 'job'), '{{job}}')],
    mappings: STATUS_MAPPINGS,
    thresholds: STATUS_STEPS,
    noValue: 'No data: is the exporter scraped?',
  });

export const componentStatus = () =>
  statPanel({
    title: 'Components',
    description: 'Status of each component: the worst of its checks (vigil_component_status). Click one to drill down to its checks.',
    w: 13, h: 6,
    queries: [instant(statusCode('vigil_component_status', COMPONENT, 'component'), '{{component}}')],
    mappings: STATUS_MAPPINGS,
    thresholds: STATUS_STEPS,
    links: [drillDown('Checks of ${__field.labels.component}', CHECKS_UID, { component: '${__field.labels.component}' })],
    noValue: 'No components',
  });

export const firingAlertCount = () =>
  statPanel({
    title: 'Firing alerts',
    description: 'Alerts firing now in Prometheus (ALERTS{alertstate="firing"}), by severity; the always-firing Watchdog (severity none) is left out.',
    w: 6, h: 6,
    queries: [instant('count by (severity) (ALERTS{alertstate="firing", severity!="none"})', '{{severity}}')],
    unit: UNIT.short,
    thresholds: steps(COLOR.ok, [1, COLOR.critical]),
    noValue: 'None',
  });

export const checksByStatus = () =>
  statPanel({
    title: 'Checks by status',
    description: 'How many of the selected checks are in each status right now (vigil_check_status).',
    w: 6, h: 6,
    queries: [
      instant(`count(vigil_check_status${sel(COMPONENT, 'state="healthy"')} == 1) or vector(0)`, 'Healthy'),
      instant(`count(vigil_check_status${sel(COMPONENT, 'state="unknown"')} == 1) or vector(0)`, 'Unknown'),
      instant(`count(vigil_check_status${sel(COMPONENT, 'state="degraded"')} == 1) or vector(0)`, 'Degraded'),
      instant(`count(vigil_check_status${sel(COMPONENT, 'state="critical"')} == 1) or vector(0)`, 'Critical'),
    ],
    unit: UNIT.short,
  })
    .overrideByName('Healthy', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.ok } }])
    .overrideByName('Unknown', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.unknown } }])
    .overrideByName('Degraded', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.warning } }])
    .overrideByName('Critical', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLOR.critical } }]);

export const checkTable = () =>
  tablePanel({
    title: 'Checks',
    description: 'Every selected check: status, how long since it last succeeded and how long its last run took. Click a check to drill down.',
    w: 18, h: 9,
    queries: [
      tableQuery(statusCode('vigil_check_status', COMPONENT, 'component, check')),
      tableQuery(`max by (component, check) (time() - vigil_check_last_success_timestamp_seconds${sel(COMPONENT)})`),
      tableQuery(`max by (component, check) (probe_duration_seconds${sel(PROBE_COMPONENT)})`),
    ],
    columns: [
      { field: 'component', title: 'Component' },
      {
        field: 'check', title: 'Check',
        links: [drillDown('Drill down to ${__data.fields.check}', CHECKS_UID, {
          component: '${__data.fields.component}', check: '${__data.fields.check}',
        })],
      },
      { field: 'Value #A', title: 'Status', mappings: STATUS_MAPPINGS, thresholds: STATUS_STEPS, colored: true },
      { field: 'Value #B', title: 'Since last success', unit: UNIT.duration },
      { field: 'Value #C', title: 'Last run took', unit: UNIT.seconds },
    ],
    sortBy: { field: 'Status', desc: true },
  });

export const firingAlerts = () =>
  tablePanel({
    title: 'Firing alerts',
    description: 'Alerts firing now (ALERTS{alertstate="firing"}), most severe first.',
    w: 18, h: 9,
    queries: [tableQuery('ALERTS{alertstate="firing", severity!="none"}')],
    columns: [
      { field: 'severity', title: 'Severity', mappings: SEVERITY_MAPPINGS, colored: true },
      { field: 'alertname', title: 'Alert' },
      { field: 'component', title: 'Component' },
      { field: 'check', title: 'Check' },
      { field: 'job', title: 'Job' },
      { field: 'instance', title: 'Instance' },
      { field: 'root_cause', title: 'Impacted by' },
    ],
    sortBy: { field: 'Severity' },
    noValue: 'No alert is firing',
  });

export const impactedComponents = () =>
  tablePanel({
    title: 'Impacted by a dependency',
    description: 'Components marked impacted because a dependency (directly or transitively) is critical (vigil_component_impacted), with the root cause. Open the dependency map for the whole picture.',
    w: 6, h: 9,
    queries: [tableQuery(`max by (component, root_cause) (vigil_component_impacted${sel(COMPONENT)} == 1)`)],
    columns: [
      { field: 'component', title: 'Component' },
      {
        field: 'root_cause', title: 'Root cause',
        links: [drillDown('Dependency map', DEPENDENCIES_UID, {})],
      },
    ],
    noValue: 'None',
  });

function availability(window: '24h' | '7d') {
  return tableQuery(`max by (component) (component:probe_success:avg_over_time${window}${sel(COMPONENT_ID)})`);
}

export const componentAvailability = () =>
  tablePanel({
    title: 'Availability by component',
    description: 'Share of time all checks of the component succeeded, over the last 24 hours and 7 days (recording rules component:probe_success:avg_over_time24h / 7d in rules/vigil-availability.yml).',
    w: 12, h: 8,
    queries: [availability('24h'), availability('7d')],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'Value #A', title: 'Last 24 h', unit: UNIT.ratio, decimals: 2, thresholds: AVAILABILITY_STEPS, colored: true },
      { field: 'Value #B', title: 'Last 7 d', unit: UNIT.ratio, decimals: 2, thresholds: AVAILABILITY_STEPS, colored: true },
    ],
    sortBy: { field: 'Last 24 h' },
  });

export const overallAvailability = () =>
  statPanel({
    title: 'Availability (all components)',
    description: 'Mean of the components\' availability over 24 hours and 7 days.',
    w: 6, h: 8,
    queries: [
      instant(`avg(component:probe_success:avg_over_time24h${sel(COMPONENT_ID)})`, 'Last 24 h'),
      instant(`avg(component:probe_success:avg_over_time7d${sel(COMPONENT_ID)})`, 'Last 7 d'),
    ],
    unit: UNIT.ratio,
    decimals: 2,
    thresholds: AVAILABILITY_STEPS,
    noValue: 'Not enough history yet',
  });

export const pipelineUp = () =>
  statPanel({
    title: 'Monitoring pipeline',
    description: 'Is the Vigil exporter scraped, and are Prometheus and Alertmanager up? (up of the jobs in prometheus/prometheus.yml)',
    w: 6, h: 8,
    queries: [
      instant('min(up{job=~"$job"})', 'Vigil exporter'),
      instant('min(up{job="prometheus"})', 'Prometheus'),
      instant('min(up{job="alertmanager"})', 'Alertmanager'),
      instant('min(vigil_config_last_reload_successful{job=~"$job"})', 'Exporter config'),
    ],
    mappings: upMappings(),
    thresholds: UP_STEPS,
    noValue: 'Down or not scraped',
  }).overrideByName('Exporter config', [{ id: 'mappings', value: upMappings('Loaded', 'Reload failed') }]);

export const scrapeTargets = () =>
  statPanel({
    title: 'Scrape targets',
    description: 'Every job Prometheus scrapes: Up when all its targets answered the last scrape.',
    w: 24, h: 4,
    queries: [instant('min by (job) (up)', '{{job}}')],
    mappings: upMappings(),
    thresholds: UP_STEPS,
  });
