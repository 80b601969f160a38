/**
 * The vendors of the live eval (eval/run-live-eval.ts), on loopback: one server that speaks
 * OpenAI's chat completions (OpenAI and DeepSeek; JSON and SSE) and Anthropic's messages (JSON
 * and SSE), and answers every request with the labelled item's oracle — a correct answer — found
 * by the request's last user turn. A request it cannot place gets a plain "I don't know." so it
 * fails its check rather than passing by accident. The vendors' real wire shapes, so the
 * gateway's own adapters and translators are what runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastUserText, type ChatMessage } from '../adapters/spec/index.js';
import { countTokens } from '../src/pipeline/usage-estimate.js';
import type { LoadedItem } from './routing/check-set.js';

export interface OracleVendors {
  /** Base URL without a path: OpenAI-style backends add `/v1`, Anthropic's adds nothing. */
  origin: string;
  /** Requests answered, by API (`openai`, `anthropic`). */
  calls: Record<'openai' | 'anthropic', number>;
  close(): Promise<void>;
}

interface Oracle {
  text?: string;
  tool?: { name: string; arguments: Record<string, unknown> };
}

/** The item's oracle as a chat answer: text, or the tool call a tool_call item expects. */
function oracleOf(item: LoadedItem): Oracle {
  if (item.check.kind !== 'tool_call') return { text: item.oracle };
  const call = JSON.parse(item.oracle) as { name: string; arguments: Record<string, unknown> };
  return { tool: call };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

/** Anthropic's messages carry content blocks; the last user turn's text blocks are what is matched. */
function anthropicLastUserText(messages: { role: string; content: unknown }[]): string {
  const last = [...messages].reverse().find((message) => message.role === 'user' && (typeof message.content === 'string' || (Array.isArray(message.content) && message.content.some((block: { type?: string }) => block.type === 'text'))));
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content as { type: string; text?: string }[])
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join(' ');
}

function sse(response: ServerResponse, frames: readonly string[]): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.end(frames.join(''));
}

function openAiAnswer(response: ServerResponse, body: Record<string, unknown>, oracle: Oracle, promptTokens: number): void {
  const id = `chatcmpl-oracle-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = String(body.model);
  const completionTokens = countTokens(oracle.text ?? JSON.stringify(oracle.tool));
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  const toolCalls = oracle.tool && [{ id: 'call_oracle', type: 'function', function: { name: oracle.tool.name, arguments: JSON.stringify(oracle.tool.arguments) } }];
  const finish = toolCalls ? 'tool_calls' : 'stop';
  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: oracle.text ?? null, refusal: null, ...(toolCalls && { tool_calls: toolCalls }) }, finish_reason: finish, logprobs: null }], usage }));
    return;
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
  const delta = toolCalls ? { tool_calls: toolCalls.map((call, index) => ({ index, ...call })) } : { content: oracle.text };
  const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  sse(response, [
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    chunk([{ index: 0, delta, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: finish }]),
    ...(wantsUsage ? [chunk([], { usage })] : []),
    'data: [DONE]\n\n',
  ]);
}

function anthropicAnswer(response: ServerResponse, body: Record<string, unknown>, oracle: Oracle, promptTokens: number): void {
  const id = `msg_oracle_${Date.now().toString(36)}`;
  const model = String(body.model);
  const outputTokens = countTokens(oracle.text ?? JSON.stringify(oracle.tool));
  const content = oracle.tool ? [{ type: 'tool_use', id: 'toolu_oracle', name: oracle.tool.name, input: oracle.tool.arguments }] : [{ type: 'text', text: oracle.text ?? '' }];
  const stopReason = oracle.tool ? 'tool_use' : 'end_turn';
  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: promptTokens, output_tokens: outputTokens } }));
    return;
  }
  const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const block = content[0]!;
  const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
  const delta = block.type === 'text' ? { type: 'text_delta', text: oracle.text ?? '' } : { type: 'input_json_delta', partial_json: JSON.stringify(oracle.tool!.arguments) };
  sse(response, [
    event('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: promptTokens, output_tokens: 1 } } }),
    event('content_block_start', { type: 'content_block_start', index: 0, content_block: start }),
    event('content_block_delta', { type: 'content_block_delta', index: 0, delta }),
    event('content_block_stop', { type: 'content_block_stop', index: 0 }),
    event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }),
    event('message_stop', { type: 'message_stop' }),
  ]);
}

export async function startOracleVendors(items: readonly LoadedItem[]): Promise<OracleVendors> {
  const byTurn = new Map(items.map((item) => [lastUserText(item.request.messages).trim(), oracleOf(item)]));
  const unknown: Oracle = { text: "I don't know." };
  const calls = { openai: 0, anthropic: 0 };
  const server = createServer((request, response) => {
    readJson(request)
      .then((body) => {
        const path = (request.url ?? '').split('?')[0]!;
        const promptTokens = countTokens(JSON.stringify(body.messages ?? ''));
        if (path.endsWith('/chat/completions')) {
          calls.openai += 1;
          const turn = lastUserText((body.messages ?? []) as ChatMessage[]).trim();
          return openAiAnswer(response, body, byTurn.get(turn) ?? unknown, promptTokens);
        }
        if (path.endsWith('/messages')) {
          calls.anthropic += 1;
          const turn = anthropicLastUserText((body.messages ?? []) as { role: string; content: unknown }[]).trim();
          return anthropicAnswer(response, body, byTurn.get(turn) ?? unknown, promptTokens);
        }
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `no such path ${path}`, type: 'invalid_request_error', param: null, code: null } }));
      })
      .catch((error: unknown) => {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: String(error), type: 'invalid_request_error', param: null, code: null } }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
