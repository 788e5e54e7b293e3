// Maintenance windows and acknowledgements, wired together: which windows are on (vigil.yml's
// and the API's), the Alertmanager silences they hold, the events they leave in the record, the
// vigil_maintenance_active gauge the shipped rules read, and the time availability leaves out.
//
// A tick (every few seconds, and at once after every API change) compares what is on with what
// was on: a window that began gets its event and its silences, one that ended (or was ended
// early) gets its event, its silences expired and the resolves they swallowed sent
// (silencer.ts). Acknowledgements end when their alert or incident resolves, or at their expiry.
// The clock is handed in, so tests drive all of it without waiting.
import { randomBytes } from 'node:crypto';
import client from 'prom-client';
import { anyOf, AlertmanagerClient, type Matcher } from '../alerts/silences.js';
import type { MaintenanceScope, MaintenanceWindowConfig } from '../config/maintenance.js';
import type { RecordSql } from '../db/sql.js';
import type { Logger } from '../log.js';
import type { RecordEvent } from '../record/events.js';
import { activeAt, fromConfig, inScope, mergeIntervals, nextAfter, occurrencesBetween, type MaintenanceWindow, type Occurrence, type ScopedCheck } from './schedule.js';
import { beginSilence, endSilence, moveSilenceEnd } from './silencer.js';
import { dropLedger, loadAcks, loadLedger, loadWindows, pruneEnded, saveAck, saveLedger, saveWindow, type Acknowledgement, type AckTarget, type ApiWindow, type LedgerEntry } from './store.js';

export const MAINTENANCE_ACTIVE_METRIC = 'vigil_maintenance_active';
export const ACKNOWLEDGED_METRIC = 'vigil_acknowledged';
/** Longest acknowledgement (and the silence of one "until resolved"). */
export const MAX_ACK_MS = 7 * 86_400_000;
/** API windows and acknowledgements open at once at most. */
export const MAX_OPEN = 500;

export interface MaintenanceSettings {
  windows: readonly MaintenanceWindowConfig[];
  alertmanagerUrl?: string;
  alertmanagerTimeout: number;
  /** history.retention: how long ended API windows are kept for the reports. */
  retention: number;
}

export interface MaintenanceOptions {
  log: Logger;
  sql: RecordSql;
  registry?: client.Registry;
  addEvent(e: RecordEvent): void;
  /** The configured checks, with their component and labels. */
  checks(): ScopedCheck[];
  /** Keys of the record's open incidents (an acknowledged incident ends when its key leaves). */
  openIncidentKeys(): Set<string>;
  now?: () => number;
  /** Tick period; 0: no timer (tests call tick()). */
  tickMs?: number;
}

/** An occurrence on now, with the checks it covers. */
export interface ActiveWindow extends Occurrence {
  checks: string[];
  components: string[];
}

export class MaintenanceError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const LEDGER_MAINT = 'maint:';
const LEDGER_ACK = 'ack:';

export class Maintenance {
  private settings: MaintenanceSettings = { windows: [], alertmanagerTimeout: 5000, retention: 90 * 86_400_000 };
  private configWindows: MaintenanceWindow[] = [];
  private apiWindows = new Map<string, ApiWindow>();
  private ackList = new Map<string, Acknowledgement>();
  /** Silences held, by ledger key. */
  private ledger = new Map<string, LedgerEntry>();
  /** Occurrences on at the last tick, by key (their start event was written). */
  private on = new Map<string, Occurrence>();
  private am?: AlertmanagerClient;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private again = false;
  private loaded = false;
  private readonly now: () => number;
  /** Bumped by every change of the windows (config, API): active()'s cache is then stale. */
  private generation = 0;
  private activeCache?: { second: number; generation: number; list: ActiveWindow[] };
  private plannedCache?: { key: string; of: ((c: ScopedCheck) => Array<[number, number]>) | undefined };
  /** Last Alertmanager problem logged (each distinct one once, until it clears). */
  private lastProblem?: string;

