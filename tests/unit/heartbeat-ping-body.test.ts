// The fields of a heartbeat ping from its query and body (probes/heartbeat/routes.ts parsePingData).
// The bodies marked "fuzz" were found by tests/integration/fuzz-post.test.ts: each was a 500.
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../exporter/server/body.js';
import { parsePingData } from '../../exporter/probes/heartbeat/routes.js';

const JSON_TYPE = 'application/json';
const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);

describe('heartbeat ping data', () => {
  const ok: Array<{ name: string; query?: Record<string, string>; raw: string; type?: string; expected: object }> = [
    { name: 'JSON numbers', raw: '{"duration_seconds": 12.5, "exit_code": 3, "message": " m "}', type: JSON_TYPE, expected: { duration_seconds: 12.5, exit_code: 3, message: 'm' } },
    { name: 'numbers as strings', raw: '{"duration_seconds": "12.5", "exit_code": "0"}', type: JSON_TYPE, expected: { duration_seconds: 12.5, exit_code: 0 } },
    { name: 'JSON without a content type', raw: ' {"exit_code": 1}', expected: { exit_code: 1 } },
    { name: 'null is the same as absent', raw: '{"duration_seconds": null, "exit_code": null, "message": null}', type: JSON_TYPE, expected: {} },
    { name: 'query fields, the body wins', query: { exit_code: '2', message: 'q' }, raw: '{"exit_code": 0}', type: JSON_TYPE, expected: { exit_code: 0, message: 'q' } },
    { name: 'form body, the last value wins', raw: 'exit_code=1&exit_code=4&other=x', type: 'application/x-www-form-urlencoded', expected: { exit_code: 4 } },
    { name: 'plain text is the message', raw: 'backup done\n', type: 'text/plain', expected: { message: 'backup done' } },
    // fuzz: Object.assign with a parsed "__proto__" key replaced the prototype of the fields, so an
    // unknown key made the success ping count as a failure with exit code 3.
    { name: 'a __proto__ key is ignored (fuzz)', raw: '{"__proto__": {"exit_code": 3, "message": "x"}}', type: JSON_TYPE, expected: {} },
    { name: 'constructor/toString keys are ignored', raw: '{"constructor": 1, "toString": 2, "valueOf": 3}', type: JSON_TYPE, expected: {} },
  ];
  it.each(ok)('$name', ({ query, raw, type, expected }) => {
    expect(parsePingData(query ?? {}, raw, type ?? '')).toEqual(expected);
  });

  const bad: Array<{ name: string; raw: string; error: RegExp }> = [
    // fuzz: Number() of an array joins it recursively: 8 000 deep overflowed the stack -> 500.
    { name: 'deeply nested array as duration (fuzz)', raw: `{"duration_seconds": ${deep(8000)}}`, error: /duration_seconds must be a number, got a JSON array/ },
    { name: 'deeply nested array as exit code (fuzz)', raw: `{"exit_code": ${deep(8000)}}`, error: /exit_code must be a number, got a JSON array/ },
    { name: 'deeply nested array as message (fuzz)', raw: `{"message": ${deep(8000)}}`, error: /message must be a string, got a JSON array/ },
    // fuzz: String()/Number() of an object whose toString and valueOf are not functions throws a TypeError -> 500.
    { name: 'object with toString/valueOf keys as message', raw: '{"message": {"toString": 1, "valueOf": 1}}', error: /message must be a string, got a JSON object/ },
    { name: 'object with toString/valueOf keys as exit code', raw: '{"exit_code": {"toString": 1, "valueOf": 1}}', error: /exit_code must be a number, got a JSON object/ },
    { name: 'boolean exit code', raw: '{"exit_code": true}', error: /exit_code must be a number, got a JSON boolean/ },
    { name: 'negative duration', raw: '{"duration_seconds": -1}', error: /non-negative number of seconds, got -1/ },
    { name: 'long bad value is shortened in the error', raw: `{"exit_code": "${'9'.repeat(5000)}"}`, error: /^exit_code must be an integer, got "9{40}…"$/ },
    { name: 'array body', raw: '[1]', error: /expected a JSON object/ },
    { name: 'truncated JSON', raw: '{"exit_code": 1', error: /malformed JSON/ },
  ];
  it.each(bad)('400: $name', ({ raw, error }) => {
    let thrown: unknown;
    try {
      parsePingData({}, raw, JSON_TYPE);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect((thrown as HttpError).status).toBe(400);
    expect((thrown as HttpError).message).toMatch(error);
  });
});
