// Events, incidents and their queries on a real SQLite file: the 0003 step keeps old events,
// events carry kind, values and actor; incidents are stored as events arrive and resumed after a
// restart; the query functions behind /api/v1/record/events and /api/v1/incidents (filters,
// cursor paging, FTS5 search that no input can break, CSV without formulas); the incident detail
// joins the notifications table; retention removes old incidents.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../exporter/log.js';
import { MIGRATIONS, RECORD_FILE } from '../../exporter/db/schema.js';
import type { RecordSql } from '../../exporter/db/sql.js';
import type { RecordEvent } from '../../exporter/record/events.js';
import { ftsQuery, incidentDetail, listIncidents, queryEvents, statusTransitions, type EventFilter } from '../../exporter/record/queries.js';
import { CheckRecord } from '../../exporter/record/record.js';
import { eventsCsv } from '../../exporter/views/incidents.js';
import { recordBackends, type RecordBackend } from '../support/record-backends.js';
import type { Status } from '../../exporter/model/status.js';

const H = 3_600_000;
const M = 60_000;
let dir: string;
let now: number;
let errors: string[];
let open: CheckRecord[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-incidents-'));
  now = Date.UTC(2026, 11, 1, 12, 0, 0);
  errors = [];
  open = [];
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

const COMPONENTS = [{ name: 'web', depends_on: ['db'] }, { name: 'db', depends_on: [] }, { name: 'billing', depends_on: [] }];

const backends = recordBackends();

function record(backend?: RecordBackend): CheckRecord {
  const r = new CheckRecord({ dir, connect: backend?.connect, log: silentLogger, report: { countWriteError: (s) => errors.push(s) }, now: () => now });
  r.configure({ rawMs: 48 * H, rollupMs: 96 * H });
  r.incidents.configure(COMPONENTS);
  open.push(r);
  return r;
}

const change = (t: number, check: string, component: string, from: Status, to: Status, message?: string): RecordEvent =>
  ({ t, kind: 'check_status', check, component, from, to, reason: to === 'healthy' ? undefined : 'connect', message, data: { samples: [{ key: 'rtt', value: 0.5 }], violations: [] } });

const recordOn = (b: RecordBackend) => record(b);
const read = <T>(r: CheckRecord, q: (sql: RecordSql) => Promise<T>) => r.read(q) as Promise<T>;
const events = (r: CheckRecord, f: Partial<EventFilter>) => read(r, (sql) => queryEvents(sql, { limit: 100, ...f }));

describe('the 0003 step', () => {
  it('the 0003 step keeps the events written before it (as check_status) and indexes them for search', async () => {
    mkdirSync(dir, { recursive: true });
    const old = new Database(path.join(dir, RECORD_FILE));
    old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.slice(0, 2)) {
      old.exec(m.sqlite);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.name, 0);
    }
    old.prepare('INSERT INTO checks (name) VALUES (?)').run('db');
    old.prepare('INSERT INTO events (t, check_id, component, from_status, to_status, reason, message) VALUES (?, 1, ?, ?, ?, ?, ?)').run(now - H, 'data', 'healthy', 'critical', 'connect', 'connect ECONNREFUSED 10.0.0.5:5432');
    old.close();
    const r = record();
    const got = await events(r, { text: 'econnrefused' });
    expect(got.events).toEqual([expect.objectContaining({ kind: 'check_status', check: 'db', component: 'data', from: 'healthy', to: 'critical', reason: 'connect', values: null })]);
    expect((await events(r, { text: 'data' })).events).toHaveLength(1); // the component name is searchable too
    expect(errors).toEqual([]);
  });
});

