// Pure helpers behind the component probes: text-format parsing and selectors, DSN handling and
// redaction, the PM2 RPC framing, globs, value conversion, and the reconnect loop.
import { describe, expect, it } from 'vitest';
import { clearSecrets, redact } from '../../exporter/config/secrets.js';
import { toNumber } from '../../exporter/probes/sql.js';
import { describeDsn, dsnKind, registerDsnSecrets, withPassword } from '../../exporter/probes/support/dsn.js';
import { ampDecode, ampEncode, defaultPm2Home } from '../../exporter/probes/support/pm2rpc.js';
import { LineSplitter, parseSampleLine, parseSelector, selectorMatches, type Selector } from '../../exporter/probes/support/promtext.js';
import { Pattern } from '../../exporter/probes/support/pattern.js';
import { Reconnecting } from '../../exporter/probes/support/reconnect.js';

describe('Prometheus text parsing', () => {
  const lines = [
    { line: 'up 1', expected: { name: 'up', labels: {}, value: 1 } },
    { line: 'http_requests_total{code="200",method="get"} 1027 1395066363000', expected: { name: 'http_requests_total', labels: { code: '200', method: 'get' }, value: 1027 } },
    { line: 'msg{text="a \\"quoted\\" \\\\ back\\nslash",} +Inf', expected: { name: 'msg', labels: { text: 'a "quoted" \\ back\nslash' }, value: Infinity } },
    { line: 'x{le="0.5"} -Inf', expected: { name: 'x', labels: { le: '0.5' }, value: -Infinity } },
    { line: 'y NaN', expected: { name: 'y', labels: {}, value: NaN } },
    { line: 'exemplar_total{a="b"} 3 # {trace_id="abc"} 1 1700000000', expected: { name: 'exemplar_total', labels: { a: 'b' }, value: 3 } },
    { line: '# HELP up whether', expected: undefined },
    { line: 'broken{a=b} 1', expected: undefined },
    { line: 'novalue', expected: undefined },
  ];
  it.each(lines)('$line', ({ line, expected }) => {
    expect(parseSampleLine(line)).toEqual(expected);
  });

  it('splits chunks into lines, also inside multi-byte characters', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l));
    const bytes = Buffer.from('a{x="ü"} 1\r\nb 2\nc 3');
    for (let i = 0; i < bytes.length; i += 3) s.push(bytes.subarray(i, i + 3));
    s.end();
    expect(out).toEqual(['a{x="ü"} 1', 'b 2', 'c 3']);
  });

  const selectors: Array<{ text: string; labels: Record<string, string>; match: boolean }> = [
    { text: 'up', labels: { job: 'x' }, match: true },
    { text: 'req{code=~"5.."}', labels: { code: '503' }, match: true },
    { text: 'req{code=~"5.."}', labels: { code: '5030' }, match: false }, // anchored, as in PromQL
    { text: 'req{code!~"2..", route="/a"}', labels: { code: '404', route: '/a' }, match: true },
    { text: 'req{code!="200"}', labels: {}, match: true }, // a missing label is ""
    { text: 'req{code="200"}', labels: {}, match: false },
  ];
  it.each(selectors)('selector $text on $labels', ({ text, labels, match }) => {
    const sel = parseSelector(text) as Selector;
    expect(typeof sel).toBe('object');
    expect(selectorMatches(sel, labels)).toBe(match);
  });

  it('bad selectors say why', () => {
    expect(parseSelector('{a="b"}')).toMatch(/expected a metric name/);
    expect(parseSelector('a{b="c"')).toMatch(/missing "}"/);
    expect(parseSelector('a{b=~"("}')).toMatch(/invalid regular expression for b/);
    expect(parseSelector('a{b=="c"}')).toMatch(/expected a quoted value for b/);
  });
});

describe('DSNs', () => {
  it('describes a target without credentials', () => {
    expect(describeDsn('postgres://app:S3cret@db.internal:5432/orders?sslmode=require')).toBe('db.internal:5432/orders');
    expect(describeDsn('redis://:pw@cache:6379')).toBe('cache:6379');
    expect(describeDsn('postgres:///app?host=/var/run/postgresql')).toBe('/var/run/postgresql/app');
    expect(dsnKind('mariadb://x/y')).toBe('mysql');
    expect(dsnKind('http://x')).toBeUndefined();
  });

  it('sets a password with URL escaping', () => {
    expect(withPassword('postgres://app@db/x', 'p@ss/w:rd')).toBe('postgres://app:p%40ss%2Fw%3Ard@db/x');
  });

  it('registers DSN passwords so every message is scrubbed, escaped or not', () => {
    clearSecrets();
    registerDsnSecrets('mysql://app:p%40ssW0rd-long@db/x');
    const out = redact('login p@ssW0rd-long failed; url mysql://app:p%40ssW0rd-long@db/x');
    expect(out).toMatch(/^login <redacted> failed; url (<redacted>|mysql:\/\/app:<redacted>@db\/x)$/);
    expect(out).not.toMatch(/ssW0rd/);
    clearSecrets();
  });
});

