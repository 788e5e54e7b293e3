// server.probe.allowed_targets (issue 15): what /probe may reach. Names match names, addresses
// match addresses (a name is never resolved to decide), a port narrows an entry.
import { describe, expect, it } from 'vitest';
import { allowedBy, parseAllowEntry, type AllowEntry } from '../../exporter/config/probe-targets.js';

const entries = (...texts: string[]) => texts.map((t) => parseAllowEntry(t) as AllowEntry);

describe('allowed_targets', () => {
  it.each([
    [['*.example.com'], 'api.example.com', 443, true],
    [['*.example.com'], 'a.b.example.com', 80, true],
    [['*.example.com'], 'example.com', 80, false],
    [['*.example.com'], 'evil-example.com', 80, false],
    [['api.example.com:443'], 'API.Example.com.', 443, true],
    [['api.example.com:443'], 'api.example.com', 80, false],
    [['10.0.0.0/8'], '10.20.30.40', 9100, true],
    [['10.0.0.0/8'], '11.0.0.1', 9100, false],
    [['10.0.0.0/8'], 'ten.internal', 9100, false],
    [['127.0.0.1'], 'localhost', 80, false],
    [['[::1]:8080'], '[::1]', 8080, true],
    [['[::1]:8080'], '::1', 8081, false],
    [['fd00::/8'], 'fd12::1', 53, true],
    [['*'], 'anything.at.all', 1, true],
    [['*:443'], '192.0.2.1', 443, true],
    [['*:443'], '192.0.2.1', 80, false],
    [[], 'api.example.com', 443, false],
  ] as const)('%j lets %s:%s through: %s', (list, host, port, allowed) => {
    expect(!!allowedBy(entries(...list), host, port)).toBe(allowed);
  });

  it.each([
    ['10.0.0.0/33', /not an IP address or CIDR block/],
    ['host:99999', /port must be 1-65535 or \*/],
    ['exa mple.com', /expected a host name/],
    ['http://example.com', /expected a host name|port must be/],
  ])('refuses %s', (text, message) => {
    expect(parseAllowEntry(text)).toMatch(message);
  });
});
