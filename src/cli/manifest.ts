import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError } from './command-context.js';

export const MANIFEST_FILE = 'manifest.json';

const entrySchema = z.object({
  repo: z.string(),
  revision: z.string(),
  /** The commit the revision pointed at, when the hub said (`x-repo-commit`). */
  commit: z.string().optional(),
  /** The file's path inside the repo. */
  file: z.string(),
  sha256: z.string(),
  size: z.number().int().nonnegative(),
  pulled_at: z.string(),
});

const manifestSchema = z.object({
  version: z.literal(1),
  /** Keyed by the path under the models directory, with forward slashes. */
  files: z.record(z.string(), entrySchema),
});

export type ManifestEntry = z.infer<typeof entrySchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** `${modelsDir}/manifest.json`: what `models pull` fetched, from where, with which sha256. */
export async function readManifest(modelsDir: string): Promise<Manifest> {
  const path = join(modelsDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: {} };
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path}: not valid JSON (${(error as Error).message}); fix or delete it`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}; fix or delete it`);
  }
  return parsed.data;
}

/** Records one file. Re-reads first, so entries written meanwhile by another pull survive. */
export async function recordInManifest(modelsDir: string, key: string, entry: ManifestEntry): Promise<void> {
  const manifest = await readManifest(modelsDir);
  manifest.files[key] = entry;
  const sorted = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const path = join(modelsDir, MANIFEST_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ version: 1, files: sorted }, null, 2)}\n`);
  await rename(temporary, path);
}
