// The durable record's admin endpoint: POST /api/v1/record/backup writes an online copy of
// vigil.db under <storage.path>/backups/ (the name is Vigil's, never the caller's: the request
// body is not read). 409 while another backup runs.
import { BackupBusyError } from '../../record/record.js';
import type { ServerDeps } from '../deps.js';
import type { RouteTable } from '../route-table.js';

export function recordRoutes({ record }: Pick<ServerDeps, 'record'>, router: RouteTable): void {
  router.post('/api/v1/record/backup', 'admin', async (ctx) => {
    try {
      ctx.body = await record.backup();
    } catch (err) {
      ctx.status = err instanceof BackupBusyError ? 409 : 500;
      ctx.body = { error: err instanceof BackupBusyError ? err.message : `backup failed: ${(err as Error).message}` };
    }
  });
}
