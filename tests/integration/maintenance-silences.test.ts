// Maintenance windows and acknowledgements against a real Alertmanager 0.25 (loopback, its
// webhook pointed at a local sink). The maintenance clock is the test's: a window's silence
// appears and goes at the ticks the test places around its start and end, without waiting for
// them. What Alertmanager itself does (muting, notifying) runs on its own clock, so those steps
// wait a few seconds at most (group_interval 1s).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertmanagerClient, type Silence } from '../../exporter/alerts/silences.js';
import { openSqliteRecord } from '../../exporter/db/sqlite.js';
import type { RecordSql } from '../../exporter/db/sql.js';
import { silentLogger } from '../../exporter/log.js';
import { Maintenance } from '../../exporter/maintenance/manager.js';
import type { ScopedCheck } from '../../exporter/maintenance/schedule.js';
import type { RecordEvent } from '../../exporter/record/events.js';
import type { MaintenanceWindowConfig } from '../../exporter/config/maintenance.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { startHttpSink, type HttpSink, type SinkRequest } from '../support/sinks.js';
import { waitFor } from '../support/exporter.js';

const CHECKS: ScopedCheck[] = [
  { name: 'db-ping', component: 'db', labels: { team: 'data' } },
  { name: 'db-disk', component: 'db', labels: {} },
  { name: 'web', component: 'web', labels: {} },
];

let am: RunningAlertmanager;
let sink: HttpSink;
let dir: string;
let sql: RecordSql;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-maint-'));
  sink = await startHttpSink();
  const hook = (p: string) => ({ url: `${sink.url}${p}`, send_resolved: true });
  const config = {
    route: {
      receiver: 'hook', group_by: ['component'], group_wait: '0s', group_interval: '1s', repeat_interval: '1h',
      // Acknowledgement test: re-sent every 2 s while firing, so "the next notification" comes soon.
      routes: [{ receiver: 'ack-hook', matchers: ['test="ack"'], group_by: ['alertname'], group_wait: '0s', group_interval: '1s', repeat_interval: '2s' }],
    },
    receivers: [{ name: 'hook', webhook_configs: [hook('/hook')] }, { name: 'ack-hook', webhook_configs: [hook('/ack-hook')] }],
  };
  const file = path.join(dir, 'alertmanager.yml');
  writeFileSync(file, stringify(config));
  am = await startAlertmanager({ configFile: file, readyTimeoutMs: 30_000 });
  sql = await openSqliteRecord(dir, silentLogger);
}, 60_000);

