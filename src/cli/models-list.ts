import { isAbsolute, resolve, sep } from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { formatBytes } from './format-units.js';
import { MANIFEST_FILE, readManifest, type Manifest } from './manifest.js';
import { measurePath, relativeKey, walkFiles } from './models-dir.js';
import { formatTable } from './text-table.js';

export const LIST_USAGE = `usage: sluice models list [--json] [--config <file>]

Every model in the config with its backend type; for local backends, whether their files are in
the models directory and how big they are; then the files there that no model uses.`;

/** Backend types that run on this machine, and the options naming their files under paths.models_dir. */
export const LOCAL_BACKEND_TYPES: ReadonlySet<string> = new Set(['llama-cpp', 'onnx', 'onnx-classifier', 'sidecar']);
export const MODEL_PATH_OPTIONS = ['model', 'model_dir', 'whisper_model'] as const;

export interface LocalPathReport {
  /** The backend option that names it (`model`, `model_dir`, `whisper_model`). */
  option: string;
  /** As written in the config: relative to the models directory, or absolute. */
  path: string;
  present: boolean;
  kind?: 'file' | 'directory';
  /** Bytes; a directory's is the total of its files. */
  size?: number;
}

export interface ModelReport {
  id: string;
  backend: string;
  type: string;
  local: boolean;
  files: LocalPathReport[];
}

export interface UnusedFileReport {
  path: string;
  size: number;
  /** Where `models pull` got it, when the manifest says. */
  repo?: string;
  revision?: string;
}

/** The `--json` shape. */
export interface ModelsReport {
  config: string;
  models_dir: string;
  models: ModelReport[];
  unused: UnusedFileReport[];
}

export async function buildModelsReport(config: Config, configPath: string, manifest: Manifest): Promise<ModelsReport> {
  const modelsDir = resolve(config.paths.models_dir);
  const usedKeys = new Set<string>();
  const models: ModelReport[] = [];
  for (const model of config.models) {
    const backend = config.backends[model.backend];
    const isLocal = LOCAL_BACKEND_TYPES.has(backend.type);
    const files: LocalPathReport[] = [];
    if (isLocal) {
      for (const option of MODEL_PATH_OPTIONS) {
        const path = backend.options[option];
        if (typeof path !== 'string' || path === '') continue;
        const absolute = isAbsolute(path) ? path : resolve(modelsDir, path);
        if (absolute === modelsDir || absolute.startsWith(modelsDir + sep)) usedKeys.add(relativeKey(modelsDir, absolute));
        const found = await measurePath(absolute);
        files.push({ option, path, present: found !== undefined, ...found });
      }
    }
    models.push({ id: model.id, backend: model.backend, type: backend.type, local: isLocal, files });
  }
  const isUsed = (path: string) => [...usedKeys].some((key) => key === '' || path === key || path.startsWith(`${key}/`));
  const unused = (await walkFiles(modelsDir))
    .filter((file) => file.path !== MANIFEST_FILE && !isUsed(file.path))
    .map((file) => {
      const pulled = manifest.files[file.path];
      return pulled ? { ...file, repo: pulled.repo, revision: pulled.revision } : file;
    });
  return { config: configPath, models_dir: modelsDir, models, unused };
}

export function formatModelsReport(report: ModelsReport): string {
  const rows: string[][] = [['MODEL', 'BACKEND', 'TYPE', 'FILES', 'SIZE', 'PATH']];
  for (const model of report.models) {
    const name = [model.id, model.backend, model.type];
    if (!model.local) rows.push([...name, 'vendor']);
    else if (model.files.length === 0) rows.push([...name, '-', '', `(no ${MODEL_PATH_OPTIONS.join('/')} option)`]);
    model.files.forEach((file, index) => {
      const shownPath = file.kind === 'directory' ? `${file.path.replace(/\/$/, '')}/` : file.path;
      const size = file.size === undefined ? '' : formatBytes(file.size);
      rows.push([...(index === 0 ? name : ['', '', '']), file.present ? 'present' : 'MISSING', size, shownPath]);
    });
  }
  const lines = [`config ${report.config}, models directory ${report.models_dir}`, '', formatTable(rows), ''];
  if (report.unused.length === 0) {
    lines.push(`No other files under ${report.models_dir}.`);
  } else {
    const total = report.unused.reduce((sum, file) => sum + file.size, 0);
    lines.push(`Files under ${report.models_dir} that no model uses (${report.unused.length}, ${formatBytes(total)}):`);
    const unusedRows = report.unused.map((file) => [formatBytes(file.size), file.path, file.repo ? `from ${file.repo}@${file.revision}` : '']);
    lines.push(formatTable(unusedRows, '  '));
  }
  return `${lines.join('\n')}\n`;
}

export async function runModelsList(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false }, config: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`models list: unexpected argument "${positionals[0]}"`);
  const env = values.config ? { ...context.env, SLUICE_CONFIG: values.config } : context.env;
  const config = loadConfig(env);
  const report = await buildModelsReport(config, env.SLUICE_CONFIG ?? DEFAULT_CONFIG_PATH, await readManifest(resolve(config.paths.models_dir)));
  context.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatModelsReport(report));
}
