// The model name picks the scenario. Error scenarios answer before any header, as OpenAI does; the stream
// scenarios (cut, error, empty) live with the chat stream that they break.
import { setTimeout as delay } from 'node:timers/promises';
import { FakeHttpError, type Exchange, type OpenAIErrorBody } from './fake-openai-wire.js';

export const slowDelayMs = 2000;
export const retryAfterSeconds = 7;

const streamScenarios = ['fake-cut-after-first-chunk', 'fake-stream-error', 'fake-empty-stream', 'fake-no-usage', 'fake-trickle'] as const;
/** `fake-trickle` streams one chunk per this many milliseconds, as a model generating live does. */
export const trickleIntervalMs = 40;
export type StreamScenario = (typeof streamScenarios)[number];

// Bodies as OpenAI sends them; the 502 one, with its numeric code, is Cloudflare's in front of OpenAI.
const errorScenarios: Record<string, { status: number; body: OpenAIErrorBody; headers?: Record<string, string> }> = {
  'fake-500': {
    status: 500,
    body: {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      param: null,
      code: null,
    },
  },
  'fake-502': {
    status: 502,
    body: { message: 'Bad gateway.', type: 'cf_bad_gateway', param: null, code: 502 },
  },
  'fake-503': {
    status: 503,
    body: {
      message: 'The engine is currently overloaded, please try again later.',
      type: 'server_error',
      param: null,
      code: null,
    },
  },
  'fake-429': {
    status: 429,
    body: {
      message:
        'Rate limit reached for requests on tokens per min (TPM): Limit 30000, Used 30000, Requested 1. ' +
        `Please try again in ${retryAfterSeconds}s.`,
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    },
    headers: {
      'retry-after': String(retryAfterSeconds),
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': `${retryAfterSeconds}s`,
    },
  },
  'fake-401': {
    status: 401,
    body: {
      message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  },
  'fake-400': {
    status: 400,
    body: {
      message: "Invalid value for 'temperature': expected a number between 0 and 2.",
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    },
  },
};

export const scenarioModels: readonly string[] = [...Object.keys(errorScenarios), 'fake-slow', ...streamScenarios];

/** The error this model always answers with, if it is an error scenario. */
export function scenarioError(model: unknown): FakeHttpError | undefined {
  const scenario = typeof model === 'string' ? errorScenarios[model] : undefined;
  return scenario && new FakeHttpError(scenario.status, { ...scenario.body }, scenario.headers);
}

/**
 * Runs the scenarios every model-bearing endpoint shares: throws the scenario's error, or waits out
 * `fake-slow`. Resolves false when the client left while it waited, and nothing should be written.
 */
export async function applyCommonScenario(exchange: Exchange, model: unknown): Promise<boolean> {
  const error = scenarioError(model);
  if (error) throw error;
  if (model !== 'fake-slow') return true;
  try {
    await delay(slowDelayMs, undefined, { signal: exchange.signal });
    return true;
  } catch (error) {
    if (exchange.signal.aborted) return false; // the client hung up: what this scenario exists to test
    throw error;
  }
}

export function streamScenario(model: unknown): StreamScenario | undefined {
  return streamScenarios.find((scenario) => scenario === model);
}

export const streamErrorBody: OpenAIErrorBody = {
  message: 'The server had an error while processing your request. Sorry about that!',
  type: 'server_error',
  param: null,
  code: null,
};
