// A fixed-length array of small counts stored by pages of 64: a page whose cells all hold one
// value is kept as that value alone, the others in one shared typed array. The status bar's
// minutes (history.ts, MinuteSlots) are this: a check that ran the same way minute after minute
// (six healthy runs, every minute of the day) holds one page of cells instead of 1 442, and a
// check whose day had an outage holds the pages around it. 1 442 bytes a check were 14 MB at
// 10 000 checks; issue 18's goal is 300 MB in all.

const PAGE_SHIFT = 6;
const PAGE = 1 << PAGE_SHIFT;

export class PagedCells {
  /**
   * Per page: >= 0, every cell of the page holds this value; < 0, the page is dense in `pool`
   * at slot -1 - entry. Small whole numbers, so V8 keeps them unboxed in the array.
   */
  private readonly table: number[];
  private pool: Uint8Array | Uint16Array;
  /** Slots of the pool not in use. */
  private free: number[] = [];

  constructor(readonly length: number, wide = false) {
    this.table = new Array<number>(Math.ceil(length / PAGE)).fill(0);
    this.pool = wide ? new Uint16Array(0) : new Uint8Array(0);
  }

  get(i: number): number {
    const e = this.table[i >> PAGE_SHIFT];
    return e >= 0 ? e : this.pool[((-1 - e) << PAGE_SHIFT) | (i & (PAGE - 1))];
  }

  set(i: number, v: number): void {
    const p = i >> PAGE_SHIFT;
    let e = this.table[p];
    if (e >= 0) {
      if (e === v) return;
      const slot = this.allocate();
      this.pool.fill(e, slot << PAGE_SHIFT, (slot + 1) << PAGE_SHIFT);
      e = this.table[p] = -1 - slot;
    }
    this.pool[((-1 - e) << PAGE_SHIFT) | (i & (PAGE - 1))] = v;
  }

  /**
   * How many cells from `i` on (at least 1, up to the end of its page) hold what `i` holds. Lets a
   * reader take a steady stretch at once instead of cell by cell.
   */
  sameTo(i: number): number {
    const e = this.table[i >> PAGE_SHIFT];
    const end = Math.min(((i >> PAGE_SHIFT) + 1) << PAGE_SHIFT, this.length);
    if (e >= 0) return end - i;
    const base = ((-1 - e) << PAGE_SHIFT) - ((i >> PAGE_SHIFT) << PAGE_SHIFT);
    const v = this.pool[base + i];
    let j = i + 1;
    while (j < end && this.pool[base + j] === v) j++;
    return j - i;
  }

  /** Keep the page holding cell `i` as one value if all its cells hold the same. */
  compact(i: number): void {
    const p = i >> PAGE_SHIFT;
    const e = this.table[p];
    if (e >= 0) return;
    const slot = -1 - e;
    const from = slot << PAGE_SHIFT;
    const cells = Math.min(PAGE, this.length - (p << PAGE_SHIFT));
    const v = this.pool[from];
    for (let k = 1; k < cells; k++) if (this.pool[from + k] !== v) return;
    this.table[p] = v;
    this.free.push(slot);
    // Past an outage the pool would stay as large as the day that had it: move the dense pages
    // together once three quarters of it are free (or all of it).
    const slots = this.pool.length >> PAGE_SHIFT;
    if ((slots > 2 && this.free.length * 4 >= slots * 3) || this.free.length === slots) this.repack(slots - this.free.length);
  }

  /** compact() every page. */
  compactAll(): void {
    for (let i = 0; i < this.length; i += PAGE) this.compact(i);
  }

  /** The next width up: cells that hold up to 65 535. */
  widen(): void {
    if (this.pool instanceof Uint16Array) return;
    this.pool = Uint16Array.from(this.pool);
  }

  get wide(): boolean {
    return this.pool instanceof Uint16Array;
  }

  /** Bytes held by dense pages. */
  bytes(): number {
    return this.pool.byteLength;
  }

  private allocate(): number {
    const free = this.free.pop();
    if (free !== undefined) return free;
    const slots = this.pool.length >> PAGE_SHIFT;
    // Twice as many slots each time, never more than the pages there are.
    const grown = Math.min(this.table.length, Math.max(1, slots * 2));
    const pool = this.cellsLike(grown);
    pool.set(this.pool);
    this.pool = pool;
    for (let s = grown - 1; s > slots; s--) this.free.push(s);
    return slots;
  }

  /** A new pool of `slots` pages, as wide as this one. */
  private cellsLike(slots: number): Uint8Array | Uint16Array {
    return this.wide ? new Uint16Array(slots << PAGE_SHIFT) : new Uint8Array(slots << PAGE_SHIFT);
  }

  /** A pool of exactly the dense pages there are (`used` of them), in page order. */
  private repack(used: number): void {
    const pool = this.cellsLike(used);
    let next = 0;
    for (let p = 0; p < this.table.length; p++) {
      const e = this.table[p];
      if (e >= 0) continue;
      const from = (-1 - e) << PAGE_SHIFT;
      pool.set(this.pool.subarray(from, from + PAGE), next << PAGE_SHIFT);
      this.table[p] = -1 - next++;
    }
    this.pool = pool;
    this.free = [];
  }
}
