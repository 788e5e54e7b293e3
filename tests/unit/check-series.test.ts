import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckSeries, escapeLabelValue, formatSampleValue, type CheckWriter, type SeriesSink } from '../../exporter/telemetry/check-series.js';

const specs = [
  { name: 'probe_success', help: 'ok?' },
  { name: 'probe_http_duration_seconds', help: 'phases', labels: ['phase'] },
  { name: 'vigil_check_runs_total', help: 'runs', type: 'counter' as const },
];

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

/** Rows each family counts (white box: the layout of a scrape rests on these). */
function rowCounts(s: CheckSeries): Record<string, number> {
  const families = (s as unknown as { families: Map<string, { rows: number }> }).families;
  return Object.fromEntries([...families].filter(([, f]) => f.rows).map(([name, f]) => [name, f.rows]));
}

/** What one scrape hands its sink: every chunk as text, and how it came (fixed bytes, a copy of a kept block, scratch text). */
function scrapeOf(s: CheckSeries) {
  const chunks: Array<{ how: 'fixed' | 'copy' | 'scratch'; text: string; bytes?: Buffer }> = [];
  const sink: SeriesSink = {
    appendBytes: (b) => chunks.push({ how: 'fixed', text: b.toString('utf8') }),
    appendCopy: (b) => chunks.push({ how: 'copy', text: b.toString('utf8'), bytes: b }),
    appendScratch: (t) => chunks.push({ how: 'scratch', text: t }),
  };
  s.renderTo(sink);
  return { chunks, text: chunks.map((c) => c.text).join(''), bytes: (how: string) => chunks.filter((c) => c.how === how).reduce((n, c) => n + Buffer.byteLength(c.text), 0) };
}

