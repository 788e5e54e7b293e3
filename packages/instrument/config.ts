// Reads and validates the standard OTEL_* variables (plus VIGIL_INSTRUMENT_MODE and
// VIGIL_RUNTIME_METRICS) once, at start.
// Pure: takes an env object, returns the config and a list of one-line problems. A bad value never
// throws; it is reported and replaced by its default (the app must keep running).

export type Mode = 'lean' | 'full';
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export type MetricsExporterName = 'prometheus' | 'otlp' | 'console';
/** Which runtime metric set /metrics serves: OpenTelemetry's (default) or prom-client's names. */
export type RuntimeSet = 'otel' | 'prom-client';
export const RUNTIME_SETS: readonly RuntimeSet[] = ['otel', 'prom-client'];

/** RFC 9110 methods, PATCH (RFC 5789) and QUERY: the semantic conventions' default "known" methods. */
export const DEFAULT_HTTP_METHODS: readonly string[] = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE'];

/** Instrumentations known to the lean recorder (names as in OTEL_NODE_ENABLED_INSTRUMENTATIONS). */
export const LEAN_INSTRUMENTATIONS = ['http', 'undici', 'koa', 'express', 'pg', 'mysql2', 'ioredis', 'runtime-node'] as const;
/** The curated set enabled by default (full mode loads these OpenTelemetry instrumentations). */
export const DEFAULT_INSTRUMENTATIONS: readonly string[] = LEAN_INSTRUMENTATIONS;
/** Everything @opentelemetry/auto-instrumentations-node 0.81 knows (accepted in full mode). */
export const AUTO_INSTRUMENTATIONS = [
  'amqplib', 'aws-lambda', 'aws-sdk', 'bunyan', 'cassandra-driver', 'connect', 'cucumber', 'dataloader', 'dns',
  'express', 'fs', 'generic-pool', 'graphql', 'grpc', 'hapi', 'host-metrics', 'http', 'ioredis', 'kafkajs', 'knex',
  'koa', 'lru-memoizer', 'memcached', 'mongodb', 'mongoose', 'mysql2', 'mysql', 'nestjs-core', 'net', 'openai',
  'oracledb', 'pg', 'pino', 'redis', 'restify', 'router', 'runtime-node', 'socket.io', 'tedious', 'undici', 'winston',
] as const;

export interface InstrumentConfig {
  /** OTEL_SDK_DISABLED=true: nothing is started. */
  disabled: boolean;
  /** VIGIL_INSTRUMENT_MODE: `lean` (default) or `full` (NodeSDK + auto-instrumentation + traces). */
  mode: Mode;
  /** OTEL_SERVICE_NAME, else service.name from OTEL_RESOURCE_ATTRIBUTES, else package.json (resolved later). */
  serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES, percent-decoded. */
  resourceAttributes: Record<string, string>;
  /** OTEL_METRICS_EXPORTER; default `prometheus`, plus `otlp` when an OTLP endpoint is set. */
  metricsExporters: Set<MetricsExporterName>;
  /** OTEL_EXPORTER_PROMETHEUS_HOST (default: all interfaces) / _PORT (default 9464). */
  prometheus: { host?: string; port: number };
  /** OTLP metric push; protocol from OTEL_EXPORTER_OTLP_METRICS_PROTOCOL / _PROTOCOL (default http/protobuf). */
  otlp: { protocol: OtlpProtocol; intervalMs: number; timeoutMs: number; endpointHost?: string };
  /** Enabled instrumentation names (without the @opentelemetry/instrumentation- prefix). */
  instrumentations: Set<string>;
  /** OTEL_LOG_LEVEL for OpenTelemetry's own diagnostics; default `warn`. */
  logLevel: 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
  /** VIGIL_RUNTIME_METRICS: the runtime set on /metrics (OTLP always receives the OpenTelemetry one). */
  runtimeMetrics: RuntimeSet;
  /** OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS (a full override); others are recorded as `_OTHER`. */
  httpKnownMethods: ReadonlySet<string>;
  /** Variables found invalid: full mode hides them from the SDK so it does not trip over them. */
  invalidVars: string[];
}

