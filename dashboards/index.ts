// Assembles the Vigil dashboards from the topic files' panel factories and writes them to
// dashboards/generated/<uid>.json (checked in; Grafana provisioning reads that folder).
//
//   npm run dashboards        # regenerate after changing anything under dashboards/
//
// tests/integration/dashboards.test.ts regenerates them in memory and fails when the checked-in
// JSON is stale.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, checkVariable, componentVariable, datasourceVariable, jobVariable } from './common.js';
import * as apps from './apps.js';
import * as checks from './checks.js';
import * as deps from './dependencies.js';
import * as notifications from './notifications.js';
import * as overview from './overview.js';
import * as processes from './processes.js';
import * as system from './system.js';

export const GENERATED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'generated');

export function buildDashboards(): Dashboard[] {
  return [
    buildDashboard({
      uid: overview.OVERVIEW_UID,
      title: 'Vigil / Overview',
      description: 'Is everything fine? Overall and per-component status, checks, firing alerts, availability and the monitoring pipeline itself.',
      refresh: '5s',
      variables: [datasourceVariable(), jobVariable(), componentVariable()],
      rows: [
        { title: 'Status', panels: [overview.overallStatus(), overview.componentStatus(), overview.firingAlertCount()] },
        { title: 'Checks', panels: [overview.checksByStatus(), overview.checkTable(), overview.impactedComponents(), overview.firingAlerts()] },
        { title: 'Availability and pipeline', panels: [overview.componentAvailability(), overview.overallAvailability(), overview.pipelineUp(), overview.scrapeTargets()] },
      ],
    }),
    buildDashboard({
      uid: checks.CHECKS_UID,
      title: 'Vigil / Checks',
      description: 'Drill-down by component and check: status history, latency by phase against the thresholds, success ratio, failures, TLS expiry and extracted headers.',
      refresh: '10s',
      variables: [datasourceVariable(), jobVariable(), componentVariable(), checkVariable()],
      annotations: [checks.alertAnnotation()],
      rows: [
        { title: 'Status', panels: [checks.checkStatus(), checks.statusHistory()] },
        { title: 'Latency', panels: [checks.latencyByPhase(), checks.responseTime(), checks.successRatio(), checks.latencyAnomaly()] },
        { title: 'Success and failures', panels: [checks.successRatioRange(), checks.sinceLastSuccess(), checks.availabilityTable(), checks.failuresByReason()] },
        { title: 'HTTP and TLS', panels: [checks.httpStatus(), checks.certExpiry(), checks.headerValues()] },
        { title: 'Configuration', panels: [checks.checkTypes(), checks.checkInfo()] },
      ],
    }),
    buildDashboard({
      uid: system.SYSTEM_UID,
      title: 'Vigil / System resources',
      description: 'CPU, memory, disks per mount with the predicted fill-up, load, and the exporter\'s own process.',
      variables: [datasourceVariable(), jobVariable(), componentVariable(system.SYSTEM_CHECKS), checkVariable(system.SYSTEM_CHECKS)],
      rows: [
        { title: 'Now', panels: [system.cpuNow(), system.memoryNow(), system.fullestDisk(), system.loadNow()] },
        { title: 'CPU and memory', panels: [system.cpu(), system.load(), system.memory(), system.memoryBytes()] },
        { title: 'Disks', panels: [system.diskUsed(), system.diskPredicted(), system.disks()] },
        { title: 'Vigil exporter process', panels: [system.exporterMemory(), system.exporterHeap(), system.exporterEventLoop()] },
      ],
    }),
    buildDashboard({
      uid: apps.APPS_UID,
      title: 'Vigil / Application performance',
      description: 'Apps instrumented with vigil/instrument: request rate, errors and latency by service and route, outbound calls, database calls, runtime and background jobs.',
      variables: [datasourceVariable(), apps.serviceVariable(), apps.routeVariable()],
      rows: [
        { title: 'Now', panels: [apps.requestRateNow(), apps.errorRatioNow(), apps.p95Now()] },
        { title: 'Requests, errors, duration', panels: [apps.requestRate(), apps.errorRate(), apps.latency()] },
        { title: 'Routes', panels: [apps.routeRate(), apps.routeLatency(), apps.routes()] },
        { title: 'Outbound HTTP', panels: [apps.outboundRate(), apps.outboundErrors(), apps.outboundLatency()] },
        { title: 'Database', panels: [apps.dbRate(), apps.dbErrors(), apps.dbLatency()] },
        { title: 'Runtime', panels: [apps.eventLoop(), apps.eventLoopUtilization(), apps.appCpu(), apps.appMemory()] },
        { title: 'Background jobs', panels: [apps.jobRuns(), apps.jobDuration(), apps.jobLastSuccess()] },
      ],
    }),
    buildDashboard({
      uid: notifications.NOTIFICATIONS_UID,
      title: 'Vigil / Notifications',
      description: 'Do alerts reach people (Alertmanager per integration, alert history) and do the apps\' messages reach their users (deliveries by channel and outcome, retries)?',
      variables: [datasourceVariable(), notifications.integrationVariable(), notifications.channelVariable()],
      rows: [
        { title: 'Alertmanager', panels: [notifications.amSuccessRange(), notifications.amSuccessRate(), notifications.amSent(), notifications.amLatency(), notifications.amAlerts()] },
        { title: 'Alert history', panels: [notifications.firingBySeverity(), notifications.alertTimeline(), notifications.receivedByVigil(), notifications.receivedTotals()] },
        { title: 'App message deliveries', panels: [notifications.deliveredRatio(), notifications.deliveriesByOutcome(), notifications.retries(), notifications.attempts(), notifications.deliveryLatency(), notifications.failureReasons()] },
      ],
    }),
    buildDashboard({
      uid: processes.PROCESSES_UID,
      title: 'Vigil / Processes and data stores',
      description: 'PM2 processes, database and Redis latency and pools, queues, and heartbeats of scheduled jobs.',
      variables: [datasourceVariable(), jobVariable(), componentVariable()],
      rows: [
        { title: 'PM2 processes', panels: [processes.pm2Up(), processes.pm2Table(), processes.pm2Cpu(), processes.pm2Memory(), processes.pm2Restarts()] },
        { title: 'Databases and Redis', panels: [processes.dbLatency(), processes.dbPool(), processes.dbServers(), processes.dbReconnects(), processes.sqlValues()] },
        { title: 'Queues', panels: [processes.queueDepth(), processes.queueWorkers()] },
        { title: 'Heartbeats', panels: [processes.heartbeatDue(), processes.heartbeats(), processes.heartbeatAge()] },
      ],
    }),
    buildDashboard({
      uid: deps.DEPENDENCIES_UID,
      title: 'Vigil / Dependency map',
      description: 'Which component depends on which, the status of each, and the root cause of impacted components.',
      refresh: '10s',
      variables: [datasourceVariable(), jobVariable(), componentVariable()],
      rows: [
        { title: 'Map', panels: [deps.dependencyGraph()] },
        { title: 'Dependencies', panels: [deps.dependencyTable(), deps.impacted()] },
      ],
    }),
  ];
}

/** The checked-in form: 2-space JSON with a trailing newline. */
export function render(d: Dashboard): string {
  return JSON.stringify(d, null, 2) + '\n';
}

export function fileName(d: Dashboard): string {
  return `${d.uid}.json`;
}

function writeAll(): void {
  mkdirSync(GENERATED_DIR, { recursive: true });
  const dashboards = buildDashboards();
  const keep = new Set(dashboards.map(fileName));
  for (const f of readdirSync(GENERATED_DIR)) if (f.endsWith('.json') && !keep.has(f)) rmSync(path.join(GENERATED_DIR, f));
  for (const d of dashboards) {
    writeFileSync(path.join(GENERATED_DIR, fileName(d)), render(d));
    console.log(`wrote dashboards/generated/${fileName(d)}  ${d.title}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) writeAll();
