/**
 * The courtesy around a question — greetings, thanks, apologies, "if it's not too much trouble" —
 * changes nothing about what is asked, but its words count: "I hope this isn't a bother" holds a
 * negation, "Good morning" a time of day. The near-miss checks read the question without it.
 * Only whole formulas go, bounded by the start or end of the text or by punctuation, so a
 * "not" or a greeting inside the question itself stays.
 */

const WORD_END = String.raw`(?=[\s,.!?;:…)]|$)`;

const FORMULAS = [
  // Greetings and sign-offs; "Hi HR team" before "Hi", which would leave the team behind.
  String.raw`(?:hi|hello|hey|dear) (?:\p{L}+ )?(?:team|folks|crew)`,
  String.raw`(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|dear (?:all|team|support))(?: (?:there|all|everyone|team|folks|guys|friends))?`,
  String.raw`(?:hola|buenos d[ií]as|buenas(?: tardes| noches)?|bonjour|bonsoir|salut|hallo|guten (?:morgen|tag|abend)|moin|servus|ol[áa]|bom dia|boa (?:tarde|noite)|ciao|buongiorno|buonasera)`,
  String.raw`(?:i )?hope (?:you(?:'re| are)|you've been|all is) (?:having a (?:good|great|nice|lovely|wonderful) (?:day|week|morning|afternoon|evening)|well|doing well|good)`,
  // Thanks.
  String.raw`(?:(?:many|huge|big) )?thanks(?: (?:so|very) much| a (?:lot|ton|million|bunch))?(?: in advance| (?:for|in advance for) (?:your|the|any) (?:help|time|support)| for helping(?: me)?(?: out)?)?`,
  String.raw`thank you(?: (?:so|very) much| kindly)?(?: in advance| (?:for|in advance for) (?:your|the|any) (?:help|time|support)| for helping(?: me)?(?: out)?)?`,
  String.raw`(?:cheers|ty|thx|tia|much appreciated|(?:any|your) (?:help|advice) (?:is|would be) (?:much |greatly |really |very )?appreciated)`,
  String.raw`(?:gracias(?: de antemano)?|muchas gracias|merci(?: beaucoup| d'avance)?|danke(?: sch[öo]n| im voraus)?|vielen dank|obrigad[oa]|muito obrigad[oa]|grazie(?: mille)?)`,
  // Apologies and asking leave.
  String.raw`sorry (?:to (?:bother|trouble) you|for (?:bothering you|the trouble)|if this is a (?:silly|stupid|dumb|basic|newbie) question)(?:,? but)?`,
  // An apology for asking runs to the next punctuation: "Apologies for asking something so basic, …".
  String.raw`(?:(?:my )?apologies|sorry) for (?:asking|bothering you|the (?:basic|silly|dumb) question)[^,.!?;:]*`,
  String.raw`(?:i )?hope (?:this|it) (?:isn't|is not|isnt) (?:a bother|too much trouble)`,
  String.raw`(?:i )?hope (?:it's|it is|this is) (?:ok|okay|fine|alright) to ask(?: here)?`,
  String.raw`if (?:it's|it is|its) not too much trouble|if you (?:don't|do not) mind|when you (?:get|have) a (?:chance|moment|minute|sec)`,
  String.raw`(?:quick (?:one|question)|(?:i have |i've got )?a quick question|just a quick question)`,
  String.raw`(?:please|pls|plz|por favor|s'il (?:vous|te) pla[iî]t|bitte|per favore)`,
];

const BOUNDARY_BEFORE = String.raw`(^|[,.!?;:…(]\s*|\s-\s)`;
const FORMULA = new RegExp(String.raw`${BOUNDARY_BEFORE}(?:${FORMULAS.join('|')})${WORD_END}[\s,.!?;:…)]*`, 'giu');
const LEADING_PUNCTUATION = /^[\s,.!?;:…-]+/u;

/** The question without its courtesy formulas; the text unchanged when nothing else would be left. */
export function withoutCourtesy(text: string): string {
  let previous: string;
  let stripped = text;
  // A formula can follow another ("Hi! Thanks in advance, …"): strip until nothing changes.
  do {
    previous = stripped;
    stripped = stripped.replace(FORMULA, (_match, before: string) => (before.trim() === '' ? '' : `${before.trim()} `));
  } while (stripped !== previous);
  stripped = stripped.replace(LEADING_PUNCTUATION, '').replace(/\s{2,}/g, ' ').trim();
  return /\p{L}|\p{N}/u.test(stripped) ? stripped : text;
}
