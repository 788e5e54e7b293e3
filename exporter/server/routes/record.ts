// The durable record's admin endpoint: POST /api/v1/record/backup writes an online copy of
// vigil.db under <storage.path>/backups/ (the name is Vigil's, never the caller's: the request
// body is not read). 409 while another backup runs; 501 when the record is in PostgreSQL (its
// own tools back it up: pg_dump).
import { BackupBusyError, BackupUnsupportedError } from '../../record/record.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function recordRoutes({ record }: Pick<ServerDeps, 'record'>, router: RouteTable): void {
  router.post('/api/v1/record/backup', 'admin', async (ctx) => {
    try {
      ctx.body = await record.backup();
    } catch (err) {
      const known = err instanceof BackupBusyError || err instanceof BackupUnsupportedError;
      ctx.status = err instanceof BackupBusyError ? 409 : err instanceof BackupUnsupportedError ? 501 : 500;
      ctx.body = { error: known ? (err as Error).message : `backup failed: ${(err as Error).message}` };
    }
  });
}
