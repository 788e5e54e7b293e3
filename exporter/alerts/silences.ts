// Alertmanager's API v2, the parts maintenance windows and acknowledgements use: silences
// (create or update, expire, list), the alerts a silence covers, and posting alerts back (the
// resolves a silence swallowed, see exporter/maintenance/replay.ts). One client, one timeout per
// request, credentials from the URL sent as basic auth and never shown in a message.
import { AlertmanagerError, displayUrl, type PostableAlert } from './test-alert.js';
import { readBodyBounded } from '../model/http-body.js';

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false: != or !~ (Alertmanager 0.22+). */
  isEqual?: boolean;
}

export interface SilenceSpec {
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}

/** An alert as GET /api/v2/alerts lists it. */
export interface ListedAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

/** Largest answer read from Alertmanager (a list of silences or alerts). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Alertmanager's matcher syntax needs a regex's metacharacters escaped; names are [A-Za-z0-9_.-]. */
export function anyOf(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** The filter=... form of a matcher (GET /api/v2/alerts). */
function filterText(m: Matcher): string {
  const op = m.isRegex ? (m.isEqual === false ? '!~' : '=~') : (m.isEqual === false ? '!=' : '=');
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

export class AlertmanagerClient {
  private readonly base: URL;
  /** The base's path without its trailing slash ('' at the root). */
  private readonly prefix: string;
  private readonly auth?: string;
  readonly shown: string;

  constructor(base: string, readonly timeoutMs = 5000) {
    const u = new URL(base);
    if (u.username || u.password) {
      this.auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.base = u;
    this.shown = displayUrl(u.toString());
  }

  private async request(method: string, path: string, body?: unknown, query?: URLSearchParams): Promise<unknown> {
    const u = new URL(this.base.toString());
    u.pathname = `${this.prefix}${path}`;
    if (query) u.search = query.toString();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth) headers.authorization = this.auth;
    let res: Response;
    try {
      res = await fetch(u, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new AlertmanagerError(`Alertmanager unreachable at ${this.shown}: ${why}`);
    }
    const text = await readBodyBounded(res, MAX_ANSWER_BYTES, this.timeoutMs).catch(() => '');
    if (!res.ok) {
      const err = new AlertmanagerError(`Alertmanager at ${this.shown} answered ${res.status} to ${method} ${path}${text ? `: ${text.slice(0, 300).trim()}` : ''}`);
      (err as AlertmanagerError & { status?: number }).status = res.status;
      throw err;
    }
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new AlertmanagerError(`Alertmanager at ${this.shown} answered ${method} ${path} with something that is not JSON`);
    }
  }

  /** Create a silence, or update silence `id` (Alertmanager may answer with a new id). */
  async createSilence(spec: SilenceSpec, id?: string): Promise<string> {
    const answer = await this.request('POST', '/api/v2/silences', {
      ...(id ? { id } : {}),
      matchers: spec.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true })),
      startsAt: new Date(spec.startsAt).toISOString(),
      endsAt: new Date(spec.endsAt).toISOString(),
      createdBy: spec.createdBy,
      comment: spec.comment,
    }) as { silenceID?: unknown } | undefined;
    if (typeof answer?.silenceID !== 'string') throw new AlertmanagerError(`Alertmanager at ${this.shown} created a silence without telling its id`);
    return answer.silenceID;
  }

  /** Expire silence `id`; one that is gone or already expired is fine. */
  async expireSilence(id: string): Promise<void> {
    try {
      await this.request('DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
    } catch (err) {
      const status = (err as { status?: number }).status;
      // 404: unknown (garbage-collected); 500 "silence ... already expired" on 0.25.
      if (status === 404 || (status === 500 && /already expired/i.test((err as Error).message))) return;
      throw err;
    }
  }

  async silences(): Promise<Silence[]> {
    const list = await this.request('GET', '/api/v2/silences');
    return Array.isArray(list) ? list as Silence[] : [];
  }

  /** Alerts Alertmanager holds as active (firing), silenced or inhibited, matching every matcher. */
  async alerts(matchers: readonly Matcher[]): Promise<ListedAlert[]> {
    const q = new URLSearchParams({ active: 'true', silenced: 'true', inhibited: 'true', unprocessed: 'true' });
    for (const m of matchers) q.append('filter', filterText(m));
    const list = await this.request('GET', '/api/v2/alerts', undefined, q);
    return Array.isArray(list) ? list as ListedAlert[] : [];
  }

  async postAlerts(alerts: PostableAlert[]): Promise<void> {
    if (alerts.length) await this.request('POST', '/api/v2/alerts', alerts);
  }
}

