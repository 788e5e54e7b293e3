#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=4 --max-old-space-size=512 --v8-pool-size=2 --no-allocation-site-pretenuring
// vigil: the exporter's command line, following Prometheus exporter conventions.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/errors.js';
import { describeShard, parseScale } from './config/scale.js';
import { StorageLockedError } from './engine/storage-dir.js';
import { createLogger, type Level } from './log.js';
import { DEFAULT_BACKUP_KEEP } from './record/backups.js';
import { Runtime } from './runtime.js';
import { createApp } from './server/app.js';
import { createWebServer, DEFAULT_MAX_CONNECTIONS, WebConfigWatcher } from './server/listen.js';
import { startSelfTelemetry } from './telemetry/otel.js';
import { VERSION, REVISION } from './version.js';

/** The longest the server waits for the database's state before it listens anyway. */
const START_WAIT_MS = 10_000;

const HELP = `usage: vigil [flags]

Probes what vigil.yml describes and serves /metrics, /health and a status page.

flags:
  --config.file=FILE          configuration file (default: built-in config watching this host)
  --web.listen-address=ADDR   address to listen on (default ":9470")
  --web.config.file=FILE      TLS, basic auth and headers for every endpoint, in the format of
                              Prometheus and the official exporters (exporter-toolkit)
  --web.max-connections=N     client connections at once (default ${DEFAULT_MAX_CONNECTIONS}; at most half of
                              what ulimit -n leaves after 64 descriptors)
  --storage.path=DIR          directory for durable state: check record (vigil.db), heartbeats, alert log (default "data")
  --storage.backup.keep=N     whole backups of the record kept in <storage.path>/backups, newest
                              first (default ${DEFAULT_BACKUP_KEEP}; 0 keeps all)
  --shard.count=N             split the configured checks over N instances (default 1); each
                              runs the checks whose name hashes to its --shard.index
  --shard.index=I             this instance's shard, 0 to N-1 (default 0)
  --location=NAME             where this instance probes from: a \`location\` label on every
                              series, for the quorum rule across locations (default none)
  --log.level=LEVEL           debug, info, warn or error (default "info")
  --check-config              validate the configuration (and --web.config.file), print every
                              problem, exit 1 if any
  --version                   print the version and exit
  --help                      print this help and exit

signals: SIGHUP reloads the configuration; SIGTERM/SIGINT stop gracefully.
`;

function fatal(message: string): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(1);
}

function parseListen(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d+)$/.exec(addr);
  if (!m) fatal(`--web.listen-address: invalid address "${addr}", expected [host]:port such as :9470 or 127.0.0.1:9470`);
  const port = Number(m[3]);
  if (port > 65535) fatal(`--web.listen-address: port ${port} out of range`);
  return { host: m[1] ?? (m[2] || undefined), port };
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        'config.file': { type: 'string' },
        'web.listen-address': { type: 'string', default: ':9470' },
        'web.config.file': { type: 'string' },
        'web.max-connections': { type: 'string', default: String(DEFAULT_MAX_CONNECTIONS) },
        'storage.path': { type: 'string', default: 'data' },
        'storage.backup.keep': { type: 'string', default: String(DEFAULT_BACKUP_KEEP) },
        'shard.count': { type: 'string', default: '1' },
        'shard.index': { type: 'string', default: '0' },
        location: { type: 'string' },
        'log.level': { type: 'string', default: 'info' },
        'check-config': { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    fatal(`${(err as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.version) {
    process.stdout.write(`vigil version ${VERSION} (revision ${REVISION}, node ${process.version})\n`);
    return;
  }
  const level = args['log.level'] as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) fatal(`--log.level: "${level}" is not one of debug, info, warn, error`);
  const log = createLogger({ level });
  const backupKeep = Number(args['storage.backup.keep']);
  if (!Number.isInteger(backupKeep) || backupKeep < 0 || backupKeep > 10_000) fatal(`--storage.backup.keep: "${args['storage.backup.keep']}" is not a whole number from 0 to 10000`);
  const scale = parseScale(args);
  if (typeof scale === 'string') fatal(scale);
  const runtime = new Runtime({ configFile: args['config.file'], storagePath: args['storage.path']!, log, backupKeep, scale });

  const maxConnections = Number(args['web.max-connections']);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) fatal(`--web.max-connections: expected a positive integer, got "${args['web.max-connections']}"`);

  let cfg;
  let web: WebConfigWatcher;
  try {
    cfg = runtime.loadConfig();
    web = new WebConfigWatcher(args['web.config.file'], log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil: ${err.problems.length} problem(s) in the configuration:\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (args['check-config']) {
    process.stdout.write(`${cfg.file}: OK, ${cfg.checks.length} checks in ${cfg.components.length} components\n`);
    if (web.file) process.stdout.write(`${web.file}: OK${web.config?.tls ? ', TLS' : ''}${web.config?.basicAuth ? `, ${web.config.basicAuth.size} basic auth users` : ''}\n`);
    return;
  }

  const { host, port } = parseListen(args['web.listen-address']!);
  try {
    mkdirSync(args['storage.path']!, { recursive: true });
  } catch (err) {
    fatal(`--storage.path: cannot create ${args['storage.path']}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    runtime.storage.lock();
  } catch (err) {
    if (err instanceof StorageLockedError) fatal(err.message);
    throw err;
  }
  process.on('exit', () => runtime.storage.unlock());
  runtime.apply(cfg);
  const otel = startSelfTelemetry({ inFlight: () => runtime.scheduler.inFlight(), queued: () => runtime.scheduler.queued() });
  const app = createApp({ runtime, log, otel, basicAuth: () => web.config?.basicAuth, headers: () => web.config?.headers });
  const { server, tls } = createWebServer({
    handler: app.callback(), log, web, maxConnections, onConnectionDropped: () => otel.connectionsDropped.add(1),
  });
  server.on('error', (err: NodeJS.ErrnoException) => fatal(`cannot listen on ${args['web.listen-address']}: ${err.code ?? err.message}`));
  server.on('listening', () => {
    const a = server.address() as AddressInfo;
    log.info('listening', {
      address: `${a.address}:${a.port}`, port: a.port, tls, config: cfg.file, checks: runtime.config.checks.length, version: VERSION,
      ...(scale.shardCount > 1 ? { shard: describeShard(scale.shardIndex, scale.shardCount), other_shards_checks: runtime.foreignChecks.length } : {}),
      ...(scale.location ? { location: scale.location } : {}),
    });
  });
  // The database answers from its worker thread (or a server): what the record and the stores
  // remember is loaded before the first request is served, so the first page already shows it.
  // Bounded: an unreachable database must not keep /metrics down (a write waits for its
  // store's load anyway).
  const started = runtime.start().catch((err) => log.error('start failed', { error: (err as Error).message }));
  void Promise.race([started, new Promise((r) => setTimeout(r, START_WAIT_MS).unref())]).then(() => server.listen({ host, port }));
  process.on('SIGHUP', () => {
    log.info('SIGHUP received, reloading config');
    runtime.reload('SIGHUP');
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const forced = setTimeout(() => process.exit(0), 5_000);
    forced.unref();
    server.close();
    server.closeAllConnections();
    await runtime.stop();
    await otel.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Containment: a bug in one probe library must not take every other check down with it.
  process.on('uncaughtException', (err) => log.error('uncaught exception (contained)', { error: err, stack: err.stack?.split('\n').slice(0, 5).join(' | ') }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection (contained)', { error: err }));
}

main().catch((err) => fatal(err instanceof Error ? err.message : String(err)));
