// vigil_check_info's `target` (issue 15): what a check probes, as blackbox's instance would name
// it, never with credentials (userinfo, secret query parameters, registered secrets).
import { describe, expect, it } from 'vitest';
import { clearSecrets, publicUrl, registerSecret } from '../../exporter/config/secrets.js';
import { StateStore } from '../../exporter/engine/state.js';
import { Metrics } from '../../exporter/telemetry/metrics.js';
import { TextBody } from '../../exporter/telemetry/text-body.js';
import { parseConfig } from '../support/config.js';

describe('publicUrl', () => {
  it.each([
    ['https://user:pa55@api.example.com/health', 'https://api.example.com/health'],
    ['https://api.example.com/health?full=1&token=abc123&X-Amz-Signature=f00&api_key=k#top', 'https://api.example.com/health?full=1&token=redacted&X-Amz-Signature=redacted&api_key=redacted'],
    ['http://10.0.0.1:8080/', 'http://10.0.0.1:8080/'],
  ])('%s -> %s', (url, shown) => {
    expect(publicUrl(url)).toBe(shown);
  });

  it('removes a registered secret wherever it sits in the URL', () => {
    registerSecret('tenant-s3cr3t');
    try {
      expect(publicUrl('https://api.example.com/tenant-s3cr3t/health')).toBe('https://api.example.com/<redacted>/health');
    } finally {
      clearSecrets();
    }
  });
});

describe('vigil_check_info{target}', () => {
  it('names each check\'s target, redacted; kinds without a target have none', async () => {
    const cfg = parseConfig(`
checks:
  - { name: web, type: http, url: "https://ops:hunter22@api.example.com/health?token=t0k3n-value" }
  - { name: db, type: tcp, host: db.internal, port: 5432 }
  - { name: v6, type: tcp, host: "::1", port: 53 }
  - { name: ns, type: dns, query_name: example.com, server: "10.0.0.53:53" }
  - { name: disk, type: system }
  - { name: pg, type: postgres, dsn: "postgres://app:pgpa55word@db.internal:5432/app?sslmode=require" }
  - { name: cache, type: redis, dsn: "redis://:r3dispass@cache.internal:6379/0" }
  - { name: feed, type: websocket, url: "wss://user:wspass99@live.example.com/feed?access_token=abcdef" }
`, 'vigil.yml');
    const state = new StateStore();
    state.applyConfig(cfg, new Set());
    const metrics = new Metrics(state);
    metrics.applyConfig(cfg);
    const body = new TextBody();
    await metrics.writeTo(body);
    const info = body.bytes().toString('utf8').split('\n').filter((l) => l.startsWith('vigil_check_info{'));
    const target = (check: string) => /target="([^"]*)"/.exec(info.find((l) => l.includes(`check="${check}"`))!)?.[1];
    expect(target('web')).toBe('https://api.example.com/health?token=redacted');
    expect(target('db')).toBe('db.internal:5432');
    expect(target('v6')).toBe('[::1]:53');
    expect(target('ns')).toBe('10.0.0.53:53');
    expect(target('disk')).toBeUndefined();
    expect(target('pg')).toBe('db.internal:5432/app');
    expect(target('cache')).toBe('cache.internal:6379/0');
    expect(target('feed')).toBe('wss://live.example.com/feed?access_token=redacted');
    expect(info.join('\n')).not.toMatch(/hunter22|t0k3n-value|pgpa55word|r3dispass|wspass99|abcdef/);
  });
});
