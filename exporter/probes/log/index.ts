// Log watch (`type: log`): follows log files and globs (PM2's ~/.pm2/logs/*-error.log, an app's
// own logs) across rotation and truncation (./follow.ts), counts the lines matching each named
// pattern into vigil_log_lines_total{pattern}, turns the count of the last `rate_window` into a
// per-minute rate that thresholds judge ("more than 10 errors a minute: degraded"), and keeps
// the matching lines, redacted, in the database for GET /api/v1/logs (./store.ts, ./routes.ts).
//
// Bounded on every axis: at most max_read_bytes read per run over all files (a multi-GB file is
// never read whole; a backlog shows in vigil_log_behind_bytes), lines cut at max_line_bytes, at
// most max_lines_per_second lines matched and kept (the rest counted as skipped), at most
// max_files files, and per check a retention and a byte budget for the kept lines.
import { z } from 'zod';
import { name } from '../../config/common.js';
import { redact } from '../../config/secrets.js';
import { duration, size } from '../../config/units.js';
import type { CheckCommon } from '../../model/check.js';
import type { ProbeResult, Sample } from '../../model/result.js';
import { errorMessage } from '../support/errors.js';
import { Pattern, pattern } from '../support/pattern.js';
import { globProblem, isGlob } from '../file.js';
import type { ProbeDefinition, ProbeRunContext, StoreEnv } from '../types.js';
import { expandHome, followOnce, type FileOffset } from './follow.js';
import { LOG_ROUTES } from './routes.js';
import { LogStore, type NewLine } from './store.js';

export const LOG_STORE = 'logs';

