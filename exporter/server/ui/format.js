// Formatting for people: response times, percentages, byte sizes, relative and clock times.
export const STATUS_LABEL = { healthy: 'Healthy', degraded: 'Degraded', critical: 'Critical', unknown: 'Unknown' };
/** The letters of a bar bucket (the server's views/bar.ts LETTER); '-' is no data. */
export const LETTER_STATUS = { h: 'healthy', d: 'degraded', c: 'critical', u: 'unknown' };

export function ms(v) {
  if (v === null || v === undefined) return '—';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

export function percent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined) return '—';
  const p = ratio * 100;
  if (p >= 99.995 && p < 100) return '99.99 %';
  return `${p === 100 ? '100' : p.toFixed(p >= 99.9 ? 2 : digits)} %`;
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${units[i]}`;
}

/**
 * A duration for people, in one style everywhere: "45 s", "1 min 45 s" (under 10 min), "12 min",
 * "2 h 5 min", "3 d 4 h". Sub-second values (thresholds of response times) in ms.
 */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds > 0 && seconds < 1) return ms(seconds * 1000);
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 && s < 600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 60)} min`;
  if (s < 86400) { const m = Math.floor((s % 3600) / 60); return m ? `${Math.floor(s / 3600)} h ${m} min` : `${Math.floor(s / 3600)} h`; }
  const h = Math.floor((s % 86400) / 3600);
  return h ? `${Math.floor(s / 86400)} d ${h} h` : `${Math.floor(s / 86400)} d`;
}
export const span = duration;

export function interval(seconds) {
  return `every ${duration(seconds)}`;
}

export function ago(t, now = Date.now()) {
  if (t === null || t === undefined) return '';
  const s = Math.round((now - toMs(t)) / 1000);
  if (s < 0) return `in ${duration(-s)}`;
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${duration(s - (s % 60))} ago`;
  return `${duration(s - (s % 3600))} ago`;
}

export const toMs = (t) => (typeof t === 'number' ? t : Date.parse(t));

/** "08:13, 3 min ago" (with the weekday when not today). */
export function when(t, now = Date.now()) {
  if (t === null || t === undefined) return '—';
  const v = toMs(t);
  const sameDay = new Date(v).toDateString() === new Date(now).toDateString();
  return `${sameDay ? clock(v) : dayClock(v)}, ${ago(v, now)}`;
}

/** A value in its metric's base unit (seconds, bytes, ratio) for people. */
export function value(v, unit) {
  if (unit === 's') return duration(v);
  if (unit === 'ratio') return percent(v);
  if (unit === 'bytes') return bytes(v);
  return String(+Number(v).toFixed(3));
}

/** A crossed threshold: "response_time 812 ms > warning 500 ms". */
export function violation(v) {
  const where = v.labels ? ` ${Object.values(v.labels).join(',')}` : '';
  return `${v.key.replaceAll('_', ' ')}${where} ${value(v.value, v.unit)} ${v.direction === 'below' ? '<' : '>'} ${v.severity} ${value(v.level, v.unit)}`;
}

const ISO_RE = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
/** RFC 3339 stamps inside a message (a heartbeat's "no success since …") as local time + relative. */
export function humanTimes(text, now = Date.now()) {
  return String(text).replace(ISO_RE, (m) => when(m, now));
}

// Each formatter is made on first use: four made when the module loads cost ~45 ms of a cold
// load (Chromium, 2-core box), before the page had drawn anything; most pages need one or two.
const formatter = (options) => {
  let made;
  return (t) => (made ??= new Intl.DateTimeFormat(undefined, options)).format(t);
};
const clockFmt = formatter({ hour: '2-digit', minute: '2-digit' });
const secFmt = formatter({ hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = formatter({ weekday: 'short', hour: '2-digit', minute: '2-digit' });
const dateFmt = formatter({ month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
export const clock = (t) => clockFmt(t);
export const clockSeconds = (t) => secFmt(t);
export const dateClock = (t) => dateFmt(toMs(t));
export const dayClock = (t) => dayFmt(toMs(t));
