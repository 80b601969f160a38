import express, { type RequestHandler } from 'express';
import { SluiceError } from '../../adapters/spec/index.js';
import { fieldPath } from '../config/load.js';
import { isDeclaredTooLarge, refuseOversizedBody, watchBodySize } from './body-limit.js';
import { clipClientValue, clipParam } from './error-text.js';

export interface JsonBodyLimits {
  maxBytes: number;
  /** Deepest nesting of objects and arrays; the body itself is level 1. */
  maxDepth: number;
  maxObjectKeys: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON body parser of the model endpoints. Its shape limits are checked on the raw text,
 * before JSON.parse builds anything: a body nested thousands deep parses fine but overflows the
 * stack of every recursive step after it (zod, the adapters' translators, the SDKs'
 * JSON.stringify), and a 4 MB object of 400,000 keys costs a second of CPU to parse at all.
 */
export function jsonBody(limits: JsonBodyLimits): RequestHandler {
  const parse = express.json({
    limit: limits.maxBytes,
    type: ['application/json', 'application/*+json'],
    // Parse `"hi"`, `42` and `null` too, so validate() can say "must be a JSON object" instead of
    // body-parser's "Unexpected token" about JSON that is in fact valid.
    strict: false,
    verify: (_request, _response, buffer) => {
      const text = strictUtf8.decode(buffer); // throws on invalid UTF-8: a 400, not mojibake sent upstream
      checkJsonShape(text, limits);
    },
  });
  // body-parser answers an oversized body only once it has read all of it (raw-body's limit, then
  // a drain): a declared length over the limit is refused unread, a chunked one as soon as it passes.
  return (request, response, next) => {
    if (isDeclaredTooLarge(request, limits.maxBytes)) {
      refuseOversizedBody(request, response, limits.maxBytes);
      return;
    }
    parse(request, response, next);
    watchBodySize(request, response, limits.maxBytes);
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * One pass over JSON text that throws a 400 when it nests deeper than `maxDepth` or an object has
 * more than `maxObjectKeys` keys. Iterative, linear in the length, and its memory is bound by
 * `maxDepth`, whatever the input. Text that is not JSON at all is left for JSON.parse to reject.
 */
export function checkJsonShape(text: string, limits: Pick<JsonBodyLimits, 'maxDepth' | 'maxObjectKeys'>): void {
  const { maxDepth, maxObjectKeys } = limits;
  // Per open container, indexed by depth: whether it is an object; its keys so far, or for an
  // array the index of the current element; and where its latest key sits, to name the path.
  const isObject = new Uint8Array(maxDepth + 1);
  const counts = new Uint32Array(maxDepth + 1);
  const keyStart = new Int32Array(maxDepth + 1);
  const keyEnd = new Int32Array(maxDepth + 1);
  let depth = 0;
  let inString = false;
  let inKey = false;
  let isAwaitingKey = false;
  const pathTo = (level: number) => openPath(text, level, isObject, counts, keyStart, keyEnd);
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === BACKSLASH) index++;
      else if (char === QUOTE) {
        inString = false;
        if (inKey) keyEnd[depth] = index + 1;
        inKey = false;
      }
      continue;
    }
    if (char === QUOTE) {
      inString = true;
      if (!isAwaitingKey) continue;
      isAwaitingKey = false;
      inKey = true;
      keyStart[depth] = index;
      keyEnd[depth] = index + 1;
      if (++counts[depth] > maxObjectKeys) throw tooManyKeys(pathTo(depth - 1), maxObjectKeys);
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (depth === maxDepth) throw tooDeep(pathTo(depth), maxDepth);
      depth++;
      isObject[depth] = char === OPEN_BRACE ? 1 : 0;
      counts[depth] = 0;
      isAwaitingKey = char === OPEN_BRACE;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      if (depth === 0) return; // unbalanced: not JSON, and JSON.parse says so
      depth--;
      isAwaitingKey = false;
    } else if (char === COMMA && depth > 0) {
      if (isObject[depth]) isAwaitingKey = true;
      else counts[depth]++;
    }
  }
}

/** The field path through the open containers 1..level, spelled as `param` is everywhere else. */
function openPath(text: string, level: number, isObject: Uint8Array, counts: Uint32Array, keyStart: Int32Array, keyEnd: Int32Array): string {
  const path: (string | number)[] = [];
  for (let depth = 1; depth <= level; depth++) {
    path.push(isObject[depth] ? keyText(text.slice(keyStart[depth], Math.min(keyEnd[depth], keyStart[depth] + 256))) : counts[depth]);
  }
  return clipParam(fieldPath(path));
}

/** A key as the client spelled it, unescaped when its text is whole and short. */
function keyText(quoted: string): string {
  try {
    const key: unknown = JSON.parse(quoted);
    if (typeof key === 'string') return clipClientValue(key);
  } catch {
    // Cut short above (a key of megabytes) or badly escaped: the raw prefix names it as well.
  }
  return clipClientValue(quoted.slice(1));
}

function tooDeep(param: string, maxDepth: number): SluiceError {
  return new SluiceError('invalid-request', `The request body nests objects and arrays more than ${maxDepth} levels deep, at '${clipClientValue(param, 100)}'.`, {
    param,
    code: 'json_too_deep',
  });
}

function tooManyKeys(param: string, maxObjectKeys: number): SluiceError {
  const where = param ? `'${clipClientValue(param, 100)}'` : 'the top level of the request body';
  return new SluiceError('invalid-request', `The JSON object at ${where} has more than ${maxObjectKeys} keys.`, {
    param: param || undefined,
    code: 'json_too_many_keys',
  });
}
