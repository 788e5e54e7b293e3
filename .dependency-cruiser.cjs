// The exporter's layers, bottom first. A module may import its own layer and the layers below
// it, never one above: so data flows one way (config -> scheduler -> probes -> state ->
// outputs) and no two folders import each other. Checked by tests/unit/architecture.test.ts
// (npx vitest run tests/unit/architecture.test.ts), which cruises the modules turned into
// JavaScript first (tests/support/import-graph.ts), hence the `.[jt]s` in the paths.
//
// Why this order:
// - model/ holds the values everyone passes along (results, samples, statuses, check fields,
//   units) and imports nothing of ours.
// - config/ validates vigil.yml. The probe kinds own their schemas, so they sit above config and
//   use its field types; the loader gets the list of kinds handed in (config/kinds.ts) instead
//   of importing it.
// - db/ is the one database everything durable goes to (the embedded SQLite file or a shared
//   PostgreSQL): its connection, its schema; the alert log, the heartbeat store and the record
//   all write through it, so it sits below them.
// - probes/ are the kinds; health/ is pure status logic (thresholds, rollup, periods); engine/
//   runs the kinds and keeps the state; record/ writes the results and status changes the
//   engine hands it (and gives them back after a restart); maintenance/ holds the windows and
//   acknowledgements (their silences, their events in the record); telemetry/ and views/ read that state; the server routes
//   to them; runtime.ts wires everything (and hands itself to the server's app); cli.ts starts it.
const LAYERS = [
  { name: 'model', path: '^exporter/(model/|version\\.[jt]s$)' },
  { name: 'config', path: '^exporter/config/' },
  { name: 'log', path: '^exporter/log\\.[jt]s$' },
  { name: 'db', path: '^exporter/db/' },
  { name: 'alerts', path: '^exporter/alerts/' },
  { name: 'probes', path: '^exporter/probes/' },
  { name: 'health', path: '^exporter/health/' },
  { name: 'engine', path: '^exporter/engine/' },
  { name: 'record', path: '^exporter/record/' },
  { name: 'maintenance', path: '^exporter/maintenance/' },
  { name: 'telemetry', path: '^exporter/telemetry/' },
  { name: 'views', path: '^exporter/views/' },
  { name: 'server', path: '^exporter/server/' },
  { name: 'runtime', path: '^exporter/runtime\\.[jt]s$' },
  { name: 'cli', path: '^exporter/cli\\.[jt]s$' },
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} may only import ${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(i + 1).map((l) => l.path) },
}));

module.exports = {
  LAYERS,
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'modules that import each other, directly or through others',
      severity: 'error',
      from: { path: '^exporter/' },
      to: { circular: true },
    },
    {
      name: 'in-a-layer',
      comment: 'every module of the exporter belongs to a layer (add a new folder to LAYERS)',
      severity: 'error',
      from: { path: '^exporter/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^exporter/server/ui/', '\\.d\\.ts$'] },
  },
};
