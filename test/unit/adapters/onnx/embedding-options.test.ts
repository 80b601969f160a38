import { describe, expect, it } from 'vitest';
import { parseOnnxOptions, resolveSettings, type ModelDescription } from '../../../../adapters/onnx/embedding-options.js';

const minilm: ModelDescription = {
  config: { max_position_embeddings: 512 },
  tokenizerConfig: { model_max_length: 512 },
  sentenceBertConfig: { max_seq_length: 256 },
  poolingConfig: { pooling_mode_cls_token: false, pooling_mode_mean_tokens: true },
};

describe('parseOnnxOptions', () => {
  it('fills the documented defaults', () => {
    expect(parseOnnxOptions({ model_dir: 'embeddings/all-MiniLM-L6-v2' }, 'embed')).toEqual({
      model_dir: 'embeddings/all-MiniLM-L6-v2',
      model_file: 'model.onnx',
      normalize: true,
      max_batch: 32,
      max_batch_tokens: 2048,
      batch_window_ms: 2,
      spin_threads: false,
      // OpenAI's per-request limits on embeddings.
      max_inputs: 2048,
      max_input_tokens: 8192,
      max_request_tokens: 300_000,
    });
  });

  it.each([
    [{}, 'backends.embed.options.model_dir:'],
    [{ model_dir: 'm', max_batch: 0 }, 'backends.embed.options.max_batch:'],
    [{ model_dir: 'm', max_batch: 2.5 }, 'backends.embed.options.max_batch:'],
    [{ model_dir: 'm', pooling: 'max' }, 'backends.embed.options.pooling:'],
    [{ model_dir: 'm', normalize: 'yes' }, 'backends.embed.options.normalize:'],
    [{ model_dir: 'm', threads: 0 }, 'backends.embed.options.threads:'],
    [{ model_dir: 'm', batch_window_ms: -1 }, 'backends.embed.options.batch_window_ms:'],
    [{ model_dir: 'm', max_length: 1 }, 'backends.embed.options.max_length:'],
    [{ model_dir: 'm', spin_threads: 'no' }, 'backends.embed.options.spin_threads:'],
    [{ model_dir: 'm', max_lenght: 128 }, 'max_lenght'],
    [{ model_dir: 'm', max_batch_tokens: 0 }, 'backends.embed.options.max_batch_tokens:'],
    [{ model_dir: 'm', max_inputs: 4096 }, 'backends.embed.options.max_inputs:'],
    [{ model_dir: 'm', max_input_tokens: 0 }, 'backends.embed.options.max_input_tokens:'],
    [{ model_dir: 'm', max_request_tokens: 1.5 }, 'backends.embed.options.max_request_tokens:'],
  ])('%j fails naming the option', (options, message) => {
    expect(() => parseOnnxOptions(options, 'embed')).toThrow(message);
  });
});

describe('resolveSettings', () => {
  const defaults = parseOnnxOptions({ model_dir: 'm' }, 'embed');

  it("takes max_length from sentence_bert_config.json's max_seq_length and pooling from 1_Pooling", () => {
    expect(resolveSettings({ ...defaults, threads: 3 }, minilm, 'embed')).toEqual({
      maxLength: 256,
      pooling: 'mean',
      normalize: true,
      maxBatch: 32,
      maxBatchTokens: 2048,
      batchWindowMs: 2,
      threads: 3,
      spinThreads: false,
      limits: { maxInputs: 2048, maxInputTokens: 8192, maxRequestTokens: 300_000 },
    });
  });

  it('falls back to the tokenizer limit, ignoring its "no limit" sentinel, then to the position embeddings', () => {
    expect(resolveSettings(defaults, { ...minilm, sentenceBertConfig: undefined }, 'e').maxLength).toBe(512);
    expect(resolveSettings(defaults, { config: { max_position_embeddings: 384 }, tokenizerConfig: { model_max_length: 1e30 } }, 'e').maxLength).toBe(384);
  });

  it('reads CLS pooling from a BGE-style 1_Pooling config, and mean when the model has none', () => {
    expect(resolveSettings(defaults, { ...minilm, poolingConfig: { pooling_mode_cls_token: true } }, 'e').pooling).toBe('cls');
    expect(resolveSettings(defaults, { ...minilm, poolingConfig: undefined }, 'e').pooling).toBe('mean');
  });

  it('lets the operator override both', () => {
    const settings = resolveSettings({ ...defaults, max_length: 128, pooling: 'cls' }, minilm, 'e');
    expect(settings).toMatchObject({ maxLength: 128, pooling: 'cls' });
  });

  it('refuses a max_length beyond the position embeddings, and a pooling mode it cannot do', () => {
    expect(() => resolveSettings({ ...defaults, max_length: 1024 }, minilm, 'embed')).toThrow('backends.embed.options.max_length: 1024 is more than');
    expect(() => resolveSettings(defaults, { ...minilm, poolingConfig: { pooling_mode_mean_tokens: false } }, 'embed')).toThrow('backends.embed.options.pooling');
  });
});
