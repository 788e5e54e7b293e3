// Query parameters of the read routes, validated before any work is done: a bad value is a 400
// naming the parameter, what was expected and what came.
import type { Context } from 'koa';
import { HttpError } from './body.js';

const REL_RE = /^-?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

/**
 * A time query parameter: RFC 3339 / ISO 8601 ("2026-11-20T10:00:00Z"), Unix time as a number
 * (seconds, as Prometheus' API takes it; values above 1e11 are read as milliseconds), "now", or a
 * duration back from now ("24h", "-90m"). Returns epoch ms, or undefined when malformed.
 */
export function parseTimeParam(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === 'now') return now;
  const rel = REL_RE.exec(v);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n > 1e11 ? Math.round(n) : Math.round(n * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** The raw value of a query parameter (the first when repeated), trimmed: for cache keys, after validation. */
export function rawParam(ctx: Context, name: string): string {
  const v = ctx.query[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
}

/** A time parameter (see parseTimeParam), `fallback` when absent. */
export function timeParam(ctx: Context, name: string, now: number, fallback: number): number {
  const raw = ctx.query[name];
  if (raw === undefined) return fallback;
  const t = parseTimeParam(Array.isArray(raw) ? raw[0] : raw, now);
  if (t === undefined) throw new HttpError(400, `${name}: expected RFC 3339 time, Unix seconds, "now" or a duration such as 24h, got "${raw}"`);
  return t;
}

/** An integer parameter in [min, max], undefined when absent. */
export function intParam(ctx: Context, name: string, min: number, max: number): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** A parameter that must be one of `allowed`, `fallback` when absent. */
export function choiceParam<T extends string>(ctx: Context, name: string, allowed: readonly T[], fallback: T): T {
  const v = (ctx.query[name] ?? fallback) as string;
  if (!allowed.includes(v as T)) throw new HttpError(400, `${name}: expected ${allowed.join(' or ')}, got "${v}"`);
  return v as T;
}
