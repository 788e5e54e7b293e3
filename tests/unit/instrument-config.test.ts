import { describe, expect, it } from 'vitest';
import { parseResourceAttributes, readConfig } from '../../packages/instrument/config.js';

describe('readConfig: defaults', () => {
  it('lean mode, Prometheus on :9464, the curated instrumentations, no problems', () => {
    const { config, problems } = readConfig({});
    expect(problems).toEqual([]);
    expect(config.disabled).toBe(false);
    expect(config.mode).toBe('lean');
    expect([...config.metricsExporters]).toEqual(['prometheus']);
    expect(config.prometheus).toEqual({ host: undefined, port: 9464 });
    expect([...config.instrumentations].sort()).toEqual(['express', 'http', 'ioredis', 'koa', 'mysql2', 'pg', 'runtime-node', 'undici']);
    expect(config.otlp).toEqual({ protocol: 'http/protobuf', intervalMs: 60000, timeoutMs: 30000, endpointHost: undefined });
    expect(config.logLevel).toBe('warn');
  });
});

describe('readConfig: valid values are honoured', () => {
  const cases: Array<{ name: string; env: Record<string, string>; expected: (c: ReturnType<typeof readConfig>['config']) => unknown; value: unknown }> = [
    { name: 'OTEL_SDK_DISABLED=true', env: { OTEL_SDK_DISABLED: 'TRUE' }, expected: (c) => c.disabled, value: true },
    { name: 'full mode', env: { VIGIL_INSTRUMENT_MODE: 'full' }, expected: (c) => c.mode, value: 'full' },
    { name: 'service name', env: { OTEL_SERVICE_NAME: 'shop' }, expected: (c) => c.serviceName, value: 'shop' },
    {
      name: 'service name from OTEL_RESOURCE_ATTRIBUTES',
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart,deployment.environment=prod' },
      expected: (c) => [c.serviceName, c.resourceAttributes['deployment.environment']],
      value: ['cart', 'prod'],
    },
    {
      name: 'OTEL_SERVICE_NAME wins over the attribute',
      env: { OTEL_SERVICE_NAME: 'shop', OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart' },
      expected: (c) => c.serviceName,
      value: 'shop',
    },
    { name: 'percent-decoded attributes', env: { OTEL_RESOURCE_ATTRIBUTES: 'team=a%2Cb' }, expected: (c) => c.resourceAttributes.team, value: 'a,b' },
    { name: 'prometheus port and host', env: { OTEL_EXPORTER_PROMETHEUS_PORT: '9100', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' }, expected: (c) => c.prometheus, value: { host: '127.0.0.1', port: 9100 } },
    {
      name: 'an OTLP endpoint adds otlp to prometheus',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      expected: (c) => [[...c.metricsExporters], c.otlp.endpointHost],
      value: [['prometheus', 'otlp'], 'collector:4318'],
    },
    {
      name: 'the metrics-specific endpoint wins',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://b/v1/metrics' },
      expected: (c) => c.otlp.endpointHost,
      value: 'b',
    },
    { name: 'OTEL_METRICS_EXPORTER=otlp only', env: { OTEL_METRICS_EXPORTER: 'otlp' }, expected: (c) => [...c.metricsExporters], value: ['otlp'] },
    { name: 'OTEL_METRICS_EXPORTER=none', env: { OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:1' }, expected: (c) => [...c.metricsExporters], value: [] },
    { name: 'protocol grpc', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, expected: (c) => c.otlp.protocol, value: 'grpc' },
    {
      name: 'metrics protocol wins over the generic one',
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      expected: (c) => c.otlp.protocol,
      value: 'http/json',
    },
    { name: 'export interval', env: { OTEL_METRIC_EXPORT_INTERVAL: '5000' }, expected: (c) => c.otlp.intervalMs, value: 5000 },
    { name: 'enabled instrumentations', env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, pg' }, expected: (c) => [...c.instrumentations], value: ['http', 'pg'] },
    {
      name: 'disabled instrumentations',
      env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'runtime-node,koa' },
      expected: (c) => [...c.instrumentations].sort(),
      value: ['express', 'http', 'ioredis', 'mysql2', 'pg', 'undici'],
    },
    {
      name: 'full mode accepts any auto-instrumentation',
      env: { VIGIL_INSTRUMENT_MODE: 'full', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,kafkajs' },
      expected: (c) => [...c.instrumentations],
      value: ['http', 'kafkajs'],
    },
    { name: 'log level', env: { OTEL_LOG_LEVEL: 'DEBUG' }, expected: (c) => c.logLevel, value: 'debug' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = readConfig(c.env);
      expect(r.problems).toEqual([]);
      expect(c.expected(r.config)).toEqual(c.value);
    });
  }
});

describe('readConfig: a bad value is one line and its default is used', () => {
  const cases: Array<{ name: string; env: Record<string, string>; problem: RegExp; check?: (c: ReturnType<typeof readConfig>['config']) => void }> = [
    { name: 'port not a number', env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' }, problem: /^OTEL_EXPORTER_PROMETHEUS_PORT="abc" is not a port number \(0-65535\); using 9464$/, check: (c) => expect(c.prometheus.port).toBe(9464) },
    { name: 'port out of range', env: { OTEL_EXPORTER_PROMETHEUS_PORT: '70000' }, problem: /^OTEL_EXPORTER_PROMETHEUS_PORT="70000" is not a port number/ },
    { name: 'unknown metrics exporter', env: { OTEL_METRICS_EXPORTER: 'prometheus,statsd' }, problem: /^OTEL_METRICS_EXPORTER="prometheus,statsd": unknown "statsd" .*; using the default$/, check: (c) => expect([...c.metricsExporters]).toEqual(['prometheus']) },
    { name: 'malformed resource attributes', env: { OTEL_RESOURCE_ATTRIBUTES: 'a=1,oops' }, problem: /^OTEL_RESOURCE_ATTRIBUTES is ignored: entry "oops" is not key=value/, check: (c) => expect(c.resourceAttributes).toEqual({}) },
    { name: 'bad percent-encoding', env: { OTEL_RESOURCE_ATTRIBUTES: 'a=%E0%A4%A' }, problem: /^OTEL_RESOURCE_ATTRIBUTES is ignored: the value of "a" is not valid percent-encoding/ },
    { name: 'endpoint not a URL (value not echoed)', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'user:secret@@host' }, problem: /^OTEL_EXPORTER_OTLP_ENDPOINT is not a valid http\(s\) URL .*; OTLP push is off$/, check: (c) => expect([...c.metricsExporters]).toEqual(['prometheus']) },
    { name: 'endpoint with another scheme', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }, problem: /^OTEL_EXPORTER_OTLP_ENDPOINT is not a valid http\(s\) URL/ },
    { name: 'unknown protocol', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' }, problem: /^OTEL_EXPORTER_OTLP_PROTOCOL="http\/xml" is not grpc, http\/protobuf or http\/json; using http\/protobuf$/ },
    { name: 'interval not a number', env: { OTEL_METRIC_EXPORT_INTERVAL: '10s' }, problem: /^OTEL_METRIC_EXPORT_INTERVAL="10s" is not a positive number of milliseconds; using 60000$/ },
    { name: 'boolean', env: { OTEL_SDK_DISABLED: 'yes' }, problem: /^OTEL_SDK_DISABLED="yes" is not true or false; using false$/, check: (c) => expect(c.disabled).toBe(false) },
    { name: 'mode', env: { VIGIL_INSTRUMENT_MODE: 'fast' }, problem: /^VIGIL_INSTRUMENT_MODE="fast" is not lean or full; using lean$/ },
    { name: 'log level', env: { OTEL_LOG_LEVEL: 'loud' }, problem: /^OTEL_LOG_LEVEL="loud" is not one of NONE, ERROR, WARN, INFO, DEBUG, VERBOSE, ALL; using WARN$/ },
    { name: 'unknown instrumentation', env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,nosuch' }, problem: /^OTEL_NODE_ENABLED_INSTRUMENTATIONS: ignoring unknown "nosuch"$/, check: (c) => expect([...c.instrumentations]).toEqual(['http']) },
    { name: 'full-mode-only instrumentation in lean mode', env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,kafkajs' }, problem: /ignoring unknown "kafkajs" \(lean mode knows .*VIGIL_INSTRUMENT_MODE=full\)$/ },
    { name: 'unknown disabled instrumentation', env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'nosuch' }, problem: /^OTEL_NODE_DISABLED_INSTRUMENTATIONS: ignoring unknown "nosuch"$/ },
    { name: 'sampler (full mode)', env: { VIGIL_INSTRUMENT_MODE: 'full', OTEL_TRACES_SAMPLER: 'sometimes' }, problem: /^OTEL_TRACES_SAMPLER="sometimes" is not one of/, check: (c) => expect(c.invalidVars).toContain('OTEL_TRACES_SAMPLER') },
    { name: 'sampler arg (full mode)', env: { VIGIL_INSTRUMENT_MODE: 'full', OTEL_TRACES_SAMPLER_ARG: '2' }, problem: /^OTEL_TRACES_SAMPLER_ARG="2" is not a ratio between 0 and 1; using 1$/ },
    { name: 'long values are shortened', env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'x'.repeat(500) }, problem: /^OTEL_EXPORTER_PROMETHEUS_PORT="x{40}…" is not a port/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = readConfig(c.env);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatch(c.problem);
      expect(r.problems[0]).not.toContain('\n');
      c.check?.(r.config);
    });
  }

  it('never throws, whatever the environment', () => {
    const junk: Record<string, string> = {};
    for (const k of ['OTEL_SDK_DISABLED', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_PROMETHEUS_PORT', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_LOG_LEVEL', 'OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'VIGIL_INSTRUMENT_MODE']) {
      junk[k] = '\u0000=,\n%%%==';
    }
    const r = readConfig(junk);
    expect(r.problems.length).toBeGreaterThan(0);
    for (const p of r.problems) expect(p).not.toContain('\n');
  });
});

describe('parseResourceAttributes', () => {
  it('parses, trims, decodes and skips empty entries', () => {
    expect(parseResourceAttributes(' a = 1 ,, b=x%20y ')).toEqual({ a: '1', b: 'x y' });
  });
  it('reports an empty key', () => {
    expect(parseResourceAttributes('=1')).toMatch(/not key=value/);
  });
});

describe('resource attributes', () => {
  it('service.name: OTEL_SERVICE_NAME, else the attribute, else package.json; version from package.json', async () => {
    const { resourceAttributes, appPackage } = await import('../../packages/instrument/resource.js');
    const entry = new URL('../../examples/demo-app/server.mjs', import.meta.url).pathname;
    expect(appPackage(entry)).toMatchObject({ name: 'vigil' });
    const fromPkg = resourceAttributes({ fromEnv: {}, entry });
    expect(fromPkg['service.name']).toBe('vigil');
    expect(fromPkg['service.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(fromPkg['host.name']).toBeTruthy();
    expect(resourceAttributes({ fromEnv: { 'service.name': 'cart', 'service.version': '9' }, entry })).toMatchObject({ 'service.name': 'cart', 'service.version': '9' });
    expect(resourceAttributes({ serviceName: 'shop', fromEnv: { 'service.name': 'cart' }, entry })['service.name']).toBe('shop');
    expect(resourceAttributes({ fromEnv: {}, entry: '/nonexistent/dir/app.js' })['service.name']).toBe('unknown_service:node');
  });
});
