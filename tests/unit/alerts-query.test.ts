// Views over the notification log: firing now, filters, lifecycles, CSV escaping.
import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '../../exporter/alerts/log.js';
import { filterLifecycles, filterNotifications, firingNow, lifecycles } from '../../exporter/alerts/query.js';
import { lifecyclesCsv, notificationsCsv } from '../../exporter/views/alerts.js';
import { csvField } from '../../exporter/views/csv.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
let nextId = 1;
function n(fp: string, status: 'firing' | 'resolved', receivedS: number, startS: number, over: Partial<NotificationRecord> = {}, labels: Record<string, string> = {}): NotificationRecord {
  const id = nextId++;
  return {
    id,
    batch: id,
    received_at: at(receivedS),
    receiver: 'vigil',
    status,
    fingerprint: fp,
    labels: { alertname: 'VigilCheckCritical', severity: 'critical', component: 'web', check: fp, ...labels },
    annotations: { summary: `${fp} down` },
    starts_at: at(startS),
    ends_at: status === 'resolved' ? at(receivedS - 1) : null,
    generator_url: '',
    group_key: `{}:{check="${fp}"}`, // one group per alert unless a test says otherwise
    truncated_alerts: 0,
    external_url: '',
    ...over,
  };
}

// a: fired at 0, notified at 2, repeated at 60, resolved (endsAt 99) notified at 100
// b: warning, fired at 10, still firing
// a again: new episode from 200 (new startsAt), firing
// c: resolved at 50 (endsAt 49), db component, receiver email-bridge
const log: NotificationRecord[] = [
  n('a', 'firing', 2, 0),
  n('b', 'firing', 12, 10, {}, { alertname: 'VigilCheckDegraded', severity: 'warning' }),
  n('c', 'firing', 20, 18, { receiver: 'other' }, { component: 'db' }),
  n('c', 'resolved', 50, 18, { receiver: 'other' }, { component: 'db' }),
  n('a', 'firing', 60, 0),
  n('a', 'resolved', 100, 0),
  n('a', 'firing', 202, 200),
];

describe('firingNow', () => {
  it('latest notification per fingerprint, only when firing, newest start first', () => {
    expect(firingNow(log).map((r) => [r.fingerprint, r.starts_at])).toEqual([['a', at(200)], ['b', at(10)]]);
  });
  it('a resolve removes the alert', () => {
    expect(firingNow(log.slice(0, 6)).map((r) => r.fingerprint)).toEqual(['b']);
  });
});

describe('group membership (each notification is its group\'s complete list)', () => {
  // Group G: x and y fire together; the next notification of G lists only x (y was inhibited).
  const notification = (batch: number, receivedS: number, alerts: Array<[string, 'firing' | 'resolved']>, truncated = 0) =>
    alerts.map(([fp, status], i) => n(fp, status, receivedS, 0, { batch: batch, id: batch + i, group_key: 'G', truncated_alerts: truncated }));
  const g = [...notification(1000, 5, [['x', 'firing'], ['y', 'firing']]), ...notification(1010, 40, [['x', 'firing']])];

  it('an alert left out of its group\'s later notification is no longer firing', () => {
    expect(firingNow(g).map((r) => r.fingerprint)).toEqual(['x']);
    const y = lifecycles(g, T0 + 100_000).find((l) => l.fingerprint === 'y')!;
    expect(y).toMatchObject({ ongoing: false, resolved_at: null, unnotified_at: at(40), duration_seconds: 40 });
    expect(filterLifecycles(lifecycles(g, T0 + 100_000), { status: 'firing' }, 10).map((l) => l.fingerprint)).toEqual(['x']);
  });
  it('unless that notification was truncated (max_alerts)', () => {
    const t = [...notification(1000, 5, [['x', 'firing'], ['y', 'firing']]), ...notification(1010, 40, [['x', 'firing']], 1)];
    expect(firingNow(t).map((r) => r.fingerprint).sort()).toEqual(['x', 'y']);
  });
  it('and it is firing again once a later notification lists it', () => {
    const back = [...g, ...notification(1020, 70, [['x', 'firing'], ['y', 'firing']])];
    expect(firingNow(back).map((r) => r.fingerprint).sort()).toEqual(['x', 'y']);
    expect(lifecycles(back, T0 + 100_000).find((l) => l.fingerprint === 'y')).toMatchObject({ ongoing: true, unnotified_at: null });
  });
  it('groups of other receivers do not count', () => {
    const other = [...notification(1000, 5, [['x', 'firing'], ['y', 'firing']]), ...notification(1010, 40, [['x', 'firing']]).map((r) => ({ ...r, receiver: 'elsewhere' }))];
    expect(firingNow(other).map((r) => r.fingerprint).sort()).toEqual(['x', 'y']);
  });
});

