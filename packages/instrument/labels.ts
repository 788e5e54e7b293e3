// Label values that are bounded by design. Every value an app hands us (a channel, a job name, a
// reason, a route, a host) goes through a LabelGuard: values that look unbounded are folded into
// `other`, and so is every new value once a label has seen `limit` distinct ones. Nothing throws.
//
// The rule (documented in docs/instrumentation.md):
//   - 1 to 64 characters from [A-Za-z0-9_.:/-], starting with a letter;
//   - no run of 6 or more digits, no UUID, no run of 16 or more hex characters with a digit (ids, hashes, timestamps);
//   - at most `limit` distinct values per label and process (channel 32, job 100, reason 32);
//   anything else is recorded as `other`, with one warning per label on stderr (the value is not printed).

export const OTHER = 'other';

const SHAPE = /^[A-Za-z][A-Za-z0-9_.:/-]{0,63}$/;
// A hex run counts only with a digit in it (so that words like `acceptance` pass).
const LOOKS_LIKE_ID = /\d{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[0-9a-f]*\d)[0-9a-f]{16,}/i;

export function isBoundedValue(value: unknown): value is string {
  return typeof value === 'string' && SHAPE.test(value) && !LOOKS_LIKE_ID.test(value);
}

export type Warn = (message: string) => void;

export const warnOnce = (() => {
  const seen = new Set<string>();
  let sink: Warn = (m) => process.stderr.write(`vigil/instrument: ${m}\n`);
  const fn = (key: string, message: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    sink(message);
  };
  /** For tests: route warnings elsewhere and forget which were already printed. */
  fn.setSink = (s: Warn) => {
    sink = s;
    seen.clear();
  };
  return fn;
})();

export class LabelGuard {
  private readonly known = new Set<string>();

  constructor(
    /** How the label is called in messages, e.g. `recordDelivery channel`. */
    readonly label: string,
    /** Distinct values kept before new ones fold into `other`. */
    readonly limit: number,
    /** Extra check on top of the shape rule (undefined: the shape rule only). */
    private readonly accept: (v: string) => boolean = isBoundedValue,
  ) {}

  /** The value to record: the value itself, or `other`. */
  fold(value: unknown): string {
    if (typeof value === 'string' && this.known.has(value)) return value;
    if (!(typeof value === 'string' && this.accept(value))) {
      warnOnce(`${this.label}:invalid`, `${this.label}: a value that is not a bounded name (1-64 of [A-Za-z0-9_.:/-], no ids) was recorded as "${OTHER}"`);
      return OTHER;
    }
    if (this.known.size >= this.limit) {
      warnOnce(`${this.label}:limit`, `${this.label}: more than ${this.limit} distinct values; new ones are recorded as "${OTHER}"`);
      return OTHER;
    }
    this.known.add(value);
    return value;
  }

  get size(): number {
    return this.known.size;
  }
}
