import { describe, expect, it } from 'vitest';
import { formatSize, parseDuration, parseSize } from '../../exporter/model/units.js';
import { level } from '../../exporter/config/units.js';

describe('parseDuration', () => {
  const cases: Array<{ name: string; input: string; expected: number | undefined }> = [
    { name: 'milliseconds', input: '500ms', expected: 500 },
    { name: 'seconds', input: '15s', expected: 15_000 },
    { name: 'minutes', input: '5m', expected: 300_000 },
    { name: 'compound', input: '1h30m', expected: 5_400_000 },
    { name: 'fractional', input: '1.5s', expected: 1_500 },
    { name: 'days', input: '2d', expected: 172_800_000 },
    { name: 'bare number is rejected', input: '15', expected: undefined },
    { name: 'unknown unit', input: '5y', expected: undefined },
    { name: 'garbage', input: 'soon', expected: undefined },
    { name: 'trailing junk', input: '5sx', expected: undefined },
  ];
  for (const c of cases) it(c.name, () => expect(parseDuration(c.input)).toBe(c.expected));
});

describe('parseSize', () => {
  it('understands SI and IEC units', () => {
    expect(parseSize('1MiB')).toBe(1_048_576);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('512 KiB')).toBe(524_288);
    expect(parseSize('lots')).toBeUndefined();
  });
});

describe('formatSize', () => {
  it('writes sizes the way vigil.yml takes them', () => {
    expect([16 * 1024 ** 2, 10 * 1024 ** 2, 64 * 1024, 1000, 0].map(formatSize)).toEqual(['16MiB', '10MiB', '64KiB', '1000B', '0B']);
    for (const n of [1024, 1536, 3 * 1024 ** 3]) expect(parseSize(formatSize(n))).toBe(n);
  });
});

describe('threshold level', () => {
  const cases: Array<{ name: string; input: string | number; expected: number }> = [
    { name: 'number stays', input: 42, expected: 42 },
    { name: 'percent becomes ratio', input: '80%', expected: 0.8 },
    { name: 'duration becomes seconds', input: '500ms', expected: 0.5 },
    { name: 'size becomes bytes', input: '1GiB', expected: 1024 ** 3 },
  ];
  for (const c of cases) it(c.name, () => expect(level.parse(c.input)).toBe(c.expected));
  it('rejects nonsense with a clear message', () => {
    const r = level.safeParse('high');
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].message).toMatch(/invalid threshold "high"/);
  });
});
