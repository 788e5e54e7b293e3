// The results a flush takes, kept as columns until then. A result waits up to a second for its
// flush: held as an object, then a row array and a statement, each lived long enough to be
// promoted and then collected as old garbage, and each row array was cloned on its own to the
// SQLite worker. As columns, a result costs a few array slots; the flush hands the numbers over
// as typed arrays (one copy each) and the texts as two arrays, for one batched INSERT.
import type { SqlValue, Statement } from '../db/sql.js';

/** Room for this many results before the columns first grow (they double, and stay grown). */
const INITIAL = 256;

export class PendingResults {
  // Columns with room to spare, reused flush after flush (clear()): arrays pushed to anew each
  // second grew their stores again, the last of which lived the second and reached old space.
  private names: string[] = [];
  private t = new Float64Array(INITIAL);
  private status = new Float64Array(INITIAL);
  private durationUs = new Float64Array(INITIAL);
  private ok = new Float64Array(INITIAL);
  private maxGapMs = new Float64Array(INITIAL);
  private reason: Array<string | null> = [];
  private message: Array<string | null> = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** The checks of the results, in the order they came. */
  get checks(): string[] {
    return this.names.slice(0, this.n);
  }

  push(check: string, t: number, status: number, durationSeconds: number, ok: boolean, reason: string | undefined, message: string | undefined, maxGapMs: number): void {
    const i = this.n++;
    if (i === this.t.length) this.grow();
    this.names[i] = check;
    this.t[i] = t;
    this.status[i] = status;
    this.durationUs[i] = Math.round(durationSeconds * 1e6);
    this.ok[i] = ok ? 1 : 0;
    this.reason[i] = reason ?? null;
    this.message[i] = message ?? null;
    this.maxGapMs[i] = maxGapMs;
  }

  /** Empty again, keeping the room (the texts let go). */
  clear(): void {
    this.reason.fill(null, 0, this.n);
    this.message.fill(null, 0, this.n);
    this.n = 0;
  }

  private grow(): void {
    const twice = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.t = twice(this.t);
    this.status = twice(this.status);
    this.durationUs = twice(this.durationUs);
    this.ok = twice(this.ok);
    this.maxGapMs = twice(this.maxGapMs);
  }

  /**
   * One INSERT of every result, with `sql`'s placeholders in RESULT_COLUMNS order (and the max gap
   * after them when `withMaxGap`): check id, time, status, duration (µs), ok, reason, message.
   * `sorted`: in key order (check id, then time), for a clustered table written straight through.
   * The statement holds copies: the columns may be cleared once it is made.
   */
  insert(sql: string, id: (check: string) => number, opts: { withMaxGap: boolean; sorted: boolean }): Statement {
    const n = this.n;
    const ids = new Float64Array(n);
    for (let i = 0; i < n; i++) ids[i] = id(this.names[i]);
    let order: number[] | undefined;
    if (opts.sorted) {
      order = Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => ids[a] - ids[b] || this.t[a] - this.t[b]);
    }
    const numbers = (values: Float64Array) => (order ? Float64Array.from(order, (i) => values[i]) : values.slice(0, n));
    const texts = (values: Array<string | null>) => (order ? order.map((i) => values[i]) : values.slice(0, n));
    const columns: Array<ArrayLike<SqlValue>> = [order ? numbers(ids) : ids, numbers(this.t), numbers(this.status), numbers(this.durationUs), numbers(this.ok), texts(this.reason), texts(this.message)];
    if (opts.withMaxGap) columns.push(numbers(this.maxGapMs));
    return { sql, columns };
  }
}
