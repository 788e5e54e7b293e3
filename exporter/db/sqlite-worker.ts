// The SQLite side of the embedded database: everything that touches the file (better-sqlite3's
// synchronous calls, migrations, WAL checkpoints, the online backup) runs here, in a worker
// thread, so a long statement, an fsync or a checkpoint never holds the main event loop (the
// scheduler, scrapes and the API). ./sqlite.ts is the other end.
//
// The worker is started from this function's source (`new Worker(source, { eval: true })`): the
// same code then runs from the TypeScript sources under vitest/tsx and from dist/ in
// production, with no separate worker file to find next to the module. So the function is
// self-contained: it imports nothing (types aside) and gets better-sqlite3's resolved path in
// workerData.

/** A request from the main thread; `id` pairs it with its reply. */
export type WorkerRequest =
  | { id: number; op: 'open'; file: string; migrations: Array<{ name: string; sqlite: string }>; verify?: boolean }
  | { id: number; op: 'all'; sql: string; params: unknown[] }
  /**
   * Statements in one transaction, consecutive ones with the same SQL as one group: the text
   * crosses the thread boundary once per group, not once per row (a flush of 500 results is
   * three groups). A group of `columns` is one statement run once per row of them (sql.ts,
   * Statement.columns). Answered with each statement's changes, and the rows of those that return some.
   */
  | { id: number; op: 'transaction'; groups: Array<{ sql: string; params: unknown[][]; columns?: ReadonlyArray<ArrayLike<unknown>> }> }
  | { id: number; op: 'backup'; file: string }
  | { id: number; op: 'checkpoint' }
  | { id: number; op: 'close' };

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  /** `reset`: the worker closed its connection after this error; the next request opens it again. */
  | { id: number; ok: false; error: { message: string; code?: string; name?: string }; reset: boolean };

export interface WorkerData {
  /** better-sqlite3's entry point, resolved by the main thread. */
  library: string;
  /** A checkpoint after writes, at most this often (ms). */
  checkpointMs: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function sqliteWorkerMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const data = workerData as WorkerData;
  const Database = require(data.library) as typeof import('better-sqlite3');
  // After these the connection may be unusable (an I/O error, the file replaced or corrupt):
  // it is closed and opened again (migrations and all) by the next request.
  const BROKEN = /^SQLITE_(IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PERM)/;

  /** The page cache per connection, in KiB. */
  const PAGE_CACHE_KIB = 2_000;

  let db: import('better-sqlite3').Database | undefined;
  let statements = new Map<string, import('better-sqlite3').Statement>();
  /** Writes since the last checkpoint. */
  let dirty = false;

