import { describe, expect, it } from 'vitest';
import { checkJson, compileJsonAssertion, jsonPath, statusMatches } from '../../exporter/probes/support/expect.js';
import { redact, registerSecret, clearSecrets } from '../../exporter/config/secrets.js';
import { classifyError } from '../../exporter/probes/support/errors.js';

describe('statusMatches', () => {
  const cases = [
    { code: 200, patterns: ['2xx'], expected: true },
    { code: 204, patterns: [200], expected: false },
    { code: 301, patterns: ['300-399'], expected: true },
    { code: 500, patterns: ['2xx', 503], expected: false },
    { code: 503, patterns: ['2xx', 503], expected: true },
  ] as const;
  for (const c of cases) it(`${c.code} vs ${c.patterns.join(',')}`, () => expect(statusMatches(c.code, [...c.patterns])).toBe(c.expected));
});

describe('jsonPath and assertions', () => {
  const doc = { status: 'degraded', items: [{ id: 7 }], 'odd key': true };
  it('resolves dotted, indexed and quoted steps', () => {
    expect(jsonPath(doc, '$.status')).toEqual({ found: true, value: 'degraded' });
    expect(jsonPath(doc, '$.items[0].id')).toEqual({ found: true, value: 7 });
    expect(jsonPath(doc, '$["odd key"]')).toEqual({ found: true, value: true });
    expect(jsonPath(doc, '$.nope.deeper')).toEqual({ found: false });
  });
  it('says what was expected and what was seen', () => {
    expect(checkJson(doc, { path: '$.status', equals: 'healthy' })).toBe('$.status = "degraded", expected "healthy"');
    expect(checkJson(doc, { path: '$.missing', exists: true })).toBe('$.missing is missing');
    expect(checkJson(doc, compileJsonAssertion({ path: '$.items[0].id', matches: '^7$' }))).toBeUndefined();
    expect(checkJson(doc, compileJsonAssertion({ path: '$.status', matches: '^ok$' }))).toBe('$.status = "degraded", expected to match /^ok$/');
  });
});

describe('redact', () => {
  it('removes registered secrets, URL passwords and key=value credentials', () => {
    clearSecrets();
    registerSecret('s3cr3t-token-value');
    expect(redact('auth failed with s3cr3t-token-value')).toBe('auth failed with <redacted>');
    expect(redact('connect postgres://app:hunter22@db:5432/x failed')).toBe('connect postgres://app:<redacted>@db:5432/x failed');
    expect(redact('{"password":"abc"}')).toBe('{"password":"<redacted>"}');
    expect(redact('token=xyz&a=1')).toBe('token=<redacted>&a=1');
  });
});

describe('classifyError', () => {
  const cases = [
    { err: Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), expected: 'dns' },
    { err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), expected: 'connect' },
    { err: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), expected: 'tls' },
    { err: Object.assign(new Error('aborted'), { name: 'AbortError' }), expected: 'timeout' },
    { err: new Error('something else'), expected: 'error' },
  ] as const;
  for (const c of cases) it(c.expected, () => expect(classifyError(c.err)).toBe(c.expected));
});
