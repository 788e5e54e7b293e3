// The CommonJS fixture app (tests/integration/fixtures/instrument-app.cjs: koa, an outbound call,
// vigil/api signals) run as `node -r vigil/instrument` on random loopback ports, from the dist/
// the global setup builds. stop() ends it by pid (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './exporter.js';
import { freePort } from './ports.js';

export const INSTRUMENT_APP = path.join(ROOT, 'tests/integration/fixtures/instrument-app.cjs');

export interface InstrumentedApp {
  /** http://127.0.0.1:<port> of the app itself. */
  url: string;
  /** http://127.0.0.1:<port>/metrics served by vigil/instrument. */
  metricsUrl: string;
  metricsPort: number;
  stderr(): string;
  /** GET (or another method) on the app; resolves with the status. */
  hit(p: string, method?: string): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A free port is closed again before the app binds it, and on a busy box another test's socket
 * (a client's local port included) can take it first: the app then says EADDRINUSE, and is
 * started again on new ports, three times at most.
 */
export async function startInstrumentedApp(env: Record<string, string> = {}): Promise<InstrumentedApp> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(env: Record<string, string>): Promise<InstrumentedApp> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['-r', 'vigil/instrument', INSTRUMENT_APP], {
    cwd: ROOT, // `vigil/instrument` resolves from here (package self-reference)
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_SERVICE_NAME: 'fixture',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (stderr.includes('EADDRINUSE')) {
      await stop();
      throw new PortTaken(`instrumented app: a port was taken: ${stderr}`);
    }
    if (child.exitCode !== null) throw new Error(`instrumented app exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`instrumented app did not come up in 20 s: ${stderr}`);
    }
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      if ((await fetch(metricsUrl, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  return {
    url,
    metricsUrl,
    metricsPort,
    stderr: () => stderr,
    hit: async (p, method = 'GET') => {
      const res = await fetch(url + p, { method, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return res.status;
    },
    stop,
  };
}
