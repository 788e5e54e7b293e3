// Assertions on responses. A failed one says what was expected and what was seen,
// e.g. `status 500, expected 2xx` or `$.status = "degraded", expected "healthy"`.
import { z } from 'zod';
import { pattern, Pattern } from './pattern.js';

/** 200, "2xx", "200-299". */
export const statusPattern = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^([1-5]xx|\d{3}-\d{3}|\d{3})$/, 'expected a code (200), a class (2xx) or a range (200-299)'),
]);
export type StatusPattern = z.infer<typeof statusPattern>;

export function statusMatches(code: number, patterns: StatusPattern[]): boolean {
  return patterns.some((p) => {
    if (typeof p === 'number') return code === p;
    if (/^[1-5]xx$/.test(p)) return Math.floor(code / 100) === Number(p[0]);
    if (p.includes('-')) {
      const [lo, hi] = p.split('-').map(Number);
      return code >= lo && code <= hi;
    }
    return code === Number(p);
  });
}

export const jsonAssertion = z.strictObject({
  path: z.string().regex(/^\$/, 'a JSON path starts with $, e.g. $.status or $.items[0].id'),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  matches: pattern.optional(),
  exists: z.boolean().optional(),
});
export type JsonAssertion = z.infer<typeof jsonAssertion>;

/** A JSON assertion ready to run: its pattern compiled once, when the check is created. */
export type JsonCheck = Omit<JsonAssertion, 'matches'> & { matches?: Pattern };

export function compileJsonAssertion(a: JsonAssertion): JsonCheck {
  return { ...a, matches: a.matches === undefined ? undefined : Pattern.compile(a.matches) };
}

/** Resolve a simple JSON path: $.a.b[0]["c d"]. Returns {found:false} when any step is missing. */
export function jsonPath(doc: unknown, path: string): { found: boolean; value?: unknown } {
  const steps: Array<string | number> = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[["']([^"']*)["']\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return { found: false };
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]));
  }
  let cur: unknown = doc;
  for (const s of steps) {
    if (cur === null || typeof cur !== 'object' || !(s in (cur as object))) return { found: false };
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return { found: true, value: cur };
}

/** Returns a failure message, or undefined when the assertion holds. */
export function checkJson(doc: unknown, a: JsonCheck): string | undefined {
  const { found, value } = jsonPath(doc, a.path);
  const shown = found ? JSON.stringify(value)?.slice(0, 120) : 'missing';
  if (a.exists === false) return found ? `${a.path} = ${shown}, expected it to be absent` : undefined;
  if (!found) return `${a.path} is missing`;
  if (a.equals !== undefined && value !== a.equals) return `${a.path} = ${shown}, expected ${JSON.stringify(a.equals)}`;
  if (a.matches !== undefined && !a.matches.test(typeof value === 'string' ? value : JSON.stringify(value) ?? '')) {
    return `${a.path} = ${shown}, expected to match ${a.matches}`;
  }
  return undefined;
}
