// The status page's assets as the server serves them: one stylesheet holding every .css file;
// the scripts either as one bundle (`npm run build`, used only when made from these very
// sources) or as modules with a modulepreload link for every module the entry reaches.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlePath, bundleStamp, findUiDir, loadAssets, moduleClosure, PAGE_CSS, uiSourcesHash } from '../../exporter/server/routes/ui.js';

const source = findUiDir();
// A copy of the ui folder laid out as in the package (exporter/server/ui), with no bundle beside it.
const root = mkdtempSync(path.join(tmpdir(), 'vigil-ui-'));
const dir = path.join(root, 'exporter/server/ui');
cpSync(source, dir, { recursive: true });
const scripts = () => new Map(readdirSync(dir).filter((n) => n.endsWith('.js')).map((n) => [n, readFileSync(path.join(dir, n))]));

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('status page assets', () => {
  it('links one stylesheet, which holds every .css file, style.css first', () => {
    const { version, html, files } = loadAssets(dir);
    expect(html.match(/rel="stylesheet"/g)).toHaveLength(1);
    expect(html).toContain(`href="ui/${version}/${PAGE_CSS}"`);
    const css = files.get(PAGE_CSS)!.body.toString('utf8');
    const names = readdirSync(dir).filter((n) => n.endsWith('.css'));
    expect(names.length).toBeGreaterThan(1);
    for (const n of names) expect(css, n).toContain(readFileSync(path.join(dir, n), 'utf8'));
    expect(css.indexOf('/* style.css */')).toBe(0);
  });

  it('without a bundle: preloads every module app.js imports, directly or through another, and nothing else', () => {
    const { html, files } = loadAssets(dir);
    const preloaded = [...html.matchAll(/rel="modulepreload" href="ui\/[0-9a-f]+\/([\w.-]+)"/g)].map((m) => m[1]).sort();
    expect(preloaded).toEqual(moduleClosure('app.js', scripts()).filter((n) => n !== 'app.js'));
    expect(preloaded).toEqual(expect.arrayContaining(['dom.js', 'format.js', 'maintenance.js', 'shards.js', 'api.js']));
    expect(preloaded).not.toContain('logs.js'); // loaded when a log check's detail opens
    expect(html).not.toContain('%MODULEPRELOAD%');
    expect(files.get('app.js')!.body.equals(readFileSync(path.join(dir, 'app.js')))).toBe(true);
  });

  it('serves the bundle as app.js only when it was made from these sources', () => {
    const before = loadAssets(dir).version;
    const file = bundlePath(dir);
    mkdirSync(path.dirname(file), { recursive: true });
    // A bundle from other sources (an edit after the last build) is not used.
    writeFileSync(file, `${bundleStamp('0000000000000000')}\nconsole.log('vigil-test-stale-bundle');\n`);
    expect(loadAssets(dir).files.get('app.js')!.body.toString()).not.toContain('vigil-test-stale-bundle');
    writeFileSync(file, `${bundleStamp(uiSourcesHash(scripts()))}\nconsole.log('vigil-test-bundled');\n`);
    const { html, files, version } = loadAssets(dir);
    expect(files.get('app.js')!.body.toString()).toContain('vigil-test-bundled');
    expect(html).not.toContain('modulepreload');
    expect(html).toContain(`<script type="module" src="ui/${version}/app.js">`);
    expect(version).not.toBe(before); // a new bundle busts the caches
  });
});
