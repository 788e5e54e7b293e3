// The probe kinds: config `type` -> the kind's file. Adding a kind is its file and one entry here.
import { dnsProbe } from './dns.js';
import { fileProbe } from './file.js';
import { heartbeatProbe } from './heartbeat/index.js';
import { httpProbe } from './http.js';
import { icmpProbe } from './icmp.js';
import { logProbe } from './log/index.js';
import { metricsProbe } from './metrics.js';
import { mysqlProbe } from './mysql.js';
import { pm2Probe } from './pm2.js';
import { postgresProbe } from './postgres.js';
import { processProbe } from './process.js';
import { promqlProbe } from './promql.js';
import { redisProbe } from './redis.js';
import { smtpProbe } from './smtp.js';
import { sqlProbe } from './sql.js';
import { systemProbe } from './system.js';
import { tcpProbe } from './tcp.js';
import type { ProbeDefinition } from './types.js';
import { websocketProbe } from './websocket.js';

export const PROBE_KINDS: readonly ProbeDefinition[] = [
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
  smtpProbe,
  icmpProbe,
  logProbe,
];

const byType = new Map(PROBE_KINDS.map((d) => [d.type, d]));

export function getProbeDefinition(type: string): ProbeDefinition | undefined {
  return byType.get(type);
}

export function probeTypes(): string[] {
  return [...byType.keys()].sort();
}

export function allProbeDefinitions(): readonly ProbeDefinition[] {
  return PROBE_KINDS;
}
