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

export function interval(seconds) {
  if (seconds < 60) return `every ${+seconds.toFixed(1)} s`;
  if (seconds < 3600) return `every ${+(seconds / 60).toFixed(1)} min`;
  return `every ${+(seconds / 3600).toFixed(1)} h`;
}

export function ago(t, now = Date.now()) {
  if (t === null || t === undefined) return '';
  const s = Math.max(0, Math.round((now - (typeof t === 'number' ? t : Date.parse(t))) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function span(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

const clockFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
export const clock = (t) => clockFmt.format(t);
export const dayClock = (t) => dayFmt.format(typeof t === 'number' ? t : Date.parse(t));
