// The notification log of two instances sharing one PostgreSQL record (an HA pair behind one
// Alertmanager, or two receivers): each instance has its own connection pool and alert log, and
// both append at once. Every notification is stored, under an id no other has (ids come from
// the database's counter, not from each instance's max(id) + 1, which gave both the same ids
// and silently dropped one side's rows on the conflict).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertLog, type NotificationRecord } from '../../exporter/alerts/log.js';
import { openPostgresRecord } from '../../exporter/db/postgres.js';
import type { RecordSql } from '../../exporter/db/sql.js';
import { silentLogger } from '../../exporter/log.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

let server: PostgresServer;
beforeAll(async () => { server = await startPostgres(); }, 90_000);
afterAll(async () => { await server?.stop(); });

const rec = (instance: string, n: number): Omit<NotificationRecord, 'id' | 'batch'> => ({
  received_at: new Date().toISOString(), receiver: 'vigil', status: 'firing', fingerprint: `${instance}-${n}`,
  labels: { alertname: 'VigilCheckCritical', check: `c${n}` }, annotations: {}, starts_at: new Date().toISOString(), ends_at: null,
  generator_url: 'http://prometheus/graph', group_key: '{}:{}', truncated_alerts: 0, external_url: 'http://alertmanager',
});

describe('notification ids on a shared PostgreSQL', () => {
  it('two instances appending at once store every notification, each under its own id', async () => {
    const admin = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 5_000 });
    await admin.connect();
    try { await admin.query('CREATE DATABASE notif_ha'); } finally { await admin.end(); }
    const dsn = server.url.replace(/\/postgres$/, '/notif_ha');
    const open = () => openPostgresRecord({ dsn, log: silentLogger, connectTimeoutMs: 5_000, statementTimeoutMs: 10_000 });
    const dbs: RecordSql[] = await Promise.all([open(), open()]);
    try {
      const [a, b] = dbs.map((sql) => new AlertLog({ sql, log: silentLogger }));
      await Promise.all([a.open(), b.open()]);
      // Rounds of concurrent appends from both: each round the two write at the same moment.
      const stored: NotificationRecord[] = [];
      for (let round = 0; round < 10; round++) {
        const [x, y] = await Promise.all([a.append([rec('a', round), rec('a', round + 100)]), b.append([rec('b', round), rec('b', round + 100)])]);
        stored.push(...x, ...y);
      }
      const ids = stored.map((r) => r.id);
      expect(new Set(ids).size).toBe(40);
      const rows = (await dbs[0].all<{ id: string; fingerprint: string }>('SELECT id, fingerprint FROM notifications ORDER BY id')).map((r) => [Number(r.id), r.fingerprint]);
      expect(rows).toHaveLength(40);
      expect(rows).toEqual(stored.map((r) => [r.id, r.fingerprint]).sort((p, q) => (p[0] as number) - (q[0] as number)));
      await Promise.all([a.close(), b.close()]);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });
});
