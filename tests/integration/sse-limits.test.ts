// The live feed's limits (issue 12, item 6): one client address cannot take every stream (429
// past its cap while other addresses still connect), a stream whose socket accepts nothing is
// closed, and every stream ends at its maximum lifetime with a `bye` the page reconnects on.
// The hub in-process, plus the real exporter with its config defaults.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommon } from '../../exporter/model/check.js';
import { parseConfig } from '../support/config.js';
import { StateStore } from '../../exporter/engine/state.js';
import type { CheckResult } from '../../exporter/model/result.js';
import { clientKey, SseHub } from '../../exporter/server/sse.js';
import { startExporter, waitFor, type RunningExporter } from '../support/exporter.js';

interface Stream { status: number; retryAfter?: string; events: string[]; ended: boolean; close(): void }

/** Open an event stream from `localAddress` (any of 127.0.0.0/8 on Linux) and collect event names. */
function openStream(url: string, localAddress = '127.0.0.1'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, agent: false, timeout: 5000 }, (res) => {
      const s: Stream = { status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, events: [], ended: false, close: () => req.destroy() };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (const m of buf.matchAll(/^event: (\w+)$/gm)) s.events.push(m[1]);
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      res.on('end', () => { s.ended = true; });
      res.on('close', () => { s.ended = true; });
      resolve(s);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
  });
}

describe('SseHub limits', () => {
  const check = (name: string): CheckCommon => ({
    name, type: 'http', component: 'c', interval: 1000, timeout: 500, retries: 0, retry_delay: 0, on_failure: 'critical', labels: {}, thresholds: {}, enabled: true,
  });
  const result = (name: string, ok: boolean, message?: string): CheckResult => ({
    check: name, ok, status: ok ? 'healthy' : 'critical', violations: [], duration: 0.01, samples: [], attempts: 1,
    startedAt: Date.now(), finishedAt: Date.now(), message, reason: ok ? undefined : 'status',
  });
  function store() {
    const s = new StateStore();
    s.applyConfig({ checks: [check('a')], components: [], history: { max_points: 100, retention: 86_400_000 } }, new Set());
    return s;
  }
  async function serve(hub: SseHub) {
    const server = http.createServer((req, res) => hub.attach(req, res, req.headers['last-event-id'] as string | undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  }

  it('refuses a client past its per-address cap with 429 and Retry-After; other addresses still connect', async () => {
    const hub = new SseHub(store(), { maxClientsPerAddress: 3 });
    const { server, url } = await serve(hub);
    const open: Stream[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await openStream(url));
      expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
      const refused = await openStream(url);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      const other = await openStream(url, '127.0.0.2');
      open.push(other);
      expect(other.status).toBe(200);
      expect(hub.size).toBe(4);
      // A closed stream gives its place back.
      open[0].close();
      await waitFor(() => hub.size === 3, 10_000, 10);
      const again = await openStream(url);
      open.push(again);
      expect(again.status).toBe(200);
    } finally {
      for (const s of open) s.close();
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('closes a stream whose socket accepts nothing for the idle timeout; a reading one stays, kept alive by pings', async () => {
    const s = store();
    const hub = new SseHub(s, { coalesceMs: 1, heartbeatMs: 100, idleTimeoutMs: 400, maxBufferedBytes: 64 << 20 });
    const { server, url } = await serve(hub);
    const u = new URL(url);
    const stuck = net.connect(Number(u.port), u.hostname);
    const connected = new Promise<void>((r) => stuck.once('connect', () => r()));
    let reader: Stream | undefined;
    try {
      reader = await openStream(url);
      await connected;
      stuck.write('GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
      stuck.pause(); // never reads: the kernel buffers fill, then Node's
      await waitFor(() => hub.size === 2, 10_000, 10);
      const big = 'x'.repeat(200_000);
      // Enough to fill the socket buffers, then nothing more: the stream is stalled, not flooded.
      for (let i = 0; i < 100; i++) {
        s.record(result('a', i % 2 === 0, big));
        await new Promise((r) => setTimeout(r, 3));
      }
      await waitFor(() => hub.stats.idleClosed === 1, 15_000, 20);
      expect(hub.stats.dropped).toBe(0); // closed by the idle timeout, not by the buffer limit
      expect(hub.size).toBe(1);
      const pings = reader.events.filter((e) => e === 'ping').length;
      await new Promise((r) => setTimeout(r, 600)); // longer than the idle timeout
      expect(hub.size).toBe(1);
      expect(reader.ended).toBe(false);
      expect(reader.events.filter((e) => e === 'ping').length).toBeGreaterThan(pings);
    } finally {
      reader?.close();
      stuck.destroy();
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('ends every stream at its maximum lifetime with a bye event', async () => {
    const hub = new SseHub(store(), { heartbeatMs: 50, maxLifetimeMs: 500 });
    const { server, url } = await serve(hub);
    let stream: Stream | undefined;
    try {
      const t0 = Date.now();
      stream = await openStream(url);
      await waitFor(() => stream!.ended, 10_000, 10);
      const lived = Date.now() - t0;
      expect(stream.events.at(-1)).toBe('bye');
      expect(lived).toBeGreaterThanOrEqual(400); // 500 ms minus the 10 % spread, give or take a tick
      expect(hub.stats.lifetimeClosed).toBe(1);
      expect(hub.size).toBe(0);
    } finally {
      stream?.close();
      hub.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('server.events in the config', () => {
  const parse = (events: string) => parseConfig(`server: { events: ${events} }\n`, 'vigil.yml', { env: {} }).server.events;
  it('has defaults and accepts its keys', () => {
    expect(parseConfig('checks: []\n', 'vigil.yml', { env: {} }).server.events).toEqual({ max_streams: 1000, max_streams_per_client: 8, idle_timeout: 60_000, max_lifetime: 3_600_000 });
    expect(parse('{ max_streams_per_client: 50, idle_timeout: 30s, max_lifetime: 10m }')).toEqual({ max_streams: 1000, max_streams_per_client: 50, idle_timeout: 30_000, max_lifetime: 600_000 });
  });
  it('rejects nonsense with the key named', () => {
    expect(() => parse('{ max_streams_per_client: 0 }')).toThrow(/server\.events\.max_streams_per_client/);
    expect(() => parse('{ idle_timeout: 10ms }')).toThrow(/server\.events\.idle_timeout.*at least 1s/);
    expect(() => parse('{ max_lifetime: 1s }')).toThrow(/server\.events\.max_lifetime.*at least 10s/);
    expect(() => parse('{ per_client: 3 }')).toThrow(/per_client/);
  });
});

describe('the exporter', () => {
  let ex: RunningExporter;
  beforeAll(async () => {
    ex = await startExporter({ config: 'checks:\n  - { name: up, type: heartbeat, period: 1h }\n' });
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it('lets one address hold 8 streams (the default), answers the 9th with 429, and still serves another address', async () => {
    const open: Stream[] = [];
    try {
      for (let i = 0; i < 8; i++) open.push(await openStream(`${ex.url}/api/v1/events`));
      expect(open.every((s) => s.status === 200)).toBe(true);
      const refused = await openStream(`${ex.url}/api/v1/events`);
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBe('10');
      const other = await openStream(`${ex.url}/api/v1/events`, '127.0.0.2');
      open.push(other);
      expect(other.status).toBe(200);
      await waitFor(() => other.events.length > 0, 15_000, 20);
      expect(other.events[0]).toBe('reset');
    } finally {
      for (const s of open) s.close();
    }
  });
});
