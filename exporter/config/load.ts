// vigil.yml -> VigilConfig. Order: parse (YAML errors with positions), interpolate ${ENV} and
// *_file secrets, validate the top level, validate each check against its type's schema,
// cross-check (duplicates, components, dependency cycles, threshold keys). Every problem is
// collected and reported at once, each with file:line:column and the key path.
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import { z } from 'zod';
import { checkCommonSchema } from './common.js';
import type { CheckCommon } from '../model/check.js';
import { reservedLabels, type CheckKind } from './kinds.js';
import { ConfigError, type ConfigPath, type ConfigProblem } from './errors.js';
import { MAX_CONFIG_BYTES, MAX_SECRET_BYTES, readRegularFile, UnreadableFileError } from './files.js';
import { registerSecret, registerUrlPasswords } from './secrets.js';
import { parseYaml } from './yaml-source.js';
import { spliceItems, spliceParse, type SpliceBase } from './yaml-splice.js';
import { topLevelSchema, type ProbeModule, type VigilConfig } from './schema.js';
import { findCycle } from './graph.js';

export interface LoadOptions {
  /** The check kinds a config may use (probes/index.ts's list; handed in, see kinds.ts). */
  kinds: readonly CheckKind[];
  env?: NodeJS.ProcessEnv;
  /**
   * The last good parse of this file, kept by the caller across reloads: an edit inside one check
   * is parsed alone (yaml-splice.ts). Updated here after each good parse.
   */
  splice?: { base?: SpliceBase };
}

