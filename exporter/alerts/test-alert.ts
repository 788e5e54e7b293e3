// A synthetic alert an operator can push through the whole path (Alertmanager routing, every
// receiver, back to Vigil's webhook) to prove that notifications work. buildTestAlert() is pure;
// sendTestAlert() posts to Alertmanager's API v2 with a timeout.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const TEST_ALERTNAME = 'VigilTestAlert';

export const testAlertRequestSchema = z.strictObject({
  /** Routing follows severity: critical pages (PagerDuty), warning notifies, info notifies nobody. */
  severity: z.enum(['critical', 'warning', 'info']).default('warning'),
  summary: z.string().min(1).max(1000).optional(),
  description: z.string().min(1).max(4000).optional(),
  /** How long the alert stays firing before Alertmanager resolves it by itself (default 5 min). */
  duration_seconds: z.number().int().min(10).max(86_400).default(300),
});
export type TestAlertRequest = z.input<typeof testAlertRequestSchema>;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export function buildTestAlert(req: z.output<typeof testAlertRequestSchema>, opts: { now?: number; id?: string; requestedBy?: string } = {}): PostableAlert {
  const now = opts.now ?? Date.now();
  const id = opts.id ?? randomUUID().slice(0, 8);
  return {
    labels: {
      alertname: TEST_ALERTNAME,
      severity: req.severity,
      component: 'vigil-test',
      check: 'vigil-test',
      // Unique per test: a second test within the first one's lifetime is a new alert and is
      // notified again instead of being deduplicated into the first.
      test_id: id,
    },
    annotations: {
      summary: req.summary ?? `Vigil test alert (${req.severity}): the notification path works if you can read this.`,
      description: req.description
        ?? `Sent by POST /api/v1/alerts/test${opts.requestedBy ? ` from ${opts.requestedBy}` : ''} at ${new Date(now).toISOString()} (test_id ${id}). `
          + `It resolves by itself at ${new Date(now + req.duration_seconds * 1000).toISOString()}; no action is needed.`,
      runbook_url: 'https://github.com/vigil-monitoring/vigil/blob/main/docs/alert-receiver.md#test-alert',
    },
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + req.duration_seconds * 1000).toISOString(),
  };
}

export class AlertmanagerError extends Error {}

/** `base` without credentials, for messages. */
export function displayUrl(base: string): string {
  try {
    const u = new URL(base);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

/** POST the alert to `{base}/api/v2/alerts`. Throws AlertmanagerError with a reason on any failure. */
export async function sendTestAlert(base: string, alert: PostableAlert, timeoutMs = 5000): Promise<void> {
  const u = new URL(base);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  const shown = displayUrl(u.toString());
  let res: Response;
  try {
    res = await fetch(u, { method: 'POST', headers, body: JSON.stringify([alert]), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new AlertmanagerError(`Alertmanager unreachable at ${shown}: ${why}`);
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 300).trim();
    throw new AlertmanagerError(`Alertmanager at ${shown} answered ${res.status}${text ? `: ${text}` : ''}`);
  }
  await res.body?.cancel().catch(() => {});
}
