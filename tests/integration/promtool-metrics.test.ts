// Pipes a real /metrics through `promtool check metrics`: duplicate or malformed families are
// silently mis-ingested by Prometheus, so they must fail here.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';
import { selfSignedCert } from '../support/certs.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';

let exp: RunningExporter;
let target: HttpTarget;
let tlsTarget: HttpTarget;

beforeAll(async () => {
  target = await startHttpTarget();
  target.set({ headers: { 'x-ratelimit-remaining': '10' } });
  tlsTarget = await startHttpTarget({ tls: selfSignedCert(30) });
  exp = await startExporter({
    config: `
defaults: { interval: 1s, retries: 0 }
checks:
  - { name: api, type: http, url: "${target.url}/", extract_headers: [{ header: X-RateLimit-Remaining, name: remaining }], labels: { team: core } }
  - { name: tls, type: http, url: "${tlsTarget.url}/", tls: { insecure_skip_verify: true } }
  - { name: port, type: tcp, host: 127.0.0.1, port: ${target.port} }
  - { name: host, type: system }
  - { name: self, type: process }
`,
  });
});
afterAll(async () => {
  await exp.stop();
  await target.close();
  await tlsTarget.close();
});

describe('promtool check metrics', () => {
  it('accepts the exporter output without errors or lint problems', async () => {
    const text = await waitFor(async () => {
      const t = await (await fetch(`${exp.url}/metrics`)).text();
      return /probe_ssl_earliest_cert_expiry\{/.test(t) && /vigil_system_disk_used_ratio\{/.test(t) && /vigil_http_header_value\{/.test(t) && t;
    }, 10_000);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    // exit 1 = errors (duplicates, bad syntax): never acceptable. exit 3 = lint findings: the
    // only ones allowed are prom-client's own default gauges named *_total (kept for
    // compatibility with every Node dashboard); anything of ours must lint clean.
    expect(r.status).not.toBe(1);
    const findings = (r.stdout + r.stderr).split('\n').filter(Boolean);
    const ours = findings.filter((l) => !/^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(l));
    expect(ours).toEqual([]);
  });
});