describe('PM2 RPC framing and names', () => {
  it('round-trips AMP frames and waits for complete ones', () => {
    const frame = ampEncode([Buffer.from('j:{"a":1}'), Buffer.from('s:id-1')]);
    expect(frame[0]).toBe(0x12);
    expect(ampDecode(frame.subarray(0, frame.length - 1))).toBeUndefined();
    const out = ampDecode(Buffer.concat([frame, Buffer.from([0x11])]))!;
    expect(out.size).toBe(frame.length);
    expect(out.args.map(String)).toEqual(['j:{"a":1}', 's:id-1']);
  });

  it('globs match whole names', () => {
    expect(['worker-1', 'worker-', 'x-worker-1', 'api'].filter((n) => Pattern.glob('worker-*').test(n))).toEqual(['worker-1', 'worker-']);
    expect(Pattern.glob('api.v?').test('api.v2')).toBe(true);
    expect(Pattern.glob('api.v?').test('apixv2')).toBe(false);
    expect(Pattern.glob('a(b)+[c]{2}$').test('a(b)+[c]{2}$')).toBe(true);
  });

  it('PM2_HOME defaults to $PM2_HOME, else ~/.pm2', () => {
    expect(defaultPm2Home({ PM2_HOME: '/srv/pm2' })).toBe('/srv/pm2');
    expect(defaultPm2Home({ HOME: '/home/app' })).toBe('/home/app/.pm2');
  });
});

describe('sql values', () => {
  const cases: Array<[unknown, number | undefined]> = [[3, 3], ['42', 42], ['1e3', 1000], [true, 1], [10n, 10], [new Date(1_000_000), 1000], [null, undefined], ['abc', undefined], ['', undefined], [NaN, undefined]];
  it.each(cases)('%s -> %s', (v, expected) => expect(toNumber(v)).toBe(expected));
});

describe('Reconnecting', () => {
  const opts = { connect_timeout: 1000, connect_attempts: 3, connect_retry_delay: 20 };

  it('retries a bounded number of times with a doubling delay, then reports the last error', async () => {
    const times: number[] = [];
    const conn = new Reconnecting<number>({
      ...opts,
      open: async () => { times.push(Date.now()); throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }); },
      destroy: () => {},
    });
    await expect(conn.get(new AbortController().signal, Date.now() + 5000)).rejects.toMatchObject({ message: 'connect ECONNREFUSED 127.0.0.1:1 (3 connect attempts)', code: 'ECONNREFUSED' });
    expect(times).toHaveLength(3);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(times[1] - times[0]);
  });

  it('keeps the connection, rebuilds it after invalidate or when it broke, and counts reconnects', async () => {
    let n = 0;
    const destroyed: number[] = [];
    const broken = new Set<number>();
    const conn = new Reconnecting<number>({ ...opts, open: async () => ++n, destroy: (h) => { destroyed.push(h); }, isBroken: (h) => broken.has(h) });
    const get = () => conn.get(new AbortController().signal, Date.now() + 1000);
    expect(await get()).toBe(1);
    expect(await get()).toBe(1);
    conn.invalidate();
    expect(await get()).toBe(2);
    broken.add(2);
    expect(await get()).toBe(3);
    expect(conn.reconnects).toBe(2);
    await conn.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(destroyed.sort()).toEqual([1, 2, 3]);
  });

  it('gives up at the deadline, and a connection that arrives late is destroyed', async () => {
    const destroyed: string[] = [];
    const conn = new Reconnecting<string>({
      ...opts, connect_timeout: 50,
      open: () => new Promise((r) => setTimeout(() => r('late'), 150)),
      destroy: (h) => { destroyed.push(h); },
    });
    const t0 = Date.now();
    await expect(conn.get(new AbortController().signal, Date.now() + 120)).rejects.toThrow(/timed out/);
    expect(Date.now() - t0).toBeLessThan(400);
    await new Promise((r) => setTimeout(r, 300));
    expect(destroyed.length).toBeGreaterThan(0);
    expect(conn.current()).toBeUndefined();
  });
});
