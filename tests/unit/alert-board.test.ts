// The alerts panel's document (views/alert-board.ts): firing and recently ended alerts with
// their component, links (check detail, runbook), value/threshold and notification history.
import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '../../exporter/alerts/log.js';
import { alertBoard, MAX_NOTIFICATIONS_PER_ALERT, safeUrl } from '../../exporter/views/alert-board.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
let nextId = 1;

interface Rec { min: number; status?: 'firing' | 'resolved'; fp?: string; start?: number; end?: number; receiver?: string; group?: string; labels?: Record<string, string>; annotations?: Record<string, string>; batch?: number }
function rec(r: Rec): NotificationRecord {
  const id = nextId++;
  return {
    id, batch: r.batch ?? id, received_at: at(r.min), receiver: r.receiver ?? 'vigil-webhook', status: r.status ?? 'firing', fingerprint: r.fp ?? 'aa01',
    labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'shop', check: 'web', ...r.labels },
    annotations: { summary: 'Check web of component shop is critical.', runbook_url: 'https://example.com/runbooks.md#vigilcheckcritical', value: 'last success 20s ago', threshold: 'critical for more than 10s', ...r.annotations },
    starts_at: at(r.start ?? 0), ends_at: r.end === undefined ? null : at(r.end), generator_url: '', group_key: r.group ?? `{}:{fp="${r.fp ?? 'aa01'}"}`, truncated_alerts: 0, external_url: 'http://am',
  };
}
const CHECKS = new Set(['web', 'db main']);
const board = (records: NotificationRecord[], nowMin = 60, windowMin = 24 * 60) => alertBoard(records, { now: T0 + nowMin * 60_000, windowMs: windowMin * 60_000, checks: CHECKS });

