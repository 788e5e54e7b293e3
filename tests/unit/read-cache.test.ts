// The read cache behind the expensive GETs (single-flight, TTL, bounded computations, stale on
// busy) and the sliced JSON writer (same bytes as JSON.stringify, yields while it works).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusyError, ReadCache, type Answer } from '../../exporter/server/read-cache.js';
import { stringifySliced, TimeSlice } from '../../exporter/views/time-slice.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: (a: Answer) => void;
  const promise = new Promise<Answer>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('ReadCache', () => {
  it('runs one computation for identical concurrent requests and serves it for the TTL', async () => {
    const cache = new ReadCache({ ttlMs: 200 });
    let computed = 0;
    const compute = async () => { computed++; await sleep(20); return { type: 'text/plain', body: `answer ${computed}` }; };
    const got = await Promise.all(Array.from({ length: 16 }, () => cache.get('k', compute)));
    expect(computed).toBe(1);
    expect(new Set(got.map((g) => g.entry.body.toString()))).toEqual(new Set(['answer 1']));
    expect((await cache.get('k', compute)).entry.body.toString()).toBe('answer 1');
    expect(cache.stats).toMatchObject({ computed: 1, shared: 15, hits: 1 });
    await sleep(250);
    expect((await cache.get('k', compute)).entry.body.toString()).toBe('answer 2');
  });

  it('runs at most maxConcurrent computations; a bounded queue waits, the rest get BusyError', async () => {
    const cache = new ReadCache({ maxConcurrent: 1, maxQueued: 1, maxWaitMs: 5000 });
    const first = deferred();
    let running = 0;
    let most = 0;
    const slow = (d: ReturnType<typeof deferred>) => async () => {
      running++;
      most = Math.max(most, running);
      try { return await d.promise; } finally { running--; }
    };
    const second = deferred();
    const a = cache.get('a', slow(first));
    const b = cache.get('b', slow(second)); // queued
    await expect(cache.get('c', async () => ({ type: 'x', body: 'c' }))).rejects.toBeInstanceOf(BusyError);
    first.resolve({ type: 'x', body: 'a' });
    second.resolve({ type: 'x', body: 'b' });
    expect((await a).entry.body.toString()).toBe('a');
    expect((await b).entry.body.toString()).toBe('b');
    expect(most).toBe(1);
    expect(cache.stats.rejected).toBe(1);
  });

  it('gives up waiting after maxWaitMs, and then serves a recent older answer instead of refusing', async () => {
    const cache = new ReadCache({ ttlMs: 10, staleMs: 10_000, maxConcurrent: 1, maxQueued: 4, maxWaitMs: 50 });
    await cache.get('k', () => ({ type: 'x', body: 'old' }));
    await sleep(20); // past the TTL
    const hog = deferred();
    const busy = cache.get('other', () => hog.promise);
    const stale = await cache.get('k', () => ({ type: 'x', body: 'new' }));
    expect(stale.entry.body.toString()).toBe('old');
    expect(cache.stats.stale).toBe(1);
    await expect(cache.get('never-seen', () => ({ type: 'x', body: 'n' }))).rejects.toBeInstanceOf(BusyError);
    hog.resolve({ type: 'x', body: 'other' });
    await busy;
  });

  it('does not keep an answer whose computation began before a clear()', async () => {
    const cache = new ReadCache({ ttlMs: 10_000 });
    const d = deferred();
    const before = cache.get('alerts firing', () => d.promise);
    await sleep(1);
    cache.clear('alerts');
    d.resolve({ type: 'x', body: 'before the webhook' });
    expect((await before).entry.body.toString()).toBe('before the webhook'); // its own caller still gets it
    expect((await cache.get('alerts firing', () => ({ type: 'x', body: 'after' }))).entry.body.toString()).toBe('after');
  });

  it('keeps a gzipped copy of large answers and stays within maxBytes', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, gzipAbove: 1000 });
    const big = (await cache.get('big', () => ({ type: 'x', body: 'a'.repeat(10_000) }))).entry;
    expect(big.gzip!.length).toBeLessThan(1000);
    for (let i = 0; i < 20; i++) await cache.get(`k${i}`, () => ({ type: 'x', body: Buffer.alloc(200_000, i) }));
    expect((cache as unknown as { bytes: number }).bytes).toBeLessThanOrEqual(1 << 20);
  });
});

describe('stringifySliced', () => {
  it('writes what JSON.stringify writes', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (v) => {
      expect(await stringifySliced(v, new TimeSlice(0))).toBe(JSON.stringify(v));
    }), { numRuns: 300 });
    const doc = { a: 1, skip: undefined, list: Array.from({ length: 100 }, (_, i) => ({ i, f: undefined, g: [i, undefined] })), deep: { x: { y: Array.from({ length: 50 }, (_, i) => ({ i })) } } };
    expect(await stringifySliced(doc, new TimeSlice(0))).toBe(JSON.stringify(doc));
  });

  it('hands the event loop back while it works through a big document', async () => {
    const doc = { checks: Array.from({ length: 20_000 }, (_, i) => ({ name: `c${i}`, bar: Array.from({ length: 48 }, () => i % 3), text: 'x'.repeat(50) })) };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const text = await stringifySliced(doc, new TimeSlice(1));
      expect(text.length).toBe(JSON.stringify(doc).length);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(2); // a timer ran in between: the loop was not held for the whole document
  });
});
