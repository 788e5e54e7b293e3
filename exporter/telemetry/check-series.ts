// Per-check series in the Prometheus 0.0.4 text format, kept as rows whose label part is
// rendered once and whose line is rebuilt only when a result changes its value.
//
// Why not prom-client Gauges: with 1 000 checks (~20 000 series) prom-client spent ~50 ms per
// scrape serialising and ~3 µs hashing labels on every set(). Why not re-render a check's
// lines per result either: at 1 000 results/s that allocated ~10 KB per result that lived one
// interval, so V8 promoted it and the old space grew (measured with `npm run bench`). Here a
// result touches existing rows and formats only the values that changed; a scrape keeps each
// block of lines encoded and rewrites in it only the lines whose values changed since the last
// scrape (see Family.blocks).
import type { MetricSpec } from '../model/metric.js';

/**
 * One check's rows as columns: a row is an index into each. One object per row cost 72 bytes
 * plus 16 for its value boxed as a heap number (Node's V8 has no pointer compression: every
 * field is 8 bytes), ~2.3 KB per check of 26 rows; these columns take ~1.2 KB. Rows are kept in
 * the order they were first written: a check writes them in the same order every run, so a scan
 * from where the last match was finds the next row at once. (A map per family per check cost
 * ~2.5 MB of hash tables at 1 000 checks.)
 */
interface CheckRows {
  base: string;
  /**
   * The line after the check's base labels, `labels} value\n`, as one flat string. The part
   * before it (`family{base`) is the same for every row of a check in a family: a scrape adds it
   * when it encodes a block, so ~60 bytes a row are not kept (~15 MB with 10 000 checks). It
   * starts with the row's label suffix, so that has no column of its own (meta keeps its length).
   */
  texts: string[];
  /** A plain array of numbers keeps them unboxed, as doubles in place, with no ArrayBuffer of its own. */
  values: number[];
  /**
   * META_FIELDS numbers a row: its family's index in the series' table (declared or not: rows of
   * a family no configured type declared are kept, never served); the length of its label
   * suffix; the update generation that last wrote it (older rows are swept); where its line
   * sits in `family.lines` (valid while that is not null). A typed array costs ~180 bytes of its
   * own, and then 4 bytes a number where a plain array takes 8. Longer than the rows need while
   * rows are being added.
   */
  meta: Uint32Array;
  cursor: number;
  gen: number;
  /** In CheckSeries.dirty: a value changed whose text the next scrape formats. */
  dirty: boolean;
}

const META_FIELDS = 4;
const FAMILY = 0;
/**
 * The length of the row's label suffix, plus STALE while its value changed since its text was
 * formatted. A value is formatted when a scrape needs it, not per result: at 1 000 results a
 * second and a scrape every 15 s, formatting per result turned each changing value into text
 * fifteen times for one read (String() of a double, a new line string each time, ~6 % of the
 * main thread).
 */
const LABELS = 1;
const STALE = 0x8000_0000;
const GEN = 2;
const SLOT = 3;
const NO_META = new Uint32Array(0);

interface Family {
  name: string;
  /** Its place in the series' table, by which rows name it. */
  index: number;
  /** `name{`: how each of its lines starts. */
  open: string;
  /** The HELP and TYPE lines; null for a family no configured type declared (never served). */
  header: Buffer | null;
  /** Rows the family has now, over all checks. */
  rows: number;
  /**
   * Every line of the family in output order (checks in the order they were first written),
   * kept current as values change; null once rows were added or removed, laid out again by the
   * next scrape. A scrape walks these dense lists instead of check -> rows -> row -> line, whose
   * cache misses cost more than the copying. The layout is the one thing a scrape builds, in one
   * pass over all rows for every family that needs it: doing it when rows come or go would cost a
   * pass per change — quadratic when 1 000 checks start, or fail and recover, together. (No
   * check -> rows map per family is kept for it: with 10 000 checks those maps and lists were
   * ~20 MB.)
   */
  lines: string[] | null;
  /** The base labels of the check each line belongs to (valid while `lines` is not null). */
  bases: string[];
  /**
   * Each block of BLOCK_LINES lines as the last scrape encoded it. A scrape copies a block whose
   * values did not move, and rewrites in a block whose values moved only the lines that changed
   * (Family.stale), copying the bytes between them: at 1 000 checks scraped 4×/s a quarter of
   * the checks changed between scrapes, spread over every block of the families whose values
   * move, and joining their 256 lines again from strings scattered over the heap was half of a
   * scrape. Kept blocks are private: a response gets a copy (TextBody's scratch), so a block is
   * rewritten in place and a scrape allocates no Buffer. Valid while `lines` is not null.
   */
  blocks: Array<KeptBlock | undefined>;
  /** 1 for a block with a line changed since it was encoded (or that no scrape has encoded). */
  moved: Uint8Array;
  /** 1 for a line whose text changed since its block was encoded, by line. */
  stale: Uint8Array;
}

