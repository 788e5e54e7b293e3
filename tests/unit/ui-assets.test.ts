// The status page's assets as the server serves them: one stylesheet holding every .css file,
// and a modulepreload link for every module the entry reaches (none discovered a level late).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findUiDir, loadAssets, moduleClosure, PAGE_CSS } from '../../exporter/server/routes/ui.js';

const dir = findUiDir();

describe('status page assets', () => {
  const { version, html, files } = loadAssets(dir);

  it('links one stylesheet, which holds every .css file, style.css first', () => {
    expect(html.match(/rel="stylesheet"/g)).toHaveLength(1);
    expect(html).toContain(`href="ui/${version}/${PAGE_CSS}"`);
    const css = files.get(PAGE_CSS)!.body.toString('utf8');
    const names = readdirSync(dir).filter((n) => n.endsWith('.css'));
    expect(names.length).toBeGreaterThan(1);
    for (const n of names) expect(css, n).toContain(readFileSync(path.join(dir, n), 'utf8'));
    expect(css.indexOf('/* style.css */')).toBe(0);
  });

  it('preloads every module app.js imports, directly or through another, and nothing else', () => {
    const preloaded = [...html.matchAll(/rel="modulepreload" href="ui\/[0-9a-f]+\/([\w.-]+)"/g)].map((m) => m[1]).sort();
    const sources = new Map(readdirSync(dir).filter((n) => n.endsWith('.js')).map((n) => [n, readFileSync(path.join(dir, n))]));
    expect(preloaded).toEqual(moduleClosure('app.js', sources).filter((n) => n !== 'app.js'));
    // Modules only app.js's imports reach (not app.js itself) are there too, and the lazily loaded log viewer is not.
    expect(preloaded).toEqual(expect.arrayContaining(['dom.js', 'format.js', 'maintenance.js', 'shards.js', 'api.js']));
    expect(preloaded).not.toContain('logs.js');
    expect(html).not.toContain('%MODULEPRELOAD%');
  });
});
