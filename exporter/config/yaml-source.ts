// YAML text -> document and plain value, at a bounded cost and with errors that never quote the
// source. Shared by vigil.yml and the web config: both are read by a running exporter on reload,
// and both may hold secrets.
import { isNode, isScalar, Lexer, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ConfigError, shownKey, type ConfigProblem } from './errors.js';
import { formatBytes } from './files.js';
import { yamlErrorMessage } from './yaml-errors.js';

/**
 * Parsing cost in time and memory grows with the number of YAML tokens (~250 bytes of heap and a
 * few µs each), and dense YAML (`[1,1,1,…]`) has 1.5 tokens a byte, so the byte cap alone would
 * still allow ~400 MB of parse tree. A million tokens is ~35 % more than the 20 000-check
 * benchmark config has (740 000) and caps the parse at ~250 MB and a few seconds.
 */
export const MAX_CONFIG_TOKENS = 1_000_000;
/** Alias expansions (`*ref` nested in anchors) allowed while building the value: billion-laughs stop here. */
const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  doc: Document;
  lineCounter: LineCounter;
  /** The document as plain data (`{}` for an empty document). */
  raw: unknown;
}

/** Parse `text` (from `file`, for messages). Throws ConfigError listing every syntax problem. */
export function parseYaml(text: string, file: string, maxBytes: number): YamlSource {
  if (Buffer.byteLength(text) > maxBytes) {
    throw new ConfigError([{ file, path: [], message: `config refused: larger than the ${formatBytes(maxBytes)} limit` }]);
  }
  if (tooManyTokens(text)) {
    throw new ConfigError([{ file, path: [], message: `config refused: more than ${MAX_CONFIG_TOKENS} YAML tokens (about 25 000 checks)` }]);
  }
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below: the library compares every key with every other (quadratic:
  // a 1 MiB map took 5 minutes).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problems: ConfigProblem[] = [];
  const syntax = (offset: number, message: string) => {
    const pos = lineCounter.linePos(offset);
    problems.push({ file, line: pos.line, column: pos.col, path: [], message: `YAML syntax: ${message}` });
  };
  // The library's messages quote the offending source ("…token in YAML stream: "postgres://u:pw@…""),
  // which may be a secret: only the position and a message built from the error code are kept.
  for (const e of doc.errors) syntax(e.pos[0], yamlErrorMessage(e));
  if (!doc.errors.length) findDuplicateKeys(doc, syntax);
  if (problems.length) throw new ConfigError(problems);

  try {
    return { doc, lineCounter, raw: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {} };
  } catch (err) {
    // toJS only throws on alias abuse (ReferenceError) or a broken alias; neither carries source text we want.
    const message = err instanceof ReferenceError && /alias/i.test(err.message)
      ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): nested anchors like this are refused`
      : 'an alias could not be resolved';
    throw new ConfigError([{ file, path: [], message: `YAML syntax: ${message}` }]);
  }
}

function tooManyTokens(text: string): boolean {
  let n = 0;
  for (const _ of new Lexer().lex(text)) if (++n > MAX_CONFIG_TOKENS) return true;
  return false;
}

/** Every key of every mapping must be a unique scalar; one Set per mapping keeps it linear. */
function findDuplicateKeys(doc: Document, report: (offset: number, message: string) => void): void {
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) {
          // A `?` key or a flow mapping used as a key: never meant in a config, and its text
          // (shown as a key name) could be a credential.
          if (pair.key) report(keyOffset(pair.key), 'a mapping or list used as a key (a stray "?" or a misplaced brace?)');
          continue;
        }
        const k = pair.key.value;
        if (seen.has(k)) report(pair.key.range?.[0] ?? 0, `duplicate key "${shownKey(String(k))}"`);
        seen.add(k);
      }
    },
  });
}

function keyOffset(key: unknown): number {
  return isNode(key) ? key.range?.[0] ?? 0 : 0;
}
