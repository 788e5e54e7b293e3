// Secrets enter config through ${ENV} interpolation and *_file fields. Their values are
// registered here and scrubbed from every string Vigil emits (logs, /health, errors).
const secrets = new Set<string>();

// Secrets shorter than this are not registered: scrubbing "1" or "on" would mangle every log line.
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

const USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s@/]+)@/gi;
// key: value, key=value, "key":"value" and the same inside a JSON string (log lines are JSON,
// so a quoted literal arrives as password: \"hunter2\"). A quoted value is redacted whole, up to
// its closing quote (or the end, when there is none); an Authorization value keeps its scheme.
const KEY_VALUE_RE = /\b(password|passwd|pwd|token|secret|api[_-]?key|authorization)(\\?["']?[ \t]*[=:][ \t]*)((?:bearer|basic|token|digest)[ \t]+)?(\\?"(?:[^"\\]|\\[^"])*(?:\\?")?|'[^']*'|[^\s"'&,;\\]+)/gi;

function redactValue(_m: string, key: string, sep: string, scheme: string | undefined, value: string): string {
  const open = /^\\?["']/.exec(value)?.[0] ?? '';
  const close = open ? (/\\?["']$/.exec(value.slice(open.length))?.[0] ?? '') : '';
  return `${key}${sep}${scheme ?? ''}${open}<redacted>${close}`;
}

/** Remove registered secrets, URL passwords (scheme://user:pass@) and key=value credentials. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('<redacted>');
  out = out.replace(USERINFO_RE, '$1$2:<redacted>@');
  out = out.replace(KEY_VALUE_RE, redactValue);
  return out;
}

/** Register the password of every scheme://user:password@ in a config value (a DSN, a URL). */
export function registerUrlPasswords(text: string): void {
  if (!text.includes('://')) return;
  for (const m of text.matchAll(USERINFO_RE)) {
    registerSecret(m[3]);
    // The same password percent-decoded, as a driver's error message might print it.
    try {
      const decoded = decodeURIComponent(m[3]);
      if (decoded !== m[3]) registerSecret(decoded);
    } catch {
      // not valid percent-encoding: the raw form is registered
    }
  }
}

// Query parameters whose values are credentials (signed URLs, API keys, tokens).
const SECRET_PARAM_RE = /(token|key|secret|pass|pwd|auth|sig|signature|credential|session|code)/i;

/**
 * A URL as it may be shown in a label: no userinfo (user or password), no fragment, the values
 * of credential-like query parameters replaced, registered secrets removed.
 */
export function publicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return redact(text);
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  for (const name of new Set(url.searchParams.keys())) {
    if (SECRET_PARAM_RE.test(name)) url.searchParams.set(name, 'redacted');
  }
  let out = url.toString();
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('<redacted>');
  return out;
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}
