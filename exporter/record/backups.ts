// The backups directory (<storage.path>/backups/): whole copies are named vigil-<UTC time>.db,
// a copy in progress ends in .partial. Only the newest `keep` whole copies are kept, so
// scheduled backups (a cron job POSTing to the endpoint) cannot fill the disk; a .partial left
// by a crash mid-backup is never a backup and is removed.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export const BACKUP_DIR = 'backups';
/** Whole backups kept by default (--storage.backup.keep). */
export const DEFAULT_BACKUP_KEEP = 7;
const WHOLE = /^vigil-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.db$/;

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // no backup taken yet
  }
}

/** Remove copies a crash left half-written. Returns the names removed. */
export function removePartialBackups(dir: string): string[] {
  const partial = entries(dir).filter((n) => n.endsWith('.partial'));
  for (const n of partial) rmSync(path.join(dir, n), { force: true });
  return partial;
}

/** Keep the newest `keep` whole backups (their names sort by time); 0 keeps all. Returns the names removed. */
export function rotateBackups(dir: string, keep: number): string[] {
  if (keep <= 0) return [];
  const whole = entries(dir).filter((n) => WHOLE.test(n)).sort();
  const old = whole.slice(0, Math.max(0, whole.length - keep));
  for (const n of old) rmSync(path.join(dir, n), { force: true });
  return old;
}
