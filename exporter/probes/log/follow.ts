// Following log files between runs, like `tail -F`, without holding them open: each run stats
// every followed file and reads what was appended since the stored position, bounded by a byte
// budget per run, so a multi-GB file is never read whole (a backlog is read over later runs).
//
// A file is known by its inode and by a hash of its first bytes (its head):
//   same inode, smaller than the position      truncated (copytruncate, `> file`): read from 0
//   same inode, head no longer the same        truncated and rewritten past the old position: from 0
//   another inode at the path                  rotated (rename + create): the rest of the old
//                                              inode (found again by inode in the same directory,
//                                              e.g. app.log.1) is read first, then the new file from 0
//   path gone                                  the rest of its inode, if it is still in the directory
//   a new path holding a followed inode         renamed to a name the globs match too: continued
//                                              from its position (never read twice)
// A file first seen on the check's first run starts at its end (old lines are not news); one
// that appears later starts at 0 when it is small enough to be new (at most one run's budget).
//
// Lines: a final line without its newline waits for the next run (it may be half written),
// except at the end of a rotated-away file. A line longer than the cap is cut there and the rest
// of it, up to its newline, skipped (`skip`, kept across runs).
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { abortError } from '../support/errors.js';
import { globFiles, isGlob } from '../file.js';

/** Where a followed file was read up to. */
export interface FileOffset {
  path: string;
  dev: string;
  ino: string;
  /** Byte position of the first unread byte. */
  pos: number;
  /** Bytes of the file's start hashed into headHash (0: not yet). */
  headLen: number;
  headHash: string;
  /** Inside a line longer than the cap: bytes up to the next newline are skipped. */
  skip: boolean;
}

export interface FollowLimits {
  /** Bytes read per run over all files. */
  maxReadBytes: number;
  /** Bytes kept of one line. */
  maxLineBytes: number;
  /** Files followed per check. */
  maxFiles: number;
  /** Directory entries a glob (or a search for a rotated inode) may visit. */
  maxEntries: number;
}

export interface LogLine {
  file: string;
  text: string;
  truncated: boolean;
}

export interface FollowResult {
  lines: LogLine[];
  /** The positions after this run, by path (including paths that vanished, until their inode is finished). */
  offsets: Map<string, FileOffset>;
  /** Files that exist and are followed. */
  files: number;
  /** Bytes appended but not read yet (the budget ran out). */
  behindBytes: number;
  rotations: number;
  truncations: number;
  /** More files matched than maxFiles. */
  tooManyFiles: boolean;
}

const HEAD_BYTES = 64;
const CHUNK = 64 * 1024;

/** `~/` expanded to the home directory (PM2 keeps its logs in ~/.pm2/logs). */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** Every regular file the configured paths and globs name now, sorted, at most maxFiles (+1 to tell). */
async function expand(paths: string[], limits: FollowLimits, signal: AbortSignal): Promise<string[]> {
  const out = new Set<string>();
  for (const raw of paths) {
    const p = expandHome(raw);
    if (isGlob(p)) {
      for (const f of await globFiles(p, limits.maxEntries, signal)) out.add(f.file);
    } else {
      try {
        if ((await stat(p)).isFile()) out.add(p);
      } catch { /* not there (yet) */ }
    }
    if (out.size > limits.maxFiles) break;
  }
  return [...out].sort();
}

const hashOf = (b: Buffer) => createHash('sha256').update(b).digest('base64url').slice(0, 22);

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/** The file in `dir` whose inode is (dev, ino), if it is still there. */
async function findInode(dir: string, dev: string, ino: string, maxEntries: number): Promise<string | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries.slice(0, maxEntries)) {
    if (!e.isFile()) continue;
    const p = path.join(dir, e.name);
    try {
      const st = await stat(p, { bigint: true });
      if (String(st.ino) === ino && String(st.dev) === dev) return p;
    } catch { /* gone meanwhile */ }
  }
  return undefined;
}

/** Splits bytes into lines with the cap; the state (skip) carries over between chunks and runs. */
class LineReader {
  readonly lines: LogLine[] = [];
  constructor(private readonly file: string, private readonly maxLineBytes: number, public skip: boolean) {}

  /**
   * Consume `buf` (starting at file position `at`); returns how many bytes were consumed. An
   * unterminated tail is left unconsumed unless `final` (or it already exceeds the cap).
   */
  feed(buf: Buffer, final: boolean): number {
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.skip) this.skip = false;
      else this.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    const rest = buf.length - start;
    if (rest === 0) return start;
    if (this.skip) return buf.length; // still inside an over-long line: drop it all
    if (rest >= this.maxLineBytes) {
      this.push(buf.subarray(start, buf.length)); // cut at the cap, skip the rest of the line
      this.skip = true;
      return buf.length;
    }
    if (final) {
      this.push(buf.subarray(start));
      return buf.length;
    }
    return start;
  }

  private push(bytes: Buffer): void {
    let b = bytes;
    if (b.length && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1); // CRLF
    const truncated = b.length > this.maxLineBytes;
    if (truncated) b = b.subarray(0, this.maxLineBytes);
    this.lines.push({ file: this.file, text: b.toString('utf8'), truncated });
  }
}

interface ReadOutcome { pos: number; skip: boolean; read: number; lines: LogLine[] }

