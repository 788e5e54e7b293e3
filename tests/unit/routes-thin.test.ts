// Routes stay thin (issue 13): a handler parses parameters, asks views/ for a document and
// answers. Each handler is under 40 lines, and no route file reaches for the Runtime: routes get
// typed dependencies (server/deps.ts), built once in app.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../exporter/server/routes');
const MAX_LINES = 40;
// A route (`router.get(...)`) or a function taking the request context (`(ctx) =>`, `(ctx: Context)`).
const HANDLER = /router\.(get|post)\(|\(ctx(: Context)?\)\s*(=>|\{)|function \w+\(ctx/;

/** Handlers of a file with their length: from the opening line to the next line indented no deeper. */
function handlers(file: string): Array<{ at: string; lines: number }> {
  const lines = readFileSync(path.join(DIR, file), 'utf8').split('\n');
  const indent = (l: string) => l.length - l.trimStart().length;
  const out: Array<{ at: string; lines: number }> = [];
  lines.forEach((l, i) => {
    if (!HANDLER.test(l) || /\)\s*;\s*$/.test(l)) return; // one-liners are thin by definition
    let j = i + 1;
    while (j < lines.length && !(lines[j].trim() && indent(lines[j]) <= indent(l))) j++;
    out.push({ at: `${file}:${i + 1}`, lines: j - i + 1 });
  });
  return out;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

describe('routes are thin', () => {
  it('finds the handlers it measures', () => {
    expect(handlers('history.ts').map((h) => h.at)).toHaveLength(3);
  });

  for (const file of files) {
    it(`${file}: every handler under ${MAX_LINES} lines`, () => {
      for (const h of handlers(file)) expect(h.lines, h.at).toBeLessThan(MAX_LINES);
    });
    it(`${file}: takes typed dependencies, not the Runtime; documents and CSV come from views/`, () => {
      const text = readFileSync(path.join(DIR, file), 'utf8');
      expect(text).not.toMatch(/runtime\.js'|\bRuntime\b/);
      expect(text).not.toMatch(/csvLine|toCsv|csvField/);
    });
  }
});
