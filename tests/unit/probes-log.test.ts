// The log watch probe (`type: log`) run by hand against files the test writes, rotates (rename +
// create, copytruncate) and truncates, with its lines and positions in a real SQLite database
// (the record's schema) and in PostgreSQL: it starts at the end, reads what was appended exactly once across
// rotation and truncation, resumes at the stored position with a new probe (a restart), counts
// per pattern, keeps redacted matching lines searchable, and holds its caps (bytes per run, line
// length, lines per second, retention and byte budget).
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../exporter/log.js';
import { openSqliteRecord } from '../../exporter/db/sqlite.js';
import type { RecordSql } from '../../exporter/db/sql.js';
import type { ProbeResult } from '../../exporter/model/result.js';
import { logProbe, MAX_KEPT_PER_RUN, type LogCheck } from '../../exporter/probes/log/index.js';
import { ABANDONED_MS, LogStore, ROW_OVERHEAD_BYTES } from '../../exporter/probes/log/store.js';
import type { Probe, ProbeRunContext } from '../../exporter/probes/types.js';
import { parseConfig } from '../support/config.js';
import { recordBackends } from '../support/record-backends.js';

let dir: string;
let sql: RecordSql;
let store: LogStore;

const backends = recordBackends();

function checkOf(extra: string): LogCheck {
  const cfg = parseConfig(`checks:
  - name: app-log
    type: log
    interval: 1s
${extra.replace(/^/gm, '    ')}
`, 'vigil.yml');
  return cfg.checks[0] as LogCheck;
}

const BASIC = (file: string) => `paths: ["${file}"]
patterns:
  - { name: error, regex: "(?i)\\\\berror\\\\b" }
  - { name: timeout, plain: ETIMEDOUT }`;

function ctx(): ProbeRunContext {
  return { signal: new AbortController().signal, aborted: false, onAbort: () => () => {}, deadline: Date.now() + 10_000, remaining: () => 10_000, attempt: 1, log: silentLogger };
}

const probeOf = (check: LogCheck): Probe => logProbe.create(check, { log: silentLogger, storagePath: dir, stores: { logs: store } });
const sample = (r: ProbeResult, metric: string, pattern?: string) =>
  r.samples.find((s) => s.metric === metric && (pattern === undefined || s.labels?.pattern === pattern))?.value;
const stored = async () => (await store.search({ limit: 1000 })).lines.map((l) => l.line).reverse();

