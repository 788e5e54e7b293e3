// SVG badges for READMEs and wikis (shields.io's flat style): a grey label and a coloured
// message, text in the SVG's <title> too for screen readers. Pure: text in, SVG text out.
import type { Status } from '../model/status.js';
import { humanDuration } from './summary.js';

const COLOR: Record<Status, string> = { healthy: '#1f8a3e', degraded: '#9a6700', critical: '#cf222e', unknown: '#6e7781' };
const LABEL_COLOR = '#555';

const escapeXml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Verdana 11 px, the shields font: average advance widths, wide enough for digits and lower case.
function textWidth(t: string): number {
  let w = 0;
  for (const ch of t) w += /[mwMW@%]/.test(ch) ? 10 : /[A-Z0-9#]/.test(ch) ? 7.5 : /[il.,:;|' ]/.test(ch) ? 3.5 : 6.5;
  return Math.ceil(w);
}

export interface Badge {
  label: string;
  message: string;
  status: Status;
}

export function badgeSvg({ label, message, status }: Badge): string {
  const lw = textWidth(label) + 12;
  const mw = textWidth(message) + 12;
  const w = lw + mw;
  const l = escapeXml(label);
  const m = escapeXml(message);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${m}">`
    + `<title>${l}: ${m}</title>`
    + `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`
    + `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>`
    + `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="${LABEL_COLOR}"/><rect x="${lw}" width="${mw}" height="20" fill="${COLOR[status]}"/><rect width="${w}" height="20" fill="url(#s)"/></g>`
    + `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`
    + `<text x="${lw / 2}" y="14">${l}</text><text x="${lw + mw / 2}" y="14">${m}</text></g></svg>`;
}

export const BADGE_WINDOWS: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000 };

/**
 * An uptime badge: the share of observed time up, and, when the data covers less than 90 % of
 * the window, how much data that is ("99.2 % · 4 min of data"): a ratio over four minutes is
 * not a 30-day figure.
 */
export function uptimeBadge(window: string, availability: number | null, observedSeconds: number, windowMs: number): Badge {
  if (availability === null) return { label: `uptime ${window}`, message: 'no data', status: 'unknown' };
  const p = availability * 100;
  const text = p === 100 ? '100 %' : p >= 99.99 ? '99.99 %' : `${p.toFixed(p >= 99 ? 2 : 1)} %`;
  const partial = observedSeconds * 1000 < windowMs * 0.9 ? ` · ${humanDuration(observedSeconds)} of data` : '';
  const status: Status = availability >= 0.999 ? 'healthy' : availability >= 0.99 ? 'degraded' : 'critical';
  return { label: `uptime ${window}`, message: text + partial, status };
}

/** Uptime over the window of one check or several together (a component): up time / observed time. */
export function uptimeOfRows(rows: Array<{ r: { observed_seconds: number; seconds_by_status: { healthy: number; degraded: number } } }>, window: string): Badge {
  let up = 0;
  let observed = 0;
  for (const { r } of rows) {
    observed += r.observed_seconds;
    up += r.seconds_by_status.healthy + r.seconds_by_status.degraded;
  }
  // The best-covered check's observed time: how much data is behind the figure.
  const covered = Math.max(0, ...rows.map(({ r }) => r.observed_seconds));
  return uptimeBadge(window, observed ? up / observed : null, covered, BADGE_WINDOWS[window]);
}

export function responseTimeBadge(msValue: number | null, status: Status): Badge {
  if (msValue === null) return { label: 'response time', message: 'no data', status: 'unknown' };
  const text = msValue < 1000 ? `${msValue < 10 ? msValue.toFixed(1) : Math.round(msValue)} ms` : `${(msValue / 1000).toFixed(2)} s`;
  return { label: 'response time', message: text, status };
}

export function statusBadge(label: string, status: Status): Badge {
  return { label, message: status, status };
}
