// A reload that changes one check of many (issue 18's capacity item): the changed check starts
// again; every other check keeps its state (status, counters, history), its series and its
// place in the schedule (the same scheduler entry, due at the same moment).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../exporter/log.js';
import { Runtime } from '../../exporter/runtime.js';
import { TextBody } from '../../exporter/telemetry/text-body.js';

const CHECKS = 200;

interface EntryView { due: number; queued: boolean }

describe('reload of one check of many', () => {
  let dir: string;
  let target: http.Server;
  let port: number;
  let runtime: Runtime;
  const configFile = () => path.join(dir, 'vigil.yml');
  const write = (changed?: number) => {
    const lines = ['defaults: { interval: 1s, timeout: 2s, retries: 0 }', 'checks:'];
    for (let i = 0; i < CHECKS; i++) lines.push(`  - { name: c${i}, type: http, component: comp${i % 7}, url: "http://127.0.0.1:${port}/${i === changed ? 'moved' : 'p'}${i}" }`);
    writeFileSync(configFile(), `${lines.join('\n')}\n`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-reload-one-'));
    target = http.createServer((_q, s) => s.end('ok'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    port = (target.address() as AddressInfo).port;
    write();
    runtime = new Runtime({ configFile: configFile(), storagePath: path.join(dir, 'data'), log: silentLogger });
    runtime.apply(runtime.loadConfig());
    await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    target.closeAllConnections();
    await new Promise((r) => target.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (cond: () => boolean, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return cond();
  };
  const scrape = async () => {
    const body = new TextBody();
    await runtime.metrics.writeTo(body);
    return body.bytes().toString('utf8');
  };
  const entries = () => (runtime.scheduler as unknown as { entries: Map<string, EntryView> }).entries;

  it('starts the changed check again and leaves every other check as it was', async () => {
    const names = Array.from({ length: CHECKS }, (_, i) => `c${i}`);
    expect(await until(() => names.every((n) => runtime.state.get(n)!.runs >= 2))).toBe(true);

    // Everything below runs without yielding to the event loop until the checks: no run can land in between.
    const before = new Map(names.map((n) => {
      const s = runtime.state.get(n)!;
      const e = entries().get(n)!;
      return [n, { state: s, runs: s.runs, status: s.status, since: s.since, points: s.history.length, entry: e, due: e.due, queued: e.queued }];
    }));
    write(0);
    const result = runtime.reload('test');
    expect(result).toMatchObject({ ok: true, checks: CHECKS });

    const c0 = runtime.state.get('c0')!;
    expect(c0).not.toBe(before.get('c0')!.state);
    expect(c0.runs).toBe(0);
    expect(c0.history.length).toBe(0);
    expect(entries().get('c0')).not.toBe(before.get('c0')!.entry);
    for (const n of names.slice(1)) {
      const b = before.get(n)!;
      const s = runtime.state.get(n)!;
      expect(s, n).toBe(b.state);
      expect({ runs: s.runs, status: s.status, since: s.since, points: s.history.length }).toEqual({ runs: b.runs, status: b.status, since: b.since, points: b.points });
      const e = entries().get(n)!;
      expect(e, n).toBe(b.entry); // the same schedule: not stopped and started again
      expect({ due: e.due, queued: e.queued }).toEqual({ due: b.due, queued: b.queued });
    }
    // Their series carry on from their counters; the changed check's start at 0.
    const text = await scrape();
    for (const n of names.slice(1)) {
      const runs = Number(new RegExp(`^vigil_check_runs_total\\{check="${n}",[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(runs, n).toBeGreaterThanOrEqual(before.get(n)!.runs);
    }
    expect(text).toMatch(/^vigil_check_runs_total\{check="c0",component="comp0"\} 0$/m);
    expect(text).toContain(`target="http://127.0.0.1:${port}/moved0"`);

    // And every check keeps running: the changed one from scratch, the others on from where they were.
    expect(await until(() => c0.runs >= 1 && names.slice(1).every((n) => runtime.state.get(n)!.runs > before.get(n)!.runs))).toBe(true);
  }, 90_000);
});
