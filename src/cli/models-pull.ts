import { join } from 'node:path';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { downloadFile, type DownloadResult } from './download-file.js';
import { createDownloadProgress } from './download-progress.js';
import { SHA256_HEX } from './file-sha256.js';
import { formatBytes, formatSeconds } from './format-units.js';
import { DEFAULT_HUB_URL, HubClient } from './hub-client.js';
import { matchesAnyGlob } from './include-glob.js';
import { readManifest, recordInManifest } from './manifest.js';
import { isSafeRelativePath, measurePath, relativeKey, resolveInside, resolveModelsDir } from './models-dir.js';

export const PULL_USAGE = `usage: sluice models pull <repo> [files...] [options]

Downloads files of a Hugging Face-style model repo into $SLUICE_MODELS_DIR/<dest>/, verifies each
one's sha256 and records it in manifest.json. With no files listed, fetches the whole repo.

options:
  --revision <rev>    branch, tag or commit (default: main)
  --dest <subdir>     folder under the models directory (default: the repo id, e.g. Org/Name)
  --include <glob>    with no files listed: only the files matching (repeatable; * matches /)
  --sha256 <hex>      the sha256 the one listed file must have (else the hub's is used)
  --hub <url>         the hub (default: $SLUICE_HUB_URL or ${DEFAULT_HUB_URL})
  --force             download again even when the manifest says the file is in place

environment: HF_TOKEN (bearer token for gated and private repos; never printed)

example: sluice models pull HuggingFaceTB/SmolLM2-135M-Instruct-GGUF smollm2-135m-instruct-q8_0.gguf --dest chat`;

export interface PullOptions {
  repo: string;
  files: string[];
  revision: string;
  dest: string;
  include: string[];
  expectedSha256: string | undefined;
  hubUrl: string;
  isForced: boolean;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The command line → options, or a UsageError saying what is wrong with it. */
export function parsePullArgs(args: string[], env: NodeJS.ProcessEnv): PullOptions {
  const { values, positionals } = parseCommandArgs(args, {
    revision: { type: 'string', default: 'main' },
    dest: { type: 'string' },
    include: { type: 'string', multiple: true, default: [] },
    sha256: { type: 'string' },
    hub: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  const [repo, ...files] = positionals;
  if (!repo) throw new UsageError('models pull: which repo? e.g. sluice models pull Org/Name file.gguf');
  if (!REPO_ID.test(repo) || repo.includes('..')) throw new UsageError(`models pull: "${repo}" is not a repo id (Org/Name)`);
  const unsafe = files.find((file) => !isSafeRelativePath(file));
  if (unsafe !== undefined) throw new UsageError(`models pull: "${unsafe}" is not a file path inside the repo`);
  const dest = values.dest ?? repo;
  if (!isSafeRelativePath(dest)) throw new UsageError(`models pull: --dest "${dest}" must be a relative path inside the models directory`);
  if (values.include.length > 0 && files.length > 0) throw new UsageError('models pull: --include filters a whole-repo pull; list files or use --include, not both');
  const expectedSha256 = values.sha256?.toLowerCase();
  if (expectedSha256 !== undefined) {
    if (!SHA256_HEX.test(expectedSha256)) throw new UsageError('models pull: --sha256 must be 64 hex digits');
    if (files.length !== 1) throw new UsageError('models pull: --sha256 needs exactly one file listed');
  }
  const hubUrl = (values.hub ?? env.SLUICE_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(hubUrl) || !URL.canParse(hubUrl)) throw new UsageError(`models pull: --hub "${hubUrl}" is not an http(s) URL`);
  return { repo, files, revision: values.revision, dest, include: values.include, expectedSha256, hubUrl, isForced: values.force };
}

export async function runModelsPull(args: string[], context: CommandContext): Promise<void> {
  const options = parsePullArgs(args, context.env);
  const modelsDir = resolveModelsDir(context.env);
  const hub = new HubClient(options.hubUrl, context.env.HF_TOKEN || undefined);
  const files = await chooseFiles(hub, options);
  const progress = createDownloadProgress(context.stderr);
  let pulledBytes = 0;
  let pulledCount = 0;
  for (const file of files) {
    const destination = resolveInside(modelsDir, join(options.dest, file));
    const key = relativeKey(modelsDir, destination);
    if (!options.isForced && (await isAlreadyPulled(modelsDir, key, destination, file, options))) {
      context.stderr.write(`${key}  already pulled from ${options.repo}@${options.revision}; --force downloads it again\n`);
      continue;
    }
    const startedMs = performance.now();
    const result = await downloadFile(
      hub,
      { repo: options.repo, revision: options.revision, file, destination, expectedSha256: options.expectedSha256, label: key },
      progress,
    );
    await recordInManifest(modelsDir, key, {
      repo: options.repo,
      revision: options.revision,
      ...(result.commit ? { commit: result.commit } : {}),
      file,
      sha256: result.sha256,
      size: result.size,
      pulled_at: new Date().toISOString(),
    });
    progress.finish(doneLine(key, result, (performance.now() - startedMs) / 1000));
    pulledBytes += result.size;
    pulledCount += 1;
  }
  const skipped = files.length - pulledCount;
  const inPlace = skipped > 0 ? `; ${skipped} already in place` : '';
  context.stdout.write(`pulled ${pulledCount} file(s), ${formatBytes(pulledBytes)}, into ${join(modelsDir, options.dest)}${inPlace}\n`);
}

/** The files listed, or the repo's listing filtered by --include. */
async function chooseFiles(hub: HubClient, options: PullOptions): Promise<string[]> {
  if (options.files.length > 0) return options.files;
  const listing = await hub.listFiles(options.repo, options.revision);
  const unsafe = listing.files.find((file) => !isSafeRelativePath(file));
  if (unsafe !== undefined) throw new CliError(`${options.repo}@${options.revision}: the hub lists an unsafe path "${unsafe}"; nothing was downloaded`);
  const chosen = options.include.length > 0 ? listing.files.filter((file) => matchesAnyGlob(file, options.include)) : listing.files;
  if (chosen.length === 0) {
    const filter = options.include.length > 0 ? ` matches --include ${options.include.join(' ')}` : '';
    throw new CliError(`${options.repo}@${options.revision}: no file${filter} (the repo has ${listing.files.length})`);
  }
  return chosen;
}

/** In place, from the same repo, file and revision, the size the manifest recorded, and the --sha256 asked for. */
async function isAlreadyPulled(modelsDir: string, key: string, destination: string, file: string, options: PullOptions): Promise<boolean> {
  const entry = (await readManifest(modelsDir)).files[key];
  if (!entry || entry.repo !== options.repo || entry.file !== file || entry.revision !== options.revision) return false;
  if (options.expectedSha256 && options.expectedSha256 !== entry.sha256) return false;
  const found = await measurePath(destination);
  return found?.kind === 'file' && found.size === entry.size;
}

function doneLine(key: string, result: DownloadResult, seconds: number): string {
  const check =
    result.verifiedAgainst === undefined
      ? 'sha256 recorded (the hub gave none to check)'
      : `sha256 verified (${result.verifiedAgainst === 'hub' ? "hub's etag" : '--sha256'})`;
  const resumed = result.resumedFromBytes > 0 ? `, resumed at ${formatBytes(result.resumedFromBytes)}` : '';
  return `${key}  ${formatBytes(result.size)}  ${check}  in ${formatSeconds(seconds)}${resumed}`;
}
