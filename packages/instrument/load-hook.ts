// Patches the few libraries that publish nothing on diagnostics channels (koa's route, pg's
// queries) as they are loaded. Node 20 routes both `require()` and ESM `import` of a CommonJS
// package through Module._load, so one wrapper sees both; it only looks at the exports of
// requests whose name matches (no getter of any other module is touched).

import { createRequire } from 'node:module';

export interface LoadPatch {
  /** Cheap test on the request string: a bare name ('koa') or an absolute path (ESM imports). */
  matches(request: string): boolean;
  /** Patches the module's exports in place; must be idempotent (mark what it patched). */
  patch(exports: unknown): void;
}

interface ModuleStatic {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
}

const Module = createRequire(import.meta.url)('node:module') as ModuleStatic;
const kInstalled = Symbol.for('vigil.instrument.loadHook');

export function installLoadHook(patches: LoadPatch[], onError: (err: unknown) => void): void {
  if (patches.length === 0) return;
  const holder = Module as unknown as Record<symbol, LoadPatch[] | undefined>;
  const existing = holder[kInstalled];
  if (existing) {
    existing.push(...patches);
    return;
  }
  const all = [...patches];
  holder[kInstalled] = all;
  const original = Module._load;
  Module._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    // eslint-disable-next-line prefer-rest-params
    const exports = original.apply(this, arguments as unknown as [string, unknown, boolean]);
    if (typeof request === 'string') {
      for (const p of all) {
        if (!p.matches(request)) continue;
        try {
          p.patch(exports);
        } catch (err) {
          onError(err);
        }
      }
    }
    return exports;
  };
}

/** `name` or `/…/node_modules/name/<file>` (as ESM imports of CommonJS files arrive). */
export function requestMatcher(name: string, file: string): (request: string) => boolean {
  const suffix = `/node_modules/${name}/${file}`;
  const winSuffix = suffix.replace(/\//g, '\\');
  return (request) => request === name || request.endsWith(suffix) || request.endsWith(winSuffix);
}