export interface ConfigResult {
  config: InstrumentConfig;
  /** One line each, without the `vigil/instrument:` prefix. */
  problems: string[];
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;

/** Quote a value for a message, shortened so that a long or odd value stays on one line. */
function shown(value: string): string {
  const v = value.length > 40 ? value.slice(0, 40) + '…' : value;
  return JSON.stringify(v);
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseBool(env: Env, name: string, problems: string[], invalid: string[]): boolean {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return false;
  const v = raw.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  problems.push(`${name}=${shown(raw)} is not true or false; using false`);
  invalid.push(name);
  return false;
}

function parseMs(env: Env, name: string, def: number, problems: string[], invalid: string[]): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return def;
  if (/^\d+$/.test(raw) && Number(raw) > 0) return Number(raw);
  problems.push(`${name}=${shown(raw)} is not a positive number of milliseconds; using ${def}`);
  invalid.push(name);
  return def;
}

/** Returns the host[:port] of a valid http(s) URL, or undefined (and a problem) when it is not one. */
function checkUrl(env: Env, name: string, problems: string[], invalid: string[]): string | undefined | false {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.host;
  } catch {
    /* reported below */
  }
  // The value is not echoed: endpoints can carry credentials.
  problems.push(`${name} is not a valid http(s) URL (e.g. http://collector:4318); OTLP push is off`);
  invalid.push(name);
  return false;
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value,key2=value2`, values percent-encoded. Invalid: ignored as a whole (spec). */
export function parseResourceAttributes(raw: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `entry ${shown(part.trim())} is not key=value`;
    const key = part.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) return `key ${shown(key)} is not a valid attribute name`;
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return `the value of ${shown(key)} is not valid percent-encoding`;
    }
  }
  return out;
}

export function readConfig(env: Env = process.env): ConfigResult {
  const problems: string[] = [];
  const invalidVars: string[] = [];

  const disabled = parseBool(env, 'OTEL_SDK_DISABLED', problems, invalidVars);

  let mode: Mode = 'lean';
  const rawMode = env.VIGIL_INSTRUMENT_MODE?.trim();
  if (rawMode) {
    if (rawMode.toLowerCase() === 'lean' || rawMode.toLowerCase() === 'full') mode = rawMode.toLowerCase() as Mode;
    else {
      problems.push(`VIGIL_INSTRUMENT_MODE=${shown(rawMode)} is not lean or full; using lean`);
      invalidVars.push('VIGIL_INSTRUMENT_MODE');
    }
  }

  let resourceAttributes: Record<string, string> = {};
  const rawAttrs = env.OTEL_RESOURCE_ATTRIBUTES;
  if (rawAttrs !== undefined && rawAttrs.trim() !== '') {
    const parsed = parseResourceAttributes(rawAttrs);
    if (typeof parsed === 'string') {
      problems.push(`OTEL_RESOURCE_ATTRIBUTES is ignored: ${parsed} (expected key=value,key2=value2)`);
      invalidVars.push('OTEL_RESOURCE_ATTRIBUTES');
    } else resourceAttributes = parsed;
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || undefined;

  // Prometheus endpoint.
  let port = 9464;
  const rawPort = env.OTEL_EXPORTER_PROMETHEUS_PORT?.trim();
  if (rawPort) {
    if (/^\d+$/.test(rawPort) && Number(rawPort) <= 65535) port = Number(rawPort);
    else {
      problems.push(`OTEL_EXPORTER_PROMETHEUS_PORT=${shown(rawPort)} is not a port number (0-65535); using 9464`);
      invalidVars.push('OTEL_EXPORTER_PROMETHEUS_PORT');
    }
  }
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || undefined;

  // OTLP.
  const generic = checkUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', problems, invalidVars);
  const specific = checkUrl(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', problems, invalidVars);
  const endpointBroken = generic === false || specific === false;
  const endpointHost = typeof specific === 'string' ? specific : typeof generic === 'string' ? generic : undefined;
  let protocol: OtlpProtocol = 'http/protobuf';
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL']) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (raw === 'grpc' || raw === 'http/protobuf' || raw === 'http/json') protocol = raw;
    else {
      problems.push(`${name}=${shown(raw)} is not grpc, http/protobuf or http/json; using ${protocol}`);
      invalidVars.push(name);
    }
  }
  const intervalMs = parseMs(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60000, problems, invalidVars);
  const timeoutMs = parseMs(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30000, problems, invalidVars);

  // Which metric exporters.
  const metricsExporters = new Set<MetricsExporterName>();
  const rawExporters = env.OTEL_METRICS_EXPORTER?.trim();
  let exportersFromEnv = false;
  if (rawExporters) {
    const names = list(rawExporters.toLowerCase());
    const bad = names.filter((n) => !['prometheus', 'otlp', 'console', 'none'].includes(n));
    if (bad.length > 0) {
      problems.push(
        `OTEL_METRICS_EXPORTER=${shown(rawExporters)}: unknown ${bad.map(shown).join(', ')} (use prometheus, otlp, console or none); using the default`,
      );
      invalidVars.push('OTEL_METRICS_EXPORTER');
    } else {
      exportersFromEnv = true;
      if (!names.includes('none')) for (const n of names) metricsExporters.add(n as MetricsExporterName);
    }
  }
  if (!exportersFromEnv) {
    metricsExporters.add('prometheus');
    if (endpointHost !== undefined) metricsExporters.add('otlp');
  }
  if (endpointBroken) metricsExporters.delete('otlp');

  // Instrumentations.
  const known: readonly string[] = mode === 'full' ? AUTO_INSTRUMENTATIONS : LEAN_INSTRUMENTATIONS;
  let instrumentations = new Set<string>(DEFAULT_INSTRUMENTATIONS);
  const rawEnabled = env.OTEL_NODE_ENABLED_INSTRUMENTATIONS?.trim();
  if (rawEnabled) {
    const names = list(rawEnabled);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      const hint = mode === 'lean' && unknown.some((n) => (AUTO_INSTRUMENTATIONS as readonly string[]).includes(n))
        ? ` (lean mode knows ${LEAN_INSTRUMENTATIONS.join(', ')}; the others need VIGIL_INSTRUMENT_MODE=full)`
        : '';
      problems.push(`OTEL_NODE_ENABLED_INSTRUMENTATIONS: ignoring unknown ${unknown.map(shown).join(', ')}${hint}`);
    }
    instrumentations = new Set(names.filter((n) => known.includes(n)));
  }
  const rawDisabled = env.OTEL_NODE_DISABLED_INSTRUMENTATIONS?.trim();
  if (rawDisabled) {
    const names = list(rawDisabled);
    const unknown = names.filter((n) => !(AUTO_INSTRUMENTATIONS as readonly string[]).includes(n));
    if (unknown.length > 0) problems.push(`OTEL_NODE_DISABLED_INSTRUMENTATIONS: ignoring unknown ${unknown.map(shown).join(', ')}`);
    for (const n of names) instrumentations.delete(n);
  }

  let logLevel: InstrumentConfig['logLevel'] = 'warn';
  const rawLevel = env.OTEL_LOG_LEVEL?.trim();
  if (rawLevel) {
    const v = rawLevel.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(v)) logLevel = v as InstrumentConfig['logLevel'];
    else {
      problems.push(`OTEL_LOG_LEVEL=${shown(rawLevel)} is not one of ${LOG_LEVELS.join(', ').toUpperCase()}; using WARN`);
      invalidVars.push('OTEL_LOG_LEVEL');
    }
  }

  let runtimeMetrics: RuntimeSet = 'otel';
  const rawRuntime = env.VIGIL_RUNTIME_METRICS?.trim();
  if (rawRuntime) {
    const v = rawRuntime.toLowerCase();
    if ((RUNTIME_SETS as readonly string[]).includes(v)) runtimeMetrics = v as RuntimeSet;
    else {
      problems.push(`VIGIL_RUNTIME_METRICS=${shown(rawRuntime)} is not otel or prom-client; using otel`);
      invalidVars.push('VIGIL_RUNTIME_METRICS');
    }
  }

  // Semantic conventions: a full override of the known methods, case-sensitive, comma-separated.
  let httpKnownMethods: ReadonlySet<string> = new Set(DEFAULT_HTTP_METHODS);
  const rawMethods = env.OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS;
  if (rawMethods !== undefined && rawMethods.trim() !== '') {
    const names = list(rawMethods);
    const bad = names.filter((n) => !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/.test(n));
    if (bad.length > 0 || names.length > 64) {
      problems.push(`OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: ${bad.length > 0 ? `${shown(bad[0]!)} is not an HTTP method token` : 'more than 64 methods'}; using the default list`);
      invalidVars.push('OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS');
    } else httpKnownMethods = new Set(names);
  }

  if (mode === 'full') {
    const sampler = env.OTEL_TRACES_SAMPLER?.trim();
    const samplers = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];
    if (sampler && !samplers.includes(sampler)) {
      problems.push(`OTEL_TRACES_SAMPLER=${shown(sampler)} is not one of ${samplers.join(', ')}; using parentbased_always_on`);
      invalidVars.push('OTEL_TRACES_SAMPLER');
    }
    const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    if (arg && !(Number(arg) >= 0 && Number(arg) <= 1)) {
      problems.push(`OTEL_TRACES_SAMPLER_ARG=${shown(arg)} is not a ratio between 0 and 1; using 1`);
      invalidVars.push('OTEL_TRACES_SAMPLER_ARG');
    }
    const traces = env.OTEL_TRACES_EXPORTER?.trim();
    if (traces) {
      const bad = list(traces).filter((n) => !['otlp', 'console', 'zipkin', 'none'].includes(n));
      if (bad.length > 0) {
        problems.push(`OTEL_TRACES_EXPORTER=${shown(traces)}: unknown ${bad.map(shown).join(', ')} (use otlp, console, zipkin or none); using otlp`);
        invalidVars.push('OTEL_TRACES_EXPORTER');
      }
    }
  }

  return {
    config: {
      disabled,
      mode,
      serviceName,
      resourceAttributes,
      metricsExporters,
      prometheus: { host, port },
      otlp: { protocol, intervalMs, timeoutMs, endpointHost },
      instrumentations,
      logLevel,
      runtimeMetrics,
      httpKnownMethods,
      invalidVars,
    },
    problems,
  };
}
