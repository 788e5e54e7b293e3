// Real read-only and full disks for the exporter's --storage.path: the exporter runs in its own
// mount namespace (unshare -m) on a tmpfs mounted over its storage directory, tiny or read-only.
// Root ignores file modes, so chmod would prove nothing; the namespace disappears with the
// process, so no mount can leak. Tests reach into it through /proc/<pid>/root and nsenter.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RunningExporter } from './exporter.js';

export interface Mount {
  /** tmpfs size, e.g. '256k', '2m'. */
  size: string;
  /** A directory copied into the tmpfs before the exporter starts. */
  seed?: string;
  mode: 'ro' | 'rw';
}

// Mount a tmpfs over the storage dir inside the namespace, seed it, maybe make it read-only,
// then become the exporter.
const MOUNT_SCRIPT = `set -e
data="$1"; size="$2"; seed="$3"; mode="$4"; shift 4
mount -t tmpfs -o size="$size",mode=0755 tmpfs "$data"
if [ -n "$seed" ]; then cp -a "$seed/." "$data/"; fi
if [ "$mode" = ro ]; then mount -o remount,ro "$data"; fi
exec "$@"`;

/** The `launcher` for startExporter that runs it on `mount` over `<dir>/data`. */
export function mountedLauncher(dir: string, mount: Mount): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', MOUNT_SCRIPT, 'sh', path.join(dir, 'data'), mount.size, mount.seed ?? '', mount.mode];
}

/** A path in the storage dir as the exporter sees it (inside its mount namespace). */
export const inside = (ex: RunningExporter, ...p: string[]) => path.join(`/proc/${ex.proc.pid}/root`, ex.dir, 'data', ...p);

/**
 * Run read-only SQL on the exporter's vigil.db from inside its mount namespace (SQLite will not
 * open a WAL database through the /proc/<pid>/root link). One row per statement, as JSON.
 */
export function queryInside(ex: RunningExporter, statements: string[]): Array<Record<string, unknown>> {
  const script = `const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
const db = new Database(${JSON.stringify(path.join(ex.dir, 'data', 'vigil.db'))}, { readonly: true });
process.stdout.write(JSON.stringify(${JSON.stringify(statements)}.map((s) => db.prepare(s).get())));
db.close();`;
  const out = execFileSync('nsenter', ['-t', String(ex.proc.pid), '-m', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
  return JSON.parse(out) as Array<Record<string, unknown>>;
}

/** Make the exporter's storage dir writable again. */
export function remountWritable(ex: RunningExporter): void {
  execFileSync('nsenter', ['-t', String(ex.proc.pid), '-m', 'mount', '-o', 'remount,rw', path.join(ex.dir, 'data')]);
}
