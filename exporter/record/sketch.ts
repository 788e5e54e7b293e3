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

/** The bucket of a duration in seconds. */
export function bucketOf(seconds: number): number {
  const x = seconds / UNIT;
  return x <= 1 ? 0 : Math.ceil(Math.log(x) / LN_GAMMA);
}

/** The value a bucket stands for (seconds): the point of least relative error within it. */
export function bucketValue(index: number): number {
  return index === 0 ? UNIT : (2 * GAMMA ** index / (GAMMA + 1)) * UNIT;
}

export class Sketch {
  /** Count per bucket index. */
  readonly counts = new Map<number, number>();
  total = 0;

  add(seconds: number, n = 1): void {
    this.addBucket(bucketOf(seconds), n);
  }

  addBucket(index: number, n: number): void {
    this.counts.set(index, (this.counts.get(index) ?? 0) + n);
    this.total += n;
  }

  merge(other: Sketch): void {
    for (const [i, n] of other.counts) this.addBucket(i, n);
  }

  /** Merge a stored sketch (encode()'s bytes); null or empty adds nothing. */
  mergeEncoded(bytes: Uint8Array | null | undefined): void {
    if (bytes && bytes.length) decodeInto(bytes, this);
  }

  /** Nearest-rank quantile (0 < q ≤ 1) in seconds, null when empty. */
  quantile(q: number): number | null {
    if (!this.total) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(Math.max(...this.counts.keys()));
  }

  encode(): Buffer {
    const out: number[] = [];
    let prev = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      const n = this.counts.get(i)!;
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

function decodeInto(bytes: Uint8Array, s: Sketch): void {
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
    s.addBucket(index, read());
  }
}
