// Starts the instrumentation once per process. Lean mode (default): diagnostics-channel recorders
// + runtime metrics (OpenTelemetry's set, or prom-client's names with VIGIL_RUNTIME_METRICS) handed as a MetricProducer to the PrometheusExporter (and to an OTLP reader when
// configured), plus the global MeterProvider for vigil/api. Full mode (VIGIL_INSTRUMENT_MODE=full)
// adds @opentelemetry/sdk-node with the curated auto-instrumentations and tracing.
//
// Any failure is one line on stderr and the app runs on, uninstrumented where needed.

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Api from '@opentelemetry/api';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type * as Resources from '@opentelemetry/resources';
import type * as Prom from '@opentelemetry/exporter-prometheus';
import { readConfig, RUNTIME_SETS, type InstrumentConfig, type RuntimeSet } from './config.js';
import { DbRecorder } from './db.js';
import { koaPatch } from './frameworks.js';
import type { LeanHistogram } from './histogram.js';
import { HttpRecorder, kIgnoreServer } from './http.js';
import { installLoadHook, type LoadPatch } from './load-hook.js';
import { LeanProducer, type ObservedMetric } from './producer.js';
import { PromClientRuntime } from './prom-client-runtime.js';
import { resourceAttributes } from './resource.js';
import { RuntimeMetrics } from './runtime.js';

const require = createRequire(import.meta.url);
const PREFIX = 'vigil/instrument';
const kStarted = Symbol.for('vigil.instrument.started');
const VERSION = '0.1.0';

export interface Started {
  config: InstrumentConfig;
  /** Resolves when the /metrics server listens (or failed to: then `port` is undefined). */
  ready: Promise<{ port?: number }>;
  shutdown(): Promise<void>;
}

