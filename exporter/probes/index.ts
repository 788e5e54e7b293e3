// The probe registry: config `type` -> probe module. Adding a type is one import and one entry.
import { httpProbe } from './http.js';
import { processProbe } from './process.js';
import { systemProbe } from './system.js';
import { tcpProbe } from './tcp.js';
import type { ProbeDefinition } from './types.js';

const definitions: ProbeDefinition[] = [
  httpProbe,
  tcpProbe,
  systemProbe,
  processProbe,
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
