import { lastUserText, messageText, type ChatMessage, type ChatRequest } from '../../adapters/spec/index.js';

/**
 * Cheap, deterministic features of a chat request for the tier classifier (tier-classifier.ts).
 * Each is a count, a flag or a log length, roughly 0..1; the trained artefact standardises them.
 * The cue lists cover the languages of the labelled set (en, es, fr, de, pt, it, ru, zh, ja) where
 * a word or two does it: they are hints for a learned model, not rules, so a miss costs little.
 */

/** A pasted block longer than this with a short ask after it reads as "look something up in this". */
const CONTEXT_BLOCK_CHARS = 800;
const SHORT_ASK_CHARS = 240;
/** What of a long turn the embedding text keeps: the model reads 256 tokens at most anyway. */
const ROUTING_HEAD_CHARS = 600;
const ROUTING_SYSTEM_CHARS = 700;

const CODE_FENCE = /```/g;
const CODE_TOKENS = /\b(function|def|class|import|return|const|let|var|async|await|SELECT|FROM|WHERE|public|static|void|fn|impl|struct|interface)\b|=>|\)\s*\{|#include|;\s*$/gm;
const CODE_TASK = /\b(refactor|debug|bug|bugs|fix|compile[sd]?|unit tests?|pytest|regex|sql|query|script|function|endpoint|handler|stack trace|exception|type hints?|async|memory leak|race condition|deadlock)\b|código|kod|代码|コード/gi;
const MATHS = /[√²³∑∫≤≥≠±×÷π]|\b(integer|prime|primes|equation|probability|expected (number|value)|divisible|irrational|theorem|sequence|convergent|modulo|matrix)\b|primzahl|número primo|nombre premier|простое число|素数|无理数|無理数|概率|確率/gi;
const PROOF = /\b(prove|proof|justify|rigorous|derive|derivation|show that)\b|demuestra|démontre|prouve|beweise|prove que|prova che|докажи|доказательств|证明|証明/gi;
const DESIGN = /\b(design|architecture|architect|trade-?offs?|scal(e|ing|able)|distributed|sharding|throughput|rps|latency|bottleneck|root cause|migrat\w+|consisten(t|cy)|idempoten\w+|failover|microservices?|monolith)\b|diseña|conçois|concevoir|entwirf|entwerfen|projete|спроектируй|архитектур|设计|設計|架构|取舍/gi;
const ANALYSIS = /\b(analy[sz]e|evaluate|assess|investigate|diagnos\w+|why does|why can'?t|should we|would you|how would|is it possible|what happens)\b|analiza|analyse[rz]?|analysiere|analise|проанализируй|分析|評価/gi;
const MULTI_STEP = /\b(step[- ]by[- ]step|first\b[^.?!]{0,80}\bthen|and then|after that|finally)\b|paso a paso|étape par étape|schritt für schritt|passo a passo|по шагам|шаг за шагом|一步一步|逐步|ステップ/gi;
const NUMBERED_ASK = /^\s*(\d+[.)]|[-*•])\s+\S/gm;
const CREATIVE = /\b(poem|poetry|story|stories|tale|fable|myth|haiku|limerick|sonnet|lyrics|song|novel|screenplay|scene|dialogue|slogan|tagline|jingle|names? for|brainstorm|invent|imagine|fiction|bedtime)\b|poema|poème|poésie|gedicht|poesia|poesie|стих|сказк|рассказ|cuento|relato|histoire|geschichte|história|storia|fábula|fable|eslogan|lema|letra|samba|ideas|idées|ideen|ideias|idee|идеи|придумай|诗|詩|故事|物語|おとぎ話|キャッチコピー|童话|俳句|invente|erfinde|inventa/gi;
const CREATIVE_VERB = /\b(write|compose|create|come up with|give me \d+|make up)\b|escribe|écris|schreib|escreva|scrivi|напиши|写一|書いて|考えて/gi;
const EXPLAIN = /\b(explain|describe|compare|difference|pros and cons|advantages|how does|what is the difference|a few paragraphs|in detail)\b|explica|explique|erkläre|spiegami|объясни|разниц|解释|説明|区别|違い/gi;
const TRANSFORM = /\b(summari[sz]e|summary|rewrite|rephrase|translate|convert|extract|turn (this|these|them) into|draft|email|letter|table|bullets?|format|clean up|shorten|concise)\b|resume|résume|resumo|riassumi|zusammen|fasse|traduce|traduis|übersetze|traduci|переведи|кратк|总结|翻译|要約|翻訳|correo|e-mail|courriel|brief|письмо|邮件|メール/gi;
const SHORT_ANSWER = /\b(yes or no|one word|one label|just the|only the|answer with|reply with|respond with|in one sentence|true or false)\b|sí o no|oui ou non|ja oder nein|sim ou não|sì o no|да или нет|是或否|はいかいいえ|только|solo con|uniquement|nur mit|apenas|ラベルだけ|只回答/gi;
const LOOKUP_ASK = /^(what|which|who|when|where|how many|how much|is|are|does|do|did|can)\b|^(qu[eé]|cu[aá]l|qui|quel|quelle|wer|was|wie|wann|welche|qual|quanto|quantos|quem|chi|cosa|кто|что|какой|какая|сколько|когда|где|谁|什么|哪|多少|何|誰|いつ|どこ)|\?\s*$|？\s*$/i;
const FOLLOW_UP = /^(ok|okay|cool|nice|great|perfect|thanks|now|and|also|continue|then)\b|^(perfecto|super|génial|danke|und|et|e|y|ahora|maintenant|jetzt|agora|а|и|теперь|好的|那|それで|いいですね)/i;
const BRAND_SYSTEM = /\b(brand|voice|tone|on-brand|customers?|guests?|patients?|sign (off|as)|copywriter|newsletter|never (use|promise|say|mention)|no emojis?|exclamation|premium|our (store|shop|company|hotel|bank|app)|warm|playful)\b|marca|voz|tono|cliente|huéspedes|ton |clients?|maison|marke|kunden|tonfall|você escreve|clientes|marchio|бренд|тон|клиент|品牌|调性|客服|お客様|丁寧|旅館/gi;
/** A named business speaking ("You are Lumi, …", "… for Alta Bank"): case matters, so a pattern of its own. */
const BRAND_NAMED = /\byou are [A-Z]\w+,|\b(for|of|at) (the )?[A-Z][\w&'-]+( [A-Z][\w&'-]+)*/g;
const BRAND_ASK = /\b(our (voice|brand|newsletter|customers?|store|app)|in our voice|on-brand|brand voice|instagram|social posts?|marketing (email|copy)|press release|product announcement|caption|newsletter|release notes)\b|nuestra marca|notre marque|unsere marke|nossa marca|newsletter|キャンペーン|宣传/gi;
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/g;
const CYRILLIC = /[\u0400-\u04ff]/g;
const LATIN_ACCENTS = /[áéíóúñçãõâêôàèìòùäöüßœ¿¡]/gi;
const DIGITS = /\d/g;

export const featureNames = [
  'log-chars-last-user',
  'log-chars-conversation',
  'log-chars-last-paragraph',
  'user-turns',
  'has-assistant-turn',
  'has-system-prompt',
  'log-chars-system',
  'tools',
  'tool-count',
  'json-format',
  'json-schema',
  'code-fence',
  'code-tokens',
  'code-task',
  'maths',
  'proof',
  'design',
  'analysis',
  'multi-step',
  'numbered-asks',
  'question-marks',
  'creative',
  'creative-verb',
  'explain',
  'transform',
  'short-answer',
  'brand-system',
  'brand-ask',
  'context-lookup',
  'context-task',
  'follow-up',
  'cjk-share',
  'cyrillic-share',
  'latin-accents',
  'digit-share',
] as const;
export type FeatureName = (typeof featureNames)[number];

const count = (pattern: RegExp, text: string) => text.match(pattern)?.length ?? 0;
/** 0 for none, 0.5 for one, approaching 1 for many: a count the model can weigh without it dominating. */
const saturate = (hits: number) => hits / (hits + 1);
const logLength = (chars: number) => Math.log1p(chars) / 10;

function systemText(messages: readonly ChatMessage[]): string {
  return messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => messageText(message.content))
    .join('\n');
}

/** The last paragraph of a turn: where the ask sits when a document is pasted above it. */
function lastParagraph(text: string): string {
  const trimmed = text.trimEnd();
  const cut = trimmed.lastIndexOf('\n\n');
  return cut >= 0 ? trimmed.slice(cut + 2) : trimmed;
}

/**
 * The text the router embeds: the ask first, then the system prompt, then the start of the turn.
 * A pasted document puts its question last, and the embedding model reads only its first 256
 * tokens, so the last paragraph of a long turn leads; the system prompt carries the brand voice.
 */
export function routingText(request: ChatRequest): string {
  const question = lastUserText(request.messages);
  const system = systemText(request.messages).slice(0, ROUTING_SYSTEM_CHARS);
  const parts =
    question.length > CONTEXT_BLOCK_CHARS
      ? [lastParagraph(question).slice(0, ROUTING_HEAD_CHARS), system, question.slice(0, ROUTING_HEAD_CHARS)]
      : [question, system];
  return parts.filter((part) => part !== '').join('\n\n');
}

/** The features, in `featureNames` order. Pure and allocation-light: it runs on every routed request. */
export function promptFeatures(request: ChatRequest): Float32Array {
  const { messages } = request;
  const question = lastUserText(messages);
  const system = systemText(messages);
  const ask = lastParagraph(question);
  const conversationChars = messages.reduce((sum, message) => sum + messageText(message.content).length, 0);
  const userTurns = messages.filter((message) => message.role === 'user').length;
  const isContextBlock = question.length > CONTEXT_BLOCK_CHARS && ask.length < SHORT_ASK_CHARS && ask.length < question.length;
  const chars = Math.max(1, question.length);
  const format = request.response_format?.type;
  const values: Record<FeatureName, number> = {
    'log-chars-last-user': logLength(question.length),
    'log-chars-conversation': logLength(conversationChars),
    'log-chars-last-paragraph': logLength(ask.length),
    'user-turns': saturate(userTurns - 1),
    'has-assistant-turn': Number(messages.some((message) => message.role === 'assistant')),
    'has-system-prompt': Number(system !== ''),
    'log-chars-system': logLength(system.length),
    tools: Number(Boolean(request.tools?.length)),
    'tool-count': saturate(request.tools?.length ?? 0),
    'json-format': Number(format === 'json_object' || format === 'json_schema'),
    'json-schema': Number(format === 'json_schema'),
    'code-fence': saturate(count(CODE_FENCE, question) / 2),
    'code-tokens': saturate(count(CODE_TOKENS, question) / 4),
    'code-task': saturate(count(CODE_TASK, ask)),
    maths: saturate(count(MATHS, ask)),
    proof: saturate(count(PROOF, ask)),
    design: saturate(count(DESIGN, ask)),
    analysis: saturate(count(ANALYSIS, ask)),
    'multi-step': saturate(count(MULTI_STEP, ask)),
    'numbered-asks': saturate(count(NUMBERED_ASK, ask) / 3),
    'question-marks': saturate(count(/[?？]/g, ask)),
    creative: saturate(count(CREATIVE, ask)),
    'creative-verb': saturate(count(CREATIVE_VERB, ask)),
    explain: saturate(count(EXPLAIN, ask)),
    transform: saturate(count(TRANSFORM, ask)),
    'short-answer': saturate(count(SHORT_ANSWER, ask)),
    'brand-system': saturate((count(BRAND_SYSTEM, system) + count(BRAND_NAMED, system)) / 2),
    'brand-ask': saturate(count(BRAND_ASK, question)),
    'context-lookup': Number(isContextBlock && LOOKUP_ASK.test(ask.trim()) && count(TRANSFORM, ask) === 0),
    'context-task': Number(isContextBlock && count(TRANSFORM, ask) + count(ANALYSIS, ask) + count(DESIGN, ask) > 0),
    'follow-up': Number(userTurns > 1 && FOLLOW_UP.test(question.trim())),
    'cjk-share': Math.min(1, count(CJK, question) / chars),
    'cyrillic-share': Math.min(1, count(CYRILLIC, question) / chars),
    'latin-accents': saturate(count(LATIN_ACCENTS, question)),
    'digit-share': Math.min(1, (count(DIGITS, question) / chars) * 4),
  };
  return Float32Array.from(featureNames, (name) => values[name]);
}