export function loadConfigFile(file: string, opts: LoadOptions): VigilConfig {
  let text: string;
  try {
    text = readRegularFile(file, MAX_CONFIG_BYTES);
  } catch (err) {
    const message = !(err instanceof UnreadableFileError) ? 'cannot read config'
      : err.code ? `cannot read config: ${err.code}` : `config refused: ${err.message}`;
    throw new ConfigError([{ file, path: [], message }]);
  }
  return parseConfig(text, file, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions): VigilConfig {
  const holder = opts.splice;
  const spliced = holder?.base && Buffer.byteLength(text) <= MAX_CONFIG_BYTES ? spliceParse(holder.base, text) : undefined;
  if (spliced) {
    try {
      const cfg = validateConfig(spliced.raw, file, opts, () => ({}));
      holder!.base = { text, raw: spliced.raw, items: spliced.items };
      return cfg;
    } catch (err) {
      // The problems are reported from the full parse, which knows their lines.
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  const { doc, lineCounter, raw } = parseYaml(text, file, MAX_CONFIG_BYTES);
  const cfg = validateConfig(raw, file, opts, (p, keyOf) => locate(doc, lineCounter, p, keyOf));
  if (holder) holder.base = { text, raw: raw as Record<string, unknown>, items: spliceItems(doc, text) };
  return cfg;
}

/** Everything after the YAML: env and secrets, schemas, cross-checks. `where` gives a path's line and column. */
function validateConfig(raw: unknown, file: string, opts: LoadOptions, where: (p: ConfigPath, keyOf: boolean) => { line?: number; column?: number }): VigilConfig {
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const at = (p: ConfigPath, message: string, keyOf = false) =>
    problems.push({ file, path: p, message, ...where(p, keyOf) });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    at([], 'the config must be a mapping with keys such as defaults, components, checks');
    throw new ConfigError(problems);
  }
  const baseDir = path.dirname(path.resolve(file));
  const resolved = resolveSecrets(raw, [], { env, baseDir, at });

  const top = topLevelSchema.safeParse(resolved);
  if (!top.success) {
    reportZod(top.error, [], at);
    throw new ConfigError(problems);
  }
  const cfg = top.data;

  const kinds: Kinds = { byType: new Map(opts.kinds.map((k) => [k.type, k])), reserved: reservedLabels(opts.kinds) };
  const checks: CheckCommon[] = [];
  const seen = new Map<string, number>();
  cfg.checks.forEach((entry, i) => {
    const check = validateCheck(entry, ['checks', i], cfg.defaults, kinds, at);
    if (!check) return;
    const first = seen.get(check.name);
    if (first !== undefined) at(['checks', i, 'name'], `duplicate check name "${check.name}" (first defined at checks[${first}])`);
    else seen.set(check.name, i);
    checks.push(check);
  });

  // Components: declared ones, plus any a check names (implicit, no description).
  const components = new Map(cfg.components.map((c) => [c.name, c]));
  const declared = new Map<string, number>();
  cfg.components.forEach((c, i) => {
    if (declared.has(c.name)) at(['components', i, 'name'], `duplicate component "${c.name}"`);
    declared.set(c.name, i);
  });
  for (const check of checks) {
    if (!components.has(check.component)) components.set(check.component, { name: check.component, depends_on: [] });
  }
  cfg.components.forEach((c, i) => {
    c.depends_on.forEach((dep, j) => {
      if (!components.has(dep)) at(['components', i, 'depends_on', j], `unknown component "${dep}"`);
      if (dep === c.name) at(['components', i, 'depends_on', j], 'a component cannot depend on itself');
    });
  });
  // Self-dependencies are reported above; leaving them out here avoids a second report of the same mistake.
  const cycle = findCycle(new Map([...components.values()].map((c) => [c.name, c.depends_on.filter((d) => d !== c.name)])));
  if (cycle) {
    const i = declared.get(cycle[0]) ?? 0;
    at(['components', i, 'depends_on'], `dependency cycle: ${cycle.join(' -> ')}`);
  }

  const windows = new Map<string, number>();
  cfg.maintenance.forEach((w, i) => {
    if (windows.has(w.name)) at(['maintenance', i, 'name'], `duplicate maintenance window "${w.name}" (first defined at maintenance[${windows.get(w.name)}])`);
    else windows.set(w.name, i);
    w.scope.components.forEach((c, j) => {
      if (!components.has(c)) at(['maintenance', i, 'scope', 'components', j], `unknown component "${c}"`);
    });
    w.scope.checks.forEach((c, j) => {
      if (!seen.has(c)) at(['maintenance', i, 'scope', 'checks', j], `unknown check "${c}"`);
    });
  });

  const modules: Record<string, ProbeModule> = {};
  for (const [name, entry] of Object.entries(cfg.modules)) {
    const m = validateModule(name, entry, cfg.defaults, kinds, at);
    if (m) modules[name] = m;
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    modules,
    file,
    defaults: cfg.defaults,
    server: cfg.server,
    scheduler: cfg.scheduler,
    metrics: cfg.metrics,
    history: cfg.history,
    storage: cfg.storage,
    components: [...components.values()],
    checks,
    maintenance: cfg.maintenance,
  };
}

export type At = (p: ConfigPath, message: string, keyOf?: boolean) => void;

/** A module: a check without its target, validated with the kind's example target in its place. */
function validateModule(name: string, entry: Record<string, unknown>, defaults: VigilConfig['defaults'], kinds: Kinds, at: At): ProbeModule | undefined {
  const p = ['modules', name];
  const type = entry.type;
  const def = typeof type === 'string' ? kinds.byType.get(type) : undefined;
  const withTarget = [...kinds.byType.values()].filter((k) => k.target).map((k) => k.type).sort().join(', ');
  if (!def?.target) {
    at([...p, 'type'], typeof type !== 'string' ? `missing module type, expected one of ${withTarget}` : `type "${type}" cannot be a module (it takes no target), expected one of ${withTarget}`);
    return undefined;
  }
  let ok = true;
  for (const key of def.target.keys) {
    if (key in entry) {
      at([...p, key], `${key} comes from the target parameter of /probe; a module leaves it out`, true);
      ok = false;
    }
  }
  if ('name' in entry) {
    at([...p, 'name'], 'a module is named by its key', true);
    ok = false;
  }
  if (!ok) return undefined;
  const fields = { ...entry };
  const example = def.target.parse(def.target.example) as Exclude<ReturnType<typeof def.target.parse>, string>;
  return validateCheck({ name, ...fields, ...example.fields }, p, defaults, kinds, at) ? { name, type: def.type, fields } : undefined;
}

/**
 * The check a /probe request runs: the module with the target's fields, validated as a check.
 * Throws a ConfigError whose problems say what is wrong with the target.
 */
export function moduleCheck(module: ProbeModule, target: string, defaults: VigilConfig['defaults'], kindList: readonly CheckKind[]): { check: CheckCommon; host: string; port?: number } {
  const kinds: Kinds = { byType: new Map(kindList.map((k) => [k.type, k])), reserved: reservedLabels(kindList) };
  const def = kinds.byType.get(module.type)!;
  const parsed = def.target!.parse(target);
  const problems: ConfigProblem[] = [];
  const at: At = (p, message) => problems.push({ file: 'target', path: p, message });
  if (typeof parsed === 'string') {
    at([], parsed);
    throw new ConfigError(problems);
  }
  const check = validateCheck({ name: module.name, ...module.fields, ...parsed.fields }, [], defaults, kinds, at);
  if (!check) throw new ConfigError(problems);
  return { check, host: parsed.host, port: parsed.port };
}

interface Kinds {
  byType: Map<string, CheckKind>;
  /** label -> the family that sets it */
  reserved: Map<string, string>;
}

// One schema per kind: building it (and zod compiling its fast path on first use) per check
// cost ~0.3 ms a check, most of the load time of a config with 10 000 checks.
const checkSchemas = new WeakMap<CheckKind, z.ZodType>();
function checkSchemaOf(def: CheckKind): z.ZodType {
  let schema = checkSchemas.get(def);
  if (!schema) checkSchemas.set(def, (schema = checkCommonSchema.extend(def.schema.shape).strict()));
  return schema;
}

function validateCheck(entry: Record<string, unknown>, p: ConfigPath, defaults: VigilConfig['defaults'], kinds: Kinds, at: At): CheckCommon | undefined {
  const type = entry.type;
  const types = () => [...kinds.byType.keys()].sort().join(', ');
  if (typeof type !== 'string') {
    at([...p, 'type'], `missing check type, expected one of ${types()}`);
    return undefined;
  }
  const def = kinds.byType.get(type);
  if (!def) {
    at([...p, 'type'], `unknown check type "${type}", expected one of ${types()}`);
    return undefined;
  }
  const parsed = checkSchemaOf(def).safeParse(entry);
  if (!parsed.success) {
    reportZod(parsed.error, p, at);
    return undefined;
  }
  const c = parsed.data as Record<string, any>;
  // Object.assign, not a spread: in Node 20's V8 the spread gave each of 10 000 checks a hidden
  // class of its own (~0.9 KB each; model/result.ts, withSamples).
  const check = Object.assign({}, c) as CheckCommon;
  check.component = c.component ?? c.name;
  check.interval = c.interval ?? defaults.interval;
  // An inherited timeout never outlasts the check's own interval; an explicit one must not.
  check.timeout = c.timeout ?? Math.min(defaults.timeout, c.interval ?? defaults.interval);
  check.retries = c.retries ?? defaults.retries;
  check.retry_delay = c.retry_delay ?? defaults.retry_delay;
  const quorum = c.quorum ?? defaults.quorum;
  if (quorum !== undefined) check.quorum = quorum;
  if (check.timeout > check.interval) {
    at([...p, 'timeout'], `timeout ${check.timeout / 1000}s is longer than the interval ${check.interval / 1000}s`);
  }
  check.thresholds = { ...(def.defaultThresholds?.(check) ?? {}), ...check.thresholds };
  let ok = true;
  for (const label of Object.keys(check.labels)) {
    const family = kinds.reserved.get(label);
    if (family === undefined) continue;
    at([...p, 'labels', label], `label "${label}" is reserved by Vigil (${family === 'every check series' ? 'every check series has it' : `a label of ${family}`}); choose another name`, true);
    ok = false;
  }
  const keys = new Set(['response_time', ...def.thresholdKeys(check)]);
  for (const key of Object.keys(c.thresholds ?? {})) {
    if (!keys.has(key)) {
      at([...p, 'thresholds', key], `unknown threshold "${key}" for type ${type}, expected one of ${[...keys].join(', ')}`, true);
      ok = false;
    }
  }
  for (const [sub, message] of def.validate?.(check) ?? []) {
    at([...p, ...sub], message);
    ok = false;
  }
  return ok ? check : undefined;
}

export function reportZod(error: z.ZodError, prefix: ConfigPath, at: At) {
  for (const issue of error.issues) {
    const p = [...prefix, ...(issue.path as ConfigPath)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) at([...p, key], 'unknown key (check the spelling)', true);
    } else if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length) {
      // Report the branch that got furthest rather than "invalid input".
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      for (const sub of best) at([...p, ...(sub.path as ConfigPath)], sub.message);
    } else {
      at(p, issue.message);
    }
  }
}

