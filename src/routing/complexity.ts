import { messageText, type ChatRequest } from '../../adapters/spec/index.js';
import type { Tier } from '../config/schema.js';

export interface TierVerdict {
  tier: Tier;
  reason: string;
}

const BRAND = /\b(brand voice|on-brand|customer[- ]facing|premium voice|press release|tagline|marketing copy)\b/i;
const CREATIVE = /\b(poem|story|stories|song|lyrics|haiku|novel|screenplay|brainstorm|creative|fiction|limerick)\b/i;
const HIGH = /\b(prove|proof|derive|analy[sz]e|architecture|design a|refactor|debug|step[- ]by[- ]step|trade-?offs?|legal|diagnos\w*|optimi[sz]e)\b/i;
const CODE = /```|\bfunction\s+\w+\s*\(|\bclass\s+\w+|\bdef\s+\w+\s*\(|#include\b/;

/**
 * A cheap, explainable first cut of how hard a request is. Pure and fast: it runs on every
 * routed request. The reason names the rule that fired, for `x-sluice-route-reason`.
 */
export function classifyComplexity(request: ChatRequest): TierVerdict {
  const system = request.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => messageText(m.content)).join('\n');
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  const question = messageText(lastUser?.content);
  const words = request.messages.reduce((sum, m) => sum + messageText(m.content).split(/\s+/).filter(Boolean).length, 0);

  if (BRAND.test(system) || BRAND.test(question)) return { tier: 'brand', reason: 'brand-voice' };
  if (CREATIVE.test(question)) return { tier: 'creative', reason: 'creative-writing' };
  if (request.tools?.length) return { tier: 'high', reason: 'tool-use' };
  if (CODE.test(question)) return { tier: 'high', reason: 'code' };
  if (HIGH.test(question)) return { tier: 'high', reason: 'reasoning' };
  if (words > 1500) return { tier: 'high', reason: 'long-context' };
  if (words > 250 || request.messages.length > 8) return { tier: 'medium', reason: 'length' };
  if (request.response_format?.type === 'json_schema') return { tier: 'medium', reason: 'structured-output' };
  return { tier: 'simple', reason: 'short-question' };
}
