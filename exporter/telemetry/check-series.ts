// Per-check series in the Prometheus 0.0.4 text format, kept as rows whose label part is
// rendered once and whose line is rebuilt only when a result changes its value.
//
// Why not prom-client Gauges: with 1 000 checks (~20 000 series) prom-client spent ~50 ms per
// scrape serialising and ~3 µs hashing labels on every set(). Why not re-render a check's
// lines per result either: at 1 000 results/s that allocated ~10 KB per result that lived one
// interval, so V8 promoted it and the old space grew (measured with `npm run bench`). Here a
// result touches existing rows and formats only the values that changed; a scrape only reads
// lines that already exist, and reuses the encoded text of every block of lines none of whose
// values changed since the last scrape (see Family.blocks).
import type { MetricSpec } from '../model/metric.js';

interface Row {
  family: string;
  /** Label suffix after the base labels ('' for none). */
  labels: string;
  value: number;
  /** The whole line, `family{base,labels} value\n`, as one flat string. */
  text: string;
  /** Update generation that last wrote this row; older rows are swept. */
  gen: number;
  /** The family list holding the line, and where (valid while `owner.lines` is not null). */
  owner: Family | undefined;
  slot: number;
}

interface CheckRows {
  base: string;
  /**
   * A plain list: a check has a couple of dozen rows and writes them in the same order every
   * run, so a scan from where the last match was finds the next row at once. (A map per family
   * per check cost ~2.5 MB of hash tables at 1 000 checks.)
   */
  rows: Row[];
  cursor: number;
  gen: number;
  membershipChanged: boolean;
}

interface Family {
  header: Buffer;
  /** check name -> that check's rows of this family, in the order they were first written. */
  byCheck: Map<string, Row[]>;
  /**
   * Every line of the family in output order, kept current as values change; null once rows
   * were added or removed, laid out again by the next scrape. A scrape walks this one dense
   * list instead of check -> rows -> row -> line, whose cache misses cost more than the copying.
   * The layout is the one thing a scrape builds: it only numbers rows that exist, and doing it
   * when rows come or go would cost a pass over the family per change — quadratic when 1 000
   * checks start, or fail and recover, together.
   */
  lines: string[] | null;
  /**
   * The encoded text of each block of BLOCK_LINES lines of `lines`, dropped when a value in it
   * changes. Half of a check's rows never change between runs (info, interval, status, most
   * response details): their blocks are copied as they are, and a scrape joins and encodes only
   * the blocks of values that moved — with 10 000 checks, joining and encoding all 19 MB was
   * most of a scrape. Valid while `lines` is not null.
   */
  blocks: Array<Buffer | undefined>;
}

/** Lines a block holds: ~16 KB of text, joined young, kept encoded. */
const BLOCK_SHIFT = 8;
const BLOCK_LINES = 1 << BLOCK_SHIFT;

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

// join() yields one flat string: a scrape copies it in one go, where a template literal would
// leave a tree of pieces (and a kept prefix) to walk and hold for every row.
function line(family: string, base: string, labels: string, value: number): string {
  return [family, '{', base, labels, '} ', formatSampleValue(value), '\n'].join('');
}

/** `k1="v1",k2="v2"` (no braces, no leading comma). */
export function renderLabels(labels: Record<string, string>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k])}"`;
  return out;
}

/** Writes one check's rows for one result; CheckSeries.update() drops the rows it did not write. */
export class CheckWriter {
  constructor(private readonly check: CheckRows) {}

  /**
   * Set a row. `labels` is the rendered label suffix after the base labels, starting with a
   * comma (`,phase="connect"`), or '' for none; callers keep these strings so nothing is
   * rendered per result.
   */
  set(family: string, labels: string, value: number): void {
    const c = this.check;
    const rows = c.rows;
    const n = rows.length;
    for (let k = 0; k < n; k++) {
      const i = c.cursor + k < n ? c.cursor + k : c.cursor + k - n;
      const row = rows[i];
      if (row.family !== family || row.labels !== labels) continue;
      c.cursor = i + 1 < n ? i + 1 : 0;
      row.gen = c.gen;
      if (row.value !== value) {
        row.value = value;
        row.text = line(family, c.base, labels, value);
        const owner = row.owner;
        if (owner?.lines) {
          owner.lines[row.slot] = row.text;
          owner.blocks[row.slot >> BLOCK_SHIFT] = undefined;
        }
      }
      return;
    }
    rows.push({ family, labels, value, text: line(family, c.base, labels, value), gen: c.gen, owner: undefined, slot: -1 });
    c.membershipChanged = true;
  }
}

