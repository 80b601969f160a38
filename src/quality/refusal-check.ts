import type { QualityCheck } from './quality-scorer.js';
import { countWords, viewOf } from './answer-view.js';

/**
 * Refusals and hedges. A small local model refuses harmless requests ("As an AI, I cannot…") and
 * gives up on ones it finds hard ("I'm not sure"); the next candidate usually just answers. When
 * the request itself invites a refusal — it asks the assistant about itself, its access to live
 * data, or for something a careful model declines — escalating would only buy the same refusal.
 */

/** Looked for in the opening of the answer: a refusal comes first. */
const OPENING_CHARS = 240;

const REFUSALS: readonly RegExp[] = [
  /\b(?:i'?m|i am)\s+(?:so\s+|very\s+|really\s+)?sorry\b[^.!?\n]{0,80}\b(?:can(?:'|’|no)?t|cannot|unable|not able|won'?t|must decline)\b/,
  /\bi\s+(?:can(?:'|’|no)?t|cannot|am unable to|'m unable to|am not able to|'m not able to|won'?t|must decline to)\s+(?:help|assist|provide|answer|do|comply|fulfil|fulfill|complete|create|generate|write|share|support|engage|give|discuss)\b/,
  /\bas an ai\b|\bas a (?:large )?language model\b|\bi(?:'m| am) (?:just |only )?an ai\b|\bi(?:'m| am) (?:just |only )?a language model\b/,
  /\bi (?:don'?t|do not) have (?:access|the ability|the capability|real[- ]time|personal|browsing|the means)\b/,
  /\b(?:lo siento|disculpa)[^.!?\n]{0,60}\bno puedo\b|\bdésolée?[^.!?\n]{0,60}\bne (?:peux|suis) pas\b|\btut mir leid[^.!?\n]{0,60}\bkann ich\b|\bmi dispiace[^.!?\n]{0,60}\bnon posso\b/,
];

/** Giving up rather than refusing: judged only when that is (nearly) all the answer says. */
const HEDGES = /^(?:i(?:'m| am) not (?:sure|certain)|i (?:don'?t|do not) know|i have no (?:idea|information)|i(?:'m| am) unable to (?:determine|say)|it is (?:not possible|impossible) (?:for me )?to (?:say|determine|know)|unfortunately,? i)\b/;
const HEDGE_MAX_WORDS = 30;

/** The request asks for what a refusal is the right answer to, or asks the assistant about itself. */
const REFUSABLE_ASK: readonly RegExp[] = [
  /\b(?:are|can|do|could|would|will|have) you\b[^.?!\n]{0,40}\b(?:ai|human|real|feel|think|access|browse|internet|remember|see|opinion|conscious|alive|emotions?)\b/,
  /\b(?:real[- ]time|right now|today'?s|current(?:ly)?|latest|live|this (?:week|morning))\b[^.?!\n]{0,40}\b(?:news|weather|price|stock|score|rate|events?)\b/,
  /\b(?:weapon|bomb|explosive|kill|murder|poison|hack(?:ing)?|malware|ransomware|steal|phishing|exploit|suicide|self[- ]harm|drugs?|meth|cocaine|launder|counterfeit|nude|porn|illegal)\b/,
  /\b(?:refuse|decline|say no|reject|rejection|refusal)\b/,
  /\b(?:pretend|role[- ]?play|act as|you are an? ai)\b/,
];

export const refusalCheck: QualityCheck = {
  name: 'refusal',
  weight: 1,
  hard: true,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (REFUSABLE_ASK.some((pattern) => pattern.test(view.instructions))) return undefined;
    if (view.refusedByApi) return { score: 0, reason: 'refusal' };
    if (view.text === '') return undefined;
    const opening = view.lower.slice(0, OPENING_CHARS).replace(/’/g, "'");
    if (opensWithRefusal(opening)) return { score: 0, reason: 'refusal' };
    if (HEDGES.test(opening) && countWords(view.text) <= HEDGE_MAX_WORDS) return { score: 0.2, reason: 'hedge' };
    return 1;
  },
};

/** Whether an answer opens by refusing, whatever was asked: the response cache never keeps one. */
export function opensWithRefusal(text: string): boolean {
  const opening = text.slice(0, OPENING_CHARS).toLowerCase().replace(/’/g, "'");
  return REFUSALS.some((pattern) => pattern.test(opening));
}
