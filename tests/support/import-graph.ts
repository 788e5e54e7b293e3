// The exporter's import graph, checked against .dependency-cruiser.cjs with dependency-cruiser's
// JS API. dependency-cruiser reads TypeScript through the TypeScript compiler API, which the
// native TypeScript 7 compiler this project uses does not have (and its CLI refuses Node 20), so
// each module is first turned into JavaScript with esbuild, type-only imports kept as imports:
// a type is as much a dependency between layers as a value is.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import { transformSync } from 'esbuild';

const require = createRequire(import.meta.url);

export interface Layer {
  name: string;
  path: string;
}

export interface Rules {
  LAYERS: Layer[];
  forbidden: unknown[];
  options: Record<string, unknown>;
}

export function loadRules(root: string): Rules {
  return require(path.join(root, '.dependency-cruiser.cjs')) as Rules;
}

/** `import type {A}` and `import {type A}` as plain imports, so the transform keeps them. */
export function typeImportsAsValues(source: string): string {
  return source.replace(/^import\s+type\s+(?=[{*]|[A-Za-z_$][\w$]*\s+from\b)/gm, 'import ')
    .replace(/^export\s+type\s+(?=[{*])/gm, 'export ')
    .replace(/^(import|export)\s*\{[^}]*\}\s*from/gm, (stmt) => stmt.replace(/([{,]\s*)type\s+(?=[A-Za-z_$])/g, '$1'));
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

/**
 * The modules cruised and every rule violation as `rule: from -> to`. `extra` adds modules
 * (repository path -> TypeScript source) to the cruised copy only: the tests' bad imports.
 */
export async function importGraphViolations(root: string, extra: Record<string, string> = {}, folder = 'exporter'): Promise<{ modules: number; violations: string[] }> {
  const rules = loadRules(root);
  const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-import-graph-'));
  const cwd = process.cwd();
  try {
    const sources = new Map<string, string>();
    for (const file of tsFiles(path.join(root, folder))) sources.set(path.relative(root, file), readFileSync(file, 'utf8'));
    for (const [rel, text] of Object.entries(extra)) sources.set(rel, text);
    for (const [rel, text] of sources) {
      const { code } = transformSync(typeImportsAsValues(text), {
        loader: 'ts', format: 'esm', sourcefile: rel, tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      });
      const out = path.join(tmp, rel.replace(/\.ts$/, '.js'));
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, code);
    }
    process.chdir(tmp); // the rules' paths are relative to the repository root
    const result = await cruise([folder], { ...rules.options, ruleSet: { forbidden: rules.forbidden }, validate: true } as never);
    const output = result.output as { modules: unknown[]; summary: { violations: Array<{ from: string; to: string; rule: { name: string } }> } };
    return {
      modules: output.modules.length,
      violations: output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
    };
  } finally {
    process.chdir(cwd);
    rmSync(tmp, { recursive: true, force: true });
  }
}
