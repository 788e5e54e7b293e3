// A response-time sketch for the hour and day rollups: counts in fixed logarithmic buckets
// (DDSketch's mapping), so any quantile read from it is within SKETCH_RELATIVE_ERROR of the
// true value of that rank, and two sketches merge by adding counts (hours into days, tiers into
// a report). Stored compactly as a BLOB: only the non-empty buckets, each as (index gap,
// count) varints; an hour of one check's runs takes 10-40 bytes.

/** Relative error of a quantile read from a sketch (±5 %). */
export const SKETCH_RELATIVE_ERROR = 0.05;
const GAMMA = (1 + SKETCH_RELATIVE_ERROR) / (1 - SKETCH_RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);
/** Durations are bucketed in microseconds; anything at or below 1 µs is bucket 0. */
const UNIT = 1e-6;

/** Buckets held: up to ~33 hours; a longer duration counts in the last one. */
export const SKETCH_BUCKETS = 256;

/** The bucket of a duration in seconds. */
export function bucketOf(seconds: number): number {
  const x = seconds / UNIT;
  return x <= 1 ? 0 : Math.min(SKETCH_BUCKETS - 1, Math.ceil(Math.log(x) / LN_GAMMA));
}

/**
 * bucketOf() in SQL, for a duration in microseconds (`column`), so a database can count a sketch's
 * buckets itself (GROUP BY) instead of sending every duration: the same operations on the same
 * doubles (µs to seconds to the bucketing's unit, ln, ÷ ln γ, ceil), the constants bound as `params`.
 */
export function bucketSql(dialect: 'sqlite' | 'postgres', column: string): { sql: string; params: number[] } {
  const x = dialect === 'postgres' ? `(${column}::float8 / 1e6::float8 / ?::float8)` : `(${column} / 1e6 / ?)`;
  const index = dialect === 'postgres' ? `least(${SKETCH_BUCKETS - 1}, ceil(ln(${x}) / ?::float8))::int` : `min(${SKETCH_BUCKETS - 1}, CAST(ceil(ln(${x}) / ?) AS INTEGER))`;
  return { sql: `CASE WHEN ${x} <= 1 THEN 0 ELSE ${index} END`, params: [UNIT, UNIT, LN_GAMMA] };
}

/** The value a bucket stands for (seconds): the point of least relative error within it. */
export function bucketValue(index: number): number {
  return index === 0 ? UNIT : (2 * GAMMA ** index / (GAMMA + 1)) * UNIT;
}

export class Sketch {
  /** Count per bucket index (dense: merging thousands of stored sketches stays a tight loop). */
  readonly counts = new Float64Array(SKETCH_BUCKETS);
  total = 0;

  add(seconds: number, n = 1): void {
    this.addBucket(bucketOf(seconds), n);
  }

  /** `n` durations counted in bucket `index` (bucketSql's, from the database). */
  addBucket(index: number, n: number): void {
    this.counts[index] += n;
    this.total += n;
  }

  merge(other: Sketch): void {
    for (let i = 0; i < SKETCH_BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
  }

  /** Merge a stored sketch (encode()'s bytes); null or empty adds nothing. Throws on damaged bytes, adding nothing. */
  mergeEncoded(bytes: Uint8Array | null | undefined): void {
    if (!bytes || !bytes.length) return;
    // Decoded whole before anything is added, so a damaged sketch leaves this one as it was.
    const pairs: number[] = [];
    let pos = 0;
    const read = (): number => {
      let v = 0;
      let mul = 1;
      for (;;) {
        if (pos >= bytes.length) throw new Error('truncated response-time sketch');
        const b = bytes[pos++];
        v += (b & 0x7f) * mul;
        if (b < 0x80) return v;
        mul *= 128;
      }
    };
    let index = 0;
    while (pos < bytes.length) {
      index += read();
      if (index >= SKETCH_BUCKETS) throw new Error('response-time sketch bucket out of range');
      pairs.push(index, read());
    }
    for (let k = 0; k < pairs.length; k += 2) {
      this.counts[pairs[k]] += pairs[k + 1];
      this.total += pairs[k + 1];
    }
  }

  /** Nearest-rank quantile (0 < q ≤ 1) in seconds, null when empty. */
  quantile(q: number): number | null {
    if (!this.total) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    let last = 0;
    for (let i = 0; i < SKETCH_BUCKETS; i++) {
      if (!this.counts[i]) continue;
      seen += this.counts[i];
      last = i;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(last);
  }

  encode(): Buffer {
    const out: number[] = [];
    let prev = 0;
    for (let i = 0; i < SKETCH_BUCKETS; i++) {
      const n = this.counts[i];
      if (n <= 0) continue;
      varint(out, i - prev);
      varint(out, n);
      prev = i;
    }
    return Buffer.from(out);
  }

  static decode(bytes: Uint8Array | null | undefined): Sketch {
    const s = new Sketch();
    s.mergeEncoded(bytes);
    return s;
  }
}

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}