describe.each(backends.list)('log watch probe (%s)', (kind) => {
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-log-'));
    const b = backends.get(kind);
    await b.fresh(dir);
    sql = kind === 'sqlite' ? await openSqliteRecord(dir, silentLogger) : await b.connect!();
    store = new LogStore(sql);
  });
  afterEach(async () => {
    await sql?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts at the end on its first run, then counts and keeps only what is appended', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, 'old error 1\nold error 2\n');
    const probe = probeOf(checkOf(BASIC(file)));
    let r = await probe.run(ctx());
    expect(r.ok).toBe(true);
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(0);
    appendFileSync(file, 'GET / 200\nERROR db down\nconnect ETIMEDOUT 10.0.0.1\nerror and ETIMEDOUT\nhalf a li');
    r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(2);
    expect(sample(r, 'vigil_log_lines_total', 'timeout')).toBe(2);
    expect(sample(r, 'vigil_log_files')).toBe(1);
    expect(await stored()).toEqual(['ERROR db down', 'connect ETIMEDOUT 10.0.0.1', 'error and ETIMEDOUT']);
    // The unterminated line waits for its newline.
    appendFileSync(file, 'ne with error\n');
    r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(3);
    expect((await stored()).at(-1)).toBe('half a line with error');
    const [last] = (await store.search({ limit: 1 })).lines;
    expect(last.patterns).toEqual(['error']);
  });

  it('resumes at the stored position after a restart (a new probe on the same database): nothing twice, nothing lost', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const check = checkOf(BASIC(file));
    const first = probeOf(check);
    await first.run(ctx());
    appendFileSync(file, 'error one\n');
    await first.run(ctx());
    // Down for a while; lines keep coming.
    appendFileSync(file, 'error two\nerror three\n');
    const second = probeOf(check);
    const r = await second.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(2);
    expect(await stored()).toEqual(['error one', 'error two', 'error three']);
  });

  it('follows rename + create rotation: the rest of the old file first, then the new one from its start', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(BASIC(file)));
    await probe.run(ctx());
    appendFileSync(file, 'error before rotation\n');
    await probe.run(ctx());
    appendFileSync(file, 'error written just before the rename\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'error in the new file\n');
    const r = await probe.run(ctx());
    expect(r.info?.rotations).toBe('1');
    expect(await stored()).toEqual(['error before rotation', 'error written just before the rename', 'error in the new file']);
    // And a rotation while the path is missing (rename now, create later).
    appendFileSync(file, 'error last in generation 2\n');
    renameSync(file, `${file}.2`);
    await probe.run(ctx());
    writeFileSync(file, 'error first in generation 3\n');
    await probe.run(ctx());
    expect((await stored()).slice(3)).toEqual(['error last in generation 2', 'error first in generation 3']);
  });

  it('a rotated file renamed to a name the glob also matches is continued, not read again', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(BASIC(path.join(dir, '*.log'))));
    await probe.run(ctx());
    appendFileSync(file, 'error one\n');
    await probe.run(ctx());
    appendFileSync(file, 'error two\n');
    renameSync(file, path.join(dir, 'app-1.log'));
    writeFileSync(file, 'error three\n');
    const r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_files')).toBe(2);
    expect(await stored()).toEqual(['error one', 'error two', 'error three']);
    appendFileSync(path.join(dir, 'app-1.log'), 'error four, late in the old file\n');
    await probe.run(ctx());
    expect((await stored()).slice(3)).toEqual(['error four, late in the old file']);
  });

  it('follows copytruncate and plain truncation, also when the file grew past the old position again', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(BASIC(file)));
    await probe.run(ctx());
    appendFileSync(file, 'error a\n');
    await probe.run(ctx());
    // copytruncate: copy away, truncate in place, the app keeps writing (shorter than before).
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, 'error b\n');
    let r = await probe.run(ctx());
    expect(r.info?.truncations).toBe('1');
    // Truncated, then more written than was there before, all between two runs.
    appendFileSync(file, 'error c\n');
    await probe.run(ctx());
    truncateSync(file, 0);
    appendFileSync(file, 'ERROR d is a much longer line than everything before it\n');
    r = await probe.run(ctx());
    expect(r.info?.truncations).toBe('1');
    expect(await stored()).toEqual(['error a', 'error b', 'error c', 'ERROR d is a much longer line than everything before it']);
  });

  it('follows globs (PM2-style *-error.log), a file that appears later from its start', async () => {
    const logs = path.join(dir, 'pm2', 'logs');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, 'web-error.log'), 'error old\n');
    writeFileSync(path.join(logs, 'web-out.log'), 'error in stdout is not followed\n');
    const probe = probeOf(checkOf(BASIC(path.join(logs, '*-error.log'))));
    let r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_files')).toBe(1);
    writeFileSync(path.join(logs, 'worker-error.log'), 'error from a new app\n');
    appendFileSync(path.join(logs, 'web-out.log'), 'error again not followed\n');
    r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_files')).toBe(2);
    expect(await stored()).toEqual(['error from a new app']);
  });

  it('turns matches into a per-minute rate that thresholds judge', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const check = checkOf(`${BASIC(file)}\nrate_window: 1m\nthresholds: { error: { warning: 10, critical: 100 } }`);
    expect(check.thresholds.error).toMatchObject({ warning: 10, critical: 100 });
    const probe = probeOf(check);
    await probe.run(ctx());
    appendFileSync(file, 'error\n'.repeat(11));
    const r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_matches_per_minute', 'error')).toBe(11);
    expect(sample(r, 'vigil_log_matches_per_minute', 'timeout')).toBe(0);
  });

  it('reads at most max_read_bytes per run (a big backlog over several runs) and cuts lines at max_line_bytes', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(`${BASIC(file)}\nmax_read_bytes: 1000\nmax_line_bytes: 100`));
    await probe.run(ctx());
    const line = (i: number) => `error ${String(i).padStart(4, '0')} ${'x'.repeat(38)}\n`; // 50 bytes
    appendFileSync(file, Array.from({ length: 100 }, (_, i) => line(i)).join('')); // 5000 bytes
    appendFileSync(file, `error long ${'y'.repeat(500)} tail\nerror after the long one\n`);
    let r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(20);
    expect(sample(r, 'vigil_log_behind_bytes')).toBeGreaterThan(4000);
    for (let i = 0; i < 10; i++) r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_behind_bytes')).toBe(0);
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(102);
    const lines = (await store.search({ limit: 1000 })).lines.reverse();
    expect(lines.slice(0, 100).map((l) => l.line)).toEqual(Array.from({ length: 100 }, (_, i) => line(i).trimEnd()));
    expect(lines[100]).toMatchObject({ line: `error long ${'y'.repeat(89)}`, truncated: true });
    expect(lines[101]).toMatchObject({ line: 'error after the long one', truncated: false });
  });

  it('never reads a multi-GB file whole: a 4 GiB jump is read max_read_bytes at a time', async () => {
    const file = path.join(dir, 'huge.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(`${BASIC(file)}\nmax_read_bytes: 1MiB`));
    await probe.run(ctx());
    truncateSync(file, 4 * 1024 ** 3); // sparse: 4 GiB of NUL bytes appended at once
    appendFileSync(file, 'error at the very end\n');
    const r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_behind_bytes')).toBe(4 * 1024 ** 3 + 22 - 1024 ** 2);
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(0);
    // The same check with a glob (as after a config change): it keeps huge.log's position and
    // reads on 1 MiB a run; a 2 GiB file that starts matching later starts at its end.
    const other = probeOf(checkOf(`${BASIC(path.join(dir, '*.log'))}\nmax_read_bytes: 1MiB`));
    await other.run(ctx());
    const big = path.join(dir, 'late.log');
    writeFileSync(big, '');
    truncateSync(big, 2 * 1024 ** 3);
    const r2 = await other.run(ctx());
    expect(sample(r2, 'vigil_log_files')).toBe(2);
    expect(sample(r2, 'vigil_log_behind_bytes')).toBe(4 * 1024 ** 3 + 22 - 3 * 1024 ** 2);
  });

  it('matches and keeps at most max_lines_per_second; the rest is counted as skipped', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(`${BASIC(file)}\nmax_lines_per_second: 5`));
    await probe.run(ctx());
    appendFileSync(file, 'error flood\n'.repeat(1000));
    const r = await probe.run(ctx());
    // The budget is for the time since the last run, at most two intervals (1 s here): <= 10 lines.
    const counted = sample(r, 'vigil_log_lines_total', 'error')!;
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThanOrEqual(10);
    expect(sample(r, 'vigil_log_skipped_lines_total')).toBe(1000 - counted);
    expect((await stored()).length).toBe(counted);
  });

  it('keeps at most MAX_KEPT_PER_RUN lines a run (one small transaction); all of them are counted', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(`${BASIC(file)}\nmax_lines_per_second: 100000`));
    await probe.run(ctx());
    appendFileSync(file, 'error flood\n'.repeat(MAX_KEPT_PER_RUN + 500));
    const r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'error')).toBe(MAX_KEPT_PER_RUN + 500);
    expect((await sql.all<{ n: unknown }>('SELECT count(*) AS n FROM log_lines'))[0].n).toSatisfy((n) => Number(n) === MAX_KEPT_PER_RUN);
  }, 30_000);

  it('redacts secrets before keeping a line, and keeps lines only for patterns with keep', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '');
    const probe = probeOf(checkOf(`paths: ["${file}"]
patterns:
  - { name: error, plain: error }
  - { name: slow, plain: slow, keep: false }`));
    await probe.run(ctx());
    appendFileSync(file, 'error connecting to postgres://app:s3cr3t-pw@db/app password=hunter2 Authorization: Bearer abc.def.ghi\nslow query 2s\n'
      + 'error calling api with bearer tok_live_4242424242 jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N key AKIAIOSFODNN7EXAMPLE\n');
    const r = await probe.run(ctx());
    expect(sample(r, 'vigil_log_lines_total', 'slow')).toBe(1);
    const lines = await stored();
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toMatch(/s3cr3t-pw|hunter2|abc\.def\.ghi/);
    expect(lines[0]).toContain('postgres://app:<redacted>@db/app');
    expect(lines[1]).toBe('error calling api with bearer <redacted> jwt <redacted> key <redacted>');
  });

  it('prunes kept lines past the retention and beyond the byte budget, oldest first', async () => {
    const now = Date.now();
    const line = (i: number) => ({ t: now - 1000 + i, file: '/x.log', patterns: ['error'], line: `error ${i} ${'z'.repeat(100)}`, truncated: false });
    await store.commit('app-log', [{ ...line(0), t: now - 8 * 86400_000 }], new Map(), now);
    await store.commit('app-log', Array.from({ length: 50 }, (_, i) => line(i + 1)), new Map(), now);
    await store.commit('other', [line(99)], new Map(), now);
    // A check that last ran longer ago than ABANDONED_MS was removed from the config: its lines go too.
    await store.commit('removed', [line(98), line(97)], new Map(), now - ABANDONED_MS - 1);
    const rowBytes = Buffer.byteLength(line(10).line) + ROW_OVERHEAD_BYTES;
    const removed = await store.prune('app-log', 7 * 86400_000, rowBytes * 20, now);
    expect(removed).toBe(33); // the old one by retention, 30 by the budget, 2 of the removed check
    expect((await store.search({ check: 'removed', limit: 10 })).lines).toEqual([]);
    expect(await store.offsets('removed')).toEqual({ started: false, offsets: new Map() });
    expect((await store.offsets('other')).started).toBe(true);
    const left = (await store.search({ check: 'app-log', limit: 1000 })).lines;
    expect(left.map((l) => l.line.split(' ')[1])).toEqual(Array.from({ length: 20 }, (_, i) => String(50 - i)));
    expect((await store.search({ check: 'other', limit: 10 })).lines).toHaveLength(1);
  });

  it('searches: every word must appear (FTS5 on SQLite, substrings on PostgreSQL), the caller\'s text is never query syntax', async () => {
    const now = Date.now();
    const l = (line: string, t = now) => ({ t, file: '/x.log', patterns: ['error'], line, truncated: false });
    await store.commit('a', [l('ERROR payment gateway timeout', now - 60_000), l('error: disk full on /var'), l('warn "quoted" OR stuff')], new Map(), now);
    await store.commit('b', [l('error payment declined')], new Map(), now);
    const q = async (query: Parameters<LogStore['search']>[0]) => (await store.search(query)).lines.map((x) => x.line);
    expect(await q({ q: 'payment', limit: 10 })).toEqual(['error payment declined', 'ERROR payment gateway timeout']);
    expect(await q({ q: 'payment timeout', limit: 10 })).toEqual(['ERROR payment gateway timeout']);
    expect(await q({ q: 'payment', check: 'a', limit: 10 })).toEqual(['ERROR payment gateway timeout']);
    expect(await q({ q: 'payment', since: now - 1000, limit: 10 })).toEqual(['error payment declined']);
    // FTS5 matches whole words; PostgreSQL substrings ("or" is inside "ERROR").
    expect(await q({ q: 'OR', limit: 10 })).toEqual(kind === 'sqlite' ? ['warn "quoted" OR stuff'] : ['error payment declined', 'warn "quoted" OR stuff', 'error: disk full on /var', 'ERROR payment gateway timeout']);
    expect(await q({ q: '"quoted', limit: 10 })).toEqual(['warn "quoted" OR stuff']);
    expect(await q({ q: 'NEAR( * ^', limit: 10 })).toEqual([]);
    expect(await q({ q: '100%_', limit: 10 })).toEqual([]);
    const page = await store.search({ limit: 2 });
    expect(page.more).toBe(true);
    expect((await store.search({ limit: 2, before: page.lines[1].id })).lines).toHaveLength(2);
  });
});