function say(message: string): void {
  try {
    process.stderr.write(`${PREFIX}: ${message}\n`);
  } catch {
    /* stderr closed: nothing to do */
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Runs fn with the listed env variables removed, so that the SDK does not read values we rejected. */
function withoutVars<T>(names: string[], fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const n of names) {
    saved[n] = process.env[n];
    delete process.env[n];
  }
  try {
    return fn();
  } finally {
    for (const n of names) if (saved[n] !== undefined) process.env[n] = saved[n];
  }
}

/** One line per OpenTelemetry diagnostic, the same message at most once a minute. */
function installDiag(api: typeof Api, level: InstrumentConfig['logLevel']): void {
  if (level === 'none') return;
  const last = new Map<string, number>();
  const emit = (lvl: string) => (message: string, ...args: unknown[]) => {
    const text = [message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'object' ? safeJson(a) : String(a)))]
      .join(' ')
      .replace(/\s+/g, ' ')
      .slice(0, 400);
    const now = Date.now();
    if ((last.get(text) ?? 0) > now - 60_000) return;
    if (last.size > 500) last.clear();
    last.set(text, now);
    say(`otel ${lvl}: ${text}`);
  };
  const logger = { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug'), verbose: emit('verbose') };
  const levels: Record<string, Api.DiagLogLevel> = {
    error: api.DiagLogLevel.ERROR,
    warn: api.DiagLogLevel.WARN,
    info: api.DiagLogLevel.INFO,
    debug: api.DiagLogLevel.DEBUG,
    verbose: api.DiagLogLevel.VERBOSE,
    all: api.DiagLogLevel.ALL,
  };
  api.diag.setLogger(logger, { logLevel: levels[level] ?? api.DiagLogLevel.WARN, suppressOverrideMessage: true });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Meter names of OpenTelemetry instrumentations whose metrics the lean recorder already produces. */
const COVERED_BY_LEAN = ['http', 'undici', 'pg', 'mysql2', 'ioredis', 'runtime-node', 'koa', 'express'];

/** Options of a programmatic start (`import { start } from 'vigil/instrument/start'`); they win over the environment. */
export interface StartOptions {
  /** The runtime metric set on /metrics: `otel` (default) or `prom-client` (as VIGIL_RUNTIME_METRICS). */
  runtimeMetrics?: RuntimeSet;
}

/**
 * Starts the instrumentation once per process (the preload entry calls it without options). A
 * second call returns the running instance; options that differ from it are reported, not applied.
 */
export function start(options: StartOptions = {}): Started | undefined {
  const g = globalThis as Record<symbol, Started | undefined>;
  const running = g[kStarted];
  if (running) {
    if (options.runtimeMetrics !== undefined && options.runtimeMetrics !== running.config.runtimeMetrics) {
      say(`already started with runtimeMetrics "${running.config.runtimeMetrics}"; start() options apply only to the first start`);
    }
    return running;
  }
  let config: InstrumentConfig;
  try {
    const r = readConfig(process.env);
    for (const p of r.problems) say(p);
    config = r.config;
  } catch (err) {
    say(`disabled: ${oneLine(err)}`);
    return undefined;
  }
  if (options.runtimeMetrics !== undefined) {
    if ((RUNTIME_SETS as readonly unknown[]).includes(options.runtimeMetrics)) config.runtimeMetrics = options.runtimeMetrics;
    else say(`start(): runtimeMetrics ${JSON.stringify(String(options.runtimeMetrics)).slice(0, 60)} is not otel or prom-client; using ${config.runtimeMetrics}`);
  }
  if (config.disabled) return undefined;
  try {
    const started = startWith(config);
    g[kStarted] = started;
    return started;
  } catch (err) {
    say(`disabled: ${oneLine(err)}`);
    return undefined;
  }
}

function startWith(config: InstrumentConfig): Started {
  const api = require('@opentelemetry/api') as typeof Api;
  const sdkMetrics = require('@opentelemetry/sdk-metrics') as typeof SdkMetrics;
  const resources = require('@opentelemetry/resources') as typeof Resources;
  const prom = require('@opentelemetry/exporter-prometheus') as typeof Prom;

  installDiag(api, config.logLevel);
  const on = (name: string) => config.instrumentations.has(name);

  const resource = withoutVars(['OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SERVICE_NAME'], () => resources.defaultResource()).merge(
    resources.resourceFromAttributes(resourceAttributes({ serviceName: config.serviceName, fromEnv: config.resourceAttributes })),
  );

  // Recorders. Our own OTLP pushes (metrics, and traces in full mode) are not the app's calls.
  const ignoreHosts = new Set<string>();
  if (config.otlp.endpointHost) ignoreHosts.add(config.otlp.endpointHost);
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT']) {
    try {
      if (process.env[name]) ignoreHosts.add(new URL(process.env[name]!).host);
    } catch {
      /* reported by readConfig where it matters */
    }
  }
  if (ignoreHosts.size === 0 && (config.metricsExporters.has('otlp') || config.mode === 'full')) ignoreHosts.add('localhost:4318');
  const httpRec = new HttpRecorder({
    server: on('http'),
    client: on('http'),
    undici: on('undici'),
    koa: on('koa'),
    express: on('express'),
    ignoreHosts: ignoreHosts.size > 0 ? ignoreHosts : undefined,
    knownMethods: config.httpKnownMethods,
  });
  httpRec.start();
  const db = new DbRecorder();
  if (on('ioredis')) db.subscribeIoredis();
  if (on('mysql2')) db.subscribeMysql2();
  const patches: LoadPatch[] = [];
  if (on('koa')) patches.push(koaPatch);
  if (on('pg')) patches.push(db.pgPatch());
  installLoadHook(patches, (err) => say(`could not instrument a module: ${oneLine(err)}`));
  // Runtime sets: /metrics serves the chosen one; OTLP and console always get OpenTelemetry's.
  const pushes = config.metricsExporters.has('otlp') || config.metricsExporters.has('console');
  const promClientSet = on('runtime-node') && config.runtimeMetrics === 'prom-client' && config.metricsExporters.has('prometheus');
  const otelSetOnProm = on('runtime-node') && config.runtimeMetrics === 'otel';
  const runtime = on('runtime-node') && (otelSetOnProm || pushes) ? new RuntimeMetrics() : undefined;
  runtime?.start();
  const promClientRuntime = promClientSet ? new PromClientRuntime() : undefined;
  promClientRuntime?.start();

  const appHistograms = [httpRec.server, httpRec.client, db.histogram];
  const promHistograms = (): LeanHistogram[] => (runtime && otelSetOnProm ? [...appHistograms, runtime.gc] : appHistograms);
  const otelHistograms = (): LeanHistogram[] => (runtime ? [...appHistograms, runtime.gc] : appHistograms);
  const observedList = runtime?.observed() ?? [];
  const promObserved = (): ObservedMetric[] => (otelSetOnProm ? observedList : []);
  const otelObserved = (): ObservedMetric[] => observedList;

  // Readers.
  const readers: SdkMetrics.MetricReader[] = [];
  let promExporter: Prom.PrometheusExporter | undefined;
  if (config.metricsExporters.has('prometheus')) {
    promExporter = new prom.PrometheusExporter({
      preventServerStart: true,
      withoutScopeInfo: true,
      metricProducers: [new LeanProducer('prometheus', promHistograms, promObserved, resource, VERSION)],
    });
    readers.push(promExporter);
  }
  const otelProducer = () => new LeanProducer('otel', otelHistograms, otelObserved, resource, VERSION);
  if (config.metricsExporters.has('otlp')) {
    try {
      const exporter = withoutVars(config.invalidVars, () => otlpExporter(config));
      readers.push(
        new sdkMetrics.PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: config.otlp.intervalMs,
          exportTimeoutMillis: Math.min(config.otlp.timeoutMs, config.otlp.intervalMs),
          metricProducers: [otelProducer()],
        }),
      );
    } catch (err) {
      say(`OTLP metric push is off: ${oneLine(err)}`);
    }
  }
  if (config.metricsExporters.has('console')) {
    readers.push(
      new sdkMetrics.PeriodicExportingMetricReader({
        exporter: new sdkMetrics.ConsoleMetricExporter(),
        exportIntervalMillis: config.otlp.intervalMs,
        metricProducers: [otelProducer()],
      }),
    );
  }

  // In full mode the OpenTelemetry instrumentations record their own http/db/runtime metrics;
  // the lean recorder already produces those series, so theirs are dropped (never both).
  const views: SdkMetrics.ViewOptions[] = COVERED_BY_LEAN.map((n) => ({
    meterName: `@opentelemetry/instrumentation-${n}`,
    instrumentName: '*',
    aggregation: { type: sdkMetrics.AggregationType.DROP },
  }));
  const meterProvider = new sdkMetrics.MeterProvider({ resource, readers, views });
  if (!api.metrics.setGlobalMeterProvider(meterProvider)) say('another MeterProvider was already registered; vigil/api records into that one');
  if (readers.length > (promExporter ? 1 : 0)) {
    // Short-lived processes (cron jobs): push what they recorded when the event loop drains.
    process.once('beforeExit', () => {
      meterProvider.forceFlush({ timeoutMillis: 5000 }).catch(() => {});
    });
  }

  // The /metrics endpoint.
  let server: http.Server | undefined;
  const extraText = promClientRuntime ? () => promClientRuntime.render() : undefined;
  const ready = promExporter ? serveMetrics(promExporter, prom, config, extraText).then((r) => ((server = r.server), { port: r.port })) : Promise.resolve({});

  let sdk: { shutdown(): Promise<void> } | undefined;
  if (config.mode === 'full') {
    try {
      sdk = withoutVars(config.invalidVars, () => startFull(config, resource));
    } catch (err) {
      say(`VIGIL_INSTRUMENT_MODE=full could not start (lean metrics stay on): ${oneLine(err)}`);
    }
  }

  return {
    config,
    ready,
    async shutdown() {
      httpRec.stop();
      db.stop();
      runtime?.stop();
      promClientRuntime?.stop();
      await Promise.allSettled([meterProvider.shutdown(), sdk?.shutdown(), new Promise((r) => (server ? server.close(r) : r(undefined)))]);
    },
  };
}

