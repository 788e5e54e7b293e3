// Files: age and size of one file, or of the newest regular file matching a glob, plus the number
// of matches; for backup freshness ("the newest dump is younger than 26 h and larger than 1 MiB")
// and log growth. Globs: * and ? within a path segment, [abc] classes, ** for any depth.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { CheckCommon } from '../model/check.js';
import { abortError, errorMessage } from './support/errors.js';
import { Pattern, patternProblem } from './support/pattern.js';
import type { ProbeDefinition, ProbeRunContext } from './types.js';
import type { ProbeResult, Sample } from '../model/result.js';

const schema = z.object({
  /** Absolute path, or a glob such as /var/backups/db-*.sql.gz (** in a segment of its own matches any depth). */
  path: z.string().min(1).refine((p) => path.isAbsolute(p), 'expected an absolute path').superRefine((p, ctx) => {
    const problem = globProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** Upper bound of directory entries a glob may visit per run (guards against a huge tree). */
  max_entries: z.number().int().min(1).max(10_000_000).default(100_000),
});

export type FileCheck = CheckCommon & z.output<typeof schema>;

export const fileProbe: ProbeDefinition<FileCheck> = {
  type: 'file',
  doc: {
    what: 'age, size and count of a file or of the newest file matching a glob',
    thresholds: '`age`, `size`, `matches`',
  },
  schema,
  reasons: ['missing'],
  metrics: [
    { name: 'vigil_file_age_seconds', help: 'Seconds since the (newest matching) file was last modified.' },
    { name: 'vigil_file_size_bytes', help: 'Size of the (newest matching) file.' },
    { name: 'vigil_file_matches', help: 'Regular files matching the path or glob.' },
  ],
  thresholdKeys: () => ['age', 'size', 'matches'],
  create: (check) => {
    const glob = isGlob(check.path) ? compileGlob(check.path) : undefined;
    return { run: (ctx) => probeFile(check, glob, ctx) };
  },
};

export const isGlob = (p: string) => /[*?[]/.test(p);

async function probeFile(check: FileCheck, glob: GlobSegment[] | undefined, ctx: ProbeRunContext): Promise<ProbeResult> {
  const now = Date.now();
  let newest: { file: string; mtimeMs: number; size: number } | undefined;
  let matches = 0;
  if (!glob) {
    try {
      const st = await stat(check.path);
      newest = { file: check.path, mtimeMs: st.mtimeMs, size: st.size };
      matches = 1;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', message: `${check.path}: no such file, expected it to exist`, samples: [{ key: 'matches', metric: 'vigil_file_matches', value: 0 }] };
      return { ok: false, reason: code === 'EACCES' || code === 'EPERM' ? 'auth' : 'error', message: `${check.path}: ${errorMessage(err)}`, samples: [] };
    }
  } else {
    let found;
    try {
      found = await globFiles(glob, check.max_entries, ctx.signal);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      return { ok: false, reason: 'error', message: `${check.path}: ${errorMessage(err)}`, samples: [] };
    }
    matches = found.length;
    for (const f of found) if (!newest || f.mtimeMs > newest.mtimeMs) newest = f;
    if (!newest) return { ok: false, reason: 'missing', message: `no file matches ${check.path}, expected at least one`, samples: [{ key: 'matches', metric: 'vigil_file_matches', value: 0 }] };
  }
  const samples: Sample[] = [
    { key: 'age', metric: 'vigil_file_age_seconds', value: Math.max(0, (now - newest.mtimeMs) / 1000) },
    { key: 'size', metric: 'vigil_file_size_bytes', value: newest.size },
    { key: 'matches', metric: 'vigil_file_matches', value: matches },
  ];
  return { ok: true, samples, info: { file: newest.file, modified: new Date(newest.mtimeMs).toISOString() } };
}

/** `**` as a segment of its own: any number of directories. */
const ANY_DEPTH = Symbol('**');

/** One path segment of a glob: a literal name, any depth, or a pattern for one name. */
export type GlobSegment = string | typeof ANY_DEPTH | { text: string; re: Pattern };

/** The RE2 source for one segment: * and ? stay within the name, [abc] / [!abc] are classes. */
function segmentSource(seg: string): string {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const body = seg.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += Pattern.quote(c);
  }
  return re;
}

/** Globs run on RE2: a backtracking `^[^/]*a[^/]*a…$` would be polynomial in the name's length. */
export function compileGlob(glob: string): GlobSegment[] {
  return glob.split('/').filter(Boolean).map((seg) => (seg === '**' ? ANY_DEPTH
    : !isGlob(seg) ? seg : { text: seg, re: Pattern.compile(segmentSource(seg), { whole: true }) }));
}

/** Why `glob` cannot be compiled (a bad [class]), or undefined. */
export function globProblem(glob: string): string | undefined {
  for (const seg of glob.split('/')) {
    if (seg === '**' || !isGlob(seg)) continue;
    const problem = patternProblem(segmentSource(seg));
    if (problem) return `invalid glob segment "${seg}": ${problem}`;
  }
  return undefined;
}

/** Regular files matching an absolute glob; visits at most `maxEntries` directory entries. */
export async function globFiles(glob: string | GlobSegment[], maxEntries: number, signal?: AbortSignal): Promise<Array<{ file: string; mtimeMs: number; size: number }>> {
  const parts = typeof glob === 'string' ? compileGlob(glob) : glob;
  const out: Array<{ file: string; mtimeMs: number; size: number }> = [];
  let visited = 0;
  const seen = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    if (signal?.aborted) throw abortError();
    if (i === parts.length) {
      if (seen.has(dir)) return;
      seen.add(dir);
      try {
        const st = await stat(dir);
        if (st.isFile()) out.push({ file: dir, mtimeMs: st.mtimeMs, size: st.size });
      } catch { /* vanished between readdir and stat */ }
      return;
    }
    const seg = parts[i];
    if (typeof seg === 'string') return walk(path.join(dir, seg), i + 1);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // missing or unreadable directory: no matches below it
    }
    visited += entries.length;
    if (visited > maxEntries) throw new Error(`glob visited more than max_entries (${maxEntries}) directory entries`);
    if (seg === ANY_DEPTH) {
      await walk(dir, i + 1); // zero directories
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await walk(path.join(dir, e.name), i);
      return;
    }
    for (const e of entries) {
      if (!seg.re.test(e.name) || (e.name.startsWith('.') && !seg.text.startsWith('.'))) continue;
      await walk(path.join(dir, e.name), i + 1);
    }
  };
  await walk('/', 0);
  return out;
}
