import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The module beside `from` named `name`: name.js when running compiled code from dist/, name.ts
 * when running the TypeScript source (vitest, `node --import tsx`).
 */
export function siblingEntry(from: string, name: string): URL {
  return new URL(from.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, from);
}

/** A Worker running `entry`, compiled (.js) or TypeScript source (.ts, through tsx). */
export function startWorker(entry: URL, workerData: unknown, options: Omit<WorkerOptions, 'workerData' | 'eval'> = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { ...options, workerData });
  // TypeScript source (vitest, tsx): the worker needs tsx's loader. Node 20 ignores --import in
  // a Worker's execArgv (`execArgv: ['--import', 'tsx']` still fails with ERR_UNKNOWN_FILE_EXTENSION),
  // so the worker registers tsx itself, then imports the entry. Only development and tests come
  // here; dist/ runs the .js entry directly.
  const bootstrap = `import(${JSON.stringify(tsxApiUrl(entry))}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}

/**
 * tsx's ESM API (`tsx/esm/api`, its `import` build) as installed beside `from`. Found through
 * its package.json because neither vitest's `import.meta` nor a worker's eval code can resolve
 * an ESM specifier from a given file, and the API's CommonJS build registers a wrong loader path.
 */
function tsxApiUrl(from: URL): string {
  const require = createRequire(from);
  const packagePath = require.resolve('tsx/package.json');
  const { exports } = require(packagePath) as { exports: { './esm/api': { import: { default: string } } } };
  return new URL(exports['./esm/api'].import.default, pathToFileURL(packagePath)).href;
}
