// kill -9 of the compiled exporter at a random moment of a burst of check results, heartbeat
// pings and Alertmanager webhook notifications, 20 times on the same storage directory: every
// acknowledged (2xx) ping and notification is in the database afterwards, the database opens
// (and passes quick_check) every time, and the newest stored result is about a flush (1 s) older
// than the kill at most.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

const HB_TOKEN = 'kill-durability-heartbeat-01';
const WEBHOOK_TOKEN = 'kill-durability-webhook-0001';
const BEATS = Array.from({ length: 5 }, (_, i) => `hb${i}`);
const TRIALS = 20;

const CONFIG = `
server: { heartbeat_token: ${HB_TOKEN}, webhook_token: ${WEBHOOK_TOKEN} }
components:
  - { name: jobs }
checks:
${Array.from({ length: 20 }, (_, i) => `  - { name: c${i}, type: tcp, host: 127.0.0.1, port: 1, interval: 100ms, timeout: 100ms, retries: 0 }`).join('\n')}
${BEATS.map((n) => `  - { name: ${n}, type: heartbeat, component: jobs, period: 1h }`).join('\n')}
`;

let dir: string | undefined;
let exporter: RunningExporter | undefined;
afterAll(async () => {
  await exporter?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function notification(fingerprint: string) {
  return {
    version: '4', groupKey: `{}:{fp="${fingerprint}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'vigil', groupLabels: {}, commonLabels: {}, commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    alerts: [{
      status: 'firing', labels: { alertname: 'VigilCheckCritical', severity: 'critical', check: 'c0' }, annotations: {},
      startsAt: '2026-12-01T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.example/graph', fingerprint,
    }],
  };
}

/** Results committed so far (another connection reads the live database; WAL lets it). */
function resultsIn(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM results_all').pluck().get() as number;
  } finally {
    db.close();
  }
}

interface Acked { pings: Map<string, number>; count: number; fingerprints: string[] }

/** Pings and notifications as fast as they are answered, until the exporter dies. */
async function burst(ex: RunningExporter, trial: number, acked: Acked): Promise<void> {
  const alive = () => ex.proc.exitCode === null && ex.proc.signalCode === null;
  const pinger = async (name: string) => {
    while (alive()) {
      try {
        const res = await fetch(`${ex.url}/api/v1/heartbeats/${name}`, { method: 'POST', headers: { authorization: `Bearer ${HB_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
        if (res.status !== 200) continue;
        // A 200 is only sent once the ping is committed, so it counts even if the kill came just after.
        const at = Date.parse(((await res.json()) as { received_at: string }).received_at);
        acked.pings.set(name, Math.max(acked.pings.get(name) ?? 0, at));
        acked.count++;
      } catch { /* the kill */ }
    }
  };
  let n = 0;
  const notifier = async (lane: number) => {
    while (alive()) {
      const fingerprint = `${trial.toString(16).padStart(2, '0')}${lane}${(n++).toString(16).padStart(6, '0')}`;
      try {
        const res = await fetch(`${ex.url}/api/v1/alerts/webhook`, {
          method: 'POST', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(notification(fingerprint)), signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) acked.fingerprints.push(fingerprint);
      } catch { /* the kill */ }
    }
  };
  await Promise.all([...BEATS.map(pinger), notifier(0), notifier(1)]);
}

describe('kill -9 during results, heartbeats and webhook notifications', () => {
  it(`${TRIALS} trials: nothing acknowledged is lost, the database opens every time, at most about 1 s of results lost`, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-kill-'));
    const dbFile = path.join(dir, 'data', 'vigil.db');
    const lostMs: number[] = [];
    const problems: string[] = [];
    let rowsBefore = 0;
    let ackedPings = 0;
    let ackedNotifications = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      exporter = await startExporter({ config: CONFIG, dir });
      const ex = exporter;
      const acked: Acked = { pings: new Map(), count: 0, fingerprints: [] };
      const exited = new Promise((r) => ex.proc.once('exit', r));
      const bursting = burst(ex, trial, acked);
      // Killed at a random moment of the burst once this run's first flush is in (on a loaded
      // box it can queue behind the pings' commits), so each trial also measures how much of the
      // newest history is lost.
      await waitFor(() => resultsIn(dbFile) > rowsBefore, 15_000, 50);
      await new Promise((r) => setTimeout(r, Math.random() * 1_000));
      const killedAt = Date.now();
      ex.proc.kill('SIGKILL');
      await bursting;
      await exited;
      exporter = undefined;
      ackedPings += acked.count;
      ackedNotifications += acked.fingerprints.length;

      const db = new Database(dbFile);
      try {
        expect(db.pragma('quick_check', { simple: true })).toBe('ok');
        for (const [name, at] of acked.pings) {
          const lastPing = db.prepare('SELECT last_ping FROM heartbeats WHERE name = ?').pluck().get(name) as number | undefined;
          if (!(lastPing !== undefined && lastPing >= at)) problems.push(`trial ${trial}: ping of ${name} acknowledged at ${at}, stored ${lastPing}`);
        }
        const stored = new Set(db.prepare('SELECT fingerprint FROM notifications').pluck().all() as string[]);
        for (const fp of acked.fingerprints) if (!stored.has(fp)) problems.push(`trial ${trial}: notification ${fp} acknowledged, not stored`);
        const rows = db.prepare('SELECT count(*) FROM results_all').pluck().get() as number;
        expect(rows).toBeGreaterThan(rowsBefore); // this run wrote results
        rowsBefore = rows;
        lostMs.push(killedAt - (db.prepare('SELECT max(t) FROM results_all WHERE t <= ?').pluck().get(killedAt) as number));
      } finally {
        db.close();
      }
      expect(ex.logs()).not.toMatch(/unreadable|moved aside/);
    }
    lostMs.sort((a, b) => a - b);
    console.log(`kill -9 durability: ${TRIALS} trials; acknowledged ${ackedPings} heartbeat pings and ${ackedNotifications} notifications, ${problems.length} lost; ${rowsBefore} results; newest stored result before the kill by ms: median ${lostMs[lostMs.length >> 1]}, max ${lostMs.at(-1)}`);
    expect(problems).toEqual([]);
    expect(ackedNotifications).toBeGreaterThanOrEqual(TRIALS); // the bursts really wrote
    expect(ackedPings).toBeGreaterThanOrEqual(TRIALS);
    // One flush a second: at most ~1 s (plus one interval and a loaded box's timer lateness).
    expect(lostMs[lostMs.length >> 1]).toBeLessThan(1_300);
    expect(lostMs.at(-1)).toBeLessThan(2_500);
  }, 240_000);
});