export class CheckSeries {
  private families = new Map<string, Family>();
  private checks = new Map<string, CheckRows>();

  /** Declare the families (in output order). Clears all rows. */
  reset(specs: MetricSpec[]): void {
    this.families.clear();
    this.checks.clear();
    for (const s of specs) {
      const header = `# HELP ${s.name} ${s.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${s.name} ${s.type ?? 'gauge'}\n`;
      this.families.set(s.name, { header: Buffer.from(header), byCheck: new Map(), lines: null, blocks: [] });
    }
  }

  has(family: string): boolean {
    return this.families.has(family);
  }

  /**
   * Rewrite every row of one check: `write` sets the rows of this result, rows it does not set
   * again are dropped. `base` is the check's rendered base labels (`check="…",component="…"`).
   */
  update(check: string, base: string, write: (w: CheckWriter) => void): void {
    let c = this.checks.get(check);
    if (!c || c.base !== base) {
      if (c) this.remove(check);
      c = { base, rows: [], cursor: 0, gen: 0, membershipChanged: false };
      this.checks.set(check, c);
    }
    c.gen++;
    c.cursor = 0;
    write(new CheckWriter(c));
    if (c.rows.some((r) => r.gen !== c.gen)) {
      c.rows = c.rows.filter((r) => r.gen === c.gen);
      c.membershipChanged = true;
    }
    if (c.membershipChanged) this.regroup(check, c);
  }

  remove(check: string): void {
    for (const f of this.families.values()) if (f.byCheck.delete(check)) f.lines = null;
    this.checks.delete(check);
  }

  render(): string {
    const parts: Buffer[] = [];
    this.renderTo((chunk) => parts.push(chunk));
    return Buffer.concat(parts).toString('utf8');
  }

  /**
   * The text as encoded chunks: family headers and blocks of lines, each block reused until one
   * of its values changes. A chunk is never written to once made (a change drops the block and
   * the next scrape makes a new one), so a response may hold on to it while it is sent.
   */
  renderTo(emit: (chunk: Buffer) => void): void {
    for (const f of this.families.values()) {
      if (!f.byCheck.size) continue;
      const lines = f.lines ?? layOut(f);
      emit(f.header);
      const blocks = f.blocks;
      for (let b = 0; b < blocks.length; b++) {
        let block = blocks[b];
        if (!block) {
          const from = b << BLOCK_SHIFT;
          // One young string per block, encoded once and kept (a string of the whole scrape
          // would be allocated in V8's old space).
          block = blocks[b] = Buffer.from(lines.slice(from, Math.min(lines.length, from + BLOCK_LINES)).join(''), 'utf8');
        }
        emit(block);
      }
    }
  }

  /** Rows were added or removed: rebuild this check's per-family lists (rare: first run, failures). */
  private regroup(check: string, c: CheckRows): void {
    c.membershipChanged = false;
    const grouped = new Map<string, Row[]>();
    for (const row of c.rows) {
      if (!this.families.has(row.family)) continue; // no configured type declared it
      const list = grouped.get(row.family);
      if (list) list.push(row);
      else grouped.set(row.family, [row]);
    }
    for (const [name, f] of this.families) {
      const rows = grouped.get(name);
      if (rows) {
        f.byCheck.set(check, rows);
        f.lines = null;
      } else if (f.byCheck.delete(check)) f.lines = null;
    }
  }
}

/** Number the family's lines in output order (after rows came or went). */
function layOut(f: Family): string[] {
  const lines: string[] = [];
  for (const rows of f.byCheck.values()) {
    for (const r of rows) {
      r.owner = f;
      r.slot = lines.length;
      lines.push(r.text);
    }
  }
  f.blocks = new Array<Buffer | undefined>(Math.ceil(lines.length / BLOCK_LINES)).fill(undefined);
  return (f.lines = lines);
}
