// Resource attributes: service.name (OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else the app's
// package.json name), service.version (attributes, else package.json), host, runtime. Exported to
// Prometheus as target_info.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The nearest package.json above the app's entry script (the one `node app.js` runs). */
export function appPackage(entry: string | undefined = process.argv[1]): { name?: string; version?: string } {
  if (!entry) return {};
  let dir: string;
  try {
    dir = path.dirname(realpathSync(entry));
  } catch {
    dir = path.dirname(path.resolve(entry));
  }
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        return {
          name: typeof pkg.name === 'string' && pkg.name !== '' ? pkg.name : undefined,
          version: typeof pkg.version === 'string' && pkg.version !== '' ? pkg.version : undefined,
        };
      } catch {
        return {};
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return {};
    dir = parent;
  }
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm32', ia32: 'x86', ppc64: 'ppc64', s390x: 's390x' };

export function resourceAttributes(opts: {
  serviceName?: string;
  fromEnv: Record<string, string>;
  entry?: string;
}): Record<string, string> {
  const pkg = appPackage(opts.entry);
  const attrs: Record<string, string> = {
    'host.name': os.hostname(),
    'host.arch': ARCH[process.arch] ?? process.arch,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  };
  if (pkg.version) attrs['service.version'] = pkg.version;
  Object.assign(attrs, opts.fromEnv);
  attrs['service.name'] = opts.serviceName ?? opts.fromEnv['service.name'] ?? pkg.name ?? 'unknown_service:node';
  return attrs;
}
