// The results a flush takes, kept as columns until then. A result waits up to a second for its
// flush: held as an object, then a row array and a statement, each lived long enough to be
// promoted and then collected as old garbage, and each row array was cloned on its own to the
// SQLite worker. As columns, a result costs a few array slots; the flush hands the numbers over
// as typed arrays (one copy each) and the texts as two arrays, for one batched INSERT.
import type { SqlValue, Statement } from '../db/sql.js';

export class PendingResults {
  checks: string[] = [];
  private t: number[] = [];
  private status: number[] = [];
  private durationUs: number[] = [];
  private ok: number[] = [];
  private reason: Array<string | null> = [];
  private message: Array<string | null> = [];
  private maxGapMs: number[] = [];

  get length(): number {
    return this.checks.length;
  }

  push(check: string, t: number, status: number, durationSeconds: number, ok: boolean, reason: string | undefined, message: string | undefined, maxGapMs: number): void {
    this.checks.push(check);
    this.t.push(t);
    this.status.push(status);
    this.durationUs.push(Math.round(durationSeconds * 1e6));
    this.ok.push(ok ? 1 : 0);
    this.reason.push(reason ?? null);
    this.message.push(message ?? null);
    this.maxGapMs.push(maxGapMs);
  }

  /**
   * One INSERT of every result, with `sql`'s placeholders in RESULT_COLUMNS order (and the max gap
   * after them when `withMaxGap`): check id, time, status, duration (µs), ok, reason, message.
   * `sorted`: in key order (check id, then time), for a clustered table written straight through.
   */
  insert(sql: string, id: (check: string) => number, opts: { withMaxGap: boolean; sorted: boolean }): Statement {
    const n = this.length;
    const ids = new Float64Array(n);
    for (let i = 0; i < n; i++) ids[i] = id(this.checks[i]);
    let order: number[] | undefined;
    if (opts.sorted) {
      order = Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => ids[a] - ids[b] || this.t[a] - this.t[b]);
    }
    const numbers = (values: number[] | Float64Array) => (order ? Float64Array.from(order, (i) => values[i]) : Float64Array.from(values));
    const texts = (values: Array<string | null>) => (order ? order.map((i) => values[i]) : values);
    const columns: Array<ArrayLike<SqlValue>> = [order ? numbers(ids) : ids, numbers(this.t), numbers(this.status), numbers(this.durationUs), numbers(this.ok), texts(this.reason), texts(this.message)];
    if (opts.withMaxGap) columns.push(numbers(this.maxGapMs));
    return { sql, columns };
  }
}
