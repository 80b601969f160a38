import { z } from 'zod';
import type { Adapter, AdapterFactory, CallOptions, Capability, ClassificationRequest, ClassificationResult, ModerationCategory, ModerationResult, RerankResult } from '../spec/index.js';
import { MODERATION_CATEGORIES } from '../spec/index.js';
import { activationOf, categoriesOfLabels, highestPerLabel, labelsOf, moderationVerdict, probabilities, scoresByLabel, textWindows, type Activation, type ClassifierConfig } from './classifier-head.js';
import { modelRunOptionsShape, parseModelOptions, resolveRunSettings, type ModelDescription, type RunSettings } from './embedding-options.js';
import { OnnxModel } from './onnx-model.js';

/** `backends.<id>.options` of an `onnx-classifier` backend. */
const optionsSchema = z.strictObject({
  ...modelRunOptionsShape,
  /**
   * moderation: serves POST /v1/moderations (capability `moderate`); sentiment: POST
   * /v1/classifications/sentiment (`classify`); rerank: a cross-encoder (ms-marco MiniLM) for
   * POST /v1/rerank (`rerank`), reading (query, document) pairs into one logit, sigmoid → [0, 1].
   */
  task: z.enum(['moderation', 'sentiment', 'rerank']),
  /** Default: sigmoid when config.json says multi_label_classification, else softmax (rerank: always sigmoid). */
  activation: z.enum(['softmax', 'sigmoid']).optional(),
  /** moderation: the OpenAI categories each label feeds (classifier-head.ts has the default). */
  categories: z.record(z.string(), z.array(z.enum(MODERATION_CATEGORIES))).optional(),
  /** moderation: a category is flagged at this probability or above. */
  threshold: z.number().min(0).max(1).default(0.5),
  /** `<repo> [files...]` for `sluice models pull`, quoted in the error when the weights are missing. */
  pull: z.string().min(1).optional(),
});

type ClassifierOptions = z.infer<typeof optionsSchema>;

/** Characters per token a moderation window is sized by: under English's ~4, so a window rarely overflows the model's view. */
const WINDOW_CHARS_PER_TOKEN = 3;

interface ClassifierSettings extends RunSettings {
  labels: string[];
  activation: Activation;
  /** moderation: the categories of each label, in label order. */
  labelCategories: (readonly ModerationCategory[])[];
}

/**
 * A local text classifier — a toxicity model for moderation (the plan's RoBERTa, or toxic-bert),
 * a sentiment model (DistilBERT SST-2) — loaded and run by the shared ONNX loader
 * (onnx-model.ts), whose graph ends in `logits` [batch, labels]. Labels come from the model's
 * config.json `id2label`; the logits become probabilities here (activation), and for moderation,
 * OpenAI's categories and flags. A new classifier is a config entry: its directory, its task,
 * and for moderation, which categories its labels stand for.
 *
 * Without its weights the gateway still starts; every call answers 503 `model_weights_missing`,
 * naming the file expected and the `sluice models pull` command that fetches it.
 */
export const createOnnxClassifierAdapter: AdapterFactory = (adapterSettings) => {
  const options = parseModelOptions(optionsSchema, adapterSettings.options, adapterSettings.id);
  const model = new OnnxModel<ClassifierSettings>(adapterSettings, options, {
    what: 'classifier',
    settings: (description) => classifierSettings(options, description, adapterSettings.id),
    encoder: () => ({ output: 'logits', pooling: 'cls', normalize: false }),
    fetchHint: () => fetchHint(options),
    isOptional: true,
    readsPairs: options.task === 'rerank',
  });

  /**
   * Each input's probabilities per label. Moderation reads a long input whole, window by window,
   * and keeps each label's highest; sentiment reads what fits the model, as transformers does.
   */
  async function scored(request: ClassificationRequest, call: CallOptions) {
    const { settings } = await model.loaded();
    const windowsOf = request.inputs.map((text) => (options.task === 'moderation' ? textWindows(text, WINDOW_CHARS_PER_TOKEN * settings.maxLength) : [text]));
    const { rows, promptTokens } = await model.run({ texts: windowsOf.flat(), inputCount: request.inputs.length, model: request.model, signal: call.signal, timeoutMs: call.timeoutMs });
    const windowed = rows.map((logits) => probabilities(logits, settings.activation));
    let next = 0;
    const perInput = windowsOf.map((windows) => highestPerLabel(windowed.slice(next, (next += windows.length))));
    return { settings, probabilities: perInput, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
  }

  const adapter: Adapter = {
    id: adapterSettings.id,
    location: 'local',
    capabilities: new Set<Capability>([CAPABILITY_OF[options.task]]),
    ready: () => model.ready(),
    canServe: () => !model.isMissingWeights,
    close: () => model.close(),
  };
  if (options.task === 'rerank') {
    adapter.rerank = async (request, call): Promise<RerankResult> => {
      const { rows, promptTokens } = await model.run({ texts: request.documents, query: request.query, model: request.model, signal: call.signal, timeoutMs: call.timeoutMs });
      // One logit per pair (ms-marco's head); its sigmoid is what sentence-transformers' CrossEncoder reports.
      return { model: request.model, scores: rows.map((logits) => probabilities(logits.subarray(0, 1), 'sigmoid')[0]), usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
    };
  } else if (options.task === 'moderation') {
    adapter.moderate = async (request, call): Promise<ModerationResult> => {
      const { settings, probabilities: rows, usage } = await scored(request, call);
      return { model: request.model, results: rows.map((row) => moderationVerdict(row, settings.labelCategories, options.threshold)), usage };
    };
  } else {
    adapter.classify = async (request, call): Promise<ClassificationResult> => {
      const { settings, probabilities: rows, usage } = await scored(request, call);
      return { model: request.model, results: rows.map((row) => ({ scores: scoresByLabel(settings.labels, row) })), usage };
    };
  }
  return adapter;
};

const CAPABILITY_OF: Readonly<Record<ClassifierOptions['task'], Capability>> = { moderation: 'moderate', sentiment: 'classify', rerank: 'rerank' };

function classifierSettings(options: ClassifierOptions, description: ModelDescription, backendId: string): ClassifierSettings {
  const config = description.config as ClassifierConfig;
  // A cross-encoder's one logit needs no name.
  const labels = options.task === 'rerank' ? [] : labelsOf(config, options.model_dir);
  return {
    ...resolveRunSettings(options, description, backendId),
    labels,
    activation: options.activation ?? activationOf(config),
    labelCategories: options.task === 'moderation' ? categoriesOfLabels(labels, options.categories, backendId) : [],
  };
}

function fetchHint(options: ClassifierOptions): string {
  const files = `${options.model_file}, ${options.task === 'rerank' ? 'config.json' : 'config.json (with id2label)'} and tokenizer.json`;
  if (options.pull) return `fetch it with \`sluice models pull ${options.pull} --dest ${options.model_dir}\`, or put ${files} there`;
  return `put ${files} there (e.g. \`sluice models pull <repo> ${options.model_file} config.json tokenizer.json --dest ${options.model_dir}\`)`;
}
