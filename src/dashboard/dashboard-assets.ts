import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves: its bytes (read once, at start) and content type. */
export interface DashboardAsset {
  body: Buffer;
  contentType: string;
}

/** The page, its script and style, and uPlot (bundled from node_modules: the page loads nothing from a CDN). */
export interface DashboardAssets {
  page: DashboardAsset;
  /** By the file name under /dashboard/assets/. */
  files: ReadonlyMap<string, DashboardAsset>;
}

/** tsc copies no .html/.js/.css: a compiled build (dist/src/dashboard) also looks in the sources. */
function assetsDir(): string {
  const candidates = [fileURLToPath(new URL('./assets/', import.meta.url)), fileURLToPath(new URL('../../../src/dashboard/assets/', import.meta.url))];
  const found = candidates.find((candidate) => existsSync(`${candidate}dashboard.html`));
  if (found === undefined) throw new Error(`no dashboard assets; looked in ${candidates.join(', ')}`);
  return found;
}

export function loadDashboardAssets(): DashboardAssets {
  const directory = assetsDir();
  const require = createRequire(import.meta.url);
  const uplotDir = `${require.resolve('uplot/package.json').slice(0, -'package.json'.length)}dist/`;
  const read = (path: string, contentType: string): DashboardAsset => ({ body: readFileSync(path), contentType });
  return {
    page: read(`${directory}dashboard.html`, 'text/html; charset=utf-8'),
    files: new Map([
      ['dashboard.js', read(`${directory}dashboard.js`, 'text/javascript; charset=utf-8')],
      ['dashboard.css', read(`${directory}dashboard.css`, 'text/css; charset=utf-8')],
      ['uplot.js', read(`${uplotDir}uPlot.iife.min.js`, 'text/javascript; charset=utf-8')],
      ['uplot.css', read(`${uplotDir}uPlot.min.css`, 'text/css; charset=utf-8')],
    ]),
  };
}
