import { describe, expect, it } from 'vitest';
import { TextBody, TextBodyPool } from '../../exporter/telemetry/text-body.js';

describe('TextBody', () => {
  it('collects appended text as UTF-8 and grows past its first buffer', () => {
    const body = new TextBody(16);
    const parts = ['# HELP x\n', 'probe_success{check="café"} 1\n', 'é'.repeat(40), '', 'ü€𝄞\n'];
    for (const p of parts) body.append(p);
    expect(body.bytes().equals(Buffer.from(parts.join('')))).toBe(true);
    expect(body.length).toBe(Buffer.byteLength(parts.join('')));
  });

  it('starts empty again after reset, keeping its buffer', () => {
    const body = new TextBody(16);
    body.append('a'.repeat(100));
    body.reset();
    body.append('b');
    expect(body.bytes().toString()).toBe('b');
  });
});

describe('TextBodyPool', () => {
  it('hands a returned body out again, emptied, and a fresh one while it is out', () => {
    const pool = new TextBodyPool(1);
    const a = pool.take();
    a.append('first scrape');
    const b = pool.take();
    expect(b).not.toBe(a);
    pool.give(a);
    pool.give(b); // over the pool's size: dropped
    const c = pool.take();
    expect(c).toBe(a);
    expect(c.length).toBe(0);
    expect(pool.take()).not.toBe(b);
  });
});
