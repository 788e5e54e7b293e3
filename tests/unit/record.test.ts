// The durable record (exporter/record/) on a real SQLite file and a real PostgreSQL (the same
// cases against both): one transaction per flush, rollups that add up across flushes, status
// changes, retention in bounded steps, restore after a restart, failed writes counted without
// throwing; and for the SQLite file, WAL mode and a corrupt file moved aside.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../exporter/log.js';
import type { CheckResult } from '../../exporter/model/result.js';
import type { Status } from '../../exporter/model/status.js';
import { MIGRATIONS, RECORD_FILE } from '../../exporter/db/schema.js';
import { CheckRecord, PRUNE_STEP, PRUNE_STEPS_PER_SWEEP, pruneRoundMs } from '../../exporter/record/record.js';
import { openSqliteRecord } from '../../exporter/db/sqlite.js';
import { MERGE_EVERY_MS } from '../../exporter/record/staging.js';
import { estimateRecordBytes } from '../../exporter/record/size.js';
import { recordBackends, type RecordBackend } from '../support/record-backends.js';

const H = 3_600_000;
let dir: string;
let logs: string[];
let errors: string[];
let now: number;
let open: CheckRecord[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-record-'));
  logs = [];
  errors = [];
  now = Date.UTC(2026, 11, 1, 12, 0, 0);
  open = [];
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

const backends = recordBackends();

function record(at = dir, backend?: RecordBackend): CheckRecord {
  const r = new CheckRecord({
    dir: at,
    connect: backend?.connect,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    report: { countWriteError: (store) => errors.push(store) },
    now: () => now,
  });
  r.configure({ rawMs: 48 * H, rollupMs: 96 * H });
  open.push(r);
  return r;
}

function result(check: string, t: number, status: Status, extra: Partial<CheckResult> = {}): CheckResult {
  const ok = status === 'healthy';
  return { check, ok, status, violations: [], duration: 0.25, samples: [], attempts: 1, startedAt: t - 250, finishedAt: t, ...(ok ? {} : { reason: 'connect', message: `connect ECONNREFUSED at ${t}` }), ...extra };
}

const db = () => new Database(path.join(dir, RECORD_FILE), { readonly: true });

describe.each(backends.list)('the record (%s)', (kind) => {
  const b = backends.get(kind);
  beforeEach(() => b.fresh(dir));
  const rec = () => record(dir, b);
  const one = async (sql: string, params: Array<number | string> = []) => Object.values((await b.rows(sql, params))[0] ?? {})[0];

  it('creates the schema once (named steps in schema_migrations)', async () => {
    const r = rec();
    expect(await r.open()).toBe(true);
    await r.stop();
    expect((await b.rows<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).map((x) => x.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await rec().open()).toBe(true); // reopening runs no step twice
    expect(errors).toEqual([]);
  });

  it('writes results, minute rollups and status changes in one flush; rollups add up across flushes', async () => {
    const r = rec();
    const t = Math.floor(now / 60_000) * 60_000;
    r.addResult(result('db', t + 10_000, 'healthy'), 60_000);
    r.addResult(result('db', t + 20_000, 'critical'), 60_000);
    r.addStatusChange({ t: t + 20_000, check: 'db', component: 'data', from: 'healthy', to: 'critical', reason: 'connect', message: 'refused' });
    await r.flush();
    expect(r.pending).toBe(0);
    r.addResult(result('db', t + 50_000, 'critical'), 60_000);
    await r.flush();
    expect(await one('SELECT count(*) AS n FROM results')).toBe(3);
    const m = await b.rows<Record<string, number>>('SELECT * FROM rollup_minute');
    expect(m).toHaveLength(1);
    // healthy 10 s (10 → 20), critical 30 s (20 → 50): each gap in the earlier result's status.
    expect(m[0]).toMatchObject({ runs: 3, failures: 2, healthy_s: 10, critical_s: 30, unknown_s: 0, degraded_s: 0, rt_sum: 0.75, rt_max: 0.25 });
    expect(await b.rows('SELECT t, from_status, to_status, component, reason, message FROM events')).toEqual([
      { t: t + 20_000, from_status: 'healthy', to_status: 'critical', component: 'data', reason: 'connect', message: 'refused' },
    ]);
    expect(errors).toEqual([]);
  });

  it('a gap longer than the allowed one (a restart) is not counted as status time', async () => {
    const r = rec();
    const t = Math.floor(now / 60_000) * 60_000;
    r.addResult(result('db', t + 1_000, 'critical'), 5_000);
    r.addResult(result('db', t + 40_000, 'healthy'), 5_000);
    await r.flush();
    expect(await one('SELECT healthy_s + unknown_s + degraded_s + critical_s AS s FROM rollup_minute')).toBe(0);
  });

  it('restores the last status, since, last error and history after a restart', async () => {
    const r = rec();
    const base = now - 2 * H;
    r.addResult(result('db', base, 'healthy'), 60_000);
    r.addStatusChange({ t: base, check: 'db', from: 'unknown', to: 'healthy' });
    r.addResult(result('db', base + 60_000, 'critical'), 60_000);
    r.addStatusChange({ t: base + 60_000, check: 'db', from: 'healthy', to: 'critical' });
    for (let i = 2; i < 10; i++) r.addResult(result('db', base + i * 60_000, 'critical', { message: i === 9 ? 'last one' : undefined }), 60_000);
    r.addResult(result('web', base, 'healthy'), 60_000);
    await r.stop();

    const again = rec();
    const restored = await again.restore(['db', 'web', 'new'], base + 3 * 60_000, 1_000);
    expect([...restored.keys()].sort()).toEqual(['db', 'web']);
    const s = restored.get('db')!;
    expect(s).toMatchObject({ status: 'critical', since: base + 60_000, lastError: 'last one', lastSuccess: base, lastFailure: base + 9 * 60_000 });
    expect(s.points.map((p) => p.t)).toEqual([3, 4, 5, 6, 7, 8, 9].map((i) => base + i * 60_000)); // since the window, oldest first
    expect(s.points[0]).toEqual({ t: base + 3 * 60_000, duration: 0.25, status: 'critical' });
    expect((await again.restore(['db'], 0, 2)).get('db')!.points.map((p) => p.t)).toEqual([base + 8 * 60_000, base + 9 * 60_000]); // the newest max points
    // The status time between the last stored result and the next one counts again.
    again.addResult(result('db', base + 10 * 60_000, 'critical'), 120_000);
    await again.flush();
    expect(await one('SELECT critical_s FROM rollup_minute WHERE minute = ?', [Math.floor((base + 9 * 60_000) / 60_000)])).toBe(60);
    expect(errors).toEqual([]);
  });

  it('retention deletes old rows in steps of PRUNE_STEP, never more per statement, and keeps the recent ones', async () => {
    const r = rec();
    const old = now - 50 * H; // past the 48 h raw retention, inside the 96 h rollup retention
    const n = PRUNE_STEP * 2 + 123;
    for (let i = 0; i < n; i++) r.addResult(result('db', old + i * 100, 'healthy'), 1_000);
    for (let i = 0; i < 10; i++) r.addResult(result('db', now - i * 1_000, 'healthy'), 1_000);
    r.addStatusChange({ t: now - 100 * H, check: 'db', from: 'unknown', to: 'healthy' });
    await r.flush();
    const count = () => one('SELECT count(*) AS n FROM results');
    expect(await count()).toBe(n + 10);
    expect(await r.prune(1)).toBe(PRUNE_STEP); // one bounded step
    expect(await count()).toBe(n + 10 - PRUNE_STEP);
    expect(await r.prune(1)).toBe(PRUNE_STEP);
    const rest = await r.prune(100);
    expect(rest).toBe(123 + 1); // the last raw rows and the 100 h old event; rollups are within 96 h
    expect(await count()).toBe(10);
    expect(await one('SELECT min(t) AS t FROM results')).toBe(now - 9_000);
    expect(await one('SELECT count(*) AS n FROM rollup_minute')).toBeGreaterThan(0);
    expect(await one('SELECT count(*) AS n FROM events')).toBe(0);
    expect(await r.prune(100)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('retention reaches every check however small the budget per call: it resumes where it stopped', async () => {
    const r = rec();
    for (let c = 0; c < 30; c++) {
      for (let i = 0; i < 10; i++) r.addResult(result(`c${c}`, now - 50 * H + i * 1_000, 'healthy'), 5_000);
      r.addResult(result(`c${c}`, now, 'healthy'), 5_000);
    }
    await r.flush();
    const old = () => one('SELECT count(*) AS n FROM results WHERE t < ?', [now - 48 * H]);
    expect(await old()).toBe(300);
    // 30 checks x 2 tables + the events: 61 statements a round, 5 per call.
    for (let call = 0; call < 13; call++) await r.prune(5);
    expect(await old()).toBe(0);
    expect(await one('SELECT count(*) AS n FROM results')).toBe(30);
    expect(errors).toEqual([]);
  });

  it('a retention call reads only the checks it can reach, not every id left in the round', async () => {
    // Every sweep used to read all check ids from where the round stood: at 10 000 checks,
    // thousands of rows a second for a call that reaches ten checks.
    let widest = 0;
    const r = new CheckRecord({
      dir,
      connect: async () => {
        const sql = await (b.connect ?? (() => openSqliteRecord(dir, createLogger({ level: 'error', write: () => {} }), now)))();
        const all = sql.all.bind(sql);
        sql.all = (async (text: string, params?: unknown[]) => {
          const rows = await all(text, params as never);
          if (/FROM checks WHERE id >= \?/.test(text)) widest = Math.max(widest, rows.length);
          return rows;
        }) as typeof sql.all;
        return sql;
      },
      log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
      report: { countWriteError: (store) => errors.push(store) },
      now: () => now,
    });
    r.configure({ rawMs: 48 * H, rollupMs: 96 * H });
    open.push(r);
    for (let c = 0; c < 40; c++) {
      r.addResult(result(`c${c}`, now - 50 * H, 'healthy'), 5_000);
      r.addResult(result(`c${c}`, now, 'healthy'), 5_000);
    }
    await r.flush();
    const old = () => one('SELECT count(*) AS n FROM results WHERE t < ?', [now - 48 * H]);
    expect(await old()).toBe(40);
    let calls = 0;
    do { await r.prune(4); calls++; } while (r.pruning && calls < 100);
    expect(calls).toBe(Math.ceil((40 * 2 + 3) / 4)); // every statement of the round, none twice
    expect(widest).toBeLessThanOrEqual(5);
    expect(await old()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a database written by a newer Vigil is not touched: its unknown steps are named, writes are refused', async () => {
    if (kind === 'sqlite') mkdirSync(dir, { recursive: true });
    await b.exec("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL); INSERT INTO schema_migrations VALUES ('9999-from-the-future', 0)");
    const r = rec();
    expect(await r.open()).toBe(false);
    expect(errors).toEqual(['record']);
    expect(logs.join('\n')).toContain('9999-from-the-future');
    expect(await b.rows('SELECT name FROM schema_migrations')).toEqual([{ name: '9999-from-the-future' }]);
  });
});

describe('the record in its SQLite file', () => {
  /** The same results, with every kind of status time and minute crossing, for both write paths. */
  const feed = (r: CheckRecord, from: number, steps: number, each?: (i: number) => Promise<void> | void) => (async () => {
    for (let i = 0; i < steps; i++) {
      for (const [k, check] of ['db', 'web', 'queue'].entries()) {
        const status: Status = (i + k) % 7 === 0 ? 'critical' : (i + k) % 5 === 0 ? 'degraded' : 'healthy';
        r.addResult(result(check, from + i * 7_000 + k * 1_000, status, { duration: 0.01 * ((i * 3 + k) % 11 + 1) }), 30_000);
      }
      await each?.(i);
    }
  })();
  const sub = (name: string) => {
    mkdirSync(path.join(dir, name), { recursive: true });
    return record(path.join(dir, name));
  };
  const tables = (file: string) => {
    const d = new Database(file, { readonly: true });
    try {
      return {
        results: d.prepare('SELECT * FROM results ORDER BY check_id, t').all(),
        minutes: (d.prepare('SELECT * FROM rollup_minute ORDER BY check_id, minute').all() as Array<Record<string, number>>)
          .map((m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v]))),
        staged: d.prepare('SELECT count(*) FROM results_recent').pluck().get(),
      };
    } finally {
      d.close();
    }
  };

  it("the timer's flushes stage rows and merge them every few minutes; the tables end as a flush straight through leaves them", async () => {
    const t = Math.floor(now / 60_000) * 60_000;
    const steps = 100; // 700 s: two merges
    // Straight through: every flush merges at once.
    const direct = sub('direct');
    await feed(direct, t, steps, () => direct.flush());
    await direct.stop();
    // The timer's way: each second's flush appends to the staging tables; a merge when due.
    const staged = sub('staged');
    const seen: number[] = [];
    await feed(staged, t, steps, async (i) => {
      now = t + i * 7_000 + 3_000;
      await staged.flush('when-due');
      seen.push(tables(path.join(dir, 'staged', RECORD_FILE)).staged as number);
    });
    // Rows wait in the staging tables, then move in one step when MERGE_EVERY_MS has passed.
    let merges = 0;
    for (let i = 0, last = t + 3_000; i < steps; i++) {
      const at = t + i * 7_000 + 3_000;
      if (at - last >= MERGE_EVERY_MS) { merges++; last = at; }
    }
    expect(merges).toBe(2);
    expect(seen.filter((n) => n === 0)).toHaveLength(merges);
    expect(Math.max(...seen)).toBeGreaterThan(0);
    const before = tables(path.join(dir, 'staged', RECORD_FILE));
    expect(before.staged).toBeGreaterThan(0);
    expect(before.results.length).toBeLessThan(steps * 3);
    // A read sees every row written: it merges first.
    expect(await staged.read(async (sql) => (await sql.all<{ n: number }>('SELECT count(*) AS n FROM results'))[0].n)).toBe(steps * 3);
    await staged.stop();
    const after = tables(path.join(dir, 'staged', RECORD_FILE));
    expect(after.staged).toBe(0);
    expect(after.results).toEqual(tables(path.join(dir, 'direct', RECORD_FILE)).results);
    expect(after.minutes).toEqual(tables(path.join(dir, 'direct', RECORD_FILE)).minutes);
    expect(errors).toEqual([]);
  });

  it('rows left staged by a killed process are merged when the record is opened again, once', async () => {
    const t = Math.floor(now / 60_000) * 60_000;
    const killed = sub('killed');
    const steps = 60; // 420 s: one merge, then results staged
    await feed(killed, t, steps, (i) => {
      now = t + i * 7_000 + 3_000;
      return killed.flush('when-due');
    });
    // No stop(): as after kill -9, the newest rows are on disk in the staging table only, their
    // minute rollups in the killed process's memory only.
    const left = tables(path.join(dir, 'killed', RECORD_FILE));
    expect(left.results.length).toBeGreaterThan(0);
    expect(left.staged).toBeGreaterThan(0);
    expect(left.results.length + (left.staged as number)).toBe(steps * 3);
    const again = sub('killed');
    expect(await again.open()).toBe(true);
    const merged = tables(path.join(dir, 'killed', RECORD_FILE));
    expect(merged.staged).toBe(0);
    expect(merged.results).toHaveLength(steps * 3);
    const writer = sub('reference');
    await feed(writer, t, steps, () => writer.flush());
    await writer.stop();
    // Counted again from the stored results: the response times in whole microseconds.
    const reference = tables(path.join(dir, 'reference', RECORD_FILE)).minutes;
    expect(merged.minutes.map(({ rt_sum: _, ...m }) => m)).toEqual(reference.map(({ rt_sum: _, ...m }) => m));
    merged.minutes.forEach((m, i) => expect(m.rt_sum).toBeCloseTo(reference[i].rt_sum, 5));
    // Opened once more, nothing is added twice.
    await again.stop();
    expect(await sub('killed').open()).toBe(true);
    expect(tables(path.join(dir, 'killed', RECORD_FILE)).minutes).toEqual(merged.minutes);
  });

  it("the timer's retention: a sweep is one transaction of at most PRUNE_STEPS_PER_SWEEP statements, a new round at most every pruneRoundMs (an hour for 48 h)", async () => {
    const log = createLogger({ level: 'error', write: () => {} });
    let transactions = 0;
    let statements = 0;
    const r = new CheckRecord({
      dir, log, report: { countWriteError: (store) => errors.push(store) }, now: () => now,
      connect: async () => {
        const sql = await openSqliteRecord(dir, log);
        const transaction = sql.transaction.bind(sql);
        sql.transaction = (list) => { transactions++; statements = Math.max(statements, list.length); return transaction(list); };
        return sql;
      },
    });
    r.configure({ rawMs: 48 * H, rollupMs: 96 * H });
    open.push(r);
    const expire = async (at: number) => {
      for (let c = 0; c < 30; c++) r.addResult(result(`c${c}`, at - 49 * H, 'healthy'), 5_000);
      await r.flush();
    };
    await expire(now);
    const old = async () => (await r.read(async (sql) => (await sql.all<{ n: number }>('SELECT count(*) AS n FROM results WHERE t < ?', [now - 48 * H]))[0].n));
    expect(await old()).toBe(30);
    transactions = 0;
    statements = 0;
    // 30 checks x 2 tables + 3 for the events and incidents: 63 statements, 4 sweeps of one transaction each.
    const sweeps: number[] = [];
    const first = r.pruneWhenDue();
    expect(r.pruning).toBe(true); // under way from the start, before its first sweep is done
    sweeps.push(await first);
    for (let i = 0; i < 3; i++) sweeps.push(await r.pruneWhenDue());
    expect(r.pruning).toBe(false);
    expect(transactions).toBe(4);
    expect(statements).toBe(PRUNE_STEPS_PER_SWEEP);
    expect(sweeps.reduce((a, b) => a + b)).toBe(30);
    expect(await old()).toBe(0);
    // The round is done: new expired rows wait for the next one.
    now += 60_000;
    await expire(now);
    for (let i = 0; i < 5; i++) expect(await r.pruneWhenDue()).toBe(0);
    expect(await old()).toBe(30);
    expect(r.pruneRoundMs).toBe(H);
    now += 58 * 60_000;
    await expire(now);
    for (let i = 0; i < 5; i++) expect(await r.pruneWhenDue()).toBe(0);
    now += 60_000;
    let deleted = 0;
    for (let i = 0; i < 5; i++) deleted += await r.pruneWhenDue();
    expect(deleted).toBe(60);
    expect(await old()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('is in WAL mode', async () => {
    const r = record();
    expect(await r.open()).toBe(true);
    await r.stop();
    const d = db();
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    d.close();
  });

  it('an unreadable database file is moved aside, logged, and a new one started', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, RECORD_FILE), 'this is not a database, it was torn or overwritten'.repeat(200));
    writeFileSync(path.join(dir, `${RECORD_FILE}-wal`), 'junk');
    const r = record();
    r.addResult(result('db', now, 'healthy'), 1_000);
    await r.flush();
    expect(errors).toEqual([]);
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${RECORD_FILE}.corrupt-`)).sort();
    // The broken file is kept for inspection (its WAL with it, unless SQLite dropped it on close).
    expect(aside[0]).toBe(`${RECORD_FILE}.corrupt-2026-12-01T12-00-00-000Z`);
    expect(logs.join('\n')).toMatch(/"level":"error","msg":"record: the database file is unreadable; moved aside, starting a new one"/);
    const d = db();
    expect(d.prepare('SELECT count(*) FROM results').pluck().get()).toBe(1);
    d.close();
  });

  it('a write that fails is counted and logged once per outage, never thrown; writes resume when they can', async () => {
    const missing = path.join(dir, 'not-yet');
    const r = record(missing); // the directory does not exist: SQLite cannot create the file
    for (let i = 0; i < 3; i++) {
      r.addResult(result('db', now + i * 1_000, 'healthy'), 5_000);
      await expect(r.flush()).resolves.toBeUndefined();
    }
    expect(errors).toEqual(['record', 'record', 'record']);
    expect(logs.filter((l) => l.includes('record: cannot write check results'))).toHaveLength(1);
    expect(r.pending).toBe(0); // the failed batches were dropped, not kept to grow
    mkdirSync(missing);
    r.addResult(result('db', now + 5_000, 'healthy'), 5_000);
    await r.flush();
    expect(errors).toHaveLength(3);
    expect(logs.filter((l) => l.includes('record: writes succeed again'))).toHaveLength(1);
    expect(existsSync(path.join(missing, RECORD_FILE))).toBe(true);
  });

  it('the size estimate logged at start is close to what the write path really stores', async () => {
    const r = record();
    const checks = Array.from({ length: 100 }, () => ({ interval: 10_000 }));
    const span = 1_000 * 10_000; // 1 000 results a check
    for (let k = 0; k < 1_000; k++) {
      for (let c = 0; c < checks.length; c++) {
        const failing = (c * 7 + k) % 20 === 0; // 5 % failing, with a message
        r.addResult(result(`check-${c}`, now - span + k * 10_000 + c, failing ? 'critical' : 'healthy', { duration: 0.001 + ((c * k) % 200) / 1_000, message: failing ? 'connect ECONNREFUSED 10.0.0.1:5432' : undefined }), 30_000);
      }
      if (k % 10 === 9) await r.flush();
    }
    await r.stop();
    const d = new Database(path.join(dir, RECORD_FILE));
    d.pragma('wal_checkpoint(TRUNCATE)');
    d.close();
    const actual = statSync(path.join(dir, RECORD_FILE)).size;
    const estimate = estimateRecordBytes(checks, { rawMs: span, rollupMs: span });
    expect(actual / estimate).toBeGreaterThan(0.7);
    expect(actual / estimate).toBeLessThan(1.3);
  });
});

describe('the record schema', () => {
  it('a file from before named steps (user_version 1) is recognised: its tables are kept, no step runs twice', async () => {
    mkdirSync(dir, { recursive: true });
    const old = new Database(path.join(dir, RECORD_FILE));
    old.exec(MIGRATIONS[0].sqlite);
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO checks (name) VALUES (?)').run('db');
    old.close();
    const r = record();
    expect(await r.open()).toBe(true);
    r.addResult(result('db', now, 'healthy'), 1_000);
    await r.stop();
    const d = db();
    expect(d.prepare('SELECT name FROM schema_migrations ORDER BY name').pluck().all()).toEqual(MIGRATIONS.map((m) => m.name));
    expect(d.prepare('SELECT name FROM checks').pluck().all()).toEqual(['db']);
    expect(d.prepare('SELECT count(*) FROM results').pluck().get()).toBe(1);
    d.close();
    expect(errors).toEqual([]);
  });

  it('a file written by a newer Vigil is not touched: its unknown steps are named, writes are refused', async () => {
    mkdirSync(dir, { recursive: true });
    const newer = new Database(path.join(dir, RECORD_FILE));
    newer.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    newer.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run('9999-from-the-future', 0);
    newer.close();
    const r = record();
    expect(await r.open()).toBe(false);
    expect(errors).toEqual(['record']);
    expect(logs.join('\n')).toContain('9999-from-the-future');
    expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});
