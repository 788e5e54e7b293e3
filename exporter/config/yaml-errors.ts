// YAML syntax errors, reported without the source they point at. The `yaml` library's messages
// quote the offending token ('Unexpected scalar token in YAML stream: "postgres://u:pw@db"'), and
// the token is often the very secret on that line; file:line:column is enough to find it.
import type { YAMLError } from 'yaml';

const BY_CODE: Record<string, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot have an anchor or a tag',
  BAD_ALIAS: 'an alias (*name) refers to an anchor that is not defined before it',
  BAD_COLLECTION_TYPE: 'the tag does not fit this kind of collection',
  BAD_DIRECTIVE: 'invalid % directive',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation (a flow collection must be indented and closed, block entries aligned)',
  BAD_PROP_ORDER: 'an anchor or a tag is in the wrong place',
  BAD_SCALAR_START: 'a plain value cannot start with this character; quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block cannot be a key; is a ":" missing or misplaced?',
  BLOCK_IN_FLOW: 'block syntax (- or key: on its own line) inside a flow collection [ ] or { }',
  DUPLICATE_KEY: 'duplicate key',
  IMPOSSIBLE: 'the YAML parser could not read this',
  KEY_OVER_1024_CHARS: 'an implicit key is longer than 1024 characters',
  MISSING_CHAR: 'a closing quote, bracket or brace is missing',
  MULTILINE_IMPLICIT_KEY: 'a key must be on one line; is a ":" or a closing quote missing?',
  MULTIPLE_ANCHORS: 'a node has more than one anchor',
  MULTIPLE_DOCS: 'more than one YAML document (---) in the file',
  MULTIPLE_TAGS: 'a node has more than one tag',
  NON_STRING_KEY: 'keys must be plain strings',
  RESOURCE_EXHAUSTION: 'too many alias expansions',
  TAB_AS_INDENT: 'tabs are not allowed as indentation; use spaces',
  TAG_RESOLVE_FAILED: 'unknown tag (!something)',
};

// Token kinds the parser names in "Unexpected <kind> …": a fixed vocabulary, never source text.
const TOKEN_KINDS: Record<string, string> = {
  scalar: 'value',
  'double-quoted-scalar': 'quoted value',
  'single-quoted-scalar': 'quoted value',
  'block-scalar': 'block value (| or >)',
  'map-value-ind': '":"',
  'seq-item-ind': '"-"',
  'explicit-key-ind': '"?"',
  'flow-map-start': '"{"',
  'flow-map-end': '"}"',
  'flow-seq-start': '"["',
  'flow-seq-end': '"]"',
  comma: '","',
  anchor: 'anchor (&name)',
  alias: 'alias (*name)',
  tag: 'tag (!name)',
  comment: 'comment',
  'doc-start': '"---"',
  'doc-end': '"..."',
  directive: '% directive',
  'flow-error-end': 'end of a flow collection',
};

// The library's own wording is kept when, cut before its ": <source>" detail, it is made only of
// words and plain punctuation. Its interpolations that are not a fixed vocabulary (an escape
// sequence, a tag, an anchor, an indicator character) all carry \ ! & % @ ` " or ':', so they
// fail this test and the message built from the error code is used instead.
const PLAIN_MESSAGE_RE = /^[A-Za-z][A-Za-z ,.()'-]*$/;

export function yamlErrorMessage(err: Pick<YAMLError, 'code' | 'message'>): string {
  const head = err.message.split('\n')[0].split(/(?<! ): /)[0].trim();
  // " : " is the library naming the indicator ("Missing , or : between flow sequence items").
  if (head.length <= 120 && PLAIN_MESSAGE_RE.test(head.replace(/ : /g, ' ')) && !/\bin YAML stream$/.test(head)) return head;
  if (err.code === 'UNEXPECTED_TOKEN') {
    const kind = /^Unexpected ([a-z-]+)/.exec(err.message)?.[1];
    const what = kind && TOKEN_KINDS[kind];
    if (what) return `unexpected ${what} here; check the indentation and quoting of this line`;
    return 'unexpected token here; check the indentation and quoting of this line';
  }
  return BY_CODE[err.code] ?? `YAML error ${err.code}`;
}
