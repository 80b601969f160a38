/**
 * The prompt the adapter renders must be the one the GGUF's own Jinja chat template renders,
 * token for token. Real weights (vocabulary only: nothing is evaluated, so this is quick).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { JinjaTemplateChatWrapper, type ChatHistoryItem, type Llama, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelChatWrapper } from '../../../../adapters/llama-cpp/model-chat-wrapper.js';
import { acquireLlama, releaseLlama } from '../../../../adapters/llama-cpp/shared-llama.js';

const modelsDir = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
const FILES = ['chat/smollm2-135m-instruct-q4_1.gguf', 'chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'];

let llama: Llama;
const models = new Map<string, LlamaModel>();

beforeAll(async () => {
  llama = await acquireLlama(undefined);
  for (const file of FILES) {
    const path = resolve(modelsDir, file);
    if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
    models.set(file, await llama.loadModel({ modelPath: path, vocabOnly: true }));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([...models.values()].map((model) => model.dispose()));
  await releaseLlama(undefined);
});

const conversation: ChatHistoryItem[] = [
  { type: 'system', text: 'You are a helpful assistant.' },
  { type: 'user', text: 'What is the capital of France?' },
  { type: 'model', response: ['Paris.'] },
  { type: 'user', text: 'And of Italy?' },
  { type: 'model', response: [] },
];

describe.each(FILES)('resolveModelChatWrapper on %s', (file) => {
  it("renders exactly what the model's own Jinja template renders", () => {
    const model = models.get(file)!;
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    expect(typeof template).toBe('string');
    const ours = resolveModelChatWrapper(model).generateContextState({ chatHistory: conversation }).contextText.tokenize(model.tokenizer);
    const jinja = new JinjaTemplateChatWrapper({ template: template as string })
      .generateContextState({ chatHistory: conversation })
      .contextText.tokenize(model.tokenizer);
    expect(model.detokenize(ours, true)).toBe(model.detokenize(jinja, true));
    expect(ours).toEqual(jinja);
  });

  it('never starts the prompt with a doubled BOS', () => {
    const model = models.get(file)!;
    const tokens = resolveModelChatWrapper(model).generateContextState({ chatHistory: conversation }).contextText.tokenize(model.tokenizer);
    expect(tokens[0] === model.tokens.bos && tokens[1] === model.tokens.bos).toBe(false);
  });
});
