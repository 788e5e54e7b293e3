import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PagedCells } from '../../exporter/engine/paged-cells.js';

describe('PagedCells', () => {
  it('reads back what a plain array holds, through compaction, repacking and widening', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 700 }),
      fc.array(fc.oneof(
        // Runs of one value over a stretch: what makes pages uniform.
        fc.tuple(fc.constant('fill' as const), fc.nat(699), fc.integer({ min: 1, max: 200 }), fc.nat(3)),
        fc.tuple(fc.constant('set' as const), fc.nat(699), fc.nat(255)),
        fc.tuple(fc.constant('compact' as const), fc.nat(699)),
        fc.tuple(fc.constant('compactAll' as const)),
        fc.tuple(fc.constant('widen' as const), fc.nat(65_535)),
      ), { maxLength: 120 }),
      (length, ops) => {
        const cells = new PagedCells(length);
        const model = new Array<number>(length).fill(0);
        for (const op of ops) {
          if (op[0] === 'fill') {
            const [, at, n, v] = op;
            for (let i = at % length; i < Math.min(length, (at % length) + n); i++) { cells.set(i, v); model[i] = v; }
          } else if (op[0] === 'set') {
            const v = cells.wide ? op[2] * 200 : op[2];
            cells.set(op[1] % length, v);
            model[op[1] % length] = v;
          } else if (op[0] === 'compact') cells.compact(op[1] % length);
          else if (op[0] === 'compactAll') cells.compactAll();
          else {
            cells.widen();
            cells.set(0, op[1]);
            model[0] = op[1];
          }
        }
        expect(Array.from({ length }, (_, i) => cells.get(i))).toEqual(model);
        // sameTo: the cells from i to its page's end that hold what i holds, dense page or not.
        const same = (i: number) => {
          let j = i + 1;
          while (j < Math.min(length, (Math.floor(i / 64) + 1) * 64) && model[j] === model[i]) j++;
          return j - i;
        };
        expect(Array.from({ length }, (_, i) => cells.sameTo(i))).toEqual(Array.from({ length }, (_, i) => same(i)));
        // Never more than a page's worth of cells per page there is.
        expect(cells.bytes()).toBeLessThanOrEqual(Math.ceil(length / 64) * 64 * (cells.wide ? 2 : 1));
        cells.compactAll();
        expect(Array.from({ length }, (_, i) => cells.get(i))).toEqual(model);
        // After compaction, a page is held only where its cells differ.
        let mixed = 0;
        for (let p = 0; p * 64 < length; p++) if (new Set(model.slice(p * 64, p * 64 + 64)).size > 1) mixed++;
        expect(cells.bytes()).toBeGreaterThanOrEqual(mixed * 64 * (cells.wide ? 2 : 1));
        expect(Array.from({ length }, (_, i) => cells.sameTo(i))).toEqual(Array.from({ length }, (_, i) => same(i)));
      },
    ), { numRuns: 300 });
  });

  it('holds nothing for cells that all hold one value', () => {
    const cells = new PagedCells(1442);
    for (let i = 0; i < 1442; i++) cells.set(i, 7);
    cells.compactAll();
    expect(cells.bytes()).toBe(0);
    expect(cells.get(1441)).toBe(7);
  });
});
