/**
 * Verbose prompts wrap the question in talk about the asker: "I just joined last week and I'm loving it.
 * Is the gym open on public holidays?" The date, the names and the "don't"s of that talk are not what is
 * asked, and the short form of the same question has none of them. So the facts of a prompt are read in two
 * parts: the part that asks, and the context — statements the asker makes about themselves or their
 * situation ("I …", "my …", "we …", "it says …") that neither ask nor request. The near-miss guard compares
 * the asking parts strictly and lets a context on one side only go (near-miss-guard.ts).
 *
 * Kept in the asking part, whatever they start with: questions (a "?"), requests said as statements ("I want
 * …", "I need …", "I'd like …"), anything quoted, and whatever follows an asking sentence ending in ":" (the
 * text a task works on). The frame of an indirect question is context, its question is not: in "I can't
 * remember how to undo a commit" only "how to undo a commit" asks.
 */
export interface QuestionParts {
  asking: string;
  /** '' when the whole prompt asks. */
  context: string;
  /** Nothing asks: the prompt is all statements ("my pc wont turn on"), which is then what is asked about. */
  onlyStatements: boolean;
}

interface Clause {
  text: string;
  isContext: boolean;
}

/** Sentence ends outside quotes: ".", "!", "?", ";" or ":" before a space, or a line break. */
const SENTENCE_END = /[.!?;:]+(?=\s|$)|\n+/y;
const OPENING_QUOTES = new Map([['"', '"'], ['“', '”'], ['«', '»'], ['`', '`']]);
// Not "which" or "who": after a comma they mostly start a relative clause ("…, which feels wasteful").
const ASKING_WORD = String.raw`(?:how|what|what's|whats|why|when|where|can|could|would|should|will|shall|is|are|am|was|were|do|does|did|any|anything)`;
/** "my sourdough isn't tangy enough, how do I fix that": a statement, then the question. */
const CLAUSE_BEFORE_QUESTION = new RegExp(String.raw`,\s+(?=${ASKING_WORD}\b)`, 'iu');
/** "I can't remember | how to…", "I wanted to ask | whether…": the frame, then the question it frames. */
const QUESTION_FRAME = new RegExp(
  String.raw`^([^?]*?\b(?:know|remember|recall|wonder|wondering|wondered|ask|asking|asked|understand|sure|idea|figure out|find out|learn|curious|forgot|forget|unsure|confused)\b(?:\s+\S+){0,2}?)\s+((?:how|what|why|when|where|which|who|whom|whose|whether|if)\b.*)$`,
  'isu',
);
/** Words a statement about the asker or their situation starts with. */
const SUBJECTS = new Set(`i i'm im i've ive i'd i'll my we we're we've we'd our it it's its there there's this that that's they they're their he she his her`.split(' '));
/** Leading words that do not change what a sentence is: "So I …", "Also, my …". */
const DISCOURSE = new Set('so well ok okay also and but now anyway basically honestly actually hmm um oh yeah'.split(' '));
/** A statement that is a request: "I want…", "I need…", "I'd like…", "we're looking for…". */
const REQUEST = /^(?:i|we)(?:'d|'m|'re| would| am| are)?\s+(?:(?:really|just|also|still|don't|dont|do not|never)\s+)?(?:want|wanna|need|like|love|wish|prefer|must|have to|looking|trying|hoping|planning to ask)\b/iu;

export function questionParts(text: string): QuestionParts {
  const clauses = classify(sentencesOf(text).flatMap(clausesOf));
  const hasContext = clauses.some((clause) => clause.isContext);
  const hasAsking = clauses.some((clause) => !clause.isContext);
  if (!hasContext || !hasAsking) return { asking: text, context: '', onlyStatements: !hasAsking };
  const join = (isContext: boolean) => clauses.filter((clause) => clause.isContext === isContext).map((clause) => clause.text).join(' ');
  return { asking: join(false), context: join(true), onlyStatements: false };
}

/** Sentences with their closing punctuation; quoted text is never split. */
function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  let closing: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (closing) {
      if (character === closing) closing = undefined;
      continue;
    }
    // A quote opens only at a word start: "it's" and "the '90s" open nothing.
    if (OPENING_QUOTES.has(character) && (index === 0 || /[\s(:]/.test(text[index - 1]))) {
      closing = OPENING_QUOTES.get(character);
      continue;
    }
    SENTENCE_END.lastIndex = index;
    const end = SENTENCE_END.exec(text);
    if (!end) continue;
    index += end[0].length - 1;
    sentences.push(text.slice(start, index + 1).trim());
    start = index + 1;
  }
  sentences.push(text.slice(start).trim());
  return sentences.filter((sentence) => sentence !== '');
}

/** A sentence split where a statement gives way to a question, or a frame to the question it frames. */
function clausesOf(sentence: string): string[] {
  const split = CLAUSE_BEFORE_QUESTION.exec(sentence);
  const parts = split ? [sentence.slice(0, split.index), sentence.slice(split.index + split[0].length)] : [sentence];
  return parts.flatMap((part) => {
    const frame = isStatement(part) ? QUESTION_FRAME.exec(part) : null;
    return frame ? [frame[1], frame[2]] : [part];
  });
}

function classify(texts: string[]): Clause[] {
  const clauses: Clause[] = [];
  for (const text of texts) {
    const previous = clauses.at(-1);
    const isPayload = previous !== undefined && !previous.isContext && previous.text.endsWith(':');
    clauses.push({ text, isContext: !isPayload && isStatement(text) && !text.endsWith('?') });
  }
  return clauses;
}

/** Starts with a subject pronoun or possessive, and is no request. */
function isStatement(text: string): boolean {
  const words = text.toLowerCase().replace(/[’‘]/g, "'").match(/[\p{L}']+/gu) ?? [];
  let first = 0;
  while (first < words.length && DISCOURSE.has(words[first])) first++;
  if (first >= words.length || !SUBJECTS.has(words[first])) return false;
  return !REQUEST.test(words.slice(first).join(' '));
}
