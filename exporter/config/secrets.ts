// Secrets enter config through ${ENV} interpolation and *_file fields. Their values are
// registered here and scrubbed from every string Vigil emits (logs, /health, errors).
const secrets = new Set<string>();

// Secrets shorter than this are not registered: scrubbing "1" or "on" would mangle every log line.
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

const USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s:@/]+):([^\s@/]+)@/gi;
const KEY_VALUE_RE = /\b(password|passwd|pwd|token|secret|api[_-]?key|authorization)(["']?\s*[=:]\s*["']?)([^\s"'&,;]+)/gi;

/** Remove registered secrets, URL passwords (scheme://user:pass@) and key=value credentials. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('<redacted>');
  out = out.replace(USERINFO_RE, '$1$2:<redacted>@');
  out = out.replace(KEY_VALUE_RE, '$1$2<redacted>');
  return out;
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}
