// Endpoints Sluice does not implement but passes through to OpenAI: files, moderations, legacy completions
// and the Responses API (JSON and its `event:` framed stream). Simple, but shaped like OpenAI's answers,
// down to the headers OpenAI's edge adds that must not reach Sluice's callers (see vendorEdgeHeaders).
import { messageText } from './fake-openai-chat.js';
import { contentPieces } from './fake-openai-chat-stream.js';
import { applyCommonScenario } from './fake-openai-scenarios.js';
import {
  invalidRequest,
  isRecord,
  missingParameter,
  newId,
  nowSeconds,
  openEventStream,
  sendJson,
  wordCount,
  type Exchange,
  type MultipartForm,
} from './fake-openai-wire.js';

/**
 * What api.openai.com adds to its answers besides the API headers: the organisation and project the
 * key belongs to, Cloudflare's bot-management cookie, and statements about its own origin.
 */
export const vendorEdgeHeaders: Readonly<Record<string, string>> = {
  'openai-organization': 'org-fake-owner',
  'openai-project': 'proj_fake_owner',
  'set-cookie': '__cf_bm=fake-bot-cookie; path=/; domain=.api.openai.com; HttpOnly; Secure; SameSite=None',
  'alt-svc': 'h3=":443"; ma=86400',
  'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
};

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

export function handleFileUpload(exchange: Exchange, form: MultipartForm | undefined, store: FileObject[]): void {
  if (!form) throw invalidRequest('Invalid Content-Type header, expected multipart/form-data.', null);
  const file = form.files.find((upload) => upload.field === 'file');
  if (!file) throw missingParameter('file');
  const purpose = form.fields.purpose;
  if (typeof purpose !== 'string' || purpose === '') throw missingParameter('purpose');
  const created: FileObject = {
    id: newId('file-'),
    object: 'file',
    bytes: file.bytes.length,
    created_at: nowSeconds(),
    expires_at: null,
    filename: file.filename,
    purpose,
    status: 'processed',
    status_details: null,
  };
  store.push(created);
  sendJson(exchange, 200, created, vendorEdgeHeaders);
}

export function handleFileList(exchange: Exchange, store: FileObject[]): void {
  sendJson(exchange, 200, {
    object: 'list',
    data: store,
    has_more: false,
    first_id: store[0]?.id ?? null,
    last_id: store.at(-1)?.id ?? null,
  });
}

const moderationCategories = [
  'harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'illicit', 'illicit/violent', 'self-harm',
  'self-harm/instructions', 'self-harm/intent', 'sexual', 'sexual/minors', 'violence', 'violence/graphic',
];

/** Flags `violence` when the text says "kill", so both outcomes can be tested. */
export function handleModeration(exchange: Exchange, body: unknown): void {
  if (!isRecord(body)) throw invalidRequest('Invalid body: expected a JSON object.');
  if (body.input === undefined) throw missingParameter('input');
  const texts = (Array.isArray(body.input) ? body.input : [body.input]).map((item) =>
    typeof item === 'string' ? item : isRecord(item) && typeof item.text === 'string' ? item.text : '',
  );
  sendJson(
    exchange,
    200,
    {
      id: newId('modr-'),
      model: typeof body.model === 'string' ? body.model : 'omni-moderation-latest',
      results: texts.map((text) => {
        const isViolent = /\bkill/i.test(text);
        const flagged = (category: string) => category === 'violence' && isViolent;
        return {
          flagged: isViolent,
          categories: Object.fromEntries(moderationCategories.map((category) => [category, flagged(category)])),
          category_scores: Object.fromEntries(moderationCategories.map((category) => [category, flagged(category) ? 0.97 : 0.0001])),
          category_applied_input_types: Object.fromEntries(moderationCategories.map((category) => [category, ['text']])),
        };
      }),
    },
    vendorEdgeHeaders,
  );
}

