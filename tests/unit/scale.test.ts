// The shard of a check (config/scale.ts): a fixed, documented hash of its name, so every
// instance of every version agrees on it without talking to the others; and the flags.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { fmix64, fnv1a64, jumpHash, parseScale, shardOf } from '../../exporter/config/scale.js';
import { otherShardsView } from '../../exporter/views/other-shards.js';
import { parseConfig } from '../support/config.js';

describe('shardOf', () => {
  it('is FNV-1a 64 (published test vectors) under the MurmurHash3 finalizer and a jump hash', () => {
    expect(fnv1a64('').toString(16)).toBe('cbf29ce484222325');
    expect(fnv1a64('a').toString(16)).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar').toString(16)).toBe('85944171f73967e8');
    expect(fmix64(0n)).toBe(0n);
    // Key 0: the first jump already lands past any bucket count.
    expect([1, 2, 10, 1000].map((n) => jumpHash(0n, n))).toEqual([0, 0, 0, 0]);
  });

  it('gives the same shards in every version (pinned values: changing them would move checks)', () => {
    const table = Object.fromEntries(['api', 'web', 'db', 'payments-eu', 'shard-0', 'Zürich'].map((n) => [n, [2, 3, 5, 16].map((k) => shardOf(n, k))]));
    expect(table).toEqual({
      api: [1, 1, 1, 8], web: [1, 1, 1, 7], db: [1, 1, 1, 12], 'payments-eu': [1, 2, 2, 7], 'shard-0': [1, 2, 2, 7], 'Zürich': [1, 1, 3, 3],
    });
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('spreads names that differ only in their last characters over every shard', () => {
    // FNV-1a alone put shard-0 .. shard-11 on two of three shards.
    expect(new Set(Array.from({ length: 12 }, (_, i) => shardOf(`shard-${i}`, 3))).size).toBe(3);
    for (const n of [2, 3, 5, 10]) {
      const counts = new Array(n).fill(0);
      for (let i = 0; i < 3000; i++) counts[shardOf(`web-${i}`, n)]++;
      for (const c of counts) expect(Math.abs(c - 3000 / n)).toBeLessThan(0.15 * 3000 / n);
    }
  });

  it('moves only checks bound for the new shard when one is added', () => {
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const name = `check-${i}`;
      const before = shardOf(name, 4);
      const after = shardOf(name, 5);
      if (before !== after) { moved++; expect(after).toBe(4); }
    }
    expect(moved).toBeGreaterThan(2000 / 5 * 0.8);
    expect(moved).toBeLessThan(2000 / 5 * 1.2);
  });
});

describe('parseScale', () => {
  it('takes the defaults, valid values and names the flag of a bad one', () => {
    expect(parseScale({})).toEqual({ shardCount: 1, shardIndex: 0 });
    expect(parseScale({ 'shard.count': '3', 'shard.index': '2', location: 'eu-west.1' })).toEqual({ shardCount: 3, shardIndex: 2, location: 'eu-west.1' });
    expect(parseScale({ 'shard.count': '0' })).toMatch(/^--shard\.count: "0" is not a whole number from 1 to 1024$/);
    expect(parseScale({ 'shard.count': '2.5' })).toMatch(/^--shard\.count/);
    expect(parseScale({ 'shard.count': '3', 'shard.index': '3' })).toBe('--shard.index: "3" is not a whole number from 0 to 2 (--shard.count is 3)');
    expect(parseScale({ 'shard.index': '-1' })).toMatch(/^--shard\.index/);
    expect(parseScale({ location: 'eu west' })).toMatch(/^--location: "eu west" must start with a letter/);
    expect(parseScale({ location: '"}\n' })).toMatch(/^--location/);
  });
});

describe('quorum (vigil.yml) and the other shards\' view', () => {
  const load = (yaml: string) => {
    try {
      return parseConfig(yaml, 'vigil.yml', { env: {} });
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  };

  it('a check takes its own quorum, else defaults.quorum, else none (1 in the rules); a bad one names file, line and key', () => {
    const cfg = load('defaults: { quorum: 2 }\nchecks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1 }\n  - { name: b, type: tcp, host: 127.0.0.1, port: 1, quorum: 3 }\n');
    expect(typeof cfg).not.toBe('string');
    expect((cfg as Exclude<typeof cfg, string>).checks.map((c) => [c.name, c.quorum])).toEqual([['a', 2], ['b', 3]]);
    const plain = load('checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1 }\n');
    expect((plain as Exclude<typeof plain, string>).checks[0]!.quorum).toBeUndefined();
    expect(load('checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, quorum: 0 }\n')).toMatch(/^vigil\.yml:2:\d+ checks\[0\]\.quorum: /m);
    // `location` is the instance's (--location): a check's own label of that name is refused.
    expect(load('checks:\n  - { name: a, type: tcp, host: 127.0.0.1, port: 1, labels: { location: x } }\n')).toMatch(/checks\[0\]\.labels\.location: .*every check series/);
  });

  it('lists the other shards\' checks with the record\'s status, or unknown when the record is not shared', () => {
    const foreign = [{ name: 'b', component: 'web', type: 'http', shard: 1, served_by: 'shard 2 of 2' }];
    expect(otherShardsView('shard 1 of 2', foreign, new Map([['b', { status: 'critical', t: 0, ok: false, message: 'HTTP 500' }]]))).toEqual({
      shard: 'shard 1 of 2', source: 'record',
      checks: [{ name: 'b', component: 'web', type: 'http', served_by: 'shard 2 of 2', status: 'critical', last_run: '1970-01-01T00:00:00.000Z', message: 'HTTP 500' }],
    });
    expect(otherShardsView('shard 1 of 2', foreign, undefined).checks[0]).toMatchObject({ status: 'unknown', last_run: null, message: null });
    expect(otherShardsView('shard 1 of 2', foreign, undefined).source).toBe('unavailable');
  });
});
