import { describe, expect, it } from 'vitest';
import { HistoryRing } from '../../exporter/engine/history.js';

describe('HistoryRing', () => {
  it('keeps the newest points up to capacity, oldest first', () => {
    const ring = new HistoryRing(100);
    for (let i = 0; i < 250; i++) ring.push({ t: i, duration: i / 10, status: i % 2 ? 'healthy' : 'critical' });
    expect(ring.length).toBe(100);
    const pts = ring.since();
    expect(pts[0].t).toBe(150);
    expect(pts.at(-1)!.t).toBe(249);
    expect(pts.at(-1)!.status).toBe('healthy');
    expect(ring.since(240)).toHaveLength(10);
  });

  it('grows lazily and stays within 13 bytes a point', () => {
    const ring = new HistoryRing(8640);
    ring.push({ t: 1, duration: 0.1, status: 'healthy' });
    expect(ring.bytes()).toBeLessThan(64 * 13 + 1);
    for (let i = 0; i < 10_000; i++) ring.push({ t: i, duration: 0.1, status: 'healthy' });
    expect(ring.bytes()).toBe(8640 * 13);
  });

  it('trims points past retention', () => {
    const ring = new HistoryRing(50);
    for (let i = 0; i < 30; i++) ring.push({ t: i * 1000, duration: 0, status: 'healthy' });
    ring.trim(20_000);
    expect(ring.length).toBe(10);
    expect(ring.since()[0].t).toBe(20_000);
  });
});
