// Alertmanager's webhook payload (version "4", Alertmanager 0.16 … 0.27), validated strictly: every
// documented key must be there with the right type, or the whole notification is rejected with a
// reason and nothing is stored. Keys Alertmanager may add in later versions are ignored (not
// rejected), so an upgrade of Alertmanager cannot silently stop the log.
import { z } from 'zod';

const MAX_LABELS = 128;
const MAX_KEY = 256;
const MAX_VALUE = 16 * 1024;
/** Alerts in one notification (Alertmanager's max_alerts is unlimited by default; the body limit bounds it too). */
export const MAX_ALERTS = 1000;

const kv = z.record(z.string().min(1).max(MAX_KEY), z.string().max(MAX_VALUE))
  .refine((r) => Object.keys(r).length <= MAX_LABELS, { message: `at most ${MAX_LABELS} entries` });
const time = z.iso.datetime({ offset: true });
const status = z.enum(['firing', 'resolved']);

export const webhookAlertSchema = z.object({
  status,
  labels: kv.refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, { message: 'alertname label missing' }),
  annotations: kv,
  startsAt: time,
  endsAt: time,
  generatorURL: z.string().max(8192),
  fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, 'expected a hex fingerprint'),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(MAX_VALUE),
  truncatedAlerts: z.number().int().min(0),
  status,
  receiver: z.string().min(1).max(MAX_KEY),
  groupLabels: kv,
  commonLabels: kv,
  commonAnnotations: kv,
  externalURL: z.string().max(8192),
  alerts: z.array(webhookAlertSchema).min(1).max(MAX_ALERTS),
});

export type WebhookPayload = z.output<typeof webhookPayloadSchema>;
export type WebhookAlert = z.output<typeof webhookAlertSchema>;

/** Validate a parsed JSON body; on failure the reason names the offending keys (`alerts.0.startsAt: …`). */
export function parseWebhookPayload(body: unknown): { ok: true; payload: WebhookPayload } | { ok: false; reason: string } {
  if (body === undefined) return { ok: false, reason: 'empty body: expected an Alertmanager webhook payload (version "4")' };
  const r = webhookPayloadSchema.safeParse(body);
  if (r.success) return { ok: true, payload: r.data };
  const problems = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`);
  const more = r.error.issues.length > 5 ? ` (and ${r.error.issues.length - 5} more)` : '';
  return { ok: false, reason: `invalid Alertmanager webhook payload: ${problems.join('; ')}${more}` };
}
