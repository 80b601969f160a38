import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { ChatMessage, ContentPart } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';

/**
 * OpenAI messages → node-llama-cpp chat history, which the model's own chat template renders.
 *
 * - system and developer → system; user → user; text parts are joined with newlines, and any
 *   other part (image, audio, file) is refused: these models read text only.
 * - assistant → a model turn. Its `tool_calls` become function calls carrying the results of
 *   the `tool` messages that answer them (node-llama-cpp keeps a call and its result together);
 *   an assistant message right after those results continues the same turn, as the template
 *   expects.
 * - The history ends with an open model turn to generate into: a new one, or — when the last
 *   messages are tool results — the turn that made the calls, so the model answers from them.
 */
export function toLlamaHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const answered = new Set<string>();
  let openToolTurn: ChatModelResponse | undefined;
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: textOf(message.content, param) });
        openToolTurn = undefined;
        return;
      case 'user':
        history.push({ type: 'user', text: textOf(message.content, param) });
        openToolTurn = undefined;
        return;
      case 'assistant': {
        const text = textOf(message.content ?? '', param);
        const calls = (message.tool_calls ?? []).map((call, position) => toFunctionCall(messages, index, position, answered));
        const response: ChatModelResponse['response'] = [...(text === '' ? [] : [text]), ...calls];
        if (openToolTurn) {
          openToolTurn.response.push(...response);
        } else {
          const turn: ChatModelResponse = { type: 'model', response };
          history.push(turn);
          openToolTurn = calls.length > 0 ? turn : undefined;
        }
        if (calls.length === 0) openToolTurn = undefined;
        return;
      }
      case 'tool':
        if (!message.tool_call_id || !answered.has(message.tool_call_id)) {
          throw new SluiceError('invalid-request', `${param}: a 'tool' message must answer a tool_call_id of the assistant message before it`, {
            param: `${param}.tool_call_id`,
          });
        }
        return;
      default:
        throw new SluiceError('invalid-request', `${param}: role '${message.role}' is not supported by the local model; use tools`, {
          param: `${param}.role`,
        });
    }
  });
  const last = history.at(-1);
  const continuesToolTurn = last?.type === 'model' && last === openToolTurn;
  if (!continuesToolTurn) history.push({ type: 'model', response: [] });
  return history;
}

/** The text of a message's content; non-text parts are refused. */
export function textOf(content: ChatMessage['content'], param: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, index) => partText(part, `${param}.content[${index}]`)).join('\n');
}

function partText(part: ContentPart, param: string): string {
  if (part.type === 'text') return part.text;
  if (part.type === 'refusal') return part.refusal;
  throw new SluiceError('invalid-request', `${param}: the local model reads text only, not '${part.type}'`, { param });
}

function toFunctionCall(messages: readonly ChatMessage[], index: number, position: number, answered: Set<string>): ChatModelFunctionCall {
  const call = messages[index].tool_calls![position];
  const result = findResult(messages, index, call.id);
  if (result === undefined) {
    throw new SluiceError('invalid-request', `messages[${index}].tool_calls[${position}]: no 'tool' message answers tool_call_id "${call.id}"`, {
      param: `messages[${index}].tool_calls`,
    });
  }
  answered.add(call.id);
  return { type: 'functionCall', name: call.function.name, params: jsonOrText(call.function.arguments), result };
}

/** The tool messages answering an assistant message follow it, before the next user or assistant turn. */
function findResult(messages: readonly ChatMessage[], index: number, callId: string): unknown {
  for (let next = index + 1; next < messages.length && messages[next].role === 'tool'; next += 1) {
    const message = messages[next];
    if (message.tool_call_id === callId) return jsonOrText(textOf(message.content, `messages[${next}]`));
  }
  return undefined;
}

/**
 * Arguments and results travel as JSON text; the template renders them as JSON again, so
 * they are parsed. Text that is not JSON (a plain-text result, a model's malformed arguments)
 * is replayed as the text it is.
 */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
