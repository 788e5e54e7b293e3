// The probe registry: config `type` -> probe module. Adding a type is one import and one entry.
import { httpProbe } from './http.js';
import { dnsProbe } from './dns.js';
import { fileProbe } from './file.js';
import { heartbeatProbe } from './heartbeat.js';
import { metricsProbe } from './metrics.js';
import { mysqlProbe } from './mysql.js';
import { pm2Probe } from './pm2.js';
import { postgresProbe } from './postgres.js';
import { promqlProbe } from './promql.js';
import { redisProbe } from './redis.js';
import { sqlProbe } from './sql.js';
import { websocketProbe } from './websocket.js';
import { processProbe } from './process.js';
import { systemProbe } from './system.js';
import { tcpProbe } from './tcp.js';
import type { ProbeDefinition } from './types.js';

const definitions: ProbeDefinition[] = [
  httpProbe,
  tcpProbe,
  systemProbe,
  processProbe,
  postgresProbe,
  mysqlProbe,
  redisProbe,
  sqlProbe,
  pm2Probe,
  heartbeatProbe,
  promqlProbe,
  metricsProbe,
  fileProbe,
  dnsProbe,
  websocketProbe,
];

const registry = new Map(definitions.map((d) => [d.type, d]));

export function getProbeDefinition(type: string): ProbeDefinition | undefined {
  return registry.get(type);
}

export function probeTypes(): string[] {
  return [...registry.keys()].sort();
}

export function allProbeDefinitions(): ProbeDefinition[] {
  return definitions;
}
