// What the log watch probe keeps in the database (tables of schema step '0005-log-watch'): the
// position each check's files were read up to, and the matching lines, searchable by
// GET /api/v1/logs. Lines and positions of one run are written in one transaction, so after a
// crash or restart the probe resumes exactly after the last line it stored: none twice, none lost.
//
// The database is the one the record uses (SQLite vigil.db or PostgreSQL), reached through
// RecordSql; search is FTS5 on SQLite and a portable every-word-appears scan on PostgreSQL.
import type { KindStore } from '../types.js';
import type { RecordSql, Statement } from '../../db/sql.js';
import type { FileOffset } from './follow.js';

/** A stored line as the API returns it. */
export interface StoredLine {
  id: number;
  /** Epoch ms when it was read. */
  t: number;
  check: string;
  file: string;
  patterns: string[];
  line: string;
  truncated: boolean;
}

export interface NewLine {
  t: number;
  file: string;
  patterns: string[];
  line: string;
  truncated: boolean;
}

export interface LogQuery {
  check?: string;
  /** Words that must all appear (FTS5 tokens on SQLite, substrings on PostgreSQL). */
  q?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** Only lines with an id below this (paging, newest first). */
  before?: number;
  /** Only lines with an id above this (a live tail polls with the newest id it has). */
  after?: number;
  limit: number;
}

/** Bytes a stored line is charged against the byte budget beyond its text (row, index, FTS entry). */
export const ROW_OVERHEAD_BYTES = 96;

/** Rows one pruning statement deletes at most, and statements per call and kind. */
const PRUNE_PAGE = 5000;
const MAX_PAGES = 20;

/** A check that has not run for this long is taken as removed: its lines and positions go. */
export const ABANDONED_MS = 30 * 24 * 3600_000;

/** The sentinel path that marks a check whose files have been looked at once. */
const STARTED = '';

export class LogStore implements KindStore {
  /** Bytes charged per check, once counted (for the byte budget without a SUM per run). */
  private readonly charged = new Map<string, number>();

  /** `db`: the database the runtime shares among the record and the stores (StoreEnv.sql). */
  constructor(private readonly db: RecordSql) {}

  /** Nothing is held back: each run commits before it reports. */
  async flush(): Promise<void> {}

  /** The stored positions of a check, and whether it has run before. */
  async offsets(check: string): Promise<{ started: boolean; offsets: Map<string, FileOffset> }> {
    const sql = this.db;
    const rows = await sql.all<Record<string, unknown>>('SELECT path, dev, ino, pos, head_len, head_hash, skip FROM log_offsets WHERE check_name = ?', [check]);
    const offsets = new Map<string, FileOffset>();
    let started = false;
    for (const r of rows) {
      if (r.path === STARTED) { started = true; continue; }
      offsets.set(String(r.path), {
        path: String(r.path), dev: String(r.dev), ino: String(r.ino), pos: Number(r.pos),
        headLen: Number(r.head_len), headHash: String(r.head_hash), skip: Number(r.skip) === 1,
      });
    }
    return { started, offsets };
  }

  /** One run's lines and the positions after them, in one transaction (positions replace the old ones). */
  async commit(check: string, lines: NewLine[], offsets: ReadonlyMap<string, FileOffset>, now: number): Promise<void> {
    const sql = this.db;
    const statements: Statement[] = [{ sql: 'DELETE FROM log_offsets WHERE check_name = ?', params: [check] }];
    const upsert = 'INSERT INTO log_offsets (check_name, path, dev, ino, pos, head_len, head_hash, skip, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
    statements.push({ sql: upsert, params: [check, STARTED, '', '', 0, 0, '', 0, now] });
    for (const o of offsets.values()) statements.push({ sql: upsert, params: [check, o.path, o.dev, o.ino, o.pos, o.headLen, o.headHash, o.skip ? 1 : 0, now] });
    let bytes = 0;
    for (const l of lines) {
      const size = Buffer.byteLength(l.line);
      bytes += size + ROW_OVERHEAD_BYTES;
      statements.push({ sql: 'INSERT INTO log_lines (check_name, t, file, patterns, line, truncated, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
        params: [check, l.t, l.file, l.patterns.join(','), l.line, l.truncated ? 1 : 0, size] });
    }
    await sql.transaction(statements);
    const known = this.charged.get(check);
    if (known !== undefined) this.charged.set(check, known + bytes);
  }

