// The SQLite database worked by a worker thread (exporter/db/sqlite.ts, sqlite-worker.ts): long
// statements and checkpoints leave the main event loop free, errors keep SQLite's code, a dead
// worker fails what it held and is restarted (bounded), the queue is bounded, WAL checkpoints
// run in the worker.
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESTARTS, SqliteSql } from '../../exporter/db/sqlite.js';
import { createLogger, silentLogger } from '../../exporter/log.js';

const dirs: string[] = [];
const open: SqliteSql[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function database(opts: Partial<ConstructorParameters<typeof SqliteSql>[1]> = {}): SqliteSql {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-sqlite-worker-'));
  dirs.push(dir);
  const sql = new SqliteSql(path.join(dir, 'vigil.db'), { log: silentLogger, ...opts });
  open.push(sql);
  return sql;
}

/** The longest gap between ticks of a 5 ms interval on this thread while `work` runs, and how long it ran. */
async function loopGapDuring(work: () => Promise<unknown>): Promise<{ maxGap: number; elapsed: number }> {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { maxGap: Math.max(maxGap, performance.now() - last), elapsed: performance.now() - started };
}

// Enough that the DELETE and its checkpoint take well over 150 ms on a quick, idle box (400 000 took 128 ms once).
const ROWS = 800_000;
const fill = `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${ROWS}) INSERT INTO big (id, v) SELECT x, hex(randomblob(16)) FROM n`;

describe('SQLite in a worker thread', () => {
  it('a long DELETE and a checkpoint run while the main event loop keeps ticking', async () => {
    const sql = database();
    await sql.transaction([{ sql: 'CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT NOT NULL)' }, { sql: 'CREATE INDEX big_v ON big (v)' }]);
    await sql.transaction([{ sql: fill }]);
    const { maxGap, elapsed } = await loopGapDuring(async () => {
      await sql.transaction([{ sql: 'DELETE FROM big' }]);
      await sql.checkpoint();
    });
    // On the main thread (better-sqlite3 is synchronous) the loop would stand still for all of it.
    // Generous for a loaded 2-core box: the loop may miss its turn now and then, never for the whole statement.
    expect(elapsed).toBeGreaterThan(150); // the work really is long, or this proves nothing
    expect(maxGap).toBeLessThan(elapsed / 2);
    expect(await sql.all('SELECT count(*) AS n FROM big')).toEqual([{ n: 0 }]);
  });

  it('errors keep their SQLite code across the thread', async () => {
    const sql = database();
    await expect(sql.all('SELECT * FROM nowhere')).rejects.toMatchObject({ code: 'SQLITE_ERROR', message: expect.stringMatching(/no such table: nowhere/) });
    await sql.transaction([{ sql: 'CREATE TABLE k (id INTEGER PRIMARY KEY)' }, { sql: 'INSERT INTO k VALUES (1)' }]);
    // All or none: the first insert of a failing transaction is rolled back.
    await expect(sql.transaction([{ sql: 'INSERT INTO k VALUES (2)' }, { sql: 'INSERT INTO k VALUES (1)' }])).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await sql.all('SELECT id FROM k')).toEqual([{ id: 1 }]);
  });

  it('a statement of columns is a row each, in the same transaction, its changes summed', async () => {
    const sql = database();
    await sql.transaction([{ sql: 'CREATE TABLE cols (i INTEGER PRIMARY KEY, t REAL, s TEXT, b BLOB)' }]);
    const out = await sql.transaction([
      { sql: 'INSERT INTO cols VALUES (?, ?, ?, ?)', params: [0, 0, 'before', null] },
      { sql: 'INSERT INTO cols VALUES (?, ?, ?, ?)', columns: [Float64Array.of(1, 2, 3), Float64Array.of(1.5, 2.5e-7, -3), ["it's", null, 'q?'], [null, Buffer.from([7, 0]), null]] },
      { sql: 'INSERT INTO cols VALUES (?, ?, ?, ?)', params: [4, 4, 'after', null] },
      { sql: 'SELECT count(*) AS n FROM cols' },
    ]);
    expect(out.map((r) => r.changes)).toEqual([1, 3, 1, 0]);
    expect(out[3].rows).toEqual([{ n: 5 }]);
    expect(await sql.all('SELECT i, t, s, b FROM cols ORDER BY i')).toEqual([
      { i: 0, t: 0, s: 'before', b: null }, { i: 1, t: 1.5, s: "it's", b: null }, { i: 2, t: 2.5e-7, s: null, b: Buffer.from([7, 0]) },
      { i: 3, t: -3, s: 'q?', b: null }, { i: 4, t: 4, s: 'after', b: null },
    ]);
    // Whole numbers from a Float64Array are stored as integers where the column says so.
    expect(await sql.all("SELECT typeof(i) AS i FROM cols WHERE i = 2")).toEqual([{ i: 'integer' }]);
    // All or none: a row of the columns that fails takes the whole transaction back.
    await expect(sql.transaction([
      { sql: 'INSERT INTO cols VALUES (?, ?, ?, ?)', params: [10, 0, 'x', null] },
      { sql: 'INSERT INTO cols VALUES (?, ?, ?, ?)', columns: [Float64Array.of(11, 1), Float64Array.of(0, 0), ['y', 'z'], [null, null]] },
    ])).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await sql.all('SELECT count(*) AS n FROM cols')).toEqual([{ n: 5 }]);
  });

  it('many rows of columns go 64 to a call and the rest one by one, in order, with the same outcome', async () => {
    const sql = database();
    await sql.transaction([{ sql: 'CREATE TABLE many (id INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, v REAL, s TEXT)' }]);
    const n = 3 * 64 + 17;
    const k = Float64Array.from({ length: n }, (_, i) => i);
    const v = Float64Array.from({ length: n }, (_, i) => i / 7);
    const s = Array.from({ length: n }, (_, i) => (i % 5 ? null : `row ${i}?`));
    const [first] = await sql.transaction([{ sql: 'INSERT INTO many (k, v, s) VALUES (?, ?, ?)', columns: [k, v, s] }]);
    expect(first.changes).toBe(n);
    const rows = await sql.all<{ id: number; k: number; v: number; s: string | null }>('SELECT id, k, v, s FROM many ORDER BY id');
    expect(rows).toEqual(Array.from({ length: n }, (_, i) => ({ id: i + 1, k: i, v: i / 7, s: s[i] })));
    // ON CONFLICT after the tuple: only new rows count, in a batch as one by one.
    const again = Float64Array.from({ length: 150 }, (_, i) => n - 100 + i);
    const [second] = await sql.transaction([{ sql: 'INSERT INTO many (k, v, s) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', columns: [again, new Float64Array(150), new Array(150).fill('new')] }]);
    expect(second.changes).toBe(50);
    // A placeholder outside the tuple: run row by row, each bound in its place.
    const [third] = await sql.transaction([{ sql: 'INSERT INTO many (k, v, s) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET s = ?', columns: [k, v, s, new Array(n).fill('updated')] }]);
    expect(third.changes).toBe(n);
    expect(await sql.all("SELECT count(*) AS n FROM many WHERE s = 'updated'")).toEqual([{ n }]);
    // An upsert whose batch holds one key twice adds both, as two statements would.
    await sql.transaction([{ sql: 'CREATE TABLE sums (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)' }]);
    const keys = Float64Array.from({ length: 130 }, (_, i) => i % 30);
    await sql.transaction([{ sql: 'INSERT INTO sums (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = sums.n + excluded.n', columns: [keys, new Float64Array(130).fill(2)] }]);
    expect(await sql.all('SELECT count(*) AS keys, min(n) AS lo, max(n) AS hi FROM sums')).toEqual([{ keys: 30, lo: 8, hi: 10 }]);
    // A row in the middle of a batch that fails takes the whole transaction back.
    const bad = Float64Array.from({ length: 100 }, (_, i) => 10_000 + i);
    const ids = Float64Array.from({ length: 100 }, (_, i) => (i === 40 ? 1 : 20_000 + i));
    await expect(sql.transaction([{ sql: 'INSERT INTO many (id, k, v, s) VALUES (?, ?, ?, ?)', columns: [ids, bad, bad, new Array(100).fill(null)] }]))
      .rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await sql.all('SELECT count(*) AS n FROM many')).toEqual([{ n: n + 50 }]);
  });

  it('values round-trip: blobs as Buffers, bigints, nulls, statement results', async () => {
    const sql = database();
    const blob = Buffer.from([0, 1, 2, 250]);
    const out = await sql.transaction([
      { sql: 'CREATE TABLE v (b BLOB, i INTEGER, t TEXT)' },
      { sql: 'INSERT INTO v VALUES (?, ?, ?)', params: [blob, 2n ** 40n, null] },
      { sql: 'SELECT b, i, t FROM v' },
    ]);
    expect(out[1].changes).toBe(1);
    expect(out[2].rows).toEqual([{ b: blob, i: 2 ** 40, t: null }]);
    const [row] = await sql.all<{ b: Buffer }>('SELECT b FROM v');
    expect(Buffer.isBuffer(row.b)).toBe(true);
  });

  it('a dead worker fails the requests it held, is counted, and the next request starts another', async () => {
    const failures: Error[] = [];
    const sql = database({ onWorkerFailure: (err) => failures.push(err) });
    await sql.transaction([{ sql: 'CREATE TABLE k (id INTEGER PRIMARY KEY)' }, { sql: 'INSERT INTO k VALUES (1)' }]);
    const held = sql.all('WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) SELECT count(*) FROM n');
    await new Promise((r) => setTimeout(r, 50));
    // (A statement in progress finishes first: the thread stops when it is back in JavaScript.)
    void sql.thread!.terminate();
    await expect(held).rejects.toMatchObject({ code: 'VIGIL_DB_WORKER_DIED' });
    expect(failures).toHaveLength(1);
    expect(await sql.all('SELECT id FROM k')).toEqual([{ id: 1 }]); // a new worker, the file opened again
  });

  it(`restarts are bounded: after ${MAX_RESTARTS} restarts within a minute a request is refused, not retried in a loop`, async () => {
    const sql = database();
    for (let i = 0; i <= MAX_RESTARTS; i++) {
      await sql.all('SELECT 1');
      await sql.thread!.terminate();
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect(sql.all('SELECT 1')).rejects.toMatchObject({ code: 'VIGIL_DB_WORKER_FAILING' });
  });

  it('the queue is bounded: requests beyond it are refused at once', async () => {
    const sql = database({ maxQueue: 3 });
    await sql.all('SELECT 1');
    const slow = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) SELECT count(*) AS n FROM n';
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => sql.all(slow)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['VIGIL_DB_QUEUE_FULL', 'VIGIL_DB_QUEUE_FULL', 'VIGIL_DB_QUEUE_FULL']);
  });

  it("the page cache is SQLite's 2 MB, not better-sqlite3's 16 MB build default (it stays resident once filled)", async () => {
    const sql = database();
    // Negative: a size in KiB. Set on every open, so a reopened connection keeps the bound too.
    expect(await sql.all('PRAGMA cache_size')).toEqual([{ cache_size: -2000 }]);
  });

  it('SQLite never checkpoints inside a commit; the worker checkpoints the WAL into the file on its own', async () => {
    const rows = fill.replace(String(ROWS), '20000'); // well over the 1 000 WAL pages of SQLite's autocheckpoint
    const idle = database({ checkpointMs: 3_600_000 });
    expect(await idle.all('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0 }]);
    expect(await idle.all('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]); // FULL: a commit is on disk
    await idle.transaction([{ sql: 'CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT NOT NULL)' }]);
    const empty = statSync(idle.file).size;
    await idle.transaction([{ sql: rows }]);
    expect(statSync(idle.file).size).toBe(empty); // in the WAL only: no checkpoint inside the commit

    const busy = database({ checkpointMs: 200 });
    await busy.transaction([{ sql: 'CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT NOT NULL)' }]);
    await busy.transaction([{ sql: rows }]);
    for (let i = 0; i < 150 && statSync(busy.file).size < 500_000; i++) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(busy.file).size).toBeGreaterThan(500_000); // the worker's timer copied the WAL into the file
  });

  it('a file that turns out corrupt while in use is checked whole at the next open, moved aside, and a new one started', async () => {
    const logs: string[] = [];
    const sql = database({ log: createLogger({ level: 'error', write: (l) => logs.push(l) }) });
    await sql.transaction([{ sql: 'CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT NOT NULL)' }, { sql: fill.replace(String(ROWS), '5000') }]);
    await sql.checkpoint();
    await sql.close();
    // Damage a page of the table: the header and the schema (page 1) stay whole,
    // so opening the file succeeds and only a read of the table finds the damage.
    const fd = openSync(sql.file, 'r+');
    // (Vigil's own tables come first in the file; `big`, written last, ends it.)
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, statSync(sql.file).size - 4096 * 10);
    closeSync(fd);

    const reopened = new SqliteSql(sql.file, { log: createLogger({ level: 'error', write: (l) => logs.push(l) }) });
    open.push(reopened);
    await expect(reopened.all('SELECT count(*) AS n FROM big')).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CORRUPT/) });
    // The next request opens the file again, checks every page, and starts over on a new file.
    expect(await reopened.all("SELECT count(*) AS n FROM sqlite_master WHERE name = 'big'")).toEqual([{ n: 0 }]);
    expect(readdirSync(path.dirname(sql.file)).some((f) => f.startsWith('vigil.db.corrupt-'))).toBe(true);
    expect(logs.join('\n')).toMatch(/the database file is unreadable; moved aside.*quick_check/);
  });
});
