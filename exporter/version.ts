// Version facts for --version and vigil_build_info, read from the package.json this file ships in.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackage(): { version: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.name === 'vigil') return pkg;
    }
    dir = path.dirname(dir);
  }
  return { version: '0.0.0' };
}

export const VERSION = findPackage().version;
/** Set at image build time (VIGIL_REVISION); "unknown" otherwise. */
export const REVISION = process.env.VIGIL_REVISION ?? 'unknown';
