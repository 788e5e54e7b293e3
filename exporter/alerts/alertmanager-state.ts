// What Alertmanager itself knows about the delivery of alerts, for the status page's alerts
// panel: per alert, the receivers it is routed to and whether it is silenced or inhibited
// (GET /api/v2/alerts); per receiver, its integrations (the receivers of GET /api/v2/status's
// config); per integration, Alertmanager's own counters (GET /metrics:
// alertmanager_notifications_total, _failed_total, alertmanager_notification_requests_total,
// _failed_total). Alertmanager 0.25 counts per integration only — not per alert or receiver — so
// these are totals since Alertmanager started, shown as such.
//
// Bounded: three GETs with one timeout, each body at most MAX_BODY_BYTES; one read at a time,
// kept for TTL_MS, so however many pages look, Alertmanager is asked at most every 15 s.
import { parse } from 'yaml';
import { displayUrl } from './test-alert.js';

export const TTL_MS = 15_000;
export const TIMEOUT_MS = 2_000;
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface IntegrationTotals {
  integration: string;
  /** Notifications Alertmanager sent through this integration (each after its retries). */
  notifications: number;
  notifications_failed: number;
  /** Attempts, retries included. */
  requests: number;
  requests_failed: number;
}

export interface AlertRouting {
  receivers: string[];
  /** Alertmanager's state: active (notified), suppressed (silenced or inhibited), unprocessed. */
  state: string;
  silenced_by: string[];
  inhibited_by: string[];
}

export interface AlertmanagerSnapshot {
  /** Without credentials. */
  url: string;
  read_at: string;
  /** Why (part of) the read failed; what was read is still given. */
  error: string | null;
  alerts: Map<string, AlertRouting>;
  /** Receiver name -> its integrations (`email`, `pagerduty`, `webhook`, `slack`, …). */
  receivers: Map<string, string[]>;
  integrations: Map<string, IntegrationTotals>;
}

const COUNTERS: Record<string, keyof Omit<IntegrationTotals, 'integration'>> = {
  alertmanager_notifications_total: 'notifications',
  alertmanager_notifications_failed_total: 'notifications_failed',
  alertmanager_notification_requests_total: 'requests',
  alertmanager_notification_requests_failed_total: 'requests_failed',
};
const SAMPLE_RE = /^(alertmanager_notifications(?:_failed)?_total|alertmanager_notification_requests(?:_failed)?_total)\{([^}]*)\}\s+(\S+)/;
const INTEGRATION_RE = /(?:^|,)\s*integration="([^"\\]*)"/;

/** The per-integration counters of Alertmanager's /metrics (summed over any other label, such as a later version's `reason`). */
export function parseIntegrationTotals(text: string): Map<string, IntegrationTotals> {
  const out = new Map<string, IntegrationTotals>();
  for (const line of text.split('\n')) {
    const m = SAMPLE_RE.exec(line);
    if (!m) continue;
    const integration = INTEGRATION_RE.exec(m[2]!)?.[1];
    const value = Number(m[3]);
    if (!integration || !Number.isFinite(value)) continue;
    let t = out.get(integration);
    if (!t) {
      t = { integration, notifications: 0, notifications_failed: 0, requests: 0, requests_failed: 0 };
      out.set(integration, t);
    }
    t[COUNTERS[m[1]!]!] += value;
  }
  return out;
}

/** Receiver name -> integrations, from the configuration Alertmanager reports (secrets are masked there). */
export function parseReceiverIntegrations(configYaml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const doc = parse(configYaml, { maxAliasCount: 100 }) as { receivers?: unknown } | null;
  if (!doc || !Array.isArray(doc.receivers)) return out;
  for (const r of doc.receivers as Array<Record<string, unknown>>) {
    if (!r || typeof r.name !== 'string') continue;
    const kinds = Object.keys(r).filter((k) => k.endsWith('_configs') && Array.isArray(r[k]) && (r[k] as unknown[]).length).map((k) => k.slice(0, -'_configs'.length));
    out.set(r.name, kinds.sort());
  }
  return out;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Fingerprint -> routing, from GET /api/v2/alerts (entries that are not alerts are skipped). */
export function parseAlertRouting(json: unknown): Map<string, AlertRouting> {
  const out = new Map<string, AlertRouting>();
  if (!Array.isArray(json)) return out;
  for (const a of json as Array<Record<string, unknown>>) {
    if (!a || typeof a.fingerprint !== 'string') continue;
    const status = (a.status ?? {}) as Record<string, unknown>;
    out.set(a.fingerprint, {
      receivers: Array.isArray(a.receivers) ? (a.receivers as Array<{ name?: unknown }>).map((r) => r?.name).filter((n): n is string => typeof n === 'string') : [],
      state: typeof status.state === 'string' ? status.state : 'unknown',
      silenced_by: strings(status.silencedBy),
      inhibited_by: strings(status.inhibitedBy),
    });
  }
  return out;
}

/** GET a body of at most MAX_BODY_BYTES as text. */
async function getText(u: URL, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  const res = await fetch(u, { headers, signal, redirect: 'error' });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`${u.pathname} answered ${res.status}`);
  }
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of res.body ?? []) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`${u.pathname} is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read the three answers; a part that fails leaves its map empty and names itself in `error`. */
export async function readAlertmanager(base: string, timeoutMs = TIMEOUT_MS, now = Date.now): Promise<AlertmanagerSnapshot> {
  const root = new URL(base);
  const headers: Record<string, string> = { accept: 'application/json, text/plain' };
  if (root.username || root.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(root.username)}:${decodeURIComponent(root.password)}`).toString('base64')}`;
    root.username = '';
    root.password = '';
  }
  const at = (p: string) => {
    const u = new URL(root);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${p}`;
    return u;
  };
  const signal = AbortSignal.timeout(timeoutMs);
  const snap: AlertmanagerSnapshot = {
    url: displayUrl(base), read_at: new Date(now()).toISOString(), error: null, alerts: new Map(), receivers: new Map(), integrations: new Map(),
  };
  const problems: string[] = [];
  const part = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      problems.push(`${what}: ${e.name === 'TimeoutError' || signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.message)}`);
    }
  };
  const alertsUrl = at('/api/v2/alerts');
  alertsUrl.search = 'active=true&silenced=true&inhibited=true&unprocessed=true';
  await Promise.all([
    part('alerts', async () => { snap.alerts = parseAlertRouting(JSON.parse(await getText(alertsUrl, headers, signal))); }),
    part('status', async () => {
      const status = JSON.parse(await getText(at('/api/v2/status'), headers, signal)) as { config?: { original?: unknown } };
      if (typeof status.config?.original === 'string') snap.receivers = parseReceiverIntegrations(status.config.original);
    }),
    part('metrics', async () => { snap.integrations = parseIntegrationTotals(await getText(at('/metrics'), headers, signal)); }),
  ]);
  snap.error = problems.length ? `Alertmanager at ${snap.url}: ${problems.join('; ')}` : null;
  return snap;
}

/** One read at a time, reused for TTL_MS (per base URL; a reload that changes it starts afresh). */
export class AlertmanagerReader {
  private last?: { base: string; at: number; snap: Promise<AlertmanagerSnapshot> };

  constructor(private readonly ttlMs = TTL_MS, private readonly read = readAlertmanager) {}

  get(base: string, now = Date.now()): Promise<AlertmanagerSnapshot> {
    if (this.last && this.last.base === base && now - this.last.at < this.ttlMs) return this.last.snap;
    const snap = this.read(base);
    this.last = { base, at: now, snap };
    return snap;
  }
}