afterAll(async () => {
  await am?.stop();
  await sink?.close();
  await sql?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

function manager(windows: MaintenanceWindowConfig[], clock: { now: number }, events: RecordEvent[], openIncidents = new Set<string>()) {
  const m = new Maintenance({
    log: silentLogger, sql, tickMs: 0, now: () => clock.now,
    addEvent: (e) => events.push(e), checks: () => CHECKS, openIncidentKeys: () => openIncidents,
  });
  m.configure({ windows, alertmanagerUrl: am.url, alertmanagerTimeout: 5000, retention: 86_400_000 });
  return m;
}

const client = () => new AlertmanagerClient(am.url, 5000);
const ours = async (windowId: string): Promise<Silence[]> => (await client().silences()).filter((s) => s.createdBy.includes(windowId));

const alertOf = (labels: Record<string, string>, startsAt: number, endsAt: number) => ({ labels, annotations: { summary: 'test' }, startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() });

const statusOf = (r: SinkRequest, alertname: string) => (r.body?.alerts as Array<{ labels: Record<string, string>; status: string }> | undefined)?.find((a) => a.labels.alertname === alertname)?.status;

describe('maintenance window silences (real Alertmanager, clock driven by the test)', () => {
  it('creates the silence when the window begins and expires it when it ends, with matchers on the scope', async () => {
    // A window in the real future (Alertmanager keeps a future silence "pending"); the clock jumps to its edges.
    const start = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000;
    const end = start + 30 * 60_000;
    const windows: MaintenanceWindowConfig[] = [{ name: 'db-upgrade', title: 'PostgreSQL upgrade', start, end, timezone: 'UTC', scope: { components: ['db'], checks: ['web'], labels: {} } }];
    const clock = { now: start - 60_000 };
    const events: RecordEvent[] = [];
    const m = manager(windows, clock, events);
    await m.start();
    await m.tick();
    expect(await ours('db-upgrade')).toEqual([]);
    expect(m.active()).toEqual([]);
    expect(m.upcoming()[0]).toMatchObject({ start, end });

    clock.now = start;
    await m.tick();
    const held = await ours('db-upgrade');
    expect(held).toHaveLength(2);
    const matchers = held.map((s) => s.matchers.map((x) => `${x.name}${x.isRegex ? '=~' : '='}${x.value}`).join(',')).sort();
    expect(matchers).toEqual(['check=~web', 'component=~db']);
    for (const s of held) {
      expect(Date.parse(s.startsAt)).toBe(start);
      expect(Date.parse(s.endsAt)).toBe(end);
      expect(s.status.state).toBe('pending');
    }
    expect(m.active().map((w) => [w.window.id, w.checks])).toEqual([['db-upgrade', ['db-ping', 'db-disk', 'web']]]);
    expect(events.map((e) => [e.kind, e.reason])).toEqual([['maintenance', 'started']]);

    clock.now = end - 1;
    await m.tick();
    expect((await ours('db-upgrade')).map((s) => s.status.state)).toEqual(['pending', 'pending']);

    clock.now = end;
    await m.tick();
    const after = await ours('db-upgrade');
    expect(after.map((s) => s.status.state)).toEqual(['expired', 'expired']);
    expect(events.map((e) => [e.kind, e.reason])).toEqual([['maintenance', 'started'], ['maintenance', 'ended']]);
    expect(m.active()).toEqual([]);
    await m.stop();
  }, 30_000);

  it('a recurring window follows its cron schedule in its time zone (DST day included)', async () => {
    // 2026-03-29 is the spring-forward day in Berlin: 03:00 local is 01:00 UTC.
    const windows: MaintenanceWindowConfig[] = [{ name: 'nightly', schedule: '0 3 * * *', duration: 30 * 60_000, timezone: 'Europe/Berlin', scope: { components: [], checks: [], labels: { team: 'data' } } }];
    const clock = { now: Date.parse('2026-03-29T00:59:59Z') };
    const m = new Maintenance({ log: silentLogger, sql, tickMs: 0, now: () => clock.now, addEvent: () => {}, checks: () => CHECKS, openIncidentKeys: () => new Set() });
    m.configure({ windows, alertmanagerTimeout: 1000, retention: 86_400_000 });
    expect(m.active()).toEqual([]);
    clock.now = Date.parse('2026-03-29T01:00:00Z');
    expect(m.active().map((w) => [w.start, w.end, w.checks])).toEqual([[clock.now, clock.now + 30 * 60_000, ['db-ping']]]);
    clock.now = Date.parse('2026-03-29T01:30:00Z');
    expect(m.active()).toEqual([]);
    // The day before (winter time) 03:00 Berlin was 02:00 UTC.
    expect(m.excluded(CHECKS[0], Date.parse('2026-03-28T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z')))
      .toEqual([[Date.parse('2026-03-28T02:00:00Z'), Date.parse('2026-03-28T02:30:00Z')], [Date.parse('2026-03-29T01:00:00Z'), Date.parse('2026-03-29T01:30:00Z')]]);
    expect(m.excluded(CHECKS[2], Date.parse('2026-03-28T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z'))).toEqual([]);
  });

  it('sends the resolve the silence swallowed when the window ends (TOOLING §9)', async () => {
    const labels = { alertname: 'VigilCheckCritical', check: 'db-ping', component: 'db', severity: 'critical' };
    const fired = Date.now() - 1000;
    await client().postAlerts([alertOf(labels, fired, Date.now() + 3_600_000)]);
    await sink.waitFor((r) => r.path === '/hook' && statusOf(r, 'VigilCheckCritical') === 'firing', 15_000, 'the firing notification');

    const clock = { now: Date.now() };
    const events: RecordEvent[] = [];
    const windows: MaintenanceWindowConfig[] = [{ name: 'db-work', start: clock.now - 1000, end: clock.now + 3_600_000, timezone: 'UTC', scope: { components: ['db'], checks: [], labels: {} } }];
    const m = manager(windows, clock, events);
    await m.start();
    await m.tick();
    await waitFor(async () => (await am.alerts()).some((a) => a.labels.check === 'db-ping' && a.status.state === 'suppressed'), 10_000);

    // The check recovers during the window: Prometheus sends the resolve, Alertmanager mutes it.
    const resolvedAt = Date.now();
    await client().postAlerts([alertOf(labels, fired, resolvedAt)]);
    await new Promise((r) => setTimeout(r, 3000)); // three group intervals
    expect(sink.on('/hook').filter((r) => statusOf(r, 'VigilCheckCritical') === 'resolved')).toEqual([]);

    // The window ends (here: the config's end moves to now, as a reload would do).
    clock.now = Date.now();
    m.configure({ windows: [{ ...windows[0], end: clock.now }], alertmanagerUrl: am.url, alertmanagerTimeout: 5000, retention: 86_400_000 });
    await m.tick();
    expect((await ours('db-work')).map((s) => s.status.state)).toEqual(['expired']);
    const got = await sink.waitFor((r) => r.path === '/hook' && statusOf(r, 'VigilCheckCritical') === 'resolved', 15_000, 'the resolve after the window');
    expect(got.body.status).toBe('resolved');
    const ended = events.find((e) => e.reason === 'ended');
    expect(ended?.data).toMatchObject({ resolves_sent: 1 });
    await m.stop();
  }, 60_000);
});

describe('restarts', () => {
  it('a restart during a window adopts its silence; a window that ended while Vigil was down is ended at the next start', async () => {
    const start = Math.ceil((Date.now() + 7_200_000) / 60_000) * 60_000;
    const end = start + 10 * 60_000;
    const windows: MaintenanceWindowConfig[] = [{ name: 'restart-test', start, end, timezone: 'UTC', scope: { components: [], checks: ['web'], labels: {} } }];
    const clock = { now: start };
    const first = manager(windows, clock, []);
    await first.start();
    await first.tick();
    expect((await ours('restart-test')).map((s) => s.status.state)).toEqual(['pending']);
    await first.stop();

    // Same window, still on: no second silence, no second start event.
    const events: RecordEvent[] = [];
    const second = manager(windows, clock, events);
    await second.start();
    await second.tick();
    expect((await ours('restart-test')).map((s) => s.status.state)).toEqual(['pending']);
    expect(events).toEqual([]);
    await second.stop();

    // Down past the end: the next start ends it (silence expired, event written).
    clock.now = end + 60_000;
    const third = manager(windows, clock, events);
    await third.start();
    await third.tick();
    expect((await ours('restart-test')).map((s) => s.status.state)).toEqual(['expired']);
    expect(events.map((e) => [e.kind, e.reason])).toEqual([['maintenance', 'ended']]);
    await third.stop();
  }, 30_000);
});

describe('acknowledgements (real Alertmanager)', () => {
  it('silences the next notification of the alert and ends, with its resolve delivered, when the alert resolves', async () => {
    const labels = { alertname: 'VigilAckTest', check: 'web', component: 'web', severity: 'critical', test: 'ack' };
    const fired = Date.now() - 1000;
    await client().postAlerts([alertOf(labels, fired, Date.now() + 3_600_000)]);
    // Re-sent every ~2 s while nothing silences it.
    await sink.waitFor((r) => r.path === '/ack-hook' && statusOf(r, 'VigilAckTest') === 'firing', 15_000, 'the first notification');
    const before = sink.on('/ack-hook').length;
    await waitFor(() => sink.on('/ack-hook').length > before, 15_000);

    const fingerprint = (await am.alerts()).find((a) => a.labels.alertname === 'VigilAckTest')!.fingerprint;
    const clock = { now: Date.now() };
    const events: RecordEvent[] = [];
    const m = manager([], clock, events);
    await m.start();
    const { ack, silenced } = await m.acknowledge({ target: { kind: 'alert', fingerprint, labels }, by: 'alice', comment: 'looking into it' });
    expect(silenced).toBe(true);
    expect(ack).toMatchObject({ by: 'alice', comment: 'looking into it', untilResolved: true });
    await waitFor(async () => (await am.alerts()).some((a) => a.fingerprint === fingerprint && a.status.silencedBy.length > 0), 10_000);
    const count = sink.on('/ack-hook').length;
    await new Promise((r) => setTimeout(r, 5000)); // two repeat intervals and more
    expect(sink.on('/ack-hook').length).toBe(count);

    // Still firing: the acknowledgement holds.
    clock.now = Date.now();
    await m.tick();
    expect(m.openAcks().map((a) => a.id)).toEqual([ack.id]);

    // The alert resolves (muted: Alertmanager would swallow this resolve).
    await client().postAlerts([alertOf(labels, fired, Date.now())]);
    await waitFor(async () => !(await am.alerts()).some((a) => a.fingerprint === fingerprint), 10_000);
    await new Promise((r) => setTimeout(r, 3000)); // group intervals pass: the muted resolve is dropped
    expect(sink.on('/ack-hook').filter((r) => statusOf(r, 'VigilAckTest') === 'resolved')).toEqual([]);
    clock.now = Date.now();
    await m.tick();
    expect(m.openAcks()).toEqual([]);
    expect(m.acknowledgements()[0]).toMatchObject({ id: ack.id, endReason: 'resolved' });
    expect((await client().silences()).filter((s) => s.comment.includes('alice')).map((s) => s.status.state)).toEqual(['expired']);
    await sink.waitFor((r) => r.path === '/ack-hook' && statusOf(r, 'VigilAckTest') === 'resolved', 15_000, 'the resolve after the acknowledgement');
    expect(events.map((e) => [e.kind, e.reason])).toEqual([['acknowledgement', 'created'], ['acknowledgement', 'resolved']]);
    expect(events[0]).toMatchObject({ check: 'web', component: 'web', actor: 'alice' });
    await m.stop();
  }, 60_000);

  it('an acknowledged incident silences its checks and ends when the record closes the incident', async () => {
    const open = new Set(['1700000000000:db-disk']);
    const clock = { now: Date.now() };
    const events: RecordEvent[] = [];
    const m = manager([], clock, events, open);
    await m.start();
    const { ack, silenced } = await m.acknowledge({ target: { kind: 'incident', id: 7, key: '1700000000000:db-disk', checks: ['db-disk'], title: 'db-disk critical' }, by: 'erin', duration: 3_600_000 });
    expect(silenced).toBe(true);
    expect(ack.untilResolved).toBe(false);
    const held = (await client().silences()).filter((s) => s.comment.includes('erin'));
    expect(held.map((s) => [s.status.state, s.matchers.map((x) => `${x.name}=~${x.value}`).join(',')])).toEqual([['active', 'check=~db-disk']]);
    // A duration-bound acknowledgement does not end with the incident, only at its expiry.
    open.clear();
    await m.tick();
    expect(m.openAcks().map((a) => a.id)).toEqual([ack.id]);
    clock.now = ack.expiresAt;
    await m.tick();
    expect(m.acknowledgements().find((a) => a.id === ack.id)).toMatchObject({ endReason: 'expired' });
    expect((await client().silences()).filter((s) => s.comment.includes('erin')).map((s) => s.status.state)).toEqual(['expired']);

    // Until resolved: ends when the incident leaves the open ones.
    open.add('1700000000001:db-disk');
    clock.now = Date.now();
    const second = await m.acknowledge({ target: { kind: 'incident', id: 8, key: '1700000000001:db-disk', checks: ['db-disk'], title: 'db-disk again' }, by: 'frank' });
    await m.tick();
    expect(m.openAcks().map((a) => a.id)).toEqual([second.ack.id]);
    open.clear();
    await m.tick();
    expect(m.acknowledgements().find((a) => a.id === second.ack.id)).toMatchObject({ endReason: 'resolved' });
    expect((await client().silences()).filter((s) => s.comment.includes('frank')).map((s) => s.status.state)).toEqual(['expired']);
    expect(events.map((e) => e.reason)).toEqual(['created', 'expired', 'created', 'resolved']);
    await m.stop();
  }, 30_000);
});
