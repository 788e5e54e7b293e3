// The record's write path and the main event loop (issue 14): 500 checks/s of results fed to the
// real CheckRecord (one flush a second, retention steps every second), once with SQLite on the
// main thread (better-sqlite3 called directly, SQLite's own WAL autocheckpoint: how Vigil wrote
// before) and once with the database in its worker thread (exporter/db/sqlite.ts, checkpoints in
// the worker). Printed: the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay) p50,
// p99 and max, its utilisation (busy share), and the flush times. Goal: no flush or checkpoint
// delays the loop (a scrape). On a loaded box the delay is mostly CPU contention; the busy share
// shows what the database costs the main thread itself.
//
//   npm run bench -- writer [--duration=30s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createLogger } from '../exporter/log.js';
import { MIGRATIONS, RECORD_FILE } from '../exporter/db/schema.js';
import type { RecordSql, SqlValue, Statement, StatementResult } from '../exporter/db/sql.js';
import { openSqliteRecord } from '../exporter/db/sqlite.js';
import { CheckRecord } from '../exporter/record/record.js';
import type { CheckResult } from '../exporter/model/result.js';

const CHECKS = 500;
const RATE = 500; // results per second

/** The database on the main thread, as before the worker: every statement blocks the loop. */
class MainThreadSql implements RecordSql {
  readonly dialect = 'sqlite' as const;
  private cache = new Map<string, Database.Statement>();
  constructor(private db: Database.Database) {}
  private one(st: Statement): StatementResult {
    let s = this.cache.get(st.sql);
    if (!s) this.cache.set(st.sql, s = this.db.prepare(st.sql));
    const params = (st.params ?? []) as SqlValue[];
    return s.reader ? { changes: 0, rows: s.all(...params) as Array<Record<string, unknown>> } : { changes: s.run(...params).changes };
  }
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> { return (this.one({ sql, params }).rows ?? []) as T[]; }
  async transaction(statements: Statement[]): Promise<StatementResult[]> { return this.db.transaction(() => statements.map((s) => this.one(s)))(); }
  async close(): Promise<void> { this.db.close(); }
}

function mainThreadDatabase(dir: string): RecordSql {
  const db = new Database(path.join(dir, RECORD_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('journal_size_limit = 4194304');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const m of MIGRATIONS) db.exec(m.sqlite);
  return new MainThreadSql(db);
}

const ms = (ns: number) => +(ns / 1e6).toFixed(2);

async function run(name: string, durationMs: number, connect: (dir: string) => Promise<RecordSql>): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-writer-'));
  const sql = await connect(dir);
  const log = createLogger({ level: 'error' });
  const record = new CheckRecord({ dir, log, report: { countWriteError: () => { errors++; } }, connect: async () => sql });
  let errors = 0;
  // Raw results kept 20 s: retention deletes run all along, as in a long-running exporter.
  record.configure({ rawMs: 20_000, rollupMs: 3_600_000 });
  await record.open();
  record.start();
  const flushes: number[] = [];
  const sampler = setInterval(() => flushes.push(record.lastFlush.ms), 1_000);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  const started = Date.now();
  let n = 0;
  await new Promise<void>((resolve) => {
    const feed = setInterval(() => {
      const now = Date.now();
      for (let i = 0; i < RATE / 20; i++, n++) {
        const check = `check-${n % CHECKS}`;
        const ok = n % 7 !== 0;
        const r: CheckResult = { check, ok, status: ok ? 'healthy' : 'critical', violations: [], duration: 0.001 + (n % 100) / 1e4, samples: [], attempts: 1, startedAt: now - 2, finishedAt: now, ...(ok ? {} : { reason: 'connect', message: 'connect ECONNREFUSED 10.0.0.1:5432' }) };
        record.addResult(r, 5_000);
      }
      if (now - started >= durationMs) { clearInterval(feed); resolve(); }
    }, 50);
  });
  delay.disable();
  const busy = performance.eventLoopUtilization(elu).utilization;
  clearInterval(sampler);
  await record.stop();
  await sql.close();
  rmSync(dir, { recursive: true, force: true });
  flushes.sort((a, b) => a - b);
  const out = {
    results: n,
    loop_delay_p50_ms: ms(delay.percentile(50)),
    loop_delay_p99_ms: ms(delay.percentile(99)),
    loop_delay_max_ms: ms(delay.max),
    // Share of the time the main thread was busy (not waiting for I/O or timers): SQLite's work counts here only on the main thread.
    loop_busy_pct: +(busy * 100).toFixed(1),
    flush_median_ms: +(flushes[flushes.length >> 1] ?? 0).toFixed(1),
    flush_max_ms: +(flushes.at(-1) ?? 0).toFixed(1),
    write_errors: errors,
  };
  console.log(`${name}: ${JSON.stringify(out)}`);
  return out;
}

export async function benchWriter(args: string[] = []): Promise<Record<string, number | string>> {
  const d = /^--duration=(\d+)(s|m)?$/.exec(args.find((a) => a.startsWith('--duration=')) ?? '');
  const durationMs = d ? Number(d[1]) * (d[2] === 'm' ? 60_000 : 1_000) : 30_000;
  console.log(`${RATE} results/s over ${CHECKS} checks for ${durationMs / 1000} s, each way`);
  const log = createLogger({ level: 'error' });
  const before = await run('main thread (before)', durationMs, async (dir) => mainThreadDatabase(dir));
  const after = await run('worker thread (now)', durationMs, (dir) => openSqliteRecord(dir, log));
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(before)) out[`main_thread.${k}`] = v;
  for (const [k, v] of Object.entries(after)) out[`worker.${k}`] = v;
  return out;
}