  constructor(private readonly opts: MaintenanceOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.registry) this.registerMetrics(opts.registry);
  }

  configure(s: MaintenanceSettings): void {
    this.settings = s;
    this.configWindows = s.windows.map(fromConfig);
    this.generation++;
    const url = s.alertmanagerUrl;
    this.am = url ? new AlertmanagerClient(url, s.alertmanagerTimeout) : undefined;
  }

  /**
   * Tick now and every tickMs. The first tick reads the API windows, acknowledgements and held
   * silences from the database (and retries each tick until that works): start never waits on
   * the database or on Alertmanager.
   */
  async start(): Promise<void> {
    void this.tick();
    if (this.opts.tickMs !== 0) {
      this.timer = setInterval(() => { void this.tick(); }, this.opts.tickMs ?? 5000);
      this.timer.unref();
    }
  }

  /** What the database holds; false when it cannot be read now (tried again at the next tick). */
  private async load(): Promise<boolean> {
    if (this.loaded) return true;
    try {
      const [windows, acks, ledger] = await Promise.all([loadWindows(this.opts.sql), loadAcks(this.opts.sql), loadLedger(this.opts.sql)]);
      for (const w of windows) this.apiWindows.set(w.id, w);
      this.generation++;
      for (const a of acks) this.ackList.set(a.id, a);
      for (const e of ledger) this.ledger.set(e.key, e);
      // Occurrences whose silences are held were on when Vigil stopped: no second start event.
      const now = this.now();
      for (const occ of this.activeOccurrences(now)) if (this.ledger.has(LEDGER_MAINT + occ.key)) this.on.set(occ.key, occ);
      for (const key of this.ledger.keys()) {
        if (!key.startsWith(LEDGER_MAINT)) continue;
        const occKey = key.slice(LEDGER_MAINT.length);
        // Ended while Vigil was down: the tick ends it (expire, resolves, event).
        if (!this.on.has(occKey)) this.on.set(occKey, this.ghost(occKey));
      }
      this.loaded = true;
    } catch (err) {
      this.problem('cannot read windows and acknowledgements from the database', err);
    }
    return this.loaded;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** An occurrence known by its key (from the silence ledger), with its window when that is still configured. */
  private ghost(key: string): Occurrence {
    const at = key.lastIndexOf('@');
    const id = key.slice(0, at);
    const start = Number(key.slice(at + 1));
    const known = this.windows().find((x) => x.id === id);
    const w: MaintenanceWindow = known ?? { id, title: id, source: 'config', scope: { components: [], checks: [], labels: {} }, start, end: start };
    const end = known?.duration !== undefined ? start + known.duration : known?.end ?? start;
    return { window: w, start, end, key };
  }

  // ---- reads ---------------------------------------------------------------------------------

  windows(): MaintenanceWindow[] {
    return [...this.configWindows, ...this.apiWindows.values()];
  }

  /** Occurrences on at `now`. */
  activeOccurrences(now = this.now()): Occurrence[] {
    const out: Occurrence[] = [];
    for (const w of this.windows()) {
      try {
        const o = activeAt(w, now);
        if (o) out.push(o);
      } catch { /* a schedule that fails to evaluate is no window */ }
    }
    return out;
  }

  private scopeOf(scope: MaintenanceScope): { checks: string[]; components: string[] } {
    const checks = this.opts.checks().filter((c) => inScope(scope, c));
    return { checks: checks.map((c) => c.name), components: [...new Set(checks.map((c) => c.component).concat(scope.components))] };
  }

  /**
   * What is in maintenance now: each occurrence with its checks and components. Kept for the
   * rest of the second (scrapes, /health and the page ask often; a cron evaluation per window
   * each time would cost a scrape milliseconds with many windows); any change starts over.
   */
  active(now = this.now()): ActiveWindow[] {
    const second = Math.floor(now / 1000);
    if (this.activeCache?.second === second && this.activeCache.generation === this.generation) return this.activeCache.list;
    const list = this.activeOccurrences(now).map((o) => ({ ...o, ...this.scopeOf(o.window.scope) }));
    this.activeCache = { second, generation: this.generation, list };
    return list;
  }

  /** Occurrences overlapping [from, to) with the checks they cover (the page marks them on the bars), at most `max`. */
  between(from: number, to: number, max = 200): ActiveWindow[] {
    const out: ActiveWindow[] = [];
    for (const w of this.windows()) {
      try {
        for (const o of occurrencesBetween(w, from, to)) out.push({ ...o, ...this.scopeOf(w.scope) });
      } catch { /* see activeOccurrences */ }
      if (out.length >= max) break;
    }
    return out.slice(0, max).sort((a, b) => a.start - b.start);
  }

  /** Occurrences starting within `horizon` after now, soonest first. */
  upcoming(horizon = 7 * 86_400_000, now = this.now()): Occurrence[] {
    const out: Occurrence[] = [];
    for (const w of this.windows()) {
      try {
        const o = nextAfter(w, now);
        if (o && o.start <= now + horizon) out.push(o);
      } catch { /* see activeOccurrences */ }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** The time check `c` spent in maintenance within [from, to), merged. */
  excluded(c: ScopedCheck, from: number, to: number): Array<[number, number]> {
    return this.plannedTime(from, to)?.(c) ?? [];
  }

  /**
   * excluded() for many checks over one range: each window's occurrences are worked out once
   * (a cron evaluation per check would cost a status snapshot of 10 000 checks seconds).
   * Undefined when no window touches the range, so callers skip the work.
   */
  plannedTime(from: number, to: number): ((c: ScopedCheck) => Array<[number, number]>) | undefined {
    // The live feed asks four times a second for the same bar: the answer holds until the range
    // or the windows change.
    const key = `${from} ${to} ${this.generation}`;
    if (this.plannedCache?.key !== key) this.plannedCache = { key, of: this.computePlanned(from, to) };
    return this.plannedCache.of;
  }

  private computePlanned(from: number, to: number): ((c: ScopedCheck) => Array<[number, number]>) | undefined {
    const touching: Array<{ scope: MaintenanceScope; spans: Array<[number, number]> }> = [];
    for (const w of this.windows()) {
      try {
        const spans = occurrencesBetween(w, from, to).map((o): [number, number] => [Math.max(o.start, from), Math.min(o.end, to)]);
        if (spans.length) touching.push({ scope: w.scope, spans });
      } catch { /* see activeOccurrences */ }
    }
    if (!touching.length) return undefined;
    return (c) => mergeIntervals(touching.filter((t) => inScope(t.scope, c)).flatMap((t) => t.spans));
  }

  /** plannedTime() for the status page's bars, which hold checks by their config. */
  plannedBars(from: number, to: number): ((s: { config: ScopedCheck }) => Array<[number, number]>) | undefined {
    const of = this.plannedTime(from, to);
    return of && ((s) => of(s.config));
  }

  acknowledgements(): Acknowledgement[] {
    return [...this.ackList.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Open acknowledgements, for the page and /health. */
  openAcks(): Acknowledgement[] {
    return this.acknowledgements().filter((a) => a.endedAt === undefined);
  }

  private registerMetrics(registry: client.Registry): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new client.Gauge({
      name: MAINTENANCE_ACTIVE_METRIC,
      help: 'Whether a check is in a maintenance window now (1); the series exists only while the window is on. The shipped rules keep the check quiet while it is.',
      labelNames: ['window', 'check', 'component'],
      registers: [registry],
      collect() {
        this.reset();
        const active = self.active();
        // Most scrapes find no window on: the map of every check (a pass over 1 000s) waits for one.
        if (!active.length) return;
        const byName = new Map(self.opts.checks().map((c) => [c.name, c]));
        for (const w of active) {
          for (const name of w.checks) this.set({ window: w.window.id, check: name, component: byName.get(name)?.component ?? '' }, 1);
        }
      },
    });
    new client.Gauge({
      name: ACKNOWLEDGED_METRIC,
      help: 'Open acknowledgements, by what they acknowledge (alert or incident).',
      labelNames: ['target'],
      registers: [registry],
      collect() {
        this.reset();
        const open = self.openAcks();
        this.set({ target: 'alert' }, open.filter((a) => a.target.kind === 'alert').length);
        this.set({ target: 'incident' }, open.filter((a) => a.target.kind === 'incident').length);
      },
    });
  }

  // ---- the tick ------------------------------------------------------------------------------

  /** Bring events and silences in line with the clock. Ticks never overlap: one asked for meanwhile runs after. */
  tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    const run = async () => {
      do {
        this.again = false;
        try {
          await this.tickOnce();
        } catch (err) {
          this.opts.log.error('maintenance: tick failed', { error: err });
        }
      } while (this.again);
    };
    this.ticking = run().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    // Until the database has been read, nothing is started or ended (a held silence is not known yet).
    if (!(await this.load())) return;
    const now = this.now();
    const current = new Map(this.activeOccurrences(now).map((o) => [o.key, o]));
    for (const [key, o] of this.on) {
      if (current.has(key)) continue;
      if (!(await this.endOccurrence(o, now))) continue; // retried at the next tick
      this.on.delete(key);
    }
    for (const [key, o] of current) {
      const before = this.on.get(key);
      if (!before) {
        const { checks, components } = this.scopeOf(o.window.scope);
        this.event({ kind: 'maintenance', reason: 'started', t: now, component: components.length === 1 ? components[0] : undefined,
          message: `maintenance "${o.window.title}" started: ${checks.length} check(s) until ${new Date(o.end).toISOString()}`,
          data: { window: o.window.id, title: o.window.title, start: new Date(o.start).toISOString(), end: new Date(o.end).toISOString(), checks: checks.slice(0, 200), components: components.slice(0, 200) },
          actor: o.window.source === 'api' ? o.window.createdBy : 'vigil.yml' });
        this.on.set(key, o);
      } else {
        this.on.set(key, o);
      }
      await this.holdSilence(o, now);
    }
    await this.tickAcks(now);
    if (this.loaded && now % 3_600_000 < (this.opts.tickMs ?? 5000)) await pruneEnded(this.opts.sql, now, Math.max(this.settings.retention, 30 * 86_400_000)).catch(() => {});
  }

  private event(e: RecordEvent): void {
    try {
      this.opts.addEvent(e);
    } catch (err) {
      this.opts.log.warn('maintenance: event not recorded', { error: err });
    }
  }

  /** Matcher sets covering a scope: the named components, and the other checks in it by name. */
  private matcherSets(scope: MaintenanceScope): Matcher[][] {
    const sets: Matcher[][] = [];
    if (scope.components.length) sets.push([{ name: 'component', value: anyOf(scope.components), isRegex: true }]);
    const checks = this.opts.checks().filter((c) => inScope(scope, c) && !scope.components.includes(c.component)).map((c) => c.name);
    if (checks.length) sets.push([{ name: 'check', value: anyOf(checks), isRegex: true }]);
    return sets;
  }

  private problem(what: string, err: unknown): void {
    const text = `${what}: ${(err as Error).message}`;
    if (text !== this.lastProblem) this.opts.log.warn(`maintenance: ${text} (retried at the next tick)`);
    this.lastProblem = text;
  }

  /** Make sure the occurrence's silences exist and end when it ends. */
  private async holdSilence(o: Occurrence, now: number): Promise<void> {
    const am = this.am;
    if (!am) return;
    const key = LEDGER_MAINT + o.key;
    const held = this.ledger.get(key);
    const sets = this.matcherSets(o.window.scope);
    if (!sets.length) return;
    const spec = { startsAt: now, endsAt: o.end, createdBy: `vigil (maintenance ${o.window.id})`, comment: `Vigil maintenance window "${o.window.title}" (${o.window.id}) until ${new Date(o.end).toISOString()}` };
    try {
      let entry: LedgerEntry;
      if (!held) entry = await beginSilence(am, key, sets, spec);
      else if (held.endsAt !== o.end) entry = await moveSilenceEnd(am, held, sets, spec);
      else return;
      this.ledger.set(key, entry);
      await saveLedger(this.opts.sql, entry, now);
      this.lastProblem = undefined;
    } catch (err) {
      this.problem(`silence for window ${o.window.id} not in place`, err);
    }
  }

  /** The occurrence is over: event, silences expired, swallowed resolves sent. False: try again later. */
  private async endOccurrence(o: Occurrence, now: number): Promise<boolean> {
    const key = LEDGER_MAINT + o.key;
    const held = this.ledger.get(key);
    let resolves = 0;
    if (held && this.am) {
      try {
        resolves = await endSilence(this.am, held, now);
        this.lastProblem = undefined;
      } catch (err) {
        this.problem(`silence of window ${o.window.id} not ended`, err);
        return false;
      }
    }
    if (held) {
      this.ledger.delete(key);
      await dropLedger(this.opts.sql, key).catch((err) => this.opts.log.warn('maintenance: silence ledger not updated', { error: err }));
    }
    // The window as it is now (an occurrence keeps the window it began with).
    const w = (o.window.source === 'api' ? this.apiWindows.get(o.window.id) : undefined) ?? o.window;
    const early = w.source === 'api' && (w as ApiWindow).endedEarlyAt !== undefined;
    this.event({ kind: 'maintenance', reason: early ? 'ended_early' : 'ended', t: now,
      message: `maintenance "${o.window.title}" ended${resolves ? `; ${resolves} resolve(s) it had held back sent to Alertmanager` : ''}`,
      data: { window: o.window.id, title: o.window.title, start: new Date(o.start).toISOString(), end: new Date(Math.min(o.end, now)).toISOString(), resolves_sent: resolves },
      actor: early ? (w as ApiWindow).endedBy ?? w.createdBy : w.source === 'api' ? w.createdBy : 'vigil.yml' });
    return true;
  }

  // ---- API windows -----------------------------------------------------------------------------

  private checkScope(scope: MaintenanceScope): void {
    const checks = this.opts.checks();
    const names = new Set(checks.map((c) => c.name));
    const components = new Set(checks.map((c) => c.component));
    const unknownCheck = scope.checks.find((c) => !names.has(c));
    if (unknownCheck) throw new MaintenanceError(400, `scope.checks: unknown check "${unknownCheck}"`);
    const unknownComponent = scope.components.find((c) => !components.has(c));
    if (unknownComponent) throw new MaintenanceError(400, `scope.components: unknown component "${unknownComponent}"`);
  }

  private apiWindow(id: string): ApiWindow {
    const w = this.apiWindows.get(id);
    if (w) return w;
    if (this.configWindows.some((c) => c.id === id)) throw new MaintenanceError(409, `window "${id}" is defined in vigil.yml: change it there`);
    throw new MaintenanceError(404, `no maintenance window "${id}"`);
  }

  /** `by`: the name shown with the window; `actor`: who, for the record's event (the route and address too). */
  async createWindow(input: { title: string; start?: number; end: number; scope: MaintenanceScope; by: string; actor?: string; comment?: string }): Promise<ApiWindow> {
    const now = this.now();
    const start = input.start ?? now;
    if (input.end <= start) throw new MaintenanceError(400, 'end must be after start');
    if (input.end <= now) throw new MaintenanceError(400, 'end must be in the future');
    if (input.end - start > 7 * 86_400_000) throw new MaintenanceError(400, 'a window lasts at most 7d');
    if (start > now + 365 * 86_400_000) throw new MaintenanceError(400, 'start must be within a year');
    this.checkScope(input.scope);
    const open = [...this.apiWindows.values()].filter((w) => w.end > now).length;
    if (open >= MAX_OPEN) throw new MaintenanceError(429, `${MAX_OPEN} maintenance windows are open or planned already`);
    const w: ApiWindow = { id: `mw-${randomBytes(5).toString('hex')}`, title: input.title, source: 'api', scope: input.scope, start, end: input.end, createdBy: input.by, comment: input.comment, createdAt: now };
    await saveWindow(this.opts.sql, w);
    this.apiWindows.set(w.id, w);
    this.generation++;
    this.event({ kind: 'maintenance', reason: 'created', t: now, message: `maintenance "${w.title}" planned from ${new Date(start).toISOString()} to ${new Date(w.end).toISOString()}${w.comment ? `: ${w.comment}` : ''}`, data: { window: w.id, scope: w.scope }, actor: input.actor ?? w.createdBy });
    await this.tick();
    return w;
  }

  async extendWindow(id: string, end: number, by: string): Promise<ApiWindow> {
    const w = this.apiWindow(id);
    const now = this.now();
    if (w.end <= now) throw new MaintenanceError(409, `window "${id}" is over`);
    if (end <= now || end <= w.start) throw new MaintenanceError(400, 'the new end must be in the future and after the start');
    if (end - w.start > 7 * 86_400_000) throw new MaintenanceError(400, 'a window lasts at most 7d');
    const next: ApiWindow = { ...w, end };
    await saveWindow(this.opts.sql, next);
    this.apiWindows.set(id, next);
    this.generation++;
    this.event({ kind: 'maintenance', reason: 'extended', t: now, message: `maintenance "${w.title}" now ends at ${new Date(end).toISOString()} (was ${new Date(w.end).toISOString()})`, data: { window: id, from: new Date(w.end).toISOString(), to: new Date(end).toISOString() }, actor: by });
    await this.tick();
    return next;
  }

  async endWindow(id: string, by: string): Promise<ApiWindow> {
    const w = this.apiWindow(id);
    const now = this.now();
    if (w.end <= now) throw new MaintenanceError(409, `window "${id}" is over`);
    // Not started yet: it is cancelled (ends where it would have started).
    const end = Math.max(now, w.start);
    const next: ApiWindow = { ...w, end, endedEarlyAt: now, endedBy: by };
    await saveWindow(this.opts.sql, next);
    this.apiWindows.set(id, next);
    this.generation++;
    // A started one gets its ended_early event from the tick, with its silences' end.
    if (w.start > now) this.event({ kind: 'maintenance', reason: 'cancelled', t: now, message: `maintenance "${w.title}" cancelled before it began`, data: { window: id }, actor: by });
    await this.tick();
    return next;
  }

  // ---- acknowledgements ------------------------------------------------------------------------

  private ackMatchers(t: AckTarget): Matcher[][] {
    if (t.kind === 'alert') return [Object.entries(t.labels).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value, isRegex: false }))];
    return t.checks.length ? [[{ name: 'check', value: anyOf(t.checks), isRegex: true }]] : [];
  }

  async acknowledge(input: { target: AckTarget; by: string; actor?: string; comment?: string; duration?: number }): Promise<{ ack: Acknowledgement; silenced: boolean; note?: string }> {
    const now = this.now();
    if (this.openAcks().length >= MAX_OPEN) throw new MaintenanceError(429, `${MAX_OPEN} acknowledgements are open already`);
    const same = this.openAcks().find((a) => JSON.stringify(a.target) === JSON.stringify(input.target));
    if (same) throw new MaintenanceError(409, `already acknowledged by ${same.by} (${same.id})`);
    const ack: Acknowledgement = {
      id: `ack-${randomBytes(5).toString('hex')}`, target: input.target, by: input.by, comment: input.comment, createdAt: now,
      untilResolved: input.duration === undefined, expiresAt: now + Math.min(input.duration ?? MAX_ACK_MS, MAX_ACK_MS),
    };
    let silenced = false;
    let note: string | undefined;
    const sets = this.ackMatchers(ack.target);
    if (!this.am) note = 'server.alertmanager_url is not configured: the acknowledgement is recorded but nothing is silenced';
    else if (sets.length) {
      try {
        const entry = await beginSilence(this.am, LEDGER_ACK + ack.id, sets, { startsAt: now, endsAt: ack.expiresAt, createdBy: `${input.by} (vigil acknowledgement ${ack.id})`, comment: `Acknowledged in Vigil by ${input.by}${input.comment ? `: ${input.comment}` : ''}` });
        this.ledger.set(entry.key, entry);
        await saveLedger(this.opts.sql, entry, now);
        silenced = true;
      } catch (err) {
        throw new MaintenanceError(502, `not acknowledged: ${(err as Error).message}`);
      }
    }
    await saveAck(this.opts.sql, ack);
    this.ackList.set(ack.id, ack);
    const what = describeTarget(ack.target);
    this.event({ kind: 'acknowledgement', reason: 'created', t: now, ...targetSubject(ack.target),
      message: `${ack.by} acknowledged ${what}${ack.untilResolved ? ' until it resolves' : ` until ${new Date(ack.expiresAt).toISOString()}`}${ack.comment ? `: ${ack.comment}` : ''}`,
      data: { acknowledgement: ack.id, target: ack.target, silenced }, actor: input.actor ?? ack.by });
    return { ack, silenced, note };
  }

  async endAck(id: string, by: string): Promise<Acknowledgement> {
    const a = this.ackList.get(id);
    if (!a) throw new MaintenanceError(404, `no acknowledgement "${id}"`);
    if (a.endedAt !== undefined) throw new MaintenanceError(409, `acknowledgement "${id}" has ended (${a.endReason})`);
    if (!(await this.finishAck(a, this.now(), 'ended', by))) throw new MaintenanceError(502, 'Alertmanager did not take the end of the silence; try again');
    return this.ackList.get(id)!;
  }

  /** Whether what `a` acknowledges has resolved; undefined when that cannot be told now. */
  private async resolved(a: Acknowledgement): Promise<boolean | undefined> {
    if (a.target.kind === 'incident') return !this.opts.openIncidentKeys().has(a.target.key);
    if (!this.am) return undefined;
    const t = a.target;
    const name = t.labels.alertname;
    const listed = await this.am.alerts(name ? [{ name: 'alertname', value: name, isRegex: false }] : []);
    return !listed.some((x) => x.fingerprint === t.fingerprint);
  }

  private async tickAcks(now: number): Promise<void> {
    for (const a of this.openAcks()) {
      let reason: string | undefined;
      if (now >= a.expiresAt) reason = 'expired';
      else if (a.untilResolved) {
        try {
          if (await this.resolved(a)) reason = 'resolved';
        } catch (err) {
          this.problem(`cannot tell whether ${a.id} resolved`, err);
        }
      }
      if (reason) await this.finishAck(a, now, reason, 'vigil');
    }
  }

  private async finishAck(a: Acknowledgement, now: number, reason: string, by: string): Promise<boolean> {
    const key = LEDGER_ACK + a.id;
    const held = this.ledger.get(key);
    let resolves = 0;
    if (held && this.am) {
      try {
        resolves = await endSilence(this.am, held, now);
      } catch (err) {
        this.problem(`silence of ${a.id} not ended`, err);
        return false;
      }
    }
    if (held) {
      this.ledger.delete(key);
      await dropLedger(this.opts.sql, key).catch(() => {});
    }
    const done: Acknowledgement = { ...a, endedAt: now, endReason: reason };
    this.ackList.set(a.id, done);
    await saveAck(this.opts.sql, done).catch((err) => this.opts.log.warn('maintenance: acknowledgement end not saved', { error: err }));
    this.event({ kind: 'acknowledgement', reason, t: now, ...targetSubject(a.target),
      message: `acknowledgement of ${describeTarget(a.target)} by ${a.by} ended (${reason === 'ended' ? `by ${by}` : reason})${resolves ? `; ${resolves} resolve(s) it had held back sent to Alertmanager` : ''}`,
      data: { acknowledgement: a.id, resolves_sent: resolves }, actor: by });
    return true;
  }
}

function describeTarget(t: AckTarget): string {
  return t.kind === 'alert'
    ? `alert ${t.labels.alertname ?? t.fingerprint}${t.labels.check ? ` of ${t.labels.check}` : t.labels.component ? ` of ${t.labels.component}` : ''}`
    : `incident ${t.id} (${t.title})`;
}

function targetSubject(t: AckTarget): { check?: string; component?: string } {
  if (t.kind === 'alert') return { check: t.labels.check || undefined, component: t.labels.component || undefined };
  return t.checks.length === 1 ? { check: t.checks[0] } : {};
}
