// The import graph of exporter/: every module imports only its own layer and the layers below
// (.dependency-cruiser.cjs lists them, bottom first), no modules import each other in a circle,
// and every folder belongs to a layer. A folder cycle needs an import from a lower layer to a
// higher one, so none can come back unnoticed.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/exporter.js';
import { importGraphViolations, loadRules, typeImportsAsValues } from '../support/import-graph.js';

describe('architecture', () => {
  it('has no upward import, no circle and no module outside a layer', async () => {
    const { modules, violations } = await importGraphViolations(ROOT);
    expect(modules).toBeGreaterThan(100); // the whole exporter was read, not an empty tree
    expect(violations).toEqual([]);
  }, 60_000);

  it('puts every file and folder of exporter/ in a layer', () => {
    const layers = loadRules(ROOT).LAYERS.map((l) => new RegExp(l.path));
    const entries = readdirSync(path.join(ROOT, 'exporter'), { withFileTypes: true })
      .map((e) => `exporter/${e.name}${e.isDirectory() ? '/' : ''}`);
    expect(entries.filter((e) => !layers.some((re) => re.test(e)))).toEqual([]);
  });

  // The check itself must fail on what it guards against: each bad module added to a copy of the
  // tree brings exactly the violations expected, over those of the tree as it is.
  const bad: Array<{ name: string; extra: Record<string, string>; expected: RegExp[] }> = [
    {
      name: 'an upward import (the model reaching into the engine)',
      extra: { 'exporter/model/bad.ts': "import { StateStore } from '../engine/state.js';\nexport const s = StateStore;\n" },
      expected: [/^no-upward-from-model: exporter\/model\/bad\.js -> exporter\/engine\/state\.js$/],
    },
    {
      name: 'a type-only upward import (config using a probe type)',
      extra: { 'exporter/config/bad.ts': "import type { ProbeDefinition } from '../probes/types.js';\nexport type D = ProbeDefinition;\n" },
      expected: [/^no-upward-from-config: exporter\/config\/bad\.js -> exporter\/probes\/types\.js$/],
    },
    {
      name: 'an import closing a folder cycle (probes -> engine, which imports probes)',
      extra: { 'exporter/probes/bad.ts': "import { Scheduler } from '../engine/scheduler.js';\nexport const s = Scheduler;\n" },
      expected: [/^no-upward-from-probes: exporter\/probes\/bad\.js -> exporter\/engine\/scheduler\.js$/],
    },
    {
      name: 'a module circle inside one folder',
      extra: {
        'exporter/engine/bad-a.ts': "import { b } from './bad-b.js';\nexport const a = () => b;\n",
        'exporter/engine/bad-b.ts': "import { a } from './bad-a.js';\nexport const b = () => a;\n",
      },
      expected: [/^no-circular: exporter\/engine\/bad-[ab]\.js -> exporter\/engine\/bad-[ab]\.js$/],
    },
    {
      name: 'a folder outside every layer',
      extra: { 'exporter/misc/bad.ts': "import { VERSION } from '../version.js';\nexport const v = VERSION;\n" },
      expected: [/^in-a-layer: exporter\/misc\/bad\.js -> exporter\/version\.js$/],
    },
  ];
  let baseline: string[] | undefined;
  for (const c of bad) {
    it(`reports ${c.name}`, async () => {
      baseline ??= (await importGraphViolations(ROOT)).violations;
      const added = (await importGraphViolations(ROOT, c.extra)).violations.filter((v) => !baseline!.includes(v));
      expect(added.length).toBeGreaterThan(0);
      for (const v of added) expect(c.expected.some((re) => re.test(v)), `unexpected: ${v}`).toBe(true);
      for (const re of c.expected) expect(added.some((v) => re.test(v)), `missing: ${re}`).toBe(true);
    }, 60_000);
  }

  it('keeps type-only imports as imports', () => {
    expect(typeImportsAsValues("import type { A } from './a.js';\nimport { b, type C } from './b.js';\nexport type { D } from './d.js';\nexport type E = A;\n"))
      .toBe("import { A } from './a.js';\nimport { b, C } from './b.js';\nexport { D } from './d.js';\nexport type E = A;\n");
  });
});