describe.each(backends.list)('events (%s)', (kind) => {
  const b = backends.get(kind);
  beforeEach(() => b.fresh(dir));
  const record = () => recordOn(b);

  it('writes every kind with its values and actor; filters by check, component, status, kind, time and text', async () => {
    const r = record();
    r.addEvent(change(now - 50 * M, 'db-tcp', 'db', 'unknown', 'healthy'));
    r.addEvent(change(now - 40 * M, 'db-tcp', 'db', 'healthy', 'critical', 'connect ECONNREFUSED 10.0.0.5:5432'));
    r.addEvent({ t: now - 40 * M, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical', message: 'check db-tcp is critical' });
    r.addEvent({ t: now - 30 * M, kind: 'reload', reason: 'ok', message: 'config reloaded: 3 checks', actor: 'POST /-/reload from 127.0.0.1', data: { checks: 3 } });
    r.addEvent({ t: now - 20 * M, kind: 'manual_run', check: 'db-tcp', component: 'db', to: 'critical', reason: 'connect', actor: 'POST /api/v1/checks/:name/run from 10.1.1.1' });
    r.addEvent(change(now - 10 * M, 'pay', 'billing', 'healthy', 'degraded', 'latency 2.5 s above 2 s'));
    await r.flush();
    const all = await events(r, {});
    expect(all.events.map((e) => e.kind)).toEqual(['check_status', 'manual_run', 'reload', 'component_status', 'check_status', 'check_status']); // newest first
    expect(all.events[4]).toMatchObject({ check: 'db-tcp', to: 'critical', values: { samples: [{ key: 'rtt', value: 0.5 }], violations: [] } });
    expect(all.events[2]).toMatchObject({ check: null, from: null, to: null, actor: 'POST /-/reload from 127.0.0.1', values: { checks: 3 } });
    expect((await events(r, { check: 'db-tcp' })).events.map((e) => e.kind)).toEqual(['manual_run', 'check_status', 'check_status']);
    expect((await events(r, { component: 'db' })).events).toHaveLength(4);
    expect((await events(r, { status: 'critical' })).events.map((e) => e.kind)).toEqual(['manual_run', 'component_status', 'check_status']);
    expect((await events(r, { kinds: ['reload', 'manual_run'] })).events.map((e) => e.kind)).toEqual(['manual_run', 'reload']);
    expect((await events(r, { from: now - 35 * M, to: now - 15 * M })).events.map((e) => e.kind)).toEqual(['manual_run', 'reload']);
    expect((await events(r, { text: 'ECONNREFUSED' })).events.map((e) => e.check)).toEqual(['db-tcp']);
    expect((await events(r, { text: 'latency above' })).events.map((e) => e.check)).toEqual(['pay']); // every word, any order
    expect((await events(r, { text: '10.1.1' })).events.map((e) => e.kind)).toEqual(['manual_run']); // the actor
    expect((await events(r, { text: 'relo' })).events.map((e) => e.kind)).toEqual(['reload']); // any part of a word
    expect((await events(r, { text: 'refused' })).events.map((e) => e.check)).toEqual(['db-tcp']); // inside ECONNREFUSED, any case
    expect((await events(r, { text: 'db' })).events.length).toBe(4); // short words by LIKE
    expect((await events(r, { text: 'x% pay' })).events).toEqual([]); // LIKE wildcards are literal
    expect((await events(r, { check: 'nope' })).events).toEqual([]);
  });

  it('search syntax typed into the search is searched for, never parsed (FTS5 on SQLite, ILIKE on PostgreSQL): no error for any input', async () => {
    const r = record();
    r.addEvent(change(now, 'db-tcp', 'db', 'healthy', 'critical', 'error: "quoted" NEAR(x y) a OR b col:val *'));
    await r.flush();
    expect(ftsQuery('abc "def" gh')).toEqual({ match: '"abc" "def"', short: ['gh'] });
    expect(ftsQuery('   ')).toEqual({ match: undefined, short: [] });
    for (const q of ['"', 'NEAR(x y)', 'a OR b', '*', 'col:val', 'message:error', '^a', '(', ')', 'AND', 'x -y', "'; DROP TABLE events; --", '\u0000', 'ü€😀']) {
      const got = await events(r, { text: q });
      expect(Array.isArray(got.events), q).toBe(true);
    }
    expect((await events(r, { text: 'NEAR(x' })).events).toHaveLength(1);
    expect((await events(r, { text: 'col:val' })).events).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('cursor paging: pages in order, none repeated, none missed; the last page has no cursor', async () => {
    const r = record();
    for (let i = 0; i < 25; i++) r.addEvent(change(now - (25 - i) * M, 'db-tcp', 'db', i % 2 ? 'critical' : 'healthy', i % 2 ? 'healthy' : 'critical'));
    await r.flush();
    const seen: number[] = [];
    let before: number | undefined;
    let pages = 0;
    do {
      const page = await events(r, { limit: 10, before });
      seen.push(...page.events.map((e) => e.id));
      before = page.next;
      pages++;
    } while (before !== undefined);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it('CSV neutralises formulas in messages and names', async () => {
    const r = record();
    r.addEvent(change(now, 'db-tcp', 'db', 'healthy', 'critical', '=HYPERLINK("http://evil","click")'));
    r.addEvent({ t: now, kind: 'reload', reason: 'failed', message: '+cmd|calc', actor: '@SUM(1)' });
    await r.flush();
    const csv = eventsCsv((await events(r, {})).events);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,time,kind,check,component,from,to,reason,message,actor,values');
    expect(lines).toHaveLength(3);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""click"")"`);
    expect(csv).toContain(`'+cmd|calc,'@SUM(1)`);
    for (const field of csv.split(/[,\r\n]+/)) expect(field).not.toMatch(/^[=+@]/);
  });
});

describe.each(backends.list)('incidents in the database (%s)', (kind) => {
  const b = backends.get(kind);
  beforeEach(() => b.fresh(dir));
  const record = () => recordOn(b);

  it('are stored as events arrive and resumed after a restart: the recovery ends the same incident', async () => {
    const first = record();
    first.addEvent(change(now - 10 * M, 'db-tcp', 'db', 'healthy', 'critical', 'refused'));
    first.addEvent(change(now - 9 * M, 'web-http', 'web', 'healthy', 'critical', '502'));
    await first.flush();
    let list = await read(first, (sql) => listIncidents(sql, { offset: 0, limit: 10 }));
    expect(list.total).toBe(1);
    expect(list.incidents[0]).toMatchObject({ endedAt: undefined, checks: ['db-tcp', 'web-http'], rootCause: ['db'], failing: ['db-tcp', 'web-http'] });
    const id = list.incidents[0].id;
    await first.stop();
    open.length = 0;

    now += 5 * M;
    const second = record();
    await second.restore(['db-tcp', 'web-http'], now - H, 100);
    expect(second.incidents.tracker.open.map((i) => i.key)).toEqual([list.incidents[0].key]);
    second.addEvent(change(now, 'db-tcp', 'db', 'critical', 'healthy'));
    await second.flush();
    list = await read(second, (sql) => listIncidents(sql, { offset: 0, limit: 10 }));
    expect(list.incidents[0]).toMatchObject({ id, endedAt: undefined, failing: ['web-http'] });
    second.addEvent(change(now + M, 'web-http', 'web', 'critical', 'healthy'));
    await second.flush();
    list = await read(second, (sql) => listIncidents(sql, { offset: 0, limit: 10 }));
    expect(list.total).toBe(1);
    expect(list.incidents[0]).toMatchObject({ id, startedAt: now - 15 * M, endedAt: now + M, failing: [], events: 4 });
  });

  it('a failed flush keeps the incident to write: it is stored once writes succeed', async () => {
    const r = record();
    expect(await r.open()).toBe(true);
    const real = (r as unknown as { sql: RecordSql }).sql;
    const failing: RecordSql = { dialect: real.dialect, all: (s, p) => real.all(s, p), transaction: async () => { throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }); }, close: async () => {} };
    (r as unknown as { sql: RecordSql }).sql = failing;
    r.addEvent(change(now, 'db-tcp', 'db', 'healthy', 'critical'));
    await r.flush();
    expect(errors).toEqual(['record']);
    expect(r.incidents.size).toBe(1);
    await r.flush(); // a fresh connection (the real file) this time
    expect(r.incidents.size).toBe(0);
    expect((await read(r, (sql) => listIncidents(sql, { offset: 0, limit: 10 }))).total).toBe(1);
    await real.close();
  });

  it('list filters: time range (overlap), check, component, open/closed; offset paging with the total', async () => {
    const r = record();
    // Three incidents: db 10:00-10:10, billing 10:30-10:40, db 11:00-open.
    const at = (h: number, m: number) => Date.UTC(2026, 11, 1, h, m);
    r.addEvent(change(at(10, 0), 'db-tcp', 'db', 'healthy', 'critical'));
    r.addEvent(change(at(10, 10), 'db-tcp', 'db', 'critical', 'healthy'));
    r.addEvent(change(at(10, 30), 'pay', 'billing', 'healthy', 'critical'));
    r.addEvent(change(at(10, 40), 'pay', 'billing', 'critical', 'healthy'));
    r.addEvent(change(at(11, 0), 'db-tcp', 'db', 'healthy', 'degraded'));
    await r.flush();
    const list = (f: Partial<Parameters<typeof listIncidents>[1]>) => read(r, (sql) => listIncidents(sql, { offset: 0, limit: 10, ...f }));
    const starts = async (f: Partial<Parameters<typeof listIncidents>[1]>) => (await list(f)).incidents.map((i) => new Date(i.startedAt).toISOString().slice(11, 16));
    expect(await starts({})).toEqual(['11:00', '10:30', '10:00']);
    expect(await starts({ check: 'db-tcp' })).toEqual(['11:00', '10:00']);
    expect(await starts({ component: 'billing' })).toEqual(['10:30']);
    expect(await starts({ state: 'open' })).toEqual(['11:00']);
    expect(await starts({ state: 'closed' })).toEqual(['10:30', '10:00']);
    expect(await starts({ from: at(10, 5), to: at(10, 35) })).toEqual(['10:30', '10:00']); // overlapping, not only starting inside
    expect(await starts({ from: at(10, 45) })).toEqual(['11:00']);
    const page = await list({ limit: 2, offset: 2 });
    expect(page.total).toBe(3);
    expect(page.incidents).toHaveLength(1);
  });

  it('the detail joins the notifications table: alerts of its checks and components that began while it lasted', async () => {
    const r = record();
    r.addEvent(change(now - 30 * M, 'db-tcp', 'db', 'healthy', 'critical'));
    r.addEvent({ t: now - 30 * M, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical' });
    r.addEvent({ t: now - 25 * M, kind: 'manual_run', check: 'db-tcp', component: 'db', to: 'critical', actor: 'POST /api/v1/checks/:name/run from 127.0.0.1' });
    r.addEvent(change(now - 10 * M, 'db-tcp', 'db', 'critical', 'healthy'));
    r.addEvent(change(now - 5 * M, 'other', 'billing', 'healthy', 'critical'));
    await r.flush();
    const note = (id: number, received: number, status: string, fingerprint: string, alertname: string, check: string | null, component: string | null, startsAt: number) =>
      ({ sql: `INSERT INTO notifications (id, batch, received_at, receiver, status, fingerprint, alertname, check_name, component, labels, annotations, starts_at, ends_at, generator_url, group_key, truncated_alerts, external_url)
        VALUES (?, 1, ?, 'vigil', ?, ?, ?, ?, ?, ?, '{}', ?, NULL, '', 'g', 0, '')`, params: [id, received, status, fingerprint, alertname, check, component, JSON.stringify({ alertname, check: check ?? '' }), startsAt] });
    await read(r, (sql) => sql.transaction([
      note(1, now - 27 * M, 'firing', 'f1', 'VigilCheckDown', 'db-tcp', 'db', now - 28 * M),
      note(2, now - 9 * M, 'resolved', 'f1', 'VigilCheckDown', 'db-tcp', 'db', now - 28 * M),
      note(3, now - 26 * M, 'firing', 'f2', 'VigilComponentDown', null, 'db', now - 33 * M), // up to 5 min before the start
      note(4, now - 4 * M, 'firing', 'f3', 'VigilCheckDown', 'other', 'billing', now - 5 * M), // another incident's
      note(5, now - 50 * M, 'firing', 'f4', 'VigilCheckDown', 'db-tcp', 'db', now - 50 * M), // long before
    ]));
    const { incidents } = await read(r, (sql) => listIncidents(sql, { offset: 0, limit: 10, check: 'db-tcp' }));
    const d = await read(r, (sql) => incidentDetail(sql, incidents[0].id, now));
    expect(d!.notifications.map((n) => n.id)).toEqual([1, 3, 2]); // in the order received
    expect(d!.alerts).toEqual(expect.arrayContaining([
      expect.objectContaining({ fingerprint: 'f1', alertname: 'VigilCheckDown', status: 'resolved', notifications: 2 }),
      expect.objectContaining({ fingerprint: 'f2', alertname: 'VigilComponentDown', status: 'firing', notifications: 1 }),
    ]));
    expect(d!.alerts).toHaveLength(2);
    expect(d!.events.map((e) => e.kind)).toEqual(['check_status', 'component_status', 'manual_run', 'check_status']);
    expect(await read(r, (sql) => incidentDetail(sql, 9999, now))).toBeUndefined();
  });

  it('status transitions for MTTR/MTBF come back per subject in time order', async () => {
    const r = record();
    r.addEvent(change(now - 3 * M, 'db-tcp', 'db', 'healthy', 'critical'));
    r.addEvent({ t: now - 3 * M, kind: 'component_status', component: 'db', from: 'healthy', to: 'critical' });
    r.addEvent(change(now - 1 * M, 'db-tcp', 'db', 'critical', 'healthy'));
    r.addEvent({ t: now - 2 * M, kind: 'reload', reason: 'ok' });
    await r.flush();
    const { bySubject, truncated } = await read(r, (sql) => statusTransitions(sql, now - H));
    expect(truncated).toBe(false);
    expect(bySubject.get('check:db-tcp')).toEqual([{ t: now - 3 * M, from: 'healthy', to: 'critical' }, { t: now - M, from: 'critical', to: 'healthy' }]);
    expect(bySubject.get('component:db')).toHaveLength(1);
    expect(bySubject.size).toBe(2);
  });

  it('retention removes incidents that ended before it, with their members, and old events from the search index', async () => {
    const r = record();
    r.addEvent(change(now - 100 * H, 'db-tcp', 'db', 'healthy', 'critical', 'ancient'));
    r.addEvent(change(now - 99 * H, 'db-tcp', 'db', 'critical', 'healthy'));
    r.addEvent(change(now - H, 'db-tcp', 'db', 'healthy', 'critical', 'recent'));
    await r.flush();
    expect((await read(r, (sql) => listIncidents(sql, { offset: 0, limit: 10 }))).total).toBe(2);
    await r.prune(100);
    const left = await read(r, (sql) => listIncidents(sql, { offset: 0, limit: 10, check: 'db-tcp' }));
    expect(left.incidents.map((i) => i.startedAt)).toEqual([now - H]);
    expect((await events(r, { text: 'ancient' })).events).toEqual([]);
    expect((await events(r, { text: 'recent' })).events).toHaveLength(1);
    const members = await read(r, (sql) => sql.all<{ n: number }>('SELECT count(*) AS n FROM incident_members'));
    expect(Number(members[0].n)).toBe(2); // the open incident's check and component
    if (kind === 'sqlite') {
      const fts = await read(r, (sql) => sql.all<{ n: number }>('SELECT count(*) AS n FROM events_fts'));
      expect(fts[0].n).toBe(1);
    }
  });
});
