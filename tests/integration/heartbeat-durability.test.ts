// A heartbeat 200 means the ping is on disk: concurrent pings against the compiled exporter,
// kill -9 right after the 3rd answer, restart on the same storage directory, and every
// acknowledged ping must be there (issue 12, item 3: 132 of 152 acknowledged pings were lost).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const TOKEN = 'durability-heartbeat-token-01';
const BEATS = Array.from({ length: 10 }, (_, i) => `hb${i}`);
const TRIALS = 20;
const KILL_AFTER = 3;

const CONFIG = `
defaults: { interval: 1s, timeout: 1s }
server: { heartbeat_token: ${TOKEN} }
components:
  - { name: jobs }
checks:
${BEATS.map((n) => `  - { name: ${n}, type: heartbeat, component: jobs, period: 1h }`).join('\n')}
`;

let dir: string | undefined;
let exporter: RunningExporter | undefined;

afterAll(async () => {
  await exporter?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type CheckJson = { status: string; last_run: string | null; values: Record<string, number> };

async function lastSuccesses(ex: RunningExporter): Promise<Map<string, number | undefined>> {
  // Wait until every heartbeat has been evaluated from the reloaded store (has run since the
  // restart: the status alone is restored from the record before any run).
  const checks = await waitFor(async () => {
    const all = await Promise.all(BEATS.map(async (n) => (await (await fetch(`${ex.url}/api/v1/checks/${n}`)).json()) as CheckJson));
    return all.every((c) => c.last_run !== null) && all;
  }, 15_000, 50);
  return new Map(BEATS.map((n, i) => [n, checks[i].values.last_success === undefined ? undefined : Math.round(checks[i].values.last_success * 1000)]));
}

/** 10 concurrent pings; SIGKILL as soon as `killAfter` of them were answered 200. Returns the acknowledged ones. */
async function pingAndKill(ex: RunningExporter, killAfter: number): Promise<Array<{ name: string; at: number }>> {
  const acked: Array<{ name: string; at: number }> = [];
  const exited = new Promise((r) => ex.proc.once('exit', r));
  await Promise.all(BEATS.map(async (name) => {
    try {
      const res = await fetch(`${ex.url}/api/v1/heartbeats/${name}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) return;
      const body = (await res.json()) as { received_at: string };
      if (ex.proc.exitCode !== null || ex.proc.signalCode !== null) return; // answered, but we only count answers seen before the kill
      acked.push({ name, at: Date.parse(body.received_at) });
      if (acked.length === killAfter) ex.proc.kill('SIGKILL');
    } catch { /* connection reset by the kill */ }
  }));
  if (ex.proc.exitCode === null && ex.proc.signalCode === null) ex.proc.kill('SIGKILL'); // fewer than killAfter answers
  await exited;
  return acked;
}

describe('heartbeat durability', () => {
  it(`kill -9 right after the ${KILL_AFTER}rd answer to 10 concurrent pings, ${TRIALS} trials: no acknowledged ping is lost`, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-hb-kill-'));
    exporter = await startExporter({ config: CONFIG, dir });
    let ackedTotal = 0;
    const lost: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      await lastSuccesses(exporter); // running and evaluated, so the pings race only each other
      const acked = await pingAndKill(exporter, KILL_AFTER);
      ackedTotal += acked.length;
      exporter = await startExporter({ config: CONFIG, dir });
      const after = await lastSuccesses(exporter);
      for (const a of acked) {
        if (after.get(a.name) !== a.at) lost.push(`trial ${trial}: ${a.name} acknowledged at ${new Date(a.at).toISOString()}, after restart ${after.get(a.name)}`);
      }
    }
    console.log(`heartbeat durability: ${TRIALS} trials, ${ackedTotal} acknowledged, ${lost.length} lost`);
    expect(ackedTotal).toBeGreaterThanOrEqual(TRIALS * KILL_AFTER);
    expect(lost).toEqual([]);
  }, 300_000);
});
