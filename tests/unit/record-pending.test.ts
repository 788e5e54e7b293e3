// The results waiting for a flush, as columns (exporter/record/pending.ts): one INSERT statement
// of every result, its columns in the order of the SQL's placeholders, in key order when asked.
import { describe, expect, it } from 'vitest';
import { PendingResults } from '../../exporter/record/pending.js';

const ids: Record<string, number> = { api: 2, db: 1 };
const id = (check: string) => ids[check];

function pending(): PendingResults {
  const p = new PendingResults();
  p.push('api', 3_000, 0, 0.25, true, undefined, undefined, 30_000);
  p.push('db', 2_000, 3, 1.5e-6, false, 'timeout', "it's slow", 60_000);
  p.push('api', 1_000, 1, 0.0004567, true, undefined, 'ok', 30_000);
  return p;
}

describe('pending results as columns', () => {
  it('one statement: check id, time, status, duration in µs, ok, reason, message, and the max gap when staged', () => {
    const p = pending();
    expect(p.length).toBe(3);
    expect(p.checks).toEqual(['api', 'db', 'api']);
    const st = p.insert('INSERT …', id, { withMaxGap: true, sorted: false });
    expect(st.sql).toBe('INSERT …');
    expect(st.params).toBeUndefined();
    const columns = st.columns!.map((c) => Array.from(c));
    expect(columns).toEqual([
      [2, 1, 2], [3_000, 2_000, 1_000], [0, 3, 1], [250_000, 2, 457], [1, 0, 1],
      [null, 'timeout', null], [null, "it's slow", 'ok'], [30_000, 60_000, 30_000],
    ]);
    // The numbers cross to the worker as typed arrays of exactly their length (one copy each).
    for (const c of st.columns!.slice(0, 5)) expect(c).toBeInstanceOf(Float64Array);
  });

  it('in key order (check id, then time) for a table written straight through, without the max gap', () => {
    const st = pending().insert('INSERT …', id, { withMaxGap: false, sorted: true });
    expect(st.columns!.map((c) => Array.from(c))).toEqual([
      [1, 2, 2], [2_000, 1_000, 3_000], [3, 1, 0], [2, 457, 250_000], [0, 1, 1], ['timeout', null, null], ["it's slow", 'ok', null],
    ]);
  });

  it('keeps its columns from flush to flush: cleared, filled past their first size, the texts let go', () => {
    const p = pending();
    p.insert('INSERT …', id, { withMaxGap: true, sorted: false });
    p.clear();
    expect(p.length).toBe(0);
    expect(p.checks).toEqual([]);
    expect(p.insert('INSERT …', id, { withMaxGap: true, sorted: false }).columns!.map((c) => c.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const n = 1_000;
    for (let i = 0; i < n; i++) p.push(i % 2 ? 'api' : 'db', 10_000 + i, i % 4, i / 1e6, i % 3 !== 0, i % 3 ? undefined : 'timeout', i % 5 ? undefined : `m${i}`, 30_000);
    expect(p.length).toBe(n);
    const columns = p.insert('INSERT …', id, { withMaxGap: true, sorted: false }).columns!.map((c) => Array.from(c));
    expect(columns[1]).toEqual(Array.from({ length: n }, (_, i) => 10_000 + i));
    expect(columns[3]).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(columns[6]).toEqual(Array.from({ length: n }, (_, i) => (i % 5 ? null : `m${i}`)));
    // A statement made before a clear keeps its values.
    const kept = p.insert('INSERT …', id, { withMaxGap: false, sorted: false });
    p.clear();
    p.push('db', 1, 0, 0, true, undefined, 'after', 30_000);
    expect(Array.from(kept.columns![1])).toEqual(columns[1]);
    expect(Array.from(kept.columns![6])).toEqual(columns[6]);
    expect(p.insert('INSERT …', id, { withMaxGap: false, sorted: false }).columns!.map((c) => Array.from(c))).toEqual([[1], [1], [0], [0], [1], [null], ['after']]);
  });
});
