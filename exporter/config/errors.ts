import { redact } from './secrets.js';

// Config problems carry their position so the report reads `vigil.yml:14:7 checks[2].url: invalid URL`.
export type ConfigPath = Array<string | number>;

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  path: ConfigPath;
  message: string;
}

/**
 * A key as it may be printed. Config keys, label names and header names are short tokens; a
 * "key" with quotes, spaces or colons is a broken line whose text may be a credential (a value
 * that an edit turned into a key), so only its length is shown; file:line:column still point at it.
 */
export function shownKey(key: string): string {
  return /^[A-Za-z0-9_.\-/@$+]{1,100}$/.test(key) ? key : `<malformed key of ${key.length} characters>`;
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${shownKey(seg)}` : shownKey(seg);
  }
  return out || '(root)';
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return p.path.length ? `${where} ${formatPath(p.path)}: ${p.message}` : `${where}: ${p.message}`;
}

/** Thrown by loadConfig with every problem found; never carries a stack trace to the user. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    // Messages may quote a value the user wrote (an invalid duration, a type name); the same
    // scrubbing as logs applies, so a secret in the wrong key is not printed either.
    const scrubbed = problems.map((p) => ({ ...p, message: redact(p.message) }));
    super(scrubbed.map(formatProblem).join('\n'));
    this.problems = scrubbed;
    this.name = 'ConfigError';
  }
}
