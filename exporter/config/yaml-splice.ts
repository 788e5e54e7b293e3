// A reload that edits one check of a large vigil.yml without parsing the whole file again.
//
// Parsing YAML costs ~0.15 ms a check (10 000 checks: ~1.5 s of the library's parser), while the
// usual reload changes one line. The previous parse is kept with the source range of each item of
// `checks:`; when the new text differs from the old inside one block item (`- ...`) only, that
// item alone is parsed and put in place of the old one in the previous plain value. Anything
// else — a change outside the checks, across items, at an item's edge, anchors or aliases
// anywhere, an item that does not parse alone into exactly one entry — takes the full parse.
// Validation (env, secrets, schemas, cross-checks) always runs on the whole value: only the
// YAML text-to-value step is spared.
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';

const MAX_ITEM_BYTES = 16 * 1024;

/** What a full parse leaves for the next one. */
export interface SpliceBase {
  text: string;
  /** The document as plain data. */
  raw: Record<string, unknown>;
  /** [start, end) of each `checks:` item's value in `text`; undefined when splicing is off for this text. */
  items?: Array<[number, number]>;
}

/** The checks items' ranges of a fully parsed document, or undefined when it must never be spliced. */
export function spliceItems(doc: Document, text: string): Array<[number, number]> | undefined {
  if (usesAnchors(doc)) return undefined;
  if (!isMap(doc.contents)) return undefined;
  const checks = doc.contents.get('checks', true) as Node | undefined;
  if (!isSeq(checks) || checks.flow) return undefined;
  const out: Array<[number, number]> = [];
  for (const item of checks.items as Node[]) {
    if (!item?.range) return undefined;
    const [start, end] = item.range;
    if (!blockItemStart(text, start)) return undefined;
    out.push([start, end]);
  }
  return out;
}

/**
 * The new plain value when `text` differs from `base.text` inside one checks item only, parsed
 * from that item alone; undefined when the full parse is needed.
 */
export function spliceParse(base: SpliceBase, text: string): { raw: Record<string, unknown>; items: Array<[number, number]> } | undefined {
  const items = base.items;
  if (!items?.length || text === base.text) return undefined;
  const old = base.text;
  // The changed span: [a, oldEnd) in the old text is [a, newEnd) in the new one.
  let a = 0;
  const min = Math.min(old.length, text.length);
  while (a < min && old.charCodeAt(a) === text.charCodeAt(a)) a++;
  let s = 0;
  while (s < min - a && old.charCodeAt(old.length - 1 - s) === text.charCodeAt(text.length - 1 - s)) s++;
  const oldEnd = old.length - s;
  const delta = text.length - old.length;
  const k = findItem(items, a, oldEnd);
  if (k < 0) return undefined;
  const [start, end] = items[k];
  // The item from the start of its line ("  - "), so that its indentation parses as it stands.
  const lineStart = old.lastIndexOf('\n', start - 1) + 1;
  // One check is a few hundred bytes; a huge item (dense YAML) is left to the full parse and its token cap.
  if (end + delta - lineStart > MAX_ITEM_BYTES) return undefined;
  const slice = text.slice(lineStart, end + delta);
  const one = parseItem(slice);
  if (one === undefined) return undefined;
  const checks = (base.raw.checks as unknown[]).slice();
  checks[k] = one.value;
  const moved = items.map(([x, y], i): [number, number] => (i < k ? [x, y] : i === k ? [start, lineStart + one.end] : [x + delta, y + delta]));
  // The item must end where the old one's text after it starts again.
  if (moved[k][1] !== end + delta) return undefined;
  return { raw: { ...base.raw, checks }, items: moved };
}

/** The item whose value range strictly holds the changed span, or -1. */
function findItem(items: ReadonlyArray<[number, number]>, a: number, oldEnd: number): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid][1] <= a) lo = mid + 1;
    else hi = mid - 1;
  }
  if (lo >= items.length) return -1;
  const [start, end] = items[lo];
  // Strictly inside: an edit touching an item's first or last character could belong to its neighbour.
  return start < a && oldEnd < end ? lo : -1;
}

/** One block sequence item parsed alone: its plain value and where its value ends in `slice`. */
function parseItem(slice: string): { value: unknown; end: number } | undefined {
  const doc = parseDocument(slice, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length || doc.warnings.length || !isSeq(doc.contents) || doc.contents.items.length !== 1) return undefined;
  if (usesAnchors(doc)) return undefined;
  const node = doc.contents.items[0] as Node | undefined;
  if (!node?.range) return undefined;
  // A `?` key or a collection used as key is refused by the full parse with a message: leave it to it.
  let odd = false;
  visit(doc, { Pair(_k, pair) { if (!isScalar(pair.key)) odd = true; } });
  if (odd) return undefined;
  return { value: (doc.toJS() as unknown[])[0], end: node.range[1] };
}

function usesAnchors(doc: Document): boolean {
  let found = false;
  visit(doc, (_key, node) => {
    if (isAlias(node) || (node && typeof node === 'object' && 'anchor' in node && (node as { anchor?: string }).anchor)) {
      found = true;
      return visit.BREAK;
    }
    return undefined;
  });
  return found;
}

/** Whether the value starting at `start` is a block sequence item: only "- " and spaces before it on its line. */
function blockItemStart(text: string, start: number): boolean {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  return /^ *- +$/.test(text.slice(lineStart, start));
}