/** A block's encoded text and where each of its lines starts in it. */
interface KeptBlock {
  /** The text in [0, length); the rest is room for values that grow. */
  bytes: Buffer;
  length: number;
  /** Where each line starts. */
  at: Uint32Array;
  /**
   * Each line's bytes before its row's text (`family{base`): they never change while the block
   * is laid out, so a changed line is rewritten from its row's text alone.
   */
  prefix: Uint32Array;
}

/**
 * Encoded blocks kept between scrapes, at most (bytes of text). Past it, a scrape joins and
 * encodes the rest every time: at 10 000 checks the blocks were ~11 MB of RSS kept to save
 * about a millisecond a second of CPU at Prometheus' 15 s, when every value has changed between
 * two scrapes; 1 000 checks' whole scrape (1.8 MB) stays under it.
 */
const KEPT_BLOCK_BYTES = 4 << 20;

/** Lines a block holds: ~16 KB of text, joined young, kept encoded. */
const BLOCK_SHIFT = 8;
const BLOCK_LINES = 1 << BLOCK_SHIFT;
/**
 * A block's pieces before they are joined, reused from block to block ('' past the block's
 * end adds nothing): an array grown per block was 0.65 MB of a scrape's ~2 MB of young garbage
 * at 1 000 checks, and the collections it caused fell inside the scrape.
 */
const PARTS: string[] = new Array<string>(3 * BLOCK_LINES).fill('');
/** PARTS[0, partsUsed) may hold pieces of the last block. */
let partsUsed = 0;
/**
 * Where a moved block is put together: its old text, then its changed lines, then the new text,
 * so every move is a copyWithin() (one Buffer.copy() a line would make a view object each).
 */
let work = Buffer.allocUnsafeSlow(64 << 10);

/** Where a scrape's text goes (TextBody). */
export interface SeriesSink {
  /** Bytes never changed afterwards (family headers): held as they are. */
  appendBytes(bytes: Buffer): void;
  /** Bytes the series change after the call (kept blocks): copied now. */
  appendCopy(bytes: Buffer): void;
  /** Text for this response only. */
  appendScratch(text: string): void;
}

const NEEDS_ESCAPE = /[\\\n"]/;

export function escapeLabelValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Tails of rows with no labels and a small whole value (flags, codes, intervals: ~8 of an HTTP check's rows), made once for all checks. */
const SMALL_TAILS: string[] = [];

// join() yields one flat string: a scrape copies it in one go, where a template literal would
// leave a tree of pieces (and a kept prefix) to walk and hold for every row.
function tail(labels: string, value: number): string {
  if (labels === '' && value >= 0 && value < 256 && Number.isInteger(value)) {
    return (SMALL_TAILS[value] ??= ['} ', String(value), '\n'].join(''));
  }
  return [labels, '} ', formatSampleValue(value), '\n'].join('');
}

/** `k1="v1",k2="v2"` (no braces, no leading comma). */
export function renderLabels(labels: Record<string, string>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k])}"`;
  return out;
}

/** Writes one check's rows for one result; CheckSeries.update() drops the rows it did not write. */
export class CheckWriter {
  constructor(
    private readonly check: CheckRows,
    private readonly family: (name: string) => Family,
    private readonly table: readonly Family[],
    private readonly dirty: CheckRows[],
  ) {}

