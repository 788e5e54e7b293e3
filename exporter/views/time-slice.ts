// Long reads (a status snapshot of 20 000 checks, a report, their JSON) are built in slices: the
// loop hands the event loop back every few milliseconds, so a scrape or a probe that arrives
// meanwhile waits for at most about one slice instead of the whole computation.
import { setImmediate as nextTurn } from 'node:timers/promises';

export class TimeSlice {
  private start = performance.now();

  /** @param ms how long one slice may run before yielding. Default 8 ms. */
  constructor(private readonly ms = 8) {}

  /** Yield to the event loop when the current slice is used up (cheap to call per item). */
  async pause(): Promise<void> {
    if (performance.now() - this.start < this.ms) return;
    await nextTurn();
    this.start = performance.now();
  }
}

/** `items.map(fn)`, yielding between items when the slice is used up. */
export async function mapSliced<T, R>(items: Iterable<T>, fn: (item: T) => R, slice: TimeSlice): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) {
    out.push(fn(item));
    await slice.pause();
  }
  return out;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** A list with more entries than this is serialised entry by entry, with pauses in between. */
const LONG = 32;
/** Our big documents hold their many items within this depth (`components.<c>.checks.<name>`). */
const MAX_DEPTH = 4;

const isContainer = (v: unknown): v is unknown[] | Record<string, unknown> => Array.isArray(v) || isPlain(v);

/**
 * Whether `v` is, or holds, a long list of objects: the lists of checks, components, incidents
 * that make a document big. A long list of numbers (a bar) is one item, written in one go.
 */
function walks(v: unknown, depth: number): boolean {
  if (depth >= MAX_DEPTH || !isContainer(v)) return false;
  const values = Array.isArray(v) ? v : Object.values(v);
  if (values.length > LONG) return typeof values[0] === 'object' && values[0] !== null;
  return values.some((x) => walks(x, depth + 1));
}

/** JSON.stringify, in slices. Same output for JSON data (walked containers must be plain: no toJSON). */
export async function stringifySliced(value: unknown, slice: TimeSlice): Promise<string> {
  const parts: string[] = [];
  await write(value, parts, slice, 0);
  return parts.join('');
}

const skipped = (x: unknown) => x === undefined || typeof x === 'function' || typeof x === 'symbol';

async function write(v: unknown, parts: string[], slice: TimeSlice, depth: number): Promise<void> {
  if (!walks(v, depth)) {
    parts.push(JSON.stringify(v) ?? 'null');
    return;
  }
  if (Array.isArray(v)) {
    parts.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) parts.push(',');
      if (skipped(v[i])) parts.push('null');
      else await write(v[i], parts, slice, depth + 1);
      await slice.pause();
    }
    parts.push(']');
    return;
  }
  const o = v as Record<string, unknown>;
  parts.push('{');
  let first = true;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (skipped(x)) continue;
    parts.push(first ? '' : ',', JSON.stringify(k), ':');
    first = false;
    await write(x, parts, slice, depth + 1);
    await slice.pause();
  }
  parts.push('}');
}
