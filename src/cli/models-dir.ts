import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { CliError } from './command-context.js';

/**
 * The models directory, absolute: `SLUICE_MODELS_DIR`, else the config's `paths.models_dir`, else
 * ./models when there is no config file to ask (the CLI run outside a checkout).
 */
export function resolveModelsDir(env: NodeJS.ProcessEnv): string {
  if (env.SLUICE_MODELS_DIR) return resolve(env.SLUICE_MODELS_DIR);
  if (!env.SLUICE_CONFIG && !existsSync(DEFAULT_CONFIG_PATH)) return resolve('models');
  return resolve(loadConfig(env).paths.models_dir);
}

/**
 * A relative path that stays where it is put: no absolute paths, no `..` segments. Paths come
 * from the command line and from the hub's file listing, which must not write outside the
 * models directory.
 */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((segment) => segment !== '..');
}

/** `root/path`, refusing anything that would land outside root. */
export function resolveInside(root: string, path: string): string {
  const target = resolve(root, path);
  if (!isSafeRelativePath(path) || !(target === root || target.startsWith(root + sep))) {
    throw new CliError(`refusing path "${path}": it would be written outside ${root}`);
  }
  return target;
}

/** Forward-slash path of `target` relative to `root` (the manifest's and the table's keys). */
export function relativeKey(root: string, target: string): string {
  return relative(root, target).split(sep).join(posix.sep);
}

export interface FoundFile {
  /** Relative to the walked root, with forward slashes. */
  path: string;
  size: number;
}

/**
 * Every regular file under `root` (symlinks followed), sorted. Hidden entries (`.stamps`,
 * `.cache`, `.fetch.lock`, …: bookkeeping, not models) are skipped unless asked for.
 */
export async function walkFiles(root: string, options: { includeHidden?: boolean } = {}): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const visit = async (directory: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') && !options.includeHidden) continue;
      const absolute = join(directory, entry.name);
      const key = prefix ? `${prefix}/${entry.name}` : entry.name;
      const info = entry.isSymbolicLink() ? await stat(absolute).catch(() => undefined) : entry;
      if (info?.isDirectory()) await visit(absolute, key);
      else if (info?.isFile()) found.push({ path: key, size: (await stat(absolute)).size });
    }
  };
  await visit(root, '');
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Size of a file, or the total of the files under a directory; undefined when it is absent. */
export async function measurePath(target: string): Promise<{ kind: 'file' | 'directory'; size: number } | undefined> {
  const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!info) return undefined;
  if (!info.isDirectory()) return { kind: 'file', size: info.size };
  const files = await walkFiles(target, { includeHidden: true });
  return { kind: 'directory', size: files.reduce((total, file) => total + file.size, 0) };
}