/** Read `file` from `pos` to at most `end` (and at most `budget` bytes). `final`: take an unterminated last line too. */
async function readFrom(fh: FileHandle, file: string, pos: number, end: number, budget: number, skip: boolean, limits: FollowLimits, final: boolean, signal: AbortSignal): Promise<ReadOutcome> {
  const reader = new LineReader(file, limits.maxLineBytes, skip);
  const stop = Math.min(end, pos + budget);
  let at = pos;
  let read = 0;
  let carry: Buffer = Buffer.alloc(0);
  while (at + carry.length < stop) {
    if (signal.aborted) throw abortError();
    const want = Math.min(CHUNK, stop - at - carry.length);
    const chunk = await readAt(fh, at + carry.length, want);
    if (!chunk.length) break;
    read += chunk.length;
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const atEnd = at + buf.length >= stop;
    const used = reader.feed(buf, final && atEnd && stop >= end);
    at += used;
    carry = buf.subarray(used);
    // A partial line longer than the cap was consumed by feed(); a shorter one waits in carry.
  }
  return { pos: at, skip: reader.skip, read, lines: reader.lines };
}

/** One pass over the files: what was appended since `previous`, and the new positions. */
export async function followOnce(paths: string[], previous: ReadonlyMap<string, FileOffset>, started: boolean, limits: FollowLimits, signal: AbortSignal): Promise<FollowResult> {
  const files = await expand(paths, limits, signal);
  const tooManyFiles = files.length > limits.maxFiles;
  const followed = files.slice(0, limits.maxFiles);
  const out: FollowResult = { lines: [], offsets: new Map(), files: followed.length, behindBytes: 0, rotations: 0, truncations: 0, tooManyFiles };
  let budget = limits.maxReadBytes;

  /** The unread rest of an inode that left its path (rotated or removed), if it can be found. */
  // The inodes now at followed paths: a rotated file renamed to a name the globs also match
  // (app.log -> app-1.log under *.log) is continued there from its position, not read again.
  const inodeAt = new Map<string, string>();
  for (const file of followed) {
    try {
      const st = await stat(file, { bigint: true });
      inodeAt.set(`${st.dev}:${st.ino}`, file);
    } catch { /* gone meanwhile */ }
  }
  const previousByInode = new Map([...previous.values()].map((o) => [`${o.dev}:${o.ino}`, o]));

  const finishOld = async (prev: FileOffset): Promise<void> => {
    const movedTo = inodeAt.get(`${prev.dev}:${prev.ino}`);
    if (movedTo !== undefined && movedTo !== prev.path) return; // followed under its new name
    const old = await findInode(path.dirname(prev.path), prev.dev, prev.ino, limits.maxEntries);
    if (!old || budget <= 0) return;
    let fh: FileHandle | undefined;
    try {
      fh = await open(old, 'r');
      const st = await fh.stat();
      if (st.size <= prev.pos) return;
      const r = await readFrom(fh, prev.path, prev.pos, st.size, budget, prev.skip, limits, true, signal);
      budget -= r.read;
      out.lines.push(...r.lines);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
    } finally {
      await fh?.close();
    }
  };

  const present = new Set(followed);
  // Paths that vanished: finish their inode once, then forget them (a new file there starts at 0).
  for (const [p, prev] of previous) {
    if (present.has(p) || p === '') continue;
    await finishOld(prev);
  }

  for (const file of followed) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(file, 'r');
      const st = await fh.stat({ bigint: true });
      const size = Number(st.size);
      const dev = String(st.dev);
      const ino = String(st.ino);
      const prev = previous.get(file);
      let cur: FileOffset;
      const moved = previousByInode.get(`${dev}:${ino}`);
      if (!prev && moved && moved.path !== file) {
        cur = { ...moved, path: file }; // renamed from a followed path: go on where it was
      } else if (!prev) {
        const pos = !started ? size : size <= limits.maxReadBytes ? 0 : size;
        cur = { path: file, dev, ino, pos, headLen: 0, headHash: '', skip: false };
      } else if (prev.ino !== ino || prev.dev !== dev) {
        out.rotations++;
        await finishOld(prev);
        cur = { path: file, dev, ino, pos: 0, headLen: 0, headHash: '', skip: false };
      } else if (size < prev.pos || (prev.headLen > 0 && hashOf(await readAt(fh, 0, prev.headLen)) !== prev.headHash)) {
        out.truncations++;
        cur = { path: file, dev, ino, pos: 0, headLen: 0, headHash: '', skip: false };
      } else {
        cur = { ...prev };
      }
      if (budget > 0 && size > cur.pos) {
        const r = await readFrom(fh, file, cur.pos, size, budget, cur.skip, limits, false, signal);
        budget -= r.read;
        cur.pos = r.pos;
        cur.skip = r.skip;
        out.lines.push(...r.lines);
      }
      if (cur.headLen < HEAD_BYTES && size > cur.headLen) {
        const head = await readAt(fh, 0, Math.min(HEAD_BYTES, size));
        cur.headLen = head.length;
        cur.headHash = hashOf(head);
      }
      out.behindBytes += Math.max(0, size - cur.pos);
      out.offsets.set(file, cur);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      // Vanished or unreadable between listing and opening: keep what we knew.
      const prev = previous.get(file);
      if (prev) out.offsets.set(file, prev);
    } finally {
      await fh?.close();
    }
  }
  return out;
}