  /**
   * Set a row. `labels` is the rendered label suffix after the base labels, starting with a
   * comma (`,phase="connect"`), or '' for none; callers keep these strings so nothing is
   * rendered per result.
   */
  set(family: string, labels: string, value: number): void {
    const c = this.check;
    const { texts, meta } = c;
    const n = texts.length;
    for (let k = 0; k < n; k++) {
      const i = c.cursor + k < n ? c.cursor + k : c.cursor + k - n;
      const m = i * META_FIELDS;
      const f = this.table[meta[m + FAMILY]];
      // The label suffix does not change with the value: a stale text still starts with it.
      if (f.name !== family || (meta[m + LABELS] & ~STALE) !== labels.length || !texts[i].startsWith(labels)) continue;
      c.cursor = i + 1 < n ? i + 1 : 0;
      meta[m + GEN] = c.gen;
      if (c.values[i] !== value) {
        c.values[i] = value;
        meta[m + LABELS] = labels.length | STALE;
        if (!c.dirty) {
          c.dirty = true;
          this.dirty.push(c);
        }
        if (f.lines) {
          const slot = meta[m + SLOT];
          f.stale[slot] = 1;
          f.moved[slot >> BLOCK_SHIFT] = 1;
        }
      }
      return;
    }
    const f = this.family(family);
    f.rows++;
    f.lines = null;
    if ((n + 1) * META_FIELDS > meta.length) {
      c.meta = new Uint32Array(Math.max(16, 2 * n) * META_FIELDS);
      c.meta.set(meta);
    }
    c.meta[n * META_FIELDS + FAMILY] = f.index;
    c.meta[n * META_FIELDS + LABELS] = labels.length;
    c.meta[n * META_FIELDS + GEN] = c.gen;
    texts.push(tail(labels, value));
    c.values.push(value);
  }
}

export class CheckSeries {
  /** Declared families in output order, then any other family a check wrote (never served). */
  private families = new Map<string, Family>();
  /** The same families by index. */
  private table: Family[] = [];
  private checks = new Map<string, CheckRows>();
  /** Checks with a value changed since the last scrape (each once). */
  private dirty: CheckRows[] = [];
  private readonly familyOf = (name: string): Family => this.families.get(name) ?? this.addFamily(name, null);

  /** Declare the families (in output order). Clears all rows. */
  reset(specs: MetricSpec[]): void {
    this.families.clear();
    this.table = [];
    this.checks.clear();
    for (const c of this.dirty) c.dirty = false;
    this.dirty.length = 0;
    for (const s of specs) {
      const header = `# HELP ${s.name} ${s.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${s.name} ${s.type ?? 'gauge'}\n`;
      this.addFamily(s.name, Buffer.from(header));
    }
  }

