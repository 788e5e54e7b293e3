// The real prometheus-blackbox-exporter (Debian's, installed by tests/support/setup.sh) on a
// random loopback port with a temp config, for differential tests; stop() kills it and removes
// the temp dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export const BLACKBOX_BIN = '/usr/bin/prometheus-blackbox-exporter';

export interface RunningBlackbox {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

export async function startBlackbox(configYaml: string): Promise<RunningBlackbox> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-blackbox-'));
  writeFileSync(path.join(dir, 'blackbox.yml'), configYaml);
  const port = await freePort();
  const proc = spawn(BLACKBOX_BIN, [`--config.file=${dir}/blackbox.yml`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => { output += d; });
  proc.stderr!.on('data', (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`blackbox_exporter exited with ${proc.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/-/healthy`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`blackbox_exporter did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, logs: () => output, stop };
}

/** Exposition text -> family -> rendered labels -> value (HELP/TYPE and comments skipped). */
export function parseExposition(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const [, family, labels = '', value] = m;
    let series = out.get(family);
    if (!series) out.set(family, (series = new Map()));
    series.set(sortedLabels(labels), Number(value));
  }
  return out;
}

function sortedLabels(labels: string): string {
  if (!labels) return '';
  const pairs = [...labels.slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`);
  return `{${pairs.sort().join(',')}}`;
}