function otlpExporter(config: InstrumentConfig): SdkMetrics.PushMetricExporter {
  const pkg =
    config.otlp.protocol === 'grpc'
      ? '@opentelemetry/exporter-metrics-otlp-grpc'
      : config.otlp.protocol === 'http/json'
        ? '@opentelemetry/exporter-metrics-otlp-http'
        : '@opentelemetry/exporter-metrics-otlp-proto';
  const mod = requireFromSdk(pkg) as { OTLPMetricExporter: new () => SdkMetrics.PushMetricExporter };
  return new mod.OTLPMetricExporter();
}

/** Resolves a package from here, else from @opentelemetry/sdk-node (whose dependencies they are). */
function requireFromSdk(pkg: string): unknown {
  try {
    return require(pkg);
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    return createRequire(require.resolve('@opentelemetry/sdk-node'))(pkg);
  }
}

function serveMetrics(
  exporter: Prom.PrometheusExporter,
  prom: typeof Prom,
  config: InstrumentConfig,
  /** More families in Prometheus text (the prom-client-compatible runtime set), appended as they are. */
  extraText?: () => string,
): Promise<{ server?: http.Server; port?: number }> {
  // Prometheus 0.0.4 text whatever the Accept header says; no scope labels; target_info kept.
  const serializer = new prom.PrometheusSerializer('', false, undefined, false, true);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.statusCode = path === '/metrics' ? 405 : 404;
      res.end();
      return;
    }
    exporter.collect().then(
      ({ resourceMetrics, errors }) => {
        for (const e of errors) say(`metrics collection: ${oneLine(e)}`);
        let body = serializer.serialize(resourceMetrics);
        if (extraText) {
          try {
            body = `${body.endsWith('\n') ? body : body + '\n'}${extraText()}`;
          } catch (err) {
            say(`metrics collection: ${oneLine(err)}`);
          }
        }
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.statusCode = 500;
        res.end(`# metrics collection failed: ${oneLine(err)}\n`);
      },
    );
  });
  (server as unknown as Record<symbol, boolean>)[kIgnoreServer] = true;
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${config.prometheus.host ?? ''}:${config.prometheus.port}`;
      say(`cannot serve /metrics on ${where}: ${err.code ?? oneLine(err)} (set OTEL_EXPORTER_PROMETHEUS_PORT); the app runs without it`);
      resolve({});
    });
    server.listen({ port: config.prometheus.port, host: config.prometheus.host }, () => {
      server.on('error', (err) => say(`/metrics server: ${oneLine(err)}`));
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : undefined });
    });
    server.unref();
  });
}

// ---- full mode ----------------------------------------------------------------------------------

/** True when the entry script is CommonJS (.cjs, or .js without "type": "module"), or there is none (-e). */
function mainIsCommonJs(entry: string | undefined = process.argv[1]): boolean {
  if (!entry) return true;
  if (entry.endsWith('.cjs') || entry.endsWith('.cts')) return true;
  if (entry.endsWith('.mjs') || entry.endsWith('.mts')) return false;
  let dir = path.dirname(path.resolve(entry));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return true;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

const CURATED_CLASSES: Record<string, string> = {
  http: 'HttpInstrumentation',
  undici: 'UndiciInstrumentation',
  koa: 'KoaInstrumentation',
  express: 'ExpressInstrumentation',
  pg: 'PgInstrumentation',
  mysql2: 'MySQL2Instrumentation',
  ioredis: 'IORedisInstrumentation',
};

function startFull(config: InstrumentConfig, resource: Resources.Resource): { shutdown(): Promise<void> } {
  // ESM apps: import-in-the-middle patches `import`ed modules. A CommonJS app needs no loader
  // hook (require-in-the-middle covers it), and Node 20 initialises the hook twice under `-r`,
  // printing a warning; so the hook is registered for ES-module entry points only.
  if (!mainIsCommonJs()) {
    const mod = require('node:module') as { register?: (specifier: string, parentURL: string) => void };
    mod.register?.('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  }

  const autoDir = require.resolve('@opentelemetry/auto-instrumentations-node');
  const fromAuto = createRequire(autoDir);
  const instrumentations: unknown[] = [];
  for (const name of config.instrumentations) {
    if (name === 'runtime-node') continue; // the lean runtime metrics cover it
    const pkg = `@opentelemetry/instrumentation-${name}`;
    let exports: Record<string, unknown>;
    try {
      exports = fromAuto(pkg) as Record<string, unknown>;
    } catch (err) {
      say(`full mode: cannot load ${pkg}: ${oneLine(err)}`);
      continue;
    }
    const className = CURATED_CLASSES[name] ?? Object.keys(exports).find((k) => k.endsWith('Instrumentation') && typeof exports[k] === 'function');
    const Ctor = className ? (exports[className] as new (cfg?: object) => unknown) : undefined;
    if (!Ctor) {
      say(`full mode: ${pkg} exports no instrumentation class`);
      continue;
    }
    const cfg =
      name === 'http'
        ? {
            ignoreIncomingRequestHook: (req: { socket?: { server?: Record<symbol, unknown> } }) => req.socket?.server?.[kIgnoreServer] === true,
          }
        : {};
    instrumentations.push(new Ctor(cfg));
  }
  const { NodeSDK } = require('@opentelemetry/sdk-node') as { NodeSDK: new (cfg: object) => { start(): void; shutdown(): Promise<void> } };
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    instrumentations,
    metricReaders: [], // our MeterProvider is already the global one
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  return sdk;
}