describe('CheckSeries', () => {
  it('groups rows by family in declared order, each check under its family header', () => {
    const s = new CheckSeries();
    s.reset(specs);
    s.update('b', 'check="b"', (w) => { w.set('vigil_check_runs_total', '', 2); w.set('probe_success', '', 1); });
    s.update('a', 'check="a"', (w) => { w.set('probe_success', '', 0); w.set('probe_http_duration_seconds', ',phase="connect"', 0.001); });
    expect(lines(s.render())).toEqual([
      '# HELP probe_success ok?', '# TYPE probe_success gauge',
      'probe_success{check="b"} 1', 'probe_success{check="a"} 0',
      '# HELP probe_http_duration_seconds phases', '# TYPE probe_http_duration_seconds gauge',
      'probe_http_duration_seconds{check="a",phase="connect"} 0.001',
      '# HELP vigil_check_runs_total runs', '# TYPE vigil_check_runs_total counter',
      'vigil_check_runs_total{check="b"} 2',
    ]);
  });

  it('updates values in place and shows the new value at the next render', () => {
    const s = new CheckSeries();
    s.reset(specs);
    s.update('a', 'check="a"', (w) => w.set('vigil_check_runs_total', '', 1));
    expect(s.render()).toContain('vigil_check_runs_total{check="a"} 1\n');
    s.update('a', 'check="a"', (w) => w.set('vigil_check_runs_total', '', 2));
    expect(s.render()).toContain('vigil_check_runs_total{check="a"} 2\n');
    s.update('a', 'check="a"', (w) => w.set('vigil_check_runs_total', '', NaN));
    expect(s.render()).toContain('vigil_check_runs_total{check="a"} NaN\n');
  });

  it('drops rows a result no longer reports, and whole families with them', () => {
    const s = new CheckSeries();
    s.reset(specs);
    s.update('a', 'check="a"', (w) => {
      w.set('probe_success', '', 1);
      w.set('probe_http_duration_seconds', ',phase="connect"', 0.1);
      w.set('probe_http_duration_seconds', ',phase="tls"', 0.2);
    });
    s.update('a', 'check="a"', (w) => { w.set('probe_success', '', 0); w.set('probe_http_duration_seconds', ',phase="tls"', 0.3); });
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual([
      'probe_success{check="a"} 0',
      'probe_http_duration_seconds{check="a",phase="tls"} 0.3',
    ]);
    s.update('a', 'check="a"', (w) => w.set('probe_success', '', 0));
    expect(s.render()).not.toContain('probe_http_duration_seconds');
  });

  it('ignores families no configured type declared, and forgets removed checks', () => {
    const s = new CheckSeries();
    s.reset(specs);
    s.update('a', 'check="a"', (w) => { w.set('probe_success', '', 1); w.set('not_declared', '', 5); });
    s.update('b', 'check="b"', (w) => w.set('probe_success', '', 1));
    expect(s.render()).not.toContain('not_declared');
    s.remove('a');
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual(['probe_success{check="b"} 1']);
  });

  it('starts over when a check\'s base labels change (reload with new labels)', () => {
    const s = new CheckSeries();
    s.reset(specs);
    s.update('a', 'check="a",env="x"', (w) => w.set('probe_success', '', 1));
    s.update('a', 'check="a",env="y"', (w) => w.set('probe_success', '', 1));
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual(['probe_success{check="a",env="y"} 1']);
  });

  it('emits the text in chunks of whole lines that join to render()', () => {
    const s = new CheckSeries();
    s.reset(specs);
    for (let i = 0; i < 2000; i++) {
      s.update(`c${i}`, `check="c${i}",component="comp${i % 7}"`, (w) => {
        w.set('probe_success', '', 1);
        w.set('probe_http_duration_seconds', ',phase="connect"', i / 1e6);
        w.set('vigil_check_runs_total', '', i);
      });
    }
    const chunks = scrapeOf(s).chunks.map((c) => c.text);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.join('')).toBe(s.render());
    for (const c of chunks) {
      expect(c.length).toBeLessThan(40 * 1024); // short enough for V8's young generation
      expect(c.endsWith('\n')).toBe(true);
    }
  });

  it('keeps a scrape current across value changes, dropped and added rows, and removed checks', () => {
    const s = new CheckSeries();
    s.reset(specs);
    const phases = (w: CheckWriter, v: number, withTransfer = true) => {
      w.set('probe_http_duration_seconds', ',phase="connect"', v);
      if (withTransfer) w.set('probe_http_duration_seconds', ',phase="transfer"', v / 10);
      w.set('probe_success', '', 1);
    };
    s.update('a', 'check="a"', (w) => phases(w, 1));
    s.update('b', 'check="b"', (w) => phases(w, 2));
    const data = () => lines(s.render()).filter((l) => !l.startsWith('#'));
    expect(data()).toEqual([
      'probe_success{check="a"} 1', 'probe_success{check="b"} 1',
      'probe_http_duration_seconds{check="a",phase="connect"} 1', 'probe_http_duration_seconds{check="a",phase="transfer"} 0.1',
      'probe_http_duration_seconds{check="b",phase="connect"} 2', 'probe_http_duration_seconds{check="b",phase="transfer"} 0.2',
    ]);
    s.update('a', 'check="a"', (w) => phases(w, 3)); // values only: written in place
    expect(data()).toContain('probe_http_duration_seconds{check="a",phase="transfer"} 0.3');
    s.update('a', 'check="a"', (w) => phases(w, 4, false)); // a row dropped
    s.update('b', 'check="b"', (w) => phases(w, 5)); // and a value changed before the next scrape
    expect(data()).toEqual([
      'probe_success{check="a"} 1', 'probe_success{check="b"} 1',
      'probe_http_duration_seconds{check="a",phase="connect"} 4',
      'probe_http_duration_seconds{check="b",phase="connect"} 5', 'probe_http_duration_seconds{check="b",phase="transfer"} 0.5',
    ]);
    s.remove('a');
    s.update('c', 'check="c"', (w) => phases(w, 6));
    s.update('b', 'check="b"', (w) => phases(w, 7));
    expect(data()).toEqual([
      'probe_success{check="b"} 1', 'probe_success{check="c"} 1',
      'probe_http_duration_seconds{check="b",phase="connect"} 7', 'probe_http_duration_seconds{check="b",phase="transfer"} 0.7',
      'probe_http_duration_seconds{check="c",phase="connect"} 6', 'probe_http_duration_seconds{check="c",phase="transfer"} 0.6',
    ]);
    s.update('c', 'check="c",env="x"', (w) => phases(w, 8)); // new base labels: the check starts over
    expect(data().filter((l) => l.includes('check="c"'))).toEqual([
      'probe_success{check="c",env="x"} 1',
      'probe_http_duration_seconds{check="c",env="x",phase="connect"} 8', 'probe_http_duration_seconds{check="c",env="x",phase="transfer"} 0.8',
    ]);
  });

  it('formats a changed value when a scrape reads it: the last of many changes, also for a check removed or a reset meanwhile', () => {
    const s = new CheckSeries();
    s.reset(specs);
    const write = (check: string, v: number) => s.update(check, `check="${check}"`, (w) => {
      w.set('probe_success', '', 1);
      w.set('probe_http_duration_seconds', ',phase="connect"', v);
      w.set('vigil_check_runs_total', '', v * 1000);
    });
    write('a', 0.5);
    write('b', 0.25);
    s.render();
    for (let k = 1; k <= 10; k++) write('a', k / 1000);
    write('b', 0.125);
    s.remove('b');
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual([
      'probe_success{check="a"} 1', 'probe_http_duration_seconds{check="a",phase="connect"} 0.01', 'vigil_check_runs_total{check="a"} 10',
    ]);
    // A value changed and the families declared again before the next scrape: nothing of the
    // old layout leaks into the new one.
    write('a', 0.75);
    s.reset([specs[2], specs[0]]);
    write('c', 0.002);
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual(['vigil_check_runs_total{check="c"} 2', 'probe_success{check="c"} 1']);
  });

  it('a scrape that reuses unchanged blocks serves the same bytes as a render from scratch', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(599), fc.nat(3), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 300 }),
      fc.array(fc.nat(299), { maxLength: 6 }),
      (updates, scrapeAfter) => {
        const write = (s: CheckSeries, check: number, value: number, transfer: boolean, fail: boolean) =>
          s.update(`c${check}`, `check="c${check}"`, (w) => {
            w.set('probe_success', '', fail ? 0 : 1);
            w.set('probe_http_duration_seconds', ',phase="connect"', value);
            if (transfer) w.set('probe_http_duration_seconds', ',phase="transfer"', value / 2);
            w.set('vigil_check_runs_total', '', check);
          });
        const cached = new CheckSeries();
        const seen: Array<[number, number, boolean, boolean]> = [];
        cached.reset(specs);
        // 600 checks first: families of several blocks each, so most blocks stay unchanged.
        for (let c = 0; c < 600; c++) write(cached, c, 0, true, false);
        cached.render();
        updates.forEach(([check, value, transfer, fail], i) => {
          write(cached, check, value, transfer, fail);
          seen.push([check, value, transfer, fail]);
          if (!scrapeAfter.includes(i) && i !== updates.length - 1) return;
          const fresh = new CheckSeries();
          fresh.reset(specs);
          for (let c = 0; c < 600; c++) write(fresh, c, 0, true, false);
          for (const u of seen) write(fresh, ...u);
          expect(cached.render()).toBe(fresh.render());
        });
      },
    ), { numRuns: 40 });
  });

  it('keeps rows as they come and go: only the block of a changed value changes, and it serves what a fresh series would', () => {
    const fams = [...specs, { name: 'probe_dns_lookup_time_seconds', help: 'dns' }];
    // 300 checks of up to 8 rows: 600 to 1 500 lines in a family, several blocks each.
    const write = (s: CheckSeries, i: number, run: number, phases: string[]) =>
      s.update(`c${i}`, `check="c${i}"`, (w) => {
        w.set('probe_success', '', run % 2);
        for (const p of phases) w.set('probe_http_duration_seconds', `,phase="${p}"`, (i + run) / 1000);
        w.set('vigil_check_runs_total', '', run);
        w.set('probe_dns_lookup_time_seconds', '', 0.5);
      });
    const all = ['resolve', 'connect', 'tls', 'processing', 'transfer'];
    const s = new CheckSeries();
    s.reset(fams);
    for (let i = 0; i < 300; i++) write(s, i, 1, all);
    const chunks = () => scrapeOf(s).chunks.map((c) => c.text);
    const first = chunks();
    expect(first.length).toBeGreaterThan(12); // 4 headers and 8+ blocks
    expect(rowCounts(s)).toEqual({ probe_success: 300, probe_http_duration_seconds: 1500, vigil_check_runs_total: 300, probe_dns_lookup_time_seconds: 300 });

    // One value changed in check 260: lines 1300-1304 of the phases, the 6th block of that family only.
    s.update('c260', 'check="c260"', (w) => {
      w.set('probe_success', '', 1);
      for (const p of all) w.set('probe_http_duration_seconds', `,phase="${p}"`, p === 'tls' ? 9 : 261 / 1000);
      w.set('vigil_check_runs_total', '', 1);
      w.set('probe_dns_lookup_time_seconds', '', 0.5);
    });
    const second = chunks();
    expect(second.length).toBe(first.length);
    const changed = second.map((c, k) => c !== first[k]).flatMap((differs, k) => (differs ? [k] : []));
    expect(changed).toHaveLength(1);
    expect(second[changed[0]]).toContain('probe_http_duration_seconds{check="c260",phase="tls"} 9\n');
    expect(first[changed[0]]).toContain('probe_http_duration_seconds{check="c260",phase="tls"} 0.261\n');

    // Rows dropped from the middle of some checks (not written again), and a check removed.
    for (let i = 0; i < 300; i += 3) write(s, i, 2, ['resolve', 'transfer']);
    s.remove('c7');
    const fresh = new CheckSeries();
    fresh.reset(fams);
    for (let i = 0; i < 300; i++) if (i !== 7) write(fresh, i, i % 3 ? 1 : 2, i % 3 ? all : ['resolve', 'transfer']);
    fresh.update('c260', 'check="c260"', (w) => {
      w.set('probe_success', '', 1);
      for (const p of all) w.set('probe_http_duration_seconds', `,phase="${p}"`, p === 'tls' ? 9 : 261 / 1000);
      w.set('vigil_check_runs_total', '', 1);
      w.set('probe_dns_lookup_time_seconds', '', 0.5);
    });
    expect(s.render()).toBe(fresh.render());
    expect(rowCounts(s)).toEqual(rowCounts(fresh));
    expect(rowCounts(s).probe_http_duration_seconds).toBe(199 * 5 + 100 * 2);

    // And back: the rows come again (laid out anew, after each check's other rows), values change in place.
    for (let i = 0; i < 300; i += 3) write(s, i, 3, all);
    for (let i = 0; i < 300; i += 3) write(fresh, i, 3, all);
    expect(s.render()).toBe(fresh.render());
    for (let i = 0; i < 300; i += 3) write(s, i, 4, all);
    for (let i = 0; i < 300; i += 3) write(fresh, i, 4, all);
    expect(chunks().join('')).toBe(fresh.render());
  });

  it('grows a check beyond the rows it started with, and shrinks it again', () => {
    const s = new CheckSeries();
    s.reset([{ name: 'vigil_metrics_value', help: 'values' }, ...specs]);
    const write = (n: number, v: number) => s.update('m', 'check="m"', (w) => {
      w.set('probe_success', '', 1);
      for (let k = 0; k < n; k++) w.set('vigil_metrics_value', `,name="v${k}"`, v + k);
    });
    const data = () => lines(s.render()).filter((l) => !l.startsWith('#'));
    write(3, 0);
    s.render();
    write(100, 1); // 97 rows added to a laid-out family
    expect(data()).toEqual([...Array.from({ length: 100 }, (_, k) => `vigil_metrics_value{check="m",name="v${k}"} ${1 + k}`), 'probe_success{check="m"} 1']);
    write(100, 2);
    write(40, 3);
    expect(data()).toEqual([...Array.from({ length: 40 }, (_, k) => `vigil_metrics_value{check="m",name="v${k}"} ${3 + k}`), 'probe_success{check="m"} 1']);
    expect(rowCounts(s)).toEqual({ vigil_metrics_value: 40, probe_success: 1 });
    s.remove('m');
    expect(rowCounts(s)).toEqual({});
    expect(s.render()).toBe('');
  });

  it('tells rows apart by their whole label suffix, even one that starts another', () => {
    const s = new CheckSeries();
    s.reset(specs);
    const suffixes = ['', ',phase="a"', ',phase="a",x="1"', ',phase="a}"', ',phase="a"}"', ','];
    s.update('a', 'check="a"', (w) => suffixes.forEach((l, k) => w.set('probe_http_duration_seconds', l, k)));
    s.update('a', 'check="a"', (w) => suffixes.forEach((l, k) => w.set('probe_http_duration_seconds', l, 10 + k)));
    s.update('a', 'check="a"', (w) => [...suffixes].reverse().forEach((l, k) => w.set('probe_http_duration_seconds', l, 20 + k)));
    expect(lines(s.render()).filter((l) => !l.startsWith('#'))).toEqual(suffixes.map((l, k) => `probe_http_duration_seconds{check="a"${l}} ${25 - k}`));
  });

  it('formats every value as before, shared small tails included', () => {
    const s = new CheckSeries();
    s.reset(specs);
    const values = [0, -0, 1, 200, 255, 256, 1.5, -1, 1e21, 0.1, NaN, Infinity, -Infinity];
    values.forEach((v, k) => s.update(`c${k}`, `check="c${k}"`, (w) => { w.set('probe_success', '', v); w.set('probe_http_duration_seconds', ',phase="x"', v); }));
    const data = lines(s.render()).filter((l) => !l.startsWith('#'));
    expect(data).toEqual([
      ...values.map((v, k) => `probe_success{check="c${k}"} ${formatSampleValue(v)}`),
      ...values.map((v, k) => `probe_http_duration_seconds{check="c${k}",phase="x"} ${formatSampleValue(v)}`),
    ]);
    expect(data.slice(0, 3)).toEqual(['probe_success{check="c0"} 0', 'probe_success{check="c1"} 0', 'probe_success{check="c2"} 1']);
  });

  it('escapes label values per the text format', () => {
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('keeps at most 4 MiB of encoded blocks between scrapes; the rest is encoded again each time, the same text', () => {
    const s = new CheckSeries();
    s.reset(specs);
    // ~9 MB of text: 60 000 checks' rows that never change.
    for (let i = 0; i < 60_000; i++) {
      s.update(`c${i}`, `check="check-with-a-long-name-${i}",component="a-component-name"`, (w) => { w.set('probe_success', '', 1); w.set('vigil_check_runs_total', '', 7); });
    }
    const first = scrapeOf(s);
    expect(Buffer.byteLength(first.text)).toBeGreaterThan(8 << 20);
    for (const later of [scrapeOf(s), scrapeOf(s)]) {
      expect(later.text).toBe(first.text);
      expect(later.bytes('copy')).toBeLessThanOrEqual(4 << 20);
      // Up to the cap, the blocks are kept (less than one block short of it).
      expect(later.bytes('copy')).toBeGreaterThan((4 << 20) - 64 * 1024);
      expect(later.bytes('scratch')).toBe(Buffer.byteLength(first.text) - later.bytes('copy') - later.bytes('fixed'));
    }
  });

  it('rewrites a kept block in place: the changed lines from their rows, the rest copied, no new Buffer', () => {
    const s = new CheckSeries();
    const fams = [...specs, { name: 'vigil_check_info', help: 'info' }];
    s.reset(fams);
    // Check names with and without characters of more than one byte, in the same blocks.
    const name = (i: number) => (i % 5 === 0 ? `cé${i}` : `c${i}`);
    const write = (i: number, run: number, v = 0.25) => s.update(name(i), `check="${name(i)}"`, (w) => {
      w.set('probe_success', '', 1);
      w.set('probe_http_duration_seconds', ',phase="connect"', v);
      w.set('probe_http_duration_seconds', ',phase="über"', v / 2);
      w.set('vigil_check_runs_total', '', run);
      w.set('vigil_check_info', ',type="http"', 1);
    });
    const fresh = (values: Map<number, [number, number]>) => {
      const f = new CheckSeries();
      f.reset(fams);
      for (let i = 0; i < 600; i++) {
        const [run, v] = values.get(i) ?? [1, 0.25];
        f.update(name(i), `check="${name(i)}"`, (w) => {
          w.set('probe_success', '', 1);
          w.set('probe_http_duration_seconds', ',phase="connect"', v);
          w.set('probe_http_duration_seconds', ',phase="über"', v / 2);
          w.set('vigil_check_runs_total', '', run);
          w.set('vigil_check_info', ',type="http"', 1);
        });
      }
      return f.render();
    };
    const values = new Map<number, [number, number]>();
    for (let i = 0; i < 600; i++) write(i, 1);
    const first = scrapeOf(s);
    expect(first.text).toBe(fresh(values));
    expect(first.bytes('scratch')).toBe(0); // every block kept, and handed over as a copy
    const kept = first.chunks.filter((c) => c.how === 'copy').map((c) => c.bytes!.buffer);
    // Values that grow, shrink and stay; the first and last lines of blocks; every scrape.
    const rng = fc.sample(fc.tuple(fc.nat(599), fc.nat(99), fc.integer({ min: 1, max: 10 ** 9 })), { numRuns: 400, seed: 18 });
    for (let round = 0; round < 8; round++) {
      for (const [i, run, micros] of rng.slice(round * 50, round * 50 + 50)) {
        values.set(i, [run, micros / 1e6]);
        write(i, run, micros / 1e6);
      }
      for (const i of [0, 255, 256, 511, 512, 599]) {
        values.set(i, [round, round / 3]);
        write(i, round, round / 3);
      }
      const later = scrapeOf(s);
      expect(later.text).toBe(fresh(values));
      expect(later.bytes('scratch')).toBe(0);
    }
    // Still the first scrape's Buffers: the values grew within the room a block has.
    const now = scrapeOf(s).chunks.filter((c) => c.how === 'copy');
    expect(now.map((c) => c.bytes!.buffer)).toEqual(kept);
    // Every phase value ten digits longer: those blocks outgrow their room and get a larger
    // Buffer once; the other families' blocks keep theirs.
    for (let i = 0; i < 600; i++) {
      values.set(i, [1, 1234.567890123]);
      write(i, 1, 1234.567890123);
    }
    const grown = scrapeOf(s);
    expect(grown.text).toBe(fresh(values));
    const after = grown.chunks.filter((c) => c.how === 'copy');
    const moved = after.map((c, k) => c.bytes!.buffer !== kept[k]);
    expect(after.map((c, k) => (moved[k] ? c.text.split('\n')[0].split('{')[0] : '')).filter(Boolean).every((f) => f === 'probe_http_duration_seconds')).toBe(true);
    expect(moved.filter(Boolean).length).toBeGreaterThan(0);
    expect(scrapeOf(s).chunks.filter((c) => c.how === 'copy').map((c) => c.bytes!.buffer)).toEqual(after.map((c) => c.bytes!.buffer));
  });
});