const logPath = z.string().min(1).refine((p) => p.startsWith('/') || p.startsWith('~/'), 'expected an absolute path (or ~/…)').superRefine((p, ctx) => {
  const problem = globProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const patternSpec = z.strictObject({
  /** The `pattern` label, and the threshold key of its rate. */
  name,
  /** An RE2 regular expression (Go syntax; `(?i)` for any case). Set this or `plain`. */
  regex: pattern.optional(),
  /** A plain substring. */
  plain: z.string().min(1).optional(),
  /** For `plain`: match in any case. */
  ignore_case: z.boolean().default(false),
  /** Keep the matching lines for GET /api/v1/logs (false: only count them). */
  keep: z.boolean().default(true),
});

const schema = z.object({
  /** Files and globs to follow (absolute, or under ~/), e.g. ~/.pm2/logs/*-error.log. */
  paths: z.array(logPath).min(1).max(100),
  /** Named patterns; a line matching several counts for each. */
  patterns: z.array(patternSpec).min(1).max(50),
  /** The rate thresholds judge is the count over this window, per minute. */
  rate_window: duration.default(60_000),
  /** Bytes read per run over all files; the rest is read by later runs. */
  max_read_bytes: size.default(8 * 1024 * 1024),
  /** Longer lines are cut (and marked truncated). */
  max_line_bytes: size.default(4096),
  /** Lines matched and kept per second of elapsed time; more are skipped (counted). */
  max_lines_per_second: z.number().int().min(1).max(1_000_000).default(1000),
  /** Files followed at most (a glob matching more fails the check). */
  max_files: z.number().int().min(1).max(10_000).default(100),
  /** Directory entries a glob may visit per run. */
  max_entries: z.number().int().min(1).max(10_000_000).default(100_000),
  /** How long matching lines are kept. */
  retention: duration.default(7 * 24 * 3600_000),
  /** Kept lines of this check at most (text plus a per-row overhead), oldest dropped first. */
  max_stored_bytes: size.default(64 * 1024 * 1024),
});

export type LogCheck = CheckCommon & z.output<typeof schema>;

export const logProbe: ProbeDefinition<LogCheck> = {
  type: 'log',
  doc: {
    what: 'follows log files and globs (rotation, truncation), counts lines matching patterns, keeps them searchable',
    thresholds: 'the pattern names (matches per minute over `rate_window`)',
  },
  schema,
  reasons: ['missing'],
  metrics: [
    { name: 'vigil_log_lines_total', help: 'Lines that matched the pattern since the exporter started.', labels: ['pattern'], type: 'counter' },
    { name: 'vigil_log_matches_per_minute', help: 'Lines that matched the pattern over the last rate_window, per minute.', labels: ['pattern'] },
    { name: 'vigil_log_skipped_lines_total', help: 'Lines read but not matched or kept because of max_lines_per_second.', type: 'counter' },
    { name: 'vigil_log_files', help: 'Files the check follows.' },
    { name: 'vigil_log_behind_bytes', help: 'Bytes appended to the followed files and not read yet (max_read_bytes per run).' },
  ],
  thresholdKeys: (c) => c.patterns.map((p) => p.name),
  validate: (c) => {
    const problems: Array<[Array<string | number>, string]> = [];
    c.patterns.forEach((p, i) => {
      if ((p.regex === undefined) === (p.plain === undefined)) problems.push([['patterns', i], 'set either regex or plain']);
    });
    const names = c.patterns.map((p) => p.name);
    names.forEach((n, i) => { if (names.indexOf(n) !== i) problems.push([['patterns', i, 'name'], `pattern name "${n}" is used twice`]); });
    if (c.max_line_bytes < 16 || c.max_line_bytes > 1024 * 1024) problems.push([['max_line_bytes'], 'max_line_bytes must be between 16 and 1MiB']);
    if (c.max_read_bytes < c.max_line_bytes) problems.push([['max_read_bytes'], 'max_read_bytes must be at least max_line_bytes']);
    if (c.rate_window < 1000) problems.push([['rate_window'], 'rate_window must be at least 1s']);
    return problems;
  },
  stores: { [LOG_STORE]: (env: StoreEnv) => new LogStore(env.sql) },
  routes: LOG_ROUTES,
  create: (check, env) => new LogProbe(check, env.stores[LOG_STORE] as LogStore),
};

// Secrets an application prints without a key=value around them (on top of config/secrets.ts):
// bearer tokens, JSON Web Tokens, AWS access key ids. Character classes without the separators,
// so each pattern is linear in the (capped) line.
const BARE_SECRETS: Array<[RegExp, string]> = [
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 <redacted>'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '<redacted>'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, '<redacted>'],
];

/** A line as it may be stored: config secrets, URL passwords, key=value credentials and bare tokens removed. */
export function redactLine(text: string): string {
  let out = redact(text);
  for (const [re, to] of BARE_SECRETS) out = out.replace(re, to);
  return out;
}

interface Matcher { name: string; keep: boolean; test(line: string): boolean }

function matcherOf(p: LogCheck['patterns'][number]): Matcher {
  if (p.regex !== undefined) {
    const re = Pattern.compile(p.regex);
    return { name: p.name, keep: p.keep, test: (l) => re.test(l) };
  }
  const needle = p.ignore_case ? p.plain!.toLowerCase() : p.plain!;
  return { name: p.name, keep: p.keep, test: p.ignore_case ? (l) => l.toLowerCase().includes(needle) : (l) => l.includes(needle) };
}

/**
 * Lines kept (written to the database) per run at most, whatever the rate cap allows: one run's
 * transaction stays small (~0.1 s with its FTS5 index on SQLite). Lines beyond it are counted,
 * not kept.
 */
export const MAX_KEPT_PER_RUN = 10_000;

/** How often a check's kept lines are pruned (retention, byte budget). */
const PRUNE_EVERY_MS = 60_000;

class LogProbe {
  private readonly matchers: Matcher[];
  /** Positions as last committed (undefined until read from the store). */
  private offsets?: Map<string, FileOffset>;
  private started = false;
  private readonly counts = new Map<string, number>();
  /** Per pattern, (time, cumulative count) points covering the rate window. */
  private readonly history = new Map<string, Array<{ t: number; n: number }>>();
  private skipped = 0;
  private lastRun?: number;
  private lastPrune = 0;
  private readonly createdAt = Date.now();

  constructor(private readonly check: LogCheck, private readonly store: LogStore) {
    this.matchers = check.patterns.map(matcherOf);
    for (const m of this.matchers) this.counts.set(m.name, 0);
  }

  async run(ctx: ProbeRunContext): Promise<ProbeResult> {
    const check = this.check;
    if (!this.offsets) {
      const stored = await this.store.offsets(check.name);
      this.offsets = stored.offsets;
      this.started = stored.started;
    }
    const now = Date.now();
    const r = await followOnce(check.paths, this.offsets, this.started, {
      maxReadBytes: check.max_read_bytes, maxLineBytes: check.max_line_bytes, maxFiles: check.max_files, maxEntries: check.max_entries,
    }, ctx.signal);

    // The lines-per-second cap: a budget for the time since the last run (the interval at first).
    const elapsed = Math.max(1, (now - (this.lastRun ?? now - check.interval)) / 1000);
    const budget = Math.ceil(check.max_lines_per_second * Math.min(elapsed, Math.max(check.interval / 1000, 1) * 2));
    const counted = r.lines.slice(0, budget);
    const skipped = r.lines.length - counted.length;

    const found = new Map<string, number>();
    const keep: NewLine[] = [];
    for (const line of counted) {
      const hits = this.matchers.filter((m) => m.test(line.text));
      if (!hits.length) continue;
      for (const h of hits) found.set(h.name, (found.get(h.name) ?? 0) + 1);
      if (keep.length < MAX_KEPT_PER_RUN && hits.some((h) => h.keep)) keep.push({ t: now, file: line.file, patterns: hits.map((h) => h.name), line: redactLine(line.text), truncated: line.truncated });
    }

    // Lines and positions in one transaction; the counts move only once they are stored.
    try {
      await this.store.commit(check.name, keep, r.offsets, now);
    } catch (err) {
      return { ok: false, reason: 'error', message: `cannot store what was read (read again next run): ${errorMessage(err)}`, samples: [] };
    }
    this.offsets = r.offsets;
    this.started = true;
    this.lastRun = now;
    this.skipped += skipped;
    for (const [k, n] of found) this.counts.set(k, this.counts.get(k)! + n);

    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      try {
        await this.store.prune(check.name, check.retention, check.max_stored_bytes, now);
      } catch (err) {
        ctx.log.warn('log watch: pruning kept lines failed', { check: check.name, error: errorMessage(err) });
      }
    }

    const samples: Sample[] = [];
    for (const m of this.matchers) {
      const labels = { pattern: m.name };
      samples.push({ key: `${m.name}.total`, metric: 'vigil_log_lines_total', value: this.counts.get(m.name)!, labels });
      samples.push({ key: m.name, metric: 'vigil_log_matches_per_minute', value: this.rate(m.name, now), labels });
    }
    samples.push({ key: 'skipped', metric: 'vigil_log_skipped_lines_total', value: this.skipped });
    samples.push({ key: 'files', metric: 'vigil_log_files', value: r.files });
    samples.push({ key: 'behind', metric: 'vigil_log_behind_bytes', value: r.behindBytes });

    const info: Record<string, string> = { files: String(r.files) };
    if (r.rotations) info.rotations = String(r.rotations);
    if (r.truncations) info.truncations = String(r.truncations);
    if (r.tooManyFiles) return { ok: false, reason: 'error', message: `more than max_files (${check.max_files}) files match ${check.paths.join(', ')}; following the first ${check.max_files}`, samples, info };
    if (!r.files && !check.paths.some(isGlob)) return { ok: false, reason: 'missing', message: `${check.paths.map(expandHome).join(', ')}: no such file, expected it to exist`, samples, info };
    return { ok: true, samples, info };
  }

  /** Matches in the last rate_window (or since the check started, if shorter), per minute. */
  private rate(pattern: string, now: number): number {
    const n = this.counts.get(pattern)!;
    const points = this.history.get(pattern) ?? [{ t: this.createdAt, n: 0 }];
    points.push({ t: now, n });
    // Keep the newest point at or before the window start as the baseline.
    while (points.length > 1 && points[1].t <= now - this.check.rate_window) points.shift();
    this.history.set(pattern, points);
    return ((n - points[0].n) * 60_000) / this.check.rate_window;
  }
}
