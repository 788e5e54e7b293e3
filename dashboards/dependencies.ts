// Dependency map: which component depends on which (components[].depends_on in vigil.yml,
// exported as vigil_component_dependency), how each is doing, and which outage is the root cause
// of the others' trouble (vigil_component_impacted).

import {
  COLOR, COMPONENT, STATUS_MAPPINGS, STATUS_STEPS, nodeGraphPanel, sel, statusCode, tableQuery,
  tablePanel, drillDown,
} from './common.js';
import { CHECKS_UID } from './checks.js';

export const DEPENDENCIES_UID = 'vigil-dependencies';

const STATE_COLORS: [string, string][] = [
  ['healthy', COLOR.ok],
  ['unknown', COLOR.unknown],
  ['degraded', COLOR.warning],
  ['critical', COLOR.critical],
];

/** Copies label `from` into label `to`. */
const copyLabel = (expr: string, to: string, from: string) => `label_replace(${expr}, "${to}", "$1", "${from}", "(.*)")`;

/**
 * One row per component with the fields the node graph reads: id and title (the component),
 * mainstat (its status as text) and color (an HTML colour for that status).
 */
export const NODES_EXPR = copyLabel(copyLabel(copyLabel(
  `max by (component, state, color) (\n${STATE_COLORS.map(([state, color]) =>
    `  label_replace(vigil_component_status${sel('job=~"$job"', `state="${state}"`)} == 1, "color", "${color}", "", "")`).join('\n  or\n')}\n)`,
  'id', 'component'), 'title', 'component'), 'mainstat', 'state');

/** One row per dependency: source (the dependent component), target (what it depends on), id. */
export const EDGES_EXPR = `label_join(\n  ${copyLabel(copyLabel('max by (component, depends_on) (vigil_component_dependency{job=~"$job"})', 'source', 'component'), 'target', 'depends_on')},\n  "id", "->", "component", "depends_on")`;

export const dependencyGraph = () =>
  nodeGraphPanel({
    title: 'Dependency map',
    description: 'Components (nodes, coloured and labelled with their status) and their dependencies (an arrow from a component to what it depends on).',
    w: 24, h: 14,
    nodes: NODES_EXPR,
    edges: EDGES_EXPR,
  });

/** Status code of each component, with the component renamed to `depends_on` (for joining the dependency's status). */
const dependencyStatus = copyLabel(statusCode('vigil_component_status', 'job=~"$job"', 'job, instance, component'), 'depends_on', 'component');

export const dependencyTable = () =>
  tablePanel({
    title: 'Dependencies',
    description: 'Every dependency with the status of both ends: a critical dependency marks the component impacted.',
    w: 16, h: 10,
    queries: [
      tableQuery(`max by (component, depends_on) (\n  vigil_component_dependency${sel(COMPONENT)}\n  * on (job, instance, component) group_left ()\n  ${statusCode('vigil_component_status', 'job=~"$job"', 'job, instance, component').replace(/\n/g, '\n  ')}\n)`),
      tableQuery(`max by (component, depends_on) (\n  vigil_component_dependency${sel(COMPONENT)}\n  * on (job, instance, depends_on) group_left ()\n  ${dependencyStatus.replace(/\n/g, '\n  ')}\n)`),
    ],
    columns: [
      { field: 'component', title: 'Component', links: [drillDown('Checks of ${__data.fields.component}', CHECKS_UID, { component: '${__data.fields.component}' })] },
      { field: 'Value #A', title: 'Status', mappings: STATUS_MAPPINGS, thresholds: STATUS_STEPS, colored: true },
      { field: 'depends_on', title: 'Depends on', links: [drillDown('Checks of ${__data.fields.depends_on}', CHECKS_UID, { component: '${__data.fields.depends_on}' })] },
      { field: 'Value #B', title: 'Dependency status', mappings: STATUS_MAPPINGS, thresholds: STATUS_STEPS, colored: true },
    ],
    sortBy: { field: 'Dependency status', desc: true },
    noValue: 'No dependencies configured (components[].depends_on)',
  });

export const impacted = () =>
  tablePanel({
    title: 'Impacted components',
    description: 'Components whose dependency is critical (directly or transitively), with the root cause: fix the root cause first.',
    w: 8, h: 10,
    queries: [tableQuery(`max by (component, root_cause) (vigil_component_impacted${sel(COMPONENT)} == 1)`)],
    columns: [
      { field: 'component', title: 'Component' },
      { field: 'root_cause', title: 'Root cause' },
    ],
    noValue: 'Nothing impacted',
  });