  /**
   * Rewrite every row of one check: `write` sets the rows of this result, rows it does not set
   * again are dropped. `base` is the check's rendered base labels (`check="…",component="…"`).
   */
  update(check: string, base: string, write: (w: CheckWriter) => void): void {
    let c = this.checks.get(check);
    if (!c || c.base !== base) {
      if (c) this.remove(check);
      c = { base, texts: [], values: [], meta: NO_META, cursor: 0, gen: 0, dirty: false };
      this.checks.set(check, c);
    }
    // Wrapped as meta holds it, so the sweep below still matches after 2^32 updates.
    const gen = (c.gen = (c.gen + 1) >>> 0);
    const had = c.texts.length;
    c.cursor = 0;
    write(new CheckWriter(c, this.familyOf, this.table, this.dirty));
    const { texts, values, meta } = c;
    const n = texts.length;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const m = i * META_FIELDS;
      if (meta[m + GEN] !== gen) {
        const f = this.table[meta[m + FAMILY]];
        f.rows--;
        f.lines = null;
        continue;
      }
      if (kept !== i) {
        texts[kept] = texts[i];
        values[kept] = values[i];
        meta.copyWithin(kept * META_FIELDS, m, m + META_FIELDS);
      }
      kept++;
    }
    // Exact copies once rows came or went: push() and set() leave room for more.
    if (kept !== n || n !== had) {
      c.texts = texts.slice(0, kept);
      c.values = values.slice(0, kept);
      c.meta = meta.slice(0, kept * META_FIELDS);
    }
  }

  remove(check: string): void {
    const c = this.checks.get(check);
    if (!c) return;
    for (let i = 0; i < c.texts.length; i++) {
      const f = this.table[c.meta[i * META_FIELDS + FAMILY]];
      f.rows--;
      f.lines = null;
    }
    this.checks.delete(check);
  }

  render(): string {
    const parts: Buffer[] = [];
    this.renderTo({
      appendBytes: (b) => parts.push(b),
      appendCopy: (b) => parts.push(Buffer.from(b)),
      appendScratch: (t) => parts.push(Buffer.from(t, 'utf8')),
    });
    return Buffer.concat(parts).toString('utf8');
  }

  /**
   * The text: each family's header, then its blocks of lines, copied from their kept encoding
   * (rewritten first where lines changed) or, past KEPT_BLOCK_BYTES, joined and encoded for this
   * scrape alone.
   */
  renderTo(sink: SeriesSink): void {
    this.format();
    this.layOut();
    let kept = 0;
    for (const f of this.families.values()) {
      if (!f.header || !f.rows) continue;
      sink.appendBytes(f.header);
      const { blocks, moved } = f;
      for (let b = 0; b < blocks.length; b++) {
        let block = blocks[b];
        if (block && kept + block.length <= KEPT_BLOCK_BYTES) {
          if (moved[b]) patch(f, b, block);
        } else {
          const text = joinBlock(f, b);
          const bytes = Buffer.byteLength(text, 'utf8');
          if (kept + bytes > KEPT_BLOCK_BYTES) {
            blocks[b] = undefined;
            moved[b] = 0;
            sink.appendScratch(text);
            continue;
          }
          block = blocks[b] = keep(f, b, text, bytes, block);
        }
        moved[b] = 0;
        kept += block.length;
        sink.appendCopy(block.bytes.subarray(0, block.length));
      }
    }
  }

  /** Give every value that changed since the last scrape its text (see STALE). */
  private format(): void {
    for (const c of this.dirty) {
      c.dirty = false;
      const { texts, values, meta } = c;
      for (let i = 0; i < texts.length; i++) {
        const m = i * META_FIELDS;
        if (!(meta[m + LABELS] & STALE)) continue;
        const length = meta[m + LABELS] & ~STALE;
        meta[m + LABELS] = length;
        const text = (texts[i] = tail(length ? texts[i].slice(0, length) : '', values[i]));
        // A family whose rows came or went is laid out again from the texts right after this.
        const f = this.table[meta[m + FAMILY]];
        if (f.lines) f.lines[meta[m + SLOT]] = text;
      }
    }
    this.dirty.length = 0;
  }

  /** Number the lines of every served family whose rows came or went, in one pass over all rows. */
  private layOut(): void {
    const stale: Family[] = [];
    for (const f of this.families.values()) {
      if (f.header && f.rows && !f.lines) {
        f.lines = [];
        f.bases = [];
        f.blocks = EMPTY;
        f.moved = NO_FLAGS;
        stale.push(f);
      }
    }
    if (!stale.length) return;
    for (const c of this.checks.values()) {
      const { texts, meta } = c;
      for (let i = 0; i < texts.length; i++) {
        const f = this.table[meta[i * META_FIELDS + FAMILY]];
        // Only families laid out now hold a `lines` list with no blocks yet.
        if (!f.lines || f.blocks !== EMPTY) continue;
        meta[i * META_FIELDS + SLOT] = f.lines.length;
        f.lines.push(texts[i]);
        f.bases.push(c.base);
      }
    }
    for (const f of stale) {
      const n = Math.ceil(f.lines!.length / BLOCK_LINES);
      f.blocks = new Array<KeptBlock | undefined>(n).fill(undefined);
      f.moved = new Uint8Array(n).fill(1);
      f.stale = new Uint8Array(f.lines!.length);
    }
  }

  private addFamily(name: string, header: Buffer | null): Family {
    const f: Family = { name, index: this.table.length, open: `${name}{`, header, rows: 0, lines: null, bases: [], blocks: EMPTY, moved: NO_FLAGS, stale: NO_FLAGS };
    this.table.push(f);
    this.families.set(name, f);
    return f;
  }
}

/** Blocks of a family that is being laid out (or never was). */
const EMPTY: Array<KeptBlock | undefined> = [];
const NO_FLAGS = new Uint8Array(0);