  /**
   * Drop a check's lines older than `retentionMs`, then its oldest lines until what it keeps is
   * within `maxBytes`, then (a page at a time) the lines and positions of checks that have not
   * run for ABANDONED_MS (removed from the config). Each statement deletes at most PRUNE_PAGE
   * rows, so one call never holds the database long. Returns the lines removed.
   */
  async prune(check: string, retentionMs: number, maxBytes: number, now: number): Promise<number> {
    const sql = this.db;
    let removed = 0;
    const page = async (text: string, params: Array<string | number>): Promise<number> => {
      const [r] = await sql.transaction([{ sql: text, params }]);
      removed += r.changes;
      return r.changes;
    };
    let old = 0;
    for (let i = 0; i < MAX_PAGES; i++) {
      const n = await page(`DELETE FROM log_lines WHERE id IN (SELECT id FROM log_lines WHERE check_name = ? AND t < ? ORDER BY id LIMIT ${PRUNE_PAGE})`, [check, now - retentionMs]);
      old += n;
      if (n < PRUNE_PAGE) break;
    }
    if (old || !this.charged.has(check)) {
      const [row] = await sql.all<{ n: unknown; b: unknown }>('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM log_lines WHERE check_name = ?', [check]);
      this.charged.set(check, Number(row.b) + Number(row.n) * ROW_OVERHEAD_BYTES);
    }
    let excess = this.charged.get(check)! - maxBytes;
    for (let i = 0; excess > 0 && i < MAX_PAGES; i++) {
      // The oldest lines, a page at a time, up to the one that brings the total within budget.
      const oldest = await sql.all<{ id: unknown; bytes: unknown }>(`SELECT id, bytes FROM log_lines WHERE check_name = ? ORDER BY id LIMIT ${PRUNE_PAGE}`, [check]);
      if (!oldest.length) break;
      let upTo = 0;
      let freed = 0;
      for (const r of oldest) {
        upTo = Number(r.id);
        freed += Number(r.bytes) + ROW_OVERHEAD_BYTES;
        if (freed >= excess) break;
      }
      await page('DELETE FROM log_lines WHERE check_name = ? AND id <= ?', [check, upTo]);
      excess -= freed;
      this.charged.set(check, this.charged.get(check)! - freed);
    }
    const gone = 'SELECT check_name FROM log_offsets WHERE path = ? AND updated_at < ?';
    const goneParams = [STARTED, now - ABANDONED_MS];
    const n = await page(`DELETE FROM log_lines WHERE id IN (SELECT id FROM log_lines WHERE check_name IN (${gone}) LIMIT ${PRUNE_PAGE})`, goneParams);
    if (n < PRUNE_PAGE) {
      const [r] = await sql.transaction([{ sql: `DELETE FROM log_offsets WHERE check_name IN (SELECT check_name FROM (${gone}) AS g)`, params: goneParams }]);
      if (r.changes) for (const k of [...this.charged.keys()]) if (k !== check) this.charged.delete(k);
    }
    return removed;
  }

  /** Lines matching the query, newest first; `more` when there are further pages (before = the last id). */
  async search(query: LogQuery): Promise<{ lines: StoredLine[]; more: boolean }> {
    const sql = this.db;
    const where: string[] = [];
    const params: Array<string | number> = [];
    const words = (query.q ?? '').split(/\s+/).filter(Boolean).slice(0, 16);
    let from = 'log_lines';
    if (words.length && sql.dialect === 'sqlite') {
      // Each word a quoted FTS5 string: no query syntax (AND/OR/NEAR/*) from the caller.
      from = 'log_lines JOIN log_lines_fts ON log_lines_fts.rowid = log_lines.id';
      where.push('log_lines_fts MATCH ?');
      params.push(words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' '));
    } else {
      for (const w of words) {
        where.push('strpos(lower(log_lines.line), ?) > 0');
        params.push(w.toLowerCase());
      }
    }
    if (query.check !== undefined) { where.push('log_lines.check_name = ?'); params.push(query.check); }
    if (query.since !== undefined) { where.push('log_lines.t >= ?'); params.push(query.since); }
    if (query.until !== undefined) { where.push('log_lines.t <= ?'); params.push(query.until); }
    if (query.before !== undefined) { where.push('log_lines.id < ?'); params.push(query.before); }
    if (query.after !== undefined) { where.push('log_lines.id > ?'); params.push(query.after); }
    const text = `SELECT log_lines.id AS id, log_lines.t AS t, log_lines.check_name AS check_name, log_lines.file AS file,
      log_lines.patterns AS patterns, log_lines.line AS line, log_lines.truncated AS truncated
      FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY log_lines.id DESC LIMIT ?`;
    const rows = await sql.all<Record<string, unknown>>(text, [...params, query.limit + 1]);
    const lines = rows.slice(0, query.limit).map((r) => ({
      id: Number(r.id), t: Number(r.t), check: String(r.check_name), file: String(r.file),
      patterns: String(r.patterns).split(',').filter(Boolean), line: String(r.line), truncated: Number(r.truncated) === 1,
    }));
    return { lines, more: rows.length > query.limit };
  }
}