  /**
   * Rows bound per call when a statement runs once per row of columns: better-sqlite3's call,
   * binding and reply cost more than SQLite's own insert of a result (2.3 µs a row one by one,
   * 1.3 in calls of 64: 500 results a second, measured in this worker's setting).
   */
  const ROWS_PER_RUN = 64;
  /** `sql` with its one VALUES tuple of placeholders repeated ROWS_PER_RUN times, or undefined when it has no such tuple. */
  const manyRowsOf = new Map<string, string | undefined>();
  const manyRows = (sql: string): string | undefined => {
    if (manyRowsOf.has(sql)) return manyRowsOf.get(sql);
    const m = /\bVALUES\s*(\(\s*\?(?:\s*,\s*\?)*\s*\))/i.exec(sql);
    // Only a statement whose placeholders are all in that tuple: others would bind out of place.
    const rest = m ? sql.slice(0, m.index) + sql.slice(m.index + m[0].length) : '';
    const many = !m || rest.includes('?') || /\bVALUES\b/i.test(rest) ? undefined
      : `${sql.slice(0, m.index)}VALUES ${new Array(ROWS_PER_RUN).fill(m[1]).join(', ')}${sql.slice(m.index + m[0].length)}`;
    manyRowsOf.set(sql, many);
    return many;
  };

  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, s = db!.prepare(sql));
    return s;
  };
  // Structured cloning turns a Buffer into a plain Uint8Array; better-sqlite3 binds only Buffers.
  const bindValue = (p: unknown) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p);
  const bindable = (params: unknown[] | undefined) => (params ?? []).map(bindValue);
  const runOne = (sql: string, params: unknown[] | undefined) => {
    const s = prepared(sql);
    if (s.reader) return { changes: 0, rows: s.all(...bindable(params)) };
    return { changes: s.run(...bindable(params)).changes };
  };

  const shut = () => {
    statements = new Map();
    const d = db;
    db = undefined;
    try { d?.close(); } catch { /* already unusable */ }
  };

  const open = (file: string, migrations: Array<{ name: string; sqlite: string }>, verify = false) => {
    shut();
    const d = new Database(file);
    try {
      // WAL: readers never wait for the writer. FULL: a commit is on disk when it returns (the
      // WAL is fsynced), so an acknowledged heartbeat or notification survives a power cut.
      d.pragma('journal_mode = WAL');
      d.pragma('synchronous = FULL');
      d.pragma('busy_timeout = 1000');
      // SQLite's own default page cache (2 MB), not better-sqlite3's build default of 16 MB: the
      // cache is malloc'd in this thread's arena and never given back, so a restore or report
      // that reads a large record held ~16 MB more resident for the life of the process. Reads
      // past it come from the OS's file cache.
      d.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      // Checkpoints are run by the timer below, never inside a commit.
      d.pragma('wal_autocheckpoint = 0');
      d.pragma('journal_size_limit = 4194304');
      // Reads the header and the schema: a file that is not a database fails here, not later.
      d.prepare('SELECT count(*) FROM sqlite_master').get();
      // After a statement found the file corrupt, a damaged page may sit anywhere: the whole file
      // is checked (reads every page: seconds for a large file, once, in this thread).
      if (verify) {
        const found = d.pragma('quick_check(1)', { simple: true });
        if (found !== 'ok') throw Object.assign(new Error(`quick_check: ${String(found)}`), { code: 'SQLITE_CORRUPT' });
      }
      d.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
      let applied = d.prepare('SELECT name FROM schema_migrations').pluck().all() as string[];
      // Files from before named steps counted them in user_version (1 = the first step).
      if (!applied.length && (d.pragma('user_version', { simple: true }) as number) >= 1) {
        applied = [migrations[0].name];
        d.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(applied[0], Date.now());
      }
      const known = new Set(migrations.map((m) => m.name));
      const unknown = applied.filter((n) => !known.has(n));
      if (unknown.length) throw new Error(`${file} was written by a newer Vigil (schema steps ${unknown.join(', ')} are unknown to this one)`);
      const done = new Set(applied);
      for (const step of migrations.filter((m) => !done.has(m.name))) {
        d.transaction(() => {
          d.exec(step.sqlite);
          d.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(step.name, Date.now());
        })();
      }
      // The steps just run are all in the WAL: into the file with them, and the WAL emptied.
      d.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      d.close();
      throw err;
    }
    db = d;
    return null;
  };

  // PASSIVE copies what no reader still needs; when that was everything, TRUNCATE starts the
  // WAL file over, so on disk it holds about one interval of writes (a small or nearly full
  // disk is not taken by a WAL that only grows).
  const checkpoint = () => {
    if (!db) return null;
    dirty = false;
    const passive = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    const r = passive[0];
    if (r && r.busy === 0 && r.log === r.checkpointed && r.log > 0) return db.pragma('wal_checkpoint(TRUNCATE)');
    return passive;
  };
  const timer = setInterval(() => {
    if (!dirty) return;
    try { checkpoint(); } catch { /* retried next time; a broken file shows on the next request */ }
  }, data.checkpointMs);

  const handle = async (m: WorkerRequest): Promise<unknown> => {
    if (m.op === 'open') return open(m.file, m.migrations, m.verify);
    if (m.op === 'close') {
      clearInterval(timer);
      shut();
      return null;
    }
    if (!db) throw Object.assign(new Error('the database is not open'), { code: 'VIGIL_DB_CLOSED' });
    if (m.op === 'all') return runOne(m.sql, m.params).rows ?? [];
    if (m.op === 'transaction') {
      const out = db.transaction(() => {
        const changes: number[] = [];
        const rows: Array<[index: number, rows: unknown[]]> = [];
        for (const g of m.groups) {
          const st = prepared(g.sql);
          if (g.columns) {
            const columns = g.columns;
            const rows = columns[0]?.length ?? 0;
            const width = columns.length;
            let n = 0;
            let i = 0;
            // ROWS_PER_RUN rows a call where the SQL is one VALUES tuple, then the rest one by one.
            const many = rows >= ROWS_PER_RUN ? manyRows(g.sql) : undefined;
            if (many) {
              const sm = prepared(many);
              const args = new Array(width * ROWS_PER_RUN);
              for (; i + ROWS_PER_RUN <= rows; i += ROWS_PER_RUN) {
                for (let r = 0; r < ROWS_PER_RUN; r++) for (let k = 0; k < width; k++) args[r * width + k] = bindValue(columns[k][i + r]);
                n += sm.run(args).changes;
              }
            }
            const args = new Array(width);
            for (; i < rows; i++) {
              for (let k = 0; k < width; k++) args[k] = bindValue(columns[k][i]);
              n += st.run(args).changes;
            }
            changes.push(n);
            continue;
          }
          for (const params of g.params) {
            if (st.reader) {
              rows.push([changes.length, st.all(...bindable(params))]);
              changes.push(0);
            } else {
              changes.push(st.run(...bindable(params)).changes);
            }
          }
        }
        return { changes, rows };
      })();
      if (out.changes.some((n) => n > 0)) dirty = true;
      return out;
    }
    if (m.op === 'backup') {
      await db.backup(m.file);
      return null;
    }
    return checkpoint();
  };

  parentPort!.on('message', (m: WorkerRequest) => {
    handle(m).then(
      (value) => parentPort!.postMessage({ id: m.id, ok: true, value }),
      (err: any) => {
        const code = typeof err?.code === 'string' ? err.code : undefined;
        const reset = m.op !== 'open' && code !== undefined && BROKEN.test(code);
        if (reset) shut();
        parentPort!.postMessage({ id: m.id, ok: false, error: { message: String(err?.message ?? err), code, name: err?.name }, reset });
      },
    );
  });
}
