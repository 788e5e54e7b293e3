// Where this instance sits when several share one vigil.yml: its shard (--shard.count,
// --shard.index) and its location (--location). Nothing here talks to the other instances:
// each one works out alone, from the check's name, which checks are its own, so N instances
// split one config with no protocol between them (Prometheus scrapes them all; a shared
// PostgreSQL record lets each show the others' checks).
//
// The shard of a check is jumpHash(fmix64(fnv1a64(utf8(name))), count): FNV-1a 64-bit of the
// name's UTF-8 bytes, MurmurHash3's 64-bit finalizer (FNV alone leaves names that differ in
// their last character, web-1 .. web-12, close in the high bits jump hash reads, and they all
// landed on two of three shards), then Lamping & Veach's jump consistent hash. All three are
// fixed published algorithms, so a check lands on the same shard in every version of Vigil,
// and going from N to N+1 shards moves only about 1/(N+1) of the checks.
import { NAME_RE } from './common.js';

export interface ScaleOptions {
  /** Shards the config is split into (1: not sharded). */
  shardCount: number;
  /** This instance's shard, 0 .. shardCount-1. */
  shardIndex: number;
  /** The place this instance probes from; labels every series it serves. */
  location?: string;
}

export const MAX_SHARDS = 1024;

/** A check of the config that another shard runs (this instance shows it from the shared record). */
export interface ForeignCheck {
  name: string;
  component: string;
  type: string;
  /** 0-based shard that runs it. */
  shard: number;
  /** "shard 2 of 3". */
  served_by: string;
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a, 64-bit, of the UTF-8 bytes of `s`. */
export function fnv1a64(s: string): bigint {
  let h = FNV64_OFFSET;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * FNV64_PRIME) & MASK64;
  }
  return h;
}

/** MurmurHash3's fmix64: every input bit flips each output bit with probability about 1/2. */
export function fmix64(key: bigint): bigint {
  let k = key;
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
}

/** Jump consistent hash (Lamping & Veach 2014, arXiv:1406.2294): a bucket 0..buckets-1 for a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** The shard (0-based) that serves check `name` when the config is split `count` ways. */
export function shardOf(name: string, count: number): number {
  return count <= 1 ? 0 : jumpHash(fmix64(fnv1a64(name)), count);
}

/** Whether this instance runs check `name`. */
export function ownsCheck(scale: ScaleOptions, name: string): boolean {
  return shardOf(name, scale.shardCount) === scale.shardIndex;
}

/**
 * Check the flags' values; returns the options or a message naming the flag. A location is a
 * label value people read and type into PromQL: the characters of a check name.
 */
export function parseScale(flags: { 'shard.count'?: string; 'shard.index'?: string; location?: string }): ScaleOptions | string {
  const count = Number(flags['shard.count'] ?? '1');
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) return `--shard.count: "${flags['shard.count']}" is not a whole number from 1 to ${MAX_SHARDS}`;
  const index = Number(flags['shard.index'] ?? '0');
  if (!Number.isInteger(index) || index < 0 || index >= count) return `--shard.index: "${flags['shard.index']}" is not a whole number from 0 to ${count - 1} (--shard.count is ${count})`;
  const location = flags.location;
  if (location !== undefined && !NAME_RE.test(location)) return `--location: "${location}" must start with a letter and contain only letters, digits, _ . - (max 100)`;
  return { shardCount: count, shardIndex: index, ...(location ? { location } : {}) };
}

/** "shard 2 of 3" (1-based for people), or undefined when not sharded. */
export function describeShard(index: number, count: number): string | undefined {
  return count > 1 ? `shard ${index + 1} of ${count}` : undefined;
}
