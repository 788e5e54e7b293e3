// The icmp kind (issue 15): one echo through the system's ping, blackbox's series (phases,
// reply hop limit, the target's resolution), and clear failures without a reply or a ping.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce, sample } from '../support/checks.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-icmp-'));
  // A ping that never gets a reply, as iputils prints it.
  writeFileSync(path.join(dir, 'silent-ping'), '#!/bin/sh\necho "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."\necho\necho "--- 127.0.0.1 ping statistics ---"\necho "1 packets transmitted, 0 received, 100% packet loss, time 0ms"\nexit 1\n');
  chmodSync(path.join(dir, 'silent-ping'), 0o755);
});
afterAll(() => {
  delete process.env.VIGIL_PING_BIN;
  rmSync(dir, { recursive: true, force: true });
});

describe('icmp probe', () => {
  it('pings 127.0.0.1 and ::1: round trip, setup, reply TTL, address family', async () => {
    const v4 = await runOnce({ type: 'icmp', host: '127.0.0.1' });
    expect(v4.ok, v4.message).toBe(true);
    expect(sample(v4, 'rtt', { phase: 'rtt' })).toBeGreaterThan(0);
    expect(sample(v4, 'duration_setup', { phase: 'setup' })).toBeGreaterThanOrEqual(0);
    expect(sample(v4, 'reply_hop_limit')).toBe(64);
    expect(sample(v4, 'ip_protocol')).toBe(4);
    expect(sample(v4, 'ip_addr_hash')).toBe(3668918509);
    const v6 = await runOnce({ type: 'icmp', host: '::1' });
    expect(v6.ok, v6.message).toBe(true);
    expect(sample(v6, 'ip_protocol')).toBe(6);
    expect(sample(v6, 'ip_addr_hash')).toBe(1751717746);
  });

  it('a name is resolved first and timed as the resolve phase', async () => {
    const r = await runOnce({ type: 'icmp', host: 'localhost', ip_protocol: 'ip4' });
    expect(r.ok, r.message).toBe(true);
    expect(sample(r, 'ip_protocol')).toBe(4);
    expect(sample(r, 'dns_lookup_time')).toBeGreaterThan(0);
    const nx = await runOnce({ type: 'icmp', host: 'no-such-host.invalid' });
    expect(nx).toMatchObject({ ok: false, reason: 'dns' });
    expect(sample(nx, 'ip_protocol')).toBe(0);
  });

  it('no reply fails as timeout; a missing ping says what to install', async () => {
    process.env.VIGIL_PING_BIN = path.join(dir, 'silent-ping');
    const silent = await runOnce({ type: 'icmp', host: '127.0.0.1', timeout: '1s' });
    expect(silent).toMatchObject({ ok: false, reason: 'timeout' });
    expect(silent.message).toMatch(/^127\.0\.0\.1: no echo reply within 0\.9s$/);
    expect(sample(silent, 'reply_hop_limit')).toBeUndefined();
    process.env.VIGIL_PING_BIN = path.join(dir, 'no-such-ping');
    const missing = await runOnce({ type: 'icmp', host: '127.0.0.1' });
    expect(missing).toMatchObject({ ok: false });
    expect(missing.message).toMatch(/not found: the icmp kind needs the system's ping \(Debian: apt-get install iputils-ping\)/);
    delete process.env.VIGIL_PING_BIN;
  });
});