describe('alert board', () => {
  it('lists a firing alert with its component, check detail link, runbook, value, threshold and history', () => {
    const b = board([rec({ min: 1 }), rec({ min: 31 })]);
    expect(b).toMatchObject({ firing: 1, ended: 0, truncated: false, window_seconds: 86_400 });
    expect(b.alerts[0]).toMatchObject({
      alertname: 'VigilCheckCritical', severity: 'critical', component: 'shop', check: 'web', check_url: '#/check/web',
      runbook_url: 'https://example.com/runbooks.md#vigilcheckcritical', value: 'last success 20s ago', threshold: 'critical for more than 10s',
      summary: 'Check web of component shop is critical.', state: 'firing', fired_at: at(0), resolved_at: null, duration_seconds: 3600, notifications_total: 2,
    });
    expect(b.alerts[0]!.notifications).toEqual([
      { at: at(31), status: 'firing', receiver: 'vigil-webhook' },
      { at: at(1), status: 'firing', receiver: 'vigil-webhook' },
    ]);
    expect(b.alerts[0]!.deliveries).toEqual([{ receiver: 'vigil-webhook', notifications: 2, firing: 2, resolved: 0, first_at: at(1), last_at: at(31), last_status: 'firing' }]);
  });

  it('a resolve ends the alert: listed as resolved within the window, with both notifications', () => {
    const b = board([rec({ min: 1 }), rec({ min: 6, status: 'resolved', end: 5 })]);
    expect(b).toMatchObject({ firing: 0, ended: 1 });
    expect(b.alerts[0]).toMatchObject({ state: 'resolved', resolved_at: at(5), duration_seconds: 300, notifications_total: 2 });
    expect(b.alerts[0]!.notifications.map((n) => n.status)).toEqual(['resolved', 'firing']);
    expect(b.alerts[0]!.deliveries[0]).toMatchObject({ firing: 1, resolved: 1, last_status: 'resolved' });
  });

  it('drops ended alerts older than the window, keeps firing ones however old', () => {
    const records = [
      rec({ min: 1, fp: 'old' }), rec({ min: 6, fp: 'old', status: 'resolved', end: 5 }),
      rec({ min: 2, fp: 'long', start: 2 }),
    ];
    const b = board(records, 3 * 60, 60); // now = 3 h, window 1 h
    expect(b.alerts.map((a) => [a.fingerprint, a.state])).toEqual([['long', 'firing']]);
    expect(b.ended).toBe(0);
  });

  it('orders firing alerts by severity, then newest; ended ones by newest end', () => {
    const b = board([
      rec({ min: 1, fp: 'w1', start: 1, labels: { severity: 'warning' } }),
      rec({ min: 2, fp: 'c1', start: 2 }),
      rec({ min: 3, fp: 'c2', start: 3 }),
      rec({ min: 4, fp: 'r1', start: 0 }), rec({ min: 5, fp: 'r1', status: 'resolved', end: 5, start: 0 }),
      rec({ min: 4, fp: 'r2', start: 0 }), rec({ min: 9, fp: 'r2', status: 'resolved', end: 9, start: 0 }),
    ]);
    expect(b.alerts.map((a) => a.fingerprint)).toEqual(['c2', 'c1', 'w1', 'r2', 'r1']);
  });

  it('an alert its group no longer lists (muted) is shown as no longer notified', () => {
    const b = board([
      rec({ min: 1, fp: 'crit', batch: 100, group: 'shop' }), rec({ min: 1, fp: 'warn', batch: 100, group: 'shop', labels: { severity: 'warning' } }),
      rec({ min: 2, fp: 'crit', batch: 200, group: 'shop' }),
    ]);
    expect(b.alerts.find((a) => a.fingerprint === 'warn')).toMatchObject({ state: 'unnotified', unnotified_at: at(2) });
  });

  it('counts deliveries per receiver', () => {
    const b = board([rec({ min: 1, receiver: 'vigil-webhook' }), rec({ min: 1, receiver: 'pagerduty-witness', group: 'g2' }), rec({ min: 10, receiver: 'vigil-webhook' })]);
    expect(b.alerts[0]!.deliveries.map((d) => [d.receiver, d.notifications])).toEqual([['pagerduty-witness', 1], ['vigil-webhook', 2]]);
  });

  it('keeps the newest notifications per alert, with the total', () => {
    const records = Array.from({ length: MAX_NOTIFICATIONS_PER_ALERT + 5 }, (_, i) => rec({ min: i + 1 }));
    const a = board(records, 120).alerts[0]!;
    expect(a.notifications_total).toBe(MAX_NOTIFICATIONS_PER_ALERT + 5);
    expect(a.notifications).toHaveLength(MAX_NOTIFICATIONS_PER_ALERT);
    expect(a.notifications[0]!.at).toBe(at(MAX_NOTIFICATIONS_PER_ALERT + 5));
  });

  it.each([
    { name: 'unknown check: no detail link', labels: { check: 'gone' }, check_url: null },
    { name: 'no check label', labels: { check: '' }, check_url: null },
    { name: 'a name that needs escaping', labels: { check: 'db main' }, check_url: '#/check/db%20main' },
  ])('check link: $name', ({ labels, check_url }) => {
    const r = rec({ min: 1, labels });
    if (labels.check === '') delete (r.labels as Record<string, string>).check;
    expect(board([r]).alerts[0]!.check_url).toBe(check_url);
  });

  it.each([
    ['https://runbooks.example.com/a#b', 'https://runbooks.example.com/a#b'],
    ['http://wiki/x', 'http://wiki/x'],
    ['javascript:alert(1)', null],
    ['data:text/html,<script>', null],
    ['/relative/path', null],
    ['', null],
    [undefined, null],
  ])('runbook url %s -> %s', (raw, expected) => {
    expect(safeUrl(raw)).toBe(expected);
  });

  it('an alert without value/threshold annotations has them null', () => {
    const r = rec({ min: 1 });
    delete r.annotations.value;
    delete r.annotations.threshold;
    expect(board([r]).alerts[0]).toMatchObject({ value: null, threshold: null });
  });
});