/** The lines of block `b` of a laid-out family. */
function blockLines(f: Family, b: number): [start: number, end: number] {
  const start = b << BLOCK_SHIFT;
  return [start, Math.min(f.lines!.length, start + BLOCK_LINES)];
}

/** Join PARTS[0, n) (the rest is cleared of the last block's pieces). */
function joinParts(n: number): string {
  if (n < partsUsed) PARTS.fill('', n, partsUsed);
  partsUsed = n;
  return PARTS.join('');
}

/** The whole text of block `b`, from its lines (one young string, encoded once); none of them is stale after. */
function joinBlock(f: Family, b: number): string {
  const [start, end] = blockLines(f, b);
  const { open, bases, lines, stale } = f as Family & { lines: string[] };
  let k = 0;
  for (let i = start; i < end; i++) {
    PARTS[k++] = open;
    PARTS[k++] = bases[i];
    PARTS[k++] = lines[i];
  }
  stale.fill(0, start, end);
  return joinParts(k);
}

/** Keep block `b`'s text (`bytes` long in UTF-8), in `old`'s Buffer when it has room. */
function keep(f: Family, b: number, text: string, bytes: number, old: KeptBlock | undefined): KeptBlock {
  const [start, end] = blockLines(f, b);
  const k = old && old.at.length === end - start && old.bytes.length >= bytes ? old : newBlock(bytes, end - start);
  k.bytes.write(text, 0, 'utf8');
  k.length = bytes;
  // Counted in characters when they are all one byte (nearly always).
  const ascii = bytes === text.length;
  const { open, bases, lines } = f as Family & { lines: string[] };
  for (let i = start, at = 0; i < end; i++) {
    const j = i - start;
    const prefix = open.length + utf8Length(bases[i], ascii);
    k.at[j] = at;
    k.prefix[j] = prefix;
    at += prefix + utf8Length(lines[i], ascii);
  }
  return k;
}

/** Bytes of `s` in UTF-8: its length when the text it belongs to is all ASCII. */
function utf8Length(s: string, ascii: boolean): number {
  return ascii ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Room for a block of `bytes` and some growth of its values. */
function newBlock(bytes: number, lines: number): KeptBlock {
  return { bytes: Buffer.allocUnsafeSlow(bytes + (bytes >> 3) + 64), length: 0, at: new Uint32Array(lines), prefix: new Uint32Array(lines) };
}

/** Rewrite the changed lines of kept block `b` from their rows' texts, copying the bytes between them. */
function patch(f: Family, b: number, k: KeptBlock): void {
  const [start, end] = blockLines(f, b);
  const { lines, stale } = f as Family & { lines: string[] };
  let p = 0;
  for (let i = start; i < end; i++) if (stale[i]) PARTS[p++] = lines[i];
  const changed = joinParts(p);
  const bytes = Buffer.byteLength(changed, 'utf8');
  const ascii = bytes === changed.length;
  const old = k.length;
  // work: [0, old) the block as it was, [old, from) its changed rows' texts, then the new block.
  const from = old + bytes;
  if (work.length < 2 * from) work = Buffer.allocUnsafeSlow(Math.max(2 * work.length, 2 * from));
  k.bytes.copy(work, 0, 0, old);
  work.write(changed, old, 'utf8');
  const { at, prefix } = k;
  let src = old; // the next changed text in work
  let run = 0; // where the unchanged stretch being carried over starts in the old block
  let to = from; // where it goes in the new
  for (let i = start, j = 0; i < end; i++, j++) {
    if (!stale[i]) {
      at[j] = to + (at[j] - run) - from;
      continue;
    }
    stale[i] = 0;
    // The stretch carried over ends with this line's prefix; its old text ends where the next line starts.
    const text = at[j] + prefix[j];
    const next = j + 1 < at.length ? at[j + 1] : old;
    at[j] = to + (at[j] - run) - from;
    work.copyWithin(to, run, text);
    to += text - run;
    const n = utf8Length(lines[i], ascii);
    work.copyWithin(to, src, src + n);
    src += n;
    to += n;
    run = next;
  }
  if (old > run) work.copyWithin(to, run, old);
  to += old - run;
  const length = to - from;
  if (length > k.bytes.length) k.bytes = Buffer.allocUnsafeSlow(length + (length >> 3) + 64);
  work.copy(k.bytes, 0, from, to);
  k.length = length;
}
