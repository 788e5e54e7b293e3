// Connection strings (postgres://user:pass@host:5432/db). They carry credentials, so nothing
// here ever returns the password: messages describe a target as scheme host:port/db only, and
// every password found is registered as a secret so redact() scrubs it wherever it shows up.
import { z } from 'zod';
import { registerSecret } from '../../config/secrets.js';

export const DSN_SCHEMES = {
  postgres: ['postgres', 'postgresql'],
  mysql: ['mysql', 'mariadb'],
  redis: ['redis', 'rediss'],
} as const;
export type DsnKind = keyof typeof DSN_SCHEMES;

export function parseDsn(dsn: string): URL | undefined {
  try {
    return new URL(dsn);
  } catch {
    return undefined;
  }
}

export function dsnKind(dsn: string): DsnKind | undefined {
  const scheme = parseDsn(dsn)?.protocol.slice(0, -1);
  for (const [kind, schemes] of Object.entries(DSN_SCHEMES)) if ((schemes as readonly string[]).includes(scheme ?? '')) return kind as DsnKind;
  return undefined;
}

/** A DSN field accepting the given kinds. The error never echoes the value (it may hold a password). */
export function dsnField(...kinds: DsnKind[]) {
  const schemes = kinds.flatMap((k) => DSN_SCHEMES[k]);
  const example = schemes.map((s) => `${s}://`).join(', ');
  return z.string().min(1).refine((s) => {
    const kind = dsnKind(s);
    return kind !== undefined && kinds.includes(kind);
  }, `expected a connection URL starting with ${example} (the value is not shown: it may contain a password)`);
}

/** "127.0.0.1:5432/app": what to call the target in messages. Never includes credentials. */
export function describeDsn(dsn: string): string {
  const u = parseDsn(dsn);
  if (!u) return '<invalid dsn>';
  const host = u.host || u.searchParams.get('host') || 'localhost';
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return db ? `${host}/${db}` : host;
}

/** The DSN with `password` set (a separate password field wins over one inside the DSN). */
export function withPassword(dsn: string, password: string | undefined, username?: string): string {
  const u = parseDsn(dsn);
  if (!u) return dsn;
  if (username !== undefined) u.username = encodeURIComponent(username);
  if (password !== undefined) u.password = encodeURIComponent(password);
  return u.toString();
}

/** Register the DSN's password (and the DSN itself) as secrets. */
export function registerDsnSecrets(dsn: string, password?: string): void {
  const u = parseDsn(dsn);
  if (u?.password) {
    registerSecret(u.password);
    registerSecret(decodeURIComponent(u.password));
    registerSecret(dsn);
  }
  if (password) registerSecret(password);
}
