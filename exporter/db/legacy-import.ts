// Files of earlier versions (heartbeats.json, alert-notifications.jsonl) are imported into the
// database once, on the first start that finds them. The rows and a legacy_imports row naming the
// file commit in one transaction, and the file is renamed <file>.migrated only after that commit:
// a crash before the commit imports it again from scratch next time, a crash after it finds the
// legacy_imports row and only finishes the rename. Nothing is lost and nothing doubled.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { RecordSql, Statement } from './sql.js';

export const MIGRATED_SUFFIX = '.migrated';

export interface LegacyImport {
  /** The rows to insert (ON CONFLICT DO NOTHING), and how many records they are. */
  statements: Statement[];
  records: number;
}

/**
 * Import `file` once (when it exists): `parse` turns its bytes into statements. Returns the
 * records imported, 0 when it was imported before, undefined when there is no such file.
 * Throws when the database write fails (the file stays for the next start).
 */
export async function importLegacyFile(sql: RecordSql, file: string, log: Logger, parse: (buf: Buffer) => LegacyImport): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  const key = path.basename(file);
  const done = await sql.all<{ records: number }>('SELECT records FROM legacy_imports WHERE file = ?', [key]);
  let records = 0;
  if (!done.length) {
    const parsed = parse(readFileSync(file));
    await sql.transaction([
      ...parsed.statements,
      { sql: 'INSERT INTO legacy_imports (file, imported_at, records) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', params: [key, Date.now(), parsed.records] },
    ]);
    records = parsed.records;
    log.info('storage: imported a file of an earlier version into the database', { file, records });
  }
  try {
    renameSync(file, file + MIGRATED_SUFFIX);
  } catch (err) {
    // Imported (the database says so): the rename is retried at the next start, never the import.
    log.warn('storage: imported, but cannot rename the old file yet', { file, error: (err as Error).message });
  }
  return records;
}