/** Find the source position for a path; walks up to the nearest node that exists. */
export function locate(doc: Document, lc: LineCounter, p: ConfigPath, keyOf: boolean): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let best: unknown = node;
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    const last = i === p.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === seg);
      if (!pair) break;
      best = last && keyOf ? pair.key : pair.value ?? pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      best = node;
    } else break;
  }
  if (isNode(best) && best.range) {
    const pos = lc.linePos(best.range[0]);
    return { line: pos.line, column: pos.col };
  }
  return {};
}

// Keys whose interpolated values are treated as secrets. Other ${ENV} values (hosts, ports)
// stay visible so errors remain useful.
const SECRET_KEY_RE = /(password|passwd|secret|token|key|auth|credential|dsn|url|headers|authorization)/i;

// Keys whose literal values are credentials: registered for redaction even when not interpolated.
// Narrower than SECRET_KEY_RE so plain URLs and hosts stay readable in messages.
const CREDENTIAL_KEY_RE = /(password|passwd|pwd|secret|token|credential|api[_-]?key|private[_-]?key|authorization)/i;

interface ResolveCtx {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  at: At;
}

/** Interpolate ${VAR} / ${VAR:-default} and replace `foo_file: path` by `foo: <file contents>`. */
function resolveSecrets(value: unknown, p: ConfigPath, ctx: ResolveCtx, secretContext = false): unknown {
  if (typeof value === 'string') {
    registerUrlPasswords(value);
    if (!value.includes('${')) return value;
    let interpolated = false;
    const out = value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (m, name: string, def?: string) => {
      if (m === '$$') return '$';
      const v = ctx.env[name];
      if (v === undefined || v === '') {
        if (def !== undefined) return def;
        ctx.at(p, `environment variable ${name} is not set`);
        return '';
      }
      interpolated = true;
      if (secretContext) registerSecret(v);
      registerUrlPasswords(v);
      return v;
    });
    return interpolated || out !== value ? out : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, [...p, i], ctx, secretContext));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const secret = secretContext || SECRET_KEY_RE.test(k);
      if (k.endsWith('_file') && typeof v === 'string' && k !== 'config_file') {
        const target = k.slice(0, -'_file'.length);
        if (target in (value as object)) {
          ctx.at([...p, k], `set either ${target} or ${k}, not both`, true);
          continue;
        }
        const file = path.resolve(ctx.baseDir, String(resolveSecrets(v, [...p, k], ctx)));
        try {
          const content = readRegularFile(file, MAX_SECRET_BYTES).replace(/\r?\n$/, '');
          registerSecret(content);
          out[target] = content;
        } catch (err) {
          ctx.at([...p, k], err instanceof UnreadableFileError ? err.message : `cannot read ${file}`);
        }
        continue;
      }
      const resolved = resolveSecrets(v, [...p, k], ctx, secret);
      // A credential written inline (password: "hunter2") is as secret as one from ${ENV}; a
      // URL's userinfo password (postgres://u:pw@host) is one wherever it appears.
      if (typeof resolved === 'string' && CREDENTIAL_KEY_RE.test(k)) registerSecret(resolved);
      out[k] = resolved;
    }
    return out;
  }
  return value;
}
