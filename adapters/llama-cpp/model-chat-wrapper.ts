import { LlamaText, resolveChatWrapper, SpecialToken, type ChatWrapper, type LlamaModel } from 'node-llama-cpp';

/**
 * The chat template the model was trained with, as node-llama-cpp resolves it from the GGUF
 * (`tokenizer.chat_template` → ChatML, Qwen, Llama 3, …, or the Jinja template itself).
 *
 * One correction: node-llama-cpp's specialised wrappers start the prompt with the BOS token
 * whatever the file says, while llama.cpp adds BOS only when `tokenizer.ggml.add_bos_token`
 * is true. SmolLM2 sets it false and its BOS *is* `<|im_start|>`, so the prompt began
 * `<|im_start|><|im_start|>system` and the model answered "What is the capital of France?"
 * with "La femme de France, la femme de France, …" as soon as a system message was present.
 * Dropping that BOS makes the prompt token-for-token what the GGUF's own Jinja template
 * renders (checked on SmolLM2 and Qwen2.5).
 */
export function resolveModelChatWrapper(model: LlamaModel): ChatWrapper {
  const wrapper = resolveChatWrapper(model);
  const addsBos = model.fileInfo.metadata.tokenizer?.ggml?.add_bos_token;
  return addsBos === false ? withoutLeadingBos(wrapper) : wrapper;
}

/**
 * Wraps every method of `wrapper` unchanged except `generateContextState`, whose rendered text
 * loses a leading BOS. A Proxy rather than a subclass because the resolved wrapper may be any
 * of node-llama-cpp's classes.
 */
function withoutLeadingBos(wrapper: ChatWrapper): ChatWrapper {
  const generateContextState: ChatWrapper['generateContextState'] = (options) => {
    const state = wrapper.generateContextState(options);
    const [first, ...rest] = state.contextText.values;
    const isBos = first instanceof SpecialToken && first.value === 'BOS';
    return isBos ? { ...state, contextText: LlamaText(rest) } : state;
  };
  return new Proxy(wrapper, {
    get(target, property) {
      if (property === 'generateContextState') return generateContextState;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
