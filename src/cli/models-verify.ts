import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { sha256OfFile } from './file-sha256.js';
import { formatBytes } from './format-units.js';
import { readManifest } from './manifest.js';
import { measurePath, resolveModelsDir, walkFiles } from './models-dir.js';

export const VERIFY_USAGE = `usage: sluice models verify [--json]

Hashes again every file recorded in $SLUICE_MODELS_DIR/manifest.json (by models pull) and every
file stamped in .stamps/ (by scripts/fetch-models.sh); exits 1 when any is missing or differs.`;

/** scripts/fetch-models.sh writes `.stamps/<path>.sha256` holding the hex sha256 and a newline. */
export const STAMPS_DIR = '.stamps';
const STAMP_SUFFIX = '.sha256';

export interface VerifyCheck {
  path: string;
  expectedSha256: string;
  expectedSize?: number;
  source: 'manifest' | 'stamp';
}

export interface VerifyResult {
  path: string;
  source: VerifyCheck['source'];
  status: 'ok' | 'mismatch' | 'missing';
  expected_sha256: string;
  actual_sha256?: string;
  size?: number;
  /** Why a mismatch was called without hashing (the size differs). */
  reason?: string;
}

/** What there is to check: the manifest's entries, then the stamps, each with its expected sha256. */
export async function collectChecks(modelsDir: string): Promise<VerifyCheck[]> {
  const manifest = await readManifest(modelsDir);
  const checks: VerifyCheck[] = Object.entries(manifest.files).map(([path, entry]) => ({
    path,
    expectedSha256: entry.sha256,
    expectedSize: entry.size,
    source: 'manifest',
  }));
  const stamps = (await walkFiles(join(modelsDir, STAMPS_DIR), { includeHidden: true })).filter((stamp) => stamp.path.endsWith(STAMP_SUFFIX));
  for (const stamp of stamps) {
    const expectedSha256 = (await readFile(join(modelsDir, STAMPS_DIR, stamp.path), 'utf8')).trim().toLowerCase();
    checks.push({ path: stamp.path.slice(0, -STAMP_SUFFIX.length), expectedSha256, source: 'stamp' });
  }
  return checks;
}

/** Hashes each file once, however many checks name it; results arrive in order through `onResult`. */
export async function verifyModels(modelsDir: string, onResult: (result: VerifyResult) => void = () => {}): Promise<VerifyResult[]> {
  const hashes = new Map<string, Promise<string>>();
  const results: VerifyResult[] = [];
  for (const check of await collectChecks(modelsDir)) {
    const base = { path: check.path, source: check.source, expected_sha256: check.expectedSha256 };
    const found = await measurePath(join(modelsDir, check.path));
    let result: VerifyResult;
    if (found?.kind !== 'file') {
      result = { ...base, status: 'missing' };
    } else if (check.expectedSize !== undefined && found.size !== check.expectedSize) {
      result = { ...base, status: 'mismatch', size: found.size, reason: `size ${found.size}, expected ${check.expectedSize}` };
    } else {
      if (!hashes.has(check.path)) hashes.set(check.path, sha256OfFile(join(modelsDir, check.path)));
      const actual = await hashes.get(check.path)!;
      result = { ...base, status: actual === check.expectedSha256 ? 'ok' : 'mismatch', actual_sha256: actual, size: found.size };
    }
    results.push(result);
    onResult(result);
  }
  return results;
}

export function formatVerifyLine(result: VerifyResult): string {
  const status = result.status === 'ok' ? 'ok      ' : result.status === 'mismatch' ? 'MISMATCH' : 'MISSING ';
  const where = `${result.path}  (${result.source})`;
  if (result.status === 'ok') return `${status}  ${where}  ${formatBytes(result.size ?? 0)}`;
  if (result.status === 'missing') return `${status}  ${where}`;
  const detail = result.reason ?? `sha256 ${result.actual_sha256}, expected ${result.expected_sha256}`;
  return `${status}  ${where}  ${detail}`;
}

export async function runModelsVerify(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
  if (positionals.length > 0) throw new UsageError(`models verify: unexpected argument "${positionals[0]}"`);
  const modelsDir = resolveModelsDir(context.env);
  const results = await verifyModels(modelsDir, (result) => {
    if (!values.json) context.stdout.write(`${formatVerifyLine(result)}\n`);
  });
  if (values.json) context.stdout.write(`${JSON.stringify({ models_dir: modelsDir, results }, null, 2)}\n`);
  else if (results.length === 0) context.stdout.write(`nothing to verify: ${modelsDir} has no manifest.json entries and no ${STAMPS_DIR}/\n`);
  const problems = results.filter((result) => result.status !== 'ok');
  if (problems.length > 0) {
    const counts = ['mismatch', 'missing'].map((status) => `${problems.filter((result) => result.status === status).length} ${status}`).join(', ');
    throw new CliError(`models verify: ${problems.length} of ${results.length} file(s) failed (${counts}); pull or fetch them again`);
  }
}
