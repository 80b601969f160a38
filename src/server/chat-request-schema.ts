import { z } from 'zod';
import { clipClientValue } from './error-text.js';

const text = z.strictObject({ type: z.literal('text'), text: z.string() });
const imageUrl = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const inputAudio = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({ data: z.string(), format: z.string() }),
});
const file = z.strictObject({ type: z.literal('file'), file: z.record(z.string(), z.unknown()) });
const refusal = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

const userPart = z.discriminatedUnion('type', [text, imageUrl, inputAudio, file]);
const assistantPart = z.discriminatedUnion('type', [text, refusal]);

const toolCall = z.strictObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});

const name = z.string().max(256).optional();

const message = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: z.union([z.string(), z.array(text).min(1)]), name }),
  z.strictObject({ role: z.literal('developer'), content: z.union([z.string(), z.array(text).min(1)]), name }),
  z.strictObject({ role: z.literal('user'), content: z.union([z.string(), z.array(userPart).min(1)]), name }),
  z
    .strictObject({
      role: z.literal('assistant'),
      content: z.union([z.string(), z.array(assistantPart), z.null()]).optional(),
      name,
      refusal: z.string().nullable().optional(),
      tool_calls: z.array(toolCall).optional(),
      function_call: z.strictObject({ name: z.string(), arguments: z.string() }).nullable().optional(),
      audio: z.strictObject({ id: z.string() }).nullable().optional(),
    })
    .refine((m) => (m.content !== undefined && m.content !== null) || (m.tool_calls?.length ?? 0) > 0 || m.function_call, {
      message: 'an assistant message needs content or tool_calls',
      path: ['content'],
    }),
  // OpenAI accepts (and ignores) `name` on tool messages, and LangChain sends it with every tool result.
  z.strictObject({ role: z.literal('tool'), content: z.union([z.string(), z.array(text).min(1)]), tool_call_id: z.string(), name }),
  z.strictObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
]);

const jsonSchemaObject = z.record(z.string(), z.unknown());

const responseFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -'),
      description: z.string().optional(),
      schema: jsonSchemaObject.optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

const tool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -'),
    description: z.string().optional(),
    parameters: jsonSchemaObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
]);

const positiveInt = z.number().int().positive();

/**
 * The public OpenAI chat request. Strict, like OpenAI's own endpoint: an unknown argument is a
 * 400 that names it, not something silently dropped.
 */
export const chatRequestSchema = z
  .strictObject({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    stream: z.boolean().nullable().optional(),
    stream_options: z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullable().optional(),
    max_tokens: positiveInt.nullable().optional(),
    max_completion_tokens: positiveInt.nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.number().int().min(1).max(128).nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().optional(),
    tools: z.array(tool).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    functions: z.array(tool.shape.function).optional(),
    function_call: z.union([z.enum(['none', 'auto']), z.strictObject({ name: z.string() })]).optional(),
    response_format: responseFormat.optional(),
    presence_penalty: z.number().min(-2).max(2).nullable().optional(),
    frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    store: z.boolean().nullable().optional(),
    service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullable().optional(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullable().optional(),
    modalities: z.array(z.enum(['text', 'audio'])).nullable().optional(),
    audio: z.record(z.string(), z.unknown()).nullable().optional(),
    prediction: z.record(z.string(), z.unknown()).nullable().optional(),
    prompt_cache_key: z.string().optional(),
    safety_identifier: z.string().optional(),
    verbosity: z.enum(['low', 'medium', 'high']).nullable().optional(),
    web_search_options: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((request, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (request.max_tokens != null && request.max_completion_tokens != null) {
      problem('max_tokens', 'max_tokens and max_completion_tokens cannot both be set; use max_completion_tokens');
    }
    if (request.stream_options && !request.stream) {
      problem('stream_options', "stream_options is only allowed when 'stream' is true");
    }
    if (request.tool_choice !== undefined && !request.tools?.length) {
      problem('tool_choice', "tool_choice is only allowed when 'tools' are specified");
    }
    if (request.parallel_tool_calls !== undefined && !request.tools?.length) {
      problem('parallel_tool_calls', "parallel_tool_calls is only allowed when 'tools' are specified");
    }
    if (request.top_logprobs != null && !request.logprobs) {
      problem('top_logprobs', "top_logprobs requires 'logprobs' to be true");
    }
    if (typeof request.tool_choice === 'object' && request.tools?.length) {
      const wanted = request.tool_choice.function.name;
      if (!request.tools.some((t) => t.function.name === wanted)) {
        problem('tool_choice', `tool_choice names function "${clipClientValue(wanted)}", which is not in 'tools'`);
      }
    }
    const names = new Set<string>();
    request.tools?.forEach((t, index) => {
      if (names.has(t.function.name)) context.addIssue({ code: 'custom', path: ['tools', index, 'function', 'name'], message: `duplicate function name "${t.function.name}"` });
      names.add(t.function.name);
    });
  });

export type ValidChatRequest = z.infer<typeof chatRequestSchema>;