export async function handleResponses(exchange: Exchange, body: unknown): Promise<void> {
  if (!isRecord(body)) throw invalidRequest('Invalid body: expected a JSON object.');
  if (!(await applyCommonScenario(exchange, body.model))) return;
  if (typeof body.model !== 'string' || body.model === '') throw missingParameter('model');
  if (body.input === undefined) throw missingParameter('input');
  const items: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  const userItems = items.filter((item) => typeof item === 'string' || (isRecord(item) && (item.role ?? 'user') === 'user'));
  const text = `You said: ${userItems.length > 0 ? inputItemText(userItems[userItems.length - 1]) : ''}`;
  const inputTokens = items.reduce((sum: number, item) => sum + wordCount(inputItemText(item)), 0);
  const [responseId, messageId, createdAt] = [newId('resp_'), newId('msg_'), nowSeconds()];
  const response = (status: 'in_progress' | 'completed', outputText?: string) => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: body.model,
    output: outputText === undefined ? [] : [messageItem(messageId, 'completed', outputText)],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage:
      outputText === undefined
        ? null
        : {
            input_tokens: inputTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: wordCount(outputText),
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: inputTokens + wordCount(outputText),
          },
    user: null,
    metadata: {},
  });
  if (body.stream !== true) {
    sendJson(exchange, 200, response('completed', text), vendorEdgeHeaders);
    return;
  }
  for (const [name, value] of Object.entries(vendorEdgeHeaders)) exchange.response.setHeader(name, value);
  const stream = openEventStream(exchange);
  let sequenceNumber = 0;
  const emit = (type: string, payload: Record<string, unknown>) => stream.event(type, { type, sequence_number: sequenceNumber++, ...payload });
  const part = { item_id: messageId, output_index: 0, content_index: 0 };
  emit('response.created', { response: response('in_progress') });
  emit('response.in_progress', { response: response('in_progress') });
  emit('response.output_item.added', { output_index: 0, item: messageItem(messageId, 'in_progress') });
  emit('response.content_part.added', { ...part, part: { type: 'output_text', text: '', annotations: [] } });
  for (const delta of contentPieces(text)) emit('response.output_text.delta', { ...part, delta, logprobs: [] });
  emit('response.output_text.done', { ...part, text, logprobs: [] });
  emit('response.content_part.done', { ...part, part: { type: 'output_text', text, annotations: [] } });
  emit('response.output_item.done', { output_index: 0, item: messageItem(messageId, 'completed', text) });
  emit('response.completed', { response: response('completed', text) });
  stream.end();
}

/**
 * Legacy `POST /v1/completions`: echoes the prompt, cut to `max_tokens` words (16 by default, as
 * OpenAI's), one choice per `n`. Streams end with a usage chunk only when `stream_options.include_usage`
 * asks for one, as OpenAI's do.
 */
export async function handleCompletions(exchange: Exchange, body: unknown): Promise<void> {
  if (!isRecord(body)) throw invalidRequest('Invalid body: expected a JSON object.');
  if (!(await applyCommonScenario(exchange, body.model))) return;
  if (typeof body.model !== 'string' || body.model === '') throw missingParameter('model');
  if (body.prompt === undefined) throw missingParameter('prompt');
  const prompts = Array.isArray(body.prompt) ? body.prompt.map(String) : [String(body.prompt)];
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 16;
  const choicesPerPrompt = typeof body.n === 'number' ? body.n : 1;
  const texts = prompts.flatMap((prompt) => Array.from({ length: choicesPerPrompt }, () => ` You said: ${prompt}`.split(' ').slice(0, maxTokens + 1).join(' ')));
  const usage = {
    prompt_tokens: prompts.reduce((sum, prompt) => sum + wordCount(prompt), 0),
    completion_tokens: texts.reduce((sum, text) => sum + wordCount(text), 0),
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const [id, created] = [newId('cmpl-'), nowSeconds()];
  const base = { id, object: 'text_completion', created, model: body.model, system_fingerprint: null };
  if (body.stream !== true) {
    const choices = texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: 'stop' }));
    sendJson(exchange, 200, { ...base, choices, usage }, vendorEdgeHeaders);
    return;
  }
  for (const [name, value] of Object.entries(vendorEdgeHeaders)) exchange.response.setHeader(name, value);
  const stream = openEventStream(exchange);
  texts.forEach((text, index) => {
    for (const piece of contentPieces(text)) stream.data({ ...base, choices: [{ text: piece, index, logprobs: null, finish_reason: null }] });
    stream.data({ ...base, choices: [{ text: '', index, logprobs: null, finish_reason: 'stop' }] });
  });
  const options = body.stream_options;
  if (isRecord(options) && options.include_usage === true) stream.data({ ...base, choices: [], usage });
  stream.done();
}

function inputItemText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (!isRecord(item)) return '';
  if (Array.isArray(item.content)) {
    const parts = item.content.map((part) => (isRecord(part) && part.type === 'input_text' ? { type: 'text', text: part.text } : part));
    return messageText({ content: parts });
  }
  return messageText(item);
}

function messageItem(id: string, status: 'in_progress' | 'completed', text?: string) {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: text === undefined ? [] : [{ type: 'output_text', text, annotations: [] }],
  };
}
