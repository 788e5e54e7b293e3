// Config validation of the component probe types: a bad field is reported as
// `file:line:col checks[i].key: message`, naming the key, and never echoing a DSN's password.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../exporter/config/errors.js';
import { parseConfig } from '../support/config.js';

function problems(checkYaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const yaml = `checks:\n  - ${checkYaml.trim().split('\n').join('\n    ')}\n`;
  try {
    parseConfig(yaml, 'vigil.yml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

const valid: Array<{ type: string; yaml: string }> = [
  { type: 'postgres', yaml: 'dsn: postgres://u:p@db:5432/app' },
  { type: 'mysql', yaml: 'dsn: mysql://u:p@db:3306/app' },
  { type: 'redis', yaml: 'dsn: redis://cache:6379\nqueues: [{ name: q, kind: bullmq }]\nthresholds: { q.waiting: { warning: 10 }, q.workers: { critical: 1, direction: below } }' },
  { type: 'sql', yaml: 'dsn: postgres://db/app\nqueries: [{ name: queued, query: "SELECT 1" }]\nthresholds: { queued: { warning: 10 } }' },
  { type: 'pm2', yaml: 'processes: [api, "worker-*"]\nthresholds: { restarts_in_window: { warning: 1, critical: 5 }, memory: { warning: 512MiB } }' },
  { type: 'heartbeat', yaml: 'schedule: "30 2 * * *"\ntimezone: Europe/Berlin\ngrace: 30m' },
  { type: 'promql', yaml: 'url: http://prom:9090\nqueries: [{ name: error_rate, query: "vector(0)" }]\nthresholds: { error_rate: { warning: 5%, critical: 10% } }' },
  { type: 'metrics', yaml: 'url: http://app:9464/metrics\nvalues: [{ name: err, mode: ratio, series: "a{code=~\\"5..\\"}", denominator: a }]' },
  { type: 'file', yaml: 'path: /var/backups/*.gz\nthresholds: { age: { critical: 26h }, size: { critical: 1MiB, direction: below } }' },
  { type: 'dns', yaml: 'query_name: example.com\nrecord_type: MX\nserver: "127.0.0.1:53"' },
  { type: 'websocket', yaml: 'url: wss://example.com/socket\nsend: ping\nexpect: pong' },
];

describe('component probe configs', () => {
  it.each(valid)('accepts a valid $type check', ({ type, yaml }) => {
    expect(problems(`name: c\ntype: ${type}\n${yaml}`)).toEqual([]);
  });

  it('heartbeat checks default to no retries and pm2 checks to crash-loop thresholds', () => {
    const cfg = parseConfig('defaults: { retries: 3 }\nchecks:\n  - { name: h, type: heartbeat, period: 1h }\n  - { name: p, type: pm2, processes: [api] }\n', 'vigil.yml', { env: {} });
    expect(cfg.checks[0].retries).toBe(0);
    expect(cfg.checks[0].thresholds.late).toEqual({ warning: 0, direction: 'above' });
    expect(cfg.checks[1].retries).toBe(3);
    expect(cfg.checks[1].thresholds.restarts_in_window).toEqual({ warning: 0, critical: 2, direction: 'above' });
  });

  const bad: Array<{ name: string; yaml: string; expected: RegExp }> = [
    { name: 'postgres: wrong DSN scheme, password not echoed', yaml: 'type: postgres\ndsn: mysql://u:Hunter2-Secret@db/app', expected: /^vigil\.yml:4:10 checks\[0\]\.dsn: expected a connection URL starting with postgres:\/\/, postgresql:\/\/ \(the value is not shown/ },
    { name: 'postgres: missing dsn', yaml: 'type: postgres', expected: /checks\[0\]\.dsn: .*(expected string|Required|received undefined)/i },
    { name: 'postgres: connect_attempts out of range', yaml: 'type: postgres\ndsn: postgres://db/x\nconnect_attempts: 50', expected: /checks\[0\]\.connect_attempts: .*(<=|10)/ },
    { name: 'mysql: bad connect_timeout', yaml: 'type: mysql\ndsn: mysql://db/x\nconnect_timeout: 5', expected: /checks\[0\]\.connect_timeout: / },
    { name: 'redis: unknown queue kind', yaml: 'type: redis\ndsn: redis://c\nqueues: [{ name: q, kind: kafka }]', expected: /checks\[0\]\.queues\[0\]\.kind: / },
    { name: 'redis: threshold for a queue state that does not exist', yaml: 'type: redis\ndsn: redis://c\nqueues: [{ name: q }]\nthresholds: { q.waiting: { warning: 1 } }', expected: /checks\[0\]\.thresholds\.q\.waiting: unknown threshold "q\.waiting" for type redis, expected one of response_time, q\.length/ },
    { name: 'redis: duplicate queue', yaml: 'type: redis\ndsn: redis://c\nqueues: [{ name: q }, { name: q }]', expected: /checks\[0\]\.queues\[1\]\.name: duplicate queue name "q"/ },
    { name: 'sql: no queries', yaml: 'type: sql\ndsn: postgres://db/x\nqueries: []', expected: /checks\[0\]\.queries: / },
    { name: 'sql: driver contradicts DSN', yaml: 'type: sql\ndriver: mysql\ndsn: postgres://db/x\nqueries: [{ name: a, query: "SELECT 1" }]', expected: /checks\[0\]\.driver: driver mysql does not match the DSN's scheme \(postgres\)/ },
    { name: 'sql: query name reserved', yaml: 'type: sql\ndsn: postgres://db/x\nqueries: [{ name: response_time, query: "SELECT 1" }]', expected: /checks\[0\]\.queries\[0\]\.name: "response_time" is reserved/ },
    { name: 'sql: unknown key in a query', yaml: 'type: sql\ndsn: postgres://db/x\nqueries: [{ name: a, sql: "SELECT 1" }]', expected: /checks\[0\]\.queries\[0\]\.(sql: unknown key|query: )/ },
    { name: 'pm2: no processes', yaml: 'type: pm2\nprocesses: []', expected: /checks\[0\]\.processes: / },
    { name: 'pm2: unknown status', yaml: 'type: pm2\nprocesses: [a]\nallowed_status: [running]', expected: /checks\[0\]\.allowed_status\[0\]: / },
    { name: 'heartbeat: neither period nor schedule', yaml: 'type: heartbeat', expected: /checks\[0\]\.period: set either period \(e\.g\. 1h\) or schedule/ },
    { name: 'heartbeat: both', yaml: 'type: heartbeat\nperiod: 1h\nschedule: "0 3 * * *"', expected: /checks\[0\]\.schedule: set either period/ },
    { name: 'heartbeat: bad cron', yaml: 'type: heartbeat\nschedule: "61 3 * * *"', expected: /checks\[0\]\.schedule: invalid cron expression: .*61/ },
    { name: 'heartbeat: cron with 4 fields', yaml: 'type: heartbeat\nschedule: "0 3 * *"', expected: /checks\[0\]\.schedule: cron expression has 4 fields, expected 5/ },
    { name: 'heartbeat: bad time zone', yaml: 'type: heartbeat\nschedule: "0 3 * * *"\ntimezone: Mars/Olympus', expected: /checks\[0\]\.timezone: unknown time zone "Mars\/Olympus"/ },
    { name: 'heartbeat: short token', yaml: 'type: heartbeat\nperiod: 1h\ntoken: abc', expected: /checks\[0\]\.token: token must be at least 16 characters/ },
    { name: 'promql: bad URL', yaml: 'type: promql\nurl: prom:9090\nqueries: [{ name: a, query: up }]', expected: /checks\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/ },
    { name: 'promql: bad on_empty', yaml: 'type: promql\nurl: http://p\nqueries: [{ name: a, query: up, on_empty: zero }]', expected: /checks\[0\]\.queries\[0\]\.on_empty: / },
    { name: 'promql: threshold for an unknown query', yaml: 'type: promql\nurl: http://p\nqueries: [{ name: a, query: up }]\nthresholds: { b: { warning: 1 } }', expected: /checks\[0\]\.thresholds\.b: unknown threshold "b" for type promql, expected one of response_time, a/ },
    { name: 'metrics: bad selector', yaml: 'type: metrics\nurl: http://a/metrics\nvalues: [{ name: a, series: "x{y=1}" }]', expected: /checks\[0\]\.values\[0\]\.series: invalid series selector: expected a quoted value for y/ },
    { name: 'metrics: ratio without denominator', yaml: 'type: metrics\nurl: http://a/metrics\nvalues: [{ name: a, series: x, mode: ratio }]', expected: /checks\[0\]\.values\[0\]\.denominator: mode ratio needs a denominator/ },
    { name: 'file: relative path', yaml: 'type: file\npath: backups/x.gz', expected: /checks\[0\]\.path: expected an absolute path/ },
    { name: 'dns: bad record type', yaml: 'type: dns\nquery_name: x\nrecord_type: PTR', expected: /checks\[0\]\.record_type: / },
    { name: 'dns: bad server', yaml: 'type: dns\nquery_name: x\nserver: dns.google', expected: /checks\[0\]\.server: expected an IP address/ },
    { name: 'websocket: http URL', yaml: 'type: websocket\nurl: http://x/ws', expected: /checks\[0\]\.url: expected a ws:\/\/ or wss:\/\/ URL/ },
    { name: 'websocket: bad regex', yaml: 'type: websocket\nurl: ws://x/ws\nexpect: "("', expected: /checks\[0\]\.expect: invalid regular expression/ },
  ];
  it.each(bad)('$name', ({ yaml, expected }) => {
    const out = problems(`name: c\n${yaml}`);
    expect(out.length).toBeGreaterThan(0);
    expect(out.some((l) => expected.test(l)), out.join('\n')).toBe(true);
    for (const l of out) expect(l).toMatch(/^vigil\.yml:\d+:\d+ checks\[0\]/);
    expect(out.join('\n')).not.toContain('Hunter2-Secret');
  });

  it('a regex RE2 cannot run is a config error naming file, line, key and the RE2 reason', () => {
    const yaml = 'checks:\n  - name: api\n    type: http\n    url: http://x/\n    expect:\n      body_regex: "ok(?=!)"\n';
    let msg = '';
    try {
      parseConfig(yaml, 'vigil.yml', { env: {} });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toBe('vigil.yml:6:19 checks[0].expect.body_regex: invalid regular expression: invalid or unsupported Perl syntax: `(?=` (RE2 syntax: no lookahead, lookbehind or backreferences)');
  });

  // Every place a user writes a pattern, and each glob we compile, is checked when the config loads.
  const unsupported: Array<{ name: string; yaml: string; key: string }> = [
    { name: 'http body_not_regex backreference', yaml: 'type: http\nurl: http://x/\nexpect: { body_not_regex: "(a)\\\\1" }', key: 'expect.body_not_regex' },
    { name: 'http json matches lookbehind', yaml: 'type: http\nurl: http://x/\nexpect: { json: [{ path: $.a, matches: "(?<=x)y" }] }', key: 'expect.json[0].matches' },
    { name: 'tcp expect', yaml: 'type: tcp\nhost: h\nport: 1\nexpect: "(?!x)"', key: 'expect' },
    { name: 'websocket expect', yaml: 'type: websocket\nurl: ws://x/\nexpect: "(?=x)"', key: 'expect' },
    { name: 'dns expect_answers', yaml: 'type: dns\nquery_name: x\nexpect_answers: ["(?=1)"]', key: 'expect_answers[0]' },
    { name: 'dns fail_if_answer_matches', yaml: 'type: dns\nquery_name: x\nfail_if_answer_matches: ["(?!1)"]', key: 'fail_if_answer_matches[0]' },
    { name: 'redis worker_client_name', yaml: 'type: redis\ndsn: redis://c\nqueues: [{ name: q, worker_client_name: "^(?=w)" }]', key: 'queues[0].worker_client_name' },
    { name: 'system mounts.include', yaml: 'type: system\nmounts: { include: "^/(?!boot)" }', key: 'mounts.include' },
    { name: 'system mounts.fs_types_exclude', yaml: 'type: system\nmounts: { fs_types_exclude: "(?=tmp)" }', key: 'mounts.fs_types_exclude' },
    { name: 'metrics label matcher', yaml: 'type: metrics\nurl: http://a/metrics\nvalues: [{ name: a, series: "x{l=~\\"(?=a)\\"}" }]', key: 'values[0].series' },
  ];
  it.each(unsupported)('$name', ({ yaml, key }) => {
    const out = problems(`name: c\n${yaml}`);
    expect(out, out.join('\n')).toHaveLength(1);
    expect(out[0]).toMatch(new RegExp(`^vigil\\.yml:\\d+:\\d+ checks\\[0\\]\\.${key.replace(/[.[\]]/g, '\\$&')}: .*invalid regular expression.*(invalid or unsupported Perl syntax|invalid escape sequence|invalid named capture)`));
  });

  it('a file glob with a bad class is a config error', () => {
    expect(problems('name: c\ntype: file\npath: "/var/log/[z-a].log"')).toEqual([
      'vigil.yml:4:11 checks[0].path: invalid glob segment "[z-a].log": invalid character class range: `z-a`',
    ]);
  });

  // What one match may cover is bounded, so one match stays short on the event loop.
  const caps = [
    { yaml: 'type: http\nurl: http://x/\nmax_body_bytes: 1GiB', expected: 'vigil.yml:5:21 checks[0].max_body_bytes: at most 16MiB' },
    { yaml: 'type: tcp\nhost: h\nport: 1\nmax_read_bytes: 2MiB', expected: 'vigil.yml:6:21 checks[0].max_read_bytes: at most 1MiB' },
    { yaml: 'type: websocket\nurl: ws://x/\nmax_message_bytes: 17MiB', expected: 'vigil.yml:5:24 checks[0].max_message_bytes: at most 16MiB' },
  ];
  it.each(caps)('$expected', ({ yaml, expected }) => {
    expect(problems(`name: c\n${yaml}`)).toEqual([expected]);
  });

  it('a server heartbeat token that is too short is named', () => {
    let msg = '';
    try {
      parseConfig('server: { heartbeat_token: short }\n', 'vigil.yml', { env: {} });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^vigil\.yml:1:28 server\.heartbeat_token: heartbeat_token must be at least 16 characters$/);
  });
});

describe('http headers', () => {
  it('refuses a header that cannot be sent, naming it, before any run', () => {
    expect(problems('name: api\ntype: http\nurl: http://api/\nheaders: { "X-Evil": "a\\r\\nInjected: 1", "Bad Name": x }')).toEqual([
      expect.stringMatching(/^vigil\.yml:\d+:\d+ checks\[0\]\.headers\.X-Evil: header X-Evil has a character that cannot be sent/),
      expect.stringMatching(/^vigil\.yml:\d+:\d+ checks\[0\]\.headers\.<malformed key of 8 characters>: invalid header name "Bad Name"$/),
    ]);
    expect(problems('name: api\ntype: http\nurl: http://api/\nheaders: { Authorization: "Bearer é" }')).toEqual([]);
  });
});
