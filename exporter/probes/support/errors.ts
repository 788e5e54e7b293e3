// Map a thrown error to the closed set of failure reasons, so "why did it fail" is a label.
import type { FailureReason } from '../../model/result.js';

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED', 'ECONNREFUSED_DNS']);
const CONNECT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EADDRNOTAVAIL', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_SOCKET_CLOSED']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEOUT']);

export function classifyError(err: unknown): FailureReason {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || TIMEOUT.has(code)) return 'timeout';
  if (DNS.has(code) || (e as { syscall?: string })?.syscall === 'getaddrinfo') return 'dns';
  if (CONNECT.has(code)) return 'connect';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH|ERR_TLS/i.test(code)) return 'tls';
  if (/auth|password|access denied|permission denied|NOAUTH|WRONGPASS/i.test(e?.message ?? '')) return 'auth';
  return 'error';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    if (err.name === 'AbortError' || err.name === 'TimeoutError') return 'timed out';
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message || String(code ?? err.name);
  }
  return String(err);
}

/** Reject with an AbortError as soon as the signal fires; lets probes race library calls that take no signal. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

export function abortError(): Error {
  const err = new Error('timed out');
  err.name = 'AbortError';
  return err;
}
