// Build dist/ once per test run: CLI and stack tests spawn the compiled exporter, as `npm start` does.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup() {
  // For quick local runs against an already-built dist/ only; CI always builds.
  if (process.env.VIGIL_SKIP_BUILD === '1') return;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // As `npm run build`: the status page's scripts bundled, so the browser tests load what production serves.
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle-ui.mjs')], { cwd: root, stdio: 'inherit' });
}
