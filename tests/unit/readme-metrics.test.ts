// The README's metric table is the reference operators read: it must list exactly the families
// the exporter can serve (prom-client defaults process_*/nodejs_* aside).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../exporter/engine/state.js';
import { allFamilyNames, Metrics } from '../../exporter/telemetry/metrics.js';
import { startSelfTelemetry } from '../../exporter/telemetry/otel.js';
import { ROOT } from '../support/exporter.js';

function readmeMetrics(): string[] {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Metrics'));
  const end = section.indexOf('\n## ', 5);
  const rows = (end > 0 ? section.slice(0, end) : section).split('\n').filter((l) => l.startsWith('| `'));
  return rows.map((l) => /^\| `([a-z_:0-9]+)`/.exec(l)![1]).sort();
}

describe('README metric reference', () => {
  it('lists exactly the families the exporter serves', async () => {
    const registry = new Metrics(new StateStore()).registry;
    const own = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !/^(process|nodejs)_/.test(n));
    const otel = startSelfTelemetry({ inFlight: () => 0, queued: () => 0 });
    otel.requestDuration.record(0.001, { http_route: '/metrics', http_request_method: 'GET', http_response_status_code: 200 });
    const text = await otel.serialize();
    await otel.shutdown();
    const self = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    const served = [...new Set([...allFamilyNames(), ...own, ...self])].sort();
    expect(readmeMetrics()).toEqual(served);
  });
});
