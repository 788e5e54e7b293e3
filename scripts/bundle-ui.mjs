// `npm run build`, after tsc: the status page's app.js and every module it imports as one file,
// dist/ui/app.bundle.js, stamped with a hash of the sources it was made from. The server serves
// it in place of app.js when the stamp matches its ui folder (exporter/server/routes/ui.ts), so a
// page load asks for one script instead of fourteen. esbuild is a dev dependency: the build
// stage of the image has it; the runtime stage gets the file.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { bundlePath, bundleStamp, findUiDir, uiSourcesHash } from '../dist/exporter/server/routes/ui.js';

const dir = findUiDir();
const sources = new Map(readdirSync(dir).filter((n) => n.endsWith('.js')).map((n) => [n, readFileSync(path.join(dir, n))]));
const out = await build({
  entryPoints: [path.join(dir, 'app.js')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const file = bundlePath(dir);
mkdirSync(path.dirname(file), { recursive: true });
const code = Buffer.from(out.outputFiles[0].contents);
writeFileSync(file, Buffer.concat([Buffer.from(`${bundleStamp(uiSourcesHash(sources))}\n`), code]));
console.log(`status page bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(1)} KB from ${sources.size} modules)`);
