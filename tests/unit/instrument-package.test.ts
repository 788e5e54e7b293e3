// vigil/instrument is its own product in packages/instrument/, shipped inside the vigil package:
// its entry points resolve to what the root build emits, it stands alone (the demo-app image
// copies only this folder), and what it loads at run time is a production dependency.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG_DIR = path.join(ROOT, 'packages/instrument');
const json = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));
const pkg = json('package.json') as { bin: Record<string, string>; exports: Record<string, string>; dependencies: Record<string, string> };
const build = json('tsconfig.build.json') as { compilerOptions: { outDir: string; rootDir: string }; include: string[] };

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers of static imports/exports (side-effect ones too), `import()` and `require()` with a literal. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The source file tsconfig.build.json compiles to `dist/<rel>.js`, if one is included. */
function sourceOf(distPath: string): string | undefined {
  const rel = path.relative(path.join(ROOT, build.compilerOptions.outDir), path.join(ROOT, distPath));
  if (rel.startsWith('..') || !rel.endsWith('.js')) return undefined;
  const source = path.join(ROOT, build.compilerOptions.rootDir, rel.replace(/\.js$/, '.ts'));
  const srcRel = path.relative(ROOT, source).split(path.sep).join('/');
  const included = build.include.some((glob) => glob.endsWith('/**/*.ts') && srcRel.startsWith(glob.slice(0, -'**/*.ts'.length)));
  return included && existsSync(source) ? source : undefined;
}

describe('packages/instrument', () => {
  it('is what vigil/instrument, vigil/instrument/start and vigil/api resolve to after npm run build; the bin stays the exporter', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['./api', './instrument', './instrument/start']);
    expect(sourceOf(pkg.exports['./instrument']!)).toBe(path.join(PKG_DIR, 'register.ts'));
    expect(sourceOf(pkg.exports['./instrument/start']!)).toBe(path.join(PKG_DIR, 'start.ts'));
    expect(sourceOf(pkg.exports['./api']!)).toBe(path.join(PKG_DIR, 'api.ts'));
    expect(sourceOf(pkg.bin.vigil!)).toBe(path.join(ROOT, 'exporter/cli.ts'));
    const start = json('package.json').scripts.start as string;
    expect(start.split(' ').at(-1)).toBe(pkg.bin.vigil);
    // tsconfig.instrument.json (the integration test and the bench build with it) emits the same files.
    const only = json('tsconfig.instrument.json') as typeof build;
    expect(only.compilerOptions).toMatchObject({ outDir: build.compilerOptions.outDir, rootDir: build.compilerOptions.rootDir });
    expect(only.include).toEqual(['packages/instrument/**/*.ts']);
  });

  it('imports nothing outside its folder but Node built-ins and production dependencies', () => {
    const files = tsFiles(PKG_DIR);
    expect(files.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(file)) {
        const where = `${path.relative(ROOT, file)}: '${spec}'`;
        if (spec.startsWith('.')) {
          if (path.relative(PKG_DIR, path.resolve(path.dirname(file), spec)).startsWith('..')) problems.push(`${where} leaves packages/instrument`);
        } else if (!spec.startsWith('node:')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!(name in pkg.dependencies)) problems.push(`${where} is not in package.json dependencies`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('is not imported by the exporter (two products, no shared code)', () => {
    const problems: string[] = [];
    for (const file of tsFiles(path.join(ROOT, 'exporter'))) {
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.') && !path.relative(PKG_DIR, path.resolve(path.dirname(file), spec)).startsWith('..')) problems.push(`${path.relative(ROOT, file)}: '${spec}'`);
        if (spec === 'vigil' || spec.startsWith('vigil/')) problems.push(`${path.relative(ROOT, file)}: '${spec}'`);
      }
    }
    expect(problems).toEqual([]);
  });
});