describe('filterNotifications', () => {
  const cases: Array<{ name: string; filter: Parameters<typeof filterNotifications>[1]; limit?: number; ids: number[] }> = [
    { name: 'everything, newest first', filter: {}, ids: [7, 6, 5, 4, 3, 2, 1] },
    { name: 'limit', filter: {}, limit: 2, ids: [7, 6] },
    { name: 'status resolved', filter: { status: 'resolved' }, ids: [6, 4] },
    { name: 'severity warning', filter: { severity: 'warning' }, ids: [2] },
    { name: 'component db', filter: { component: 'db' }, ids: [4, 3] },
    { name: 'alertname', filter: { alertname: 'VigilCheckDegraded' }, ids: [2] },
    { name: 'receiver', filter: { receiver: 'other' }, ids: [4, 3] },
    { name: 'time range, inclusive', filter: { from: T0 + 20_000, to: T0 + 60_000 }, ids: [5, 4, 3] },
    { name: 'combined', filter: { status: 'firing', severity: 'critical', to: T0 + 30_000 }, ids: [3, 1] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const base = log[0].id - 1;
      expect(filterNotifications(log, c.filter, c.limit ?? 100).map((r) => r.id - base)).toEqual(c.ids);
    });
  }
});

describe('lifecycles', () => {
  const now = T0 + 300_000;
  const all = lifecycles(log, now);
  it('one per fingerprint + startsAt with fired/resolved/duration', () => {
    const view = all.map((l) => [l.fingerprint, l.fired_at, l.resolved_at, l.duration_seconds, l.ongoing, l.notifications]);
    expect(view).toEqual([
      ['a', at(0), at(99), 99, false, 3],
      ['b', at(10), null, 290, true, 1],
      ['c', at(18), at(49), 31, false, 2],
      ['a', at(200), null, 100, true, 1],
    ]);
    expect(all[0].resolved_notified_at).toBe(at(100));
    expect(all[2].receivers).toEqual(['other']);
  });
  it('a resolve without endsAt ends at its received time', () => {
    const [l] = lifecycles([n('x', 'firing', 1, 0), n('x', 'resolved', 30, 0, { ends_at: null })], now);
    expect(l.resolved_at).toBe(at(30));
    expect(l.duration_seconds).toBe(30);
  });
  const cases: Array<{ name: string; filter: Parameters<typeof filterLifecycles>[1]; keys: string[] }> = [
    { name: 'all, newest start first', filter: {}, keys: ['a@200', 'c@18', 'b@10', 'a@0'] },
    { name: 'firing = ongoing', filter: { status: 'firing' }, keys: ['a@200', 'b@10'] },
    { name: 'resolved = ended', filter: { status: 'resolved' }, keys: ['c@18', 'a@0'] },
    { name: 'range overlaps the episode', filter: { from: T0 + 60_000, to: T0 + 150_000 }, keys: ['b@10', 'a@0'] },
    { name: 'component', filter: { component: 'db' }, keys: ['c@18'] },
  ];
  for (const c of cases) {
    it(`filter: ${c.name}`, () => {
      expect(filterLifecycles(all, c.filter, 100, now).map((l) => `${l.fingerprint}@${(Date.parse(l.fired_at) - T0) / 1000}`)).toEqual(c.keys);
    });
  }
});

describe('CSV', () => {
  const cases: Array<{ name: string; input: unknown; expected: string }> = [
    { name: 'plain', input: 'abc', expected: 'abc' },
    { name: 'null', input: null, expected: '' },
    { name: 'number', input: -1.5, expected: '-1.5' },
    { name: 'comma', input: 'a,b', expected: '"a,b"' },
    { name: 'quote', input: 'say "hi"', expected: '"say ""hi"""' },
    { name: 'newline', input: 'line1\nline2', expected: '"line1\nline2"' },
    { name: 'CR', input: 'a\rb', expected: '"a\rb"' },
    { name: 'formula', input: '=HYPERLINK("x")', expected: '"\'=HYPERLINK(""x"")"' },
    { name: 'leading minus text', input: '-rm', expected: "'-rm" },
    { name: 'object', input: { a: 1 }, expected: '"{""a"":1}"' },
  ];
  for (const c of cases) it(c.name, () => expect(csvField(c.input)).toBe(c.expected));

  it('notifications CSV: header, CRLF rows, escaped annotations', () => {
    const r = n('q', 'firing', 1, 0, { annotations: { summary: 'a "quoted", multi\nline summary', runbook_url: 'https://x/r' } });
    const csv = notificationsCsv([r]);
    const [header, ...rest] = csv.split('\r\n');
    expect(header).toBe('id,received_at,receiver,status,alertname,severity,component,check,fingerprint,starts_at,ends_at,summary,description,runbook_url,labels');
    expect(rest.join('\r\n')).toContain('"a ""quoted"", multi\nline summary"');
    expect(csv.endsWith('\r\n')).toBe(true);
  });
  it('lifecycles CSV', () => {
    const csv = lifecyclesCsv(lifecycles(log, T0 + 300_000));
    expect(csv.split('\r\n')[1]).toMatch(/^VigilCheckCritical,critical,web,a,a,2026-11-24T12:00:00.000Z,2026-11-24T12:01:39.000Z,,99,false,3,vigil,a down,/);
  });
});
