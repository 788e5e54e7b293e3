import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckSeries, escapeLabelValue, type CheckWriter } from '../../exporter/telemetry/check-series.js';

const specs = [
  { name: 'probe_success', help: 'ok?' },
  { name: 'probe_http_duration_seconds', help: 'phases', labels: ['phase'] },
  { name: 'vigil_check_runs_total', help: 'runs', type: 'counter' as const },
];

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
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
    const chunks: string[] = [];
    s.renderTo((c) => chunks.push(c.toString('utf8')));
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

  it('escapes label values per the text format', () => {
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
