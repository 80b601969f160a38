// Word lists the near-miss guard reads prompts with. Kept apart from the extraction logic so the
// logic stays readable and the lists can grow without touching it. All entries are lowercase.

const words = (list: string): ReadonlySet<string> => new Set(list.split(/\s+/).filter(Boolean));

/** `'a b c': value` rows → one lookup table, so synonyms sit on one line. */
function table(rows: Record<string, string>): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [list, value] of Object.entries(rows)) for (const word of words(list)) map.set(word, value);
  return map;
}

/** Function words per language: enough for a cheap vote on the language of a short prompt. */
export const LANGUAGE_MARKERS: Readonly<Record<string, ReadonlySet<string>>> = {
  en: words(`the is are was were what how why which who whom where when of to in for with you your my
    do does did can could would should will i it this that an be me please tell and from about on have has`),
  es: words(`de la en el los las es qué que cómo como por para con una del está son cuál dónde cuándo mi tu
    puedo hay y pero muy también quiero hacer se lo al sus más usted eres cuánto cuántos`),
  fr: words(`de la en le les est des une un et pour avec dans qui quoi quel quelle comment pourquoi je tu vous nous
    il elle sont du au aux ce cette mon ma mes pas ne où suis être sur très peux faire combien l' d' qu' n' c' j'`),
  de: words(`der die das ist und ein eine einen wie was warum ich du sie wir nicht mit für auf von zu den
    dem des sind kann können bitte mein meine im auch oder aber wo wer welche wann wieviel viele`),
  pt: words(`de os é não um uma para com do da dos das em no na que como qual onde eu você meu minha está são
    mais fazer posso também isso este esta quanto quantos`),
  it: words(`il lo gli è non un una per con del della che come cosa perché dove quale sono io tu mio mia
    questo questa più anche fare posso nel nella di ho hai quanto quanti`),
  nl: words(`de het een is en van wat hoe waarom ik jij je niet met voor op zijn dit dat wie waar welke kan
    mijn ook naar bij te hoeveel`),
};

/** word → the languages it marks, so a word shared by three languages counts a third for each. */
export const MARKER_LANGUAGES: ReadonlyMap<string, readonly string[]> = (() => {
  const languages = new Map<string, string[]>();
  for (const [language, markers] of Object.entries(LANGUAGE_MARKERS)) {
    for (const marker of markers) languages.set(marker, [...(languages.get(marker) ?? []), language]);
  }
  return languages;
})();

/** Words that carry no fact: never entities, never direction ends. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  ...Object.values(LANGUAGE_MARKERS).flatMap((set) => [...set]),
  ...words(`a am been being any some all each every no not or nor so than then there their them they he she
    his her its our we us if but as at by into onto up down out over just only also very really much many
    know need want like get got give make tell show help hi hello hey thanks thank pls plz okay ok yes
    whats what's hows how's where's who's it's i'm i've i'd you're don't doesn't isn't can't way thing things
    something anything everything someone anyone one ones way ways kind sort type use using used`),
]);

/** Scripts decide the language outright when they dominate the letters. */
export const SCRIPTS: ReadonlyArray<{ tag: string; pattern: RegExp }> = [
  { tag: 'ja', pattern: /[\p{Script=Hiragana}\p{Script=Katakana}]/gu },
  { tag: 'ko', pattern: /\p{Script=Hangul}/gu },
  { tag: 'zh', pattern: /\p{Script=Han}/gu },
  { tag: 'und-Cyrl', pattern: /\p{Script=Cyrillic}/gu },
  { tag: 'und-Arab', pattern: /\p{Script=Arabic}/gu },
  { tag: 'he', pattern: /\p{Script=Hebrew}/gu },
  { tag: 'und-Deva', pattern: /\p{Script=Devanagari}/gu },
  { tag: 'el', pattern: /\p{Script=Greek}/gu },
  { tag: 'th', pattern: /\p{Script=Thai}/gu },
];

/** Language names (English and native spellings) → tag, for "translate … into French". */
export const LANGUAGE_NAMES = table({
  'english inglés ingles anglais englisch inglese engels inglês': 'en',
  'spanish español espanol espagnol spanisch spagnolo spaans espanhol castilian': 'es',
  'french français francais francés frances französisch franzosisch francese frans francês': 'fr',
  'german deutsch alemán aleman allemand tedesco duits alemão': 'de',
  'portuguese português portugues portugais portugiesisch portoghese portugees': 'pt',
  'italian italiano italien italienisch italiaans': 'it',
  'dutch nederlands holländisch niederländisch néerlandais neerlandés olandese': 'nl',
  'chinese mandarin cantonese chino chinois chinesisch cinese chinees': 'zh',
  'japanese japonés japonais japanisch giapponese japans': 'ja',
  'korean coreano coréen koreanisch': 'ko',
  'russian ruso russe russisch russo': 'ru',
  'arabic árabe arabe arabisch': 'ar',
  'hindi': 'hi', 'greek griego grec griechisch': 'el', 'hebrew hebreo hébreu': 'he',
  'polish polaco polonais polnisch': 'pl', 'turkish turco turc türkisch': 'tr', 'swedish sueco suédois schwedisch': 'sv',
  'latin latín': 'la', 'ukrainian ucraniano ukrainien': 'uk', 'vietnamese vietnamita': 'vi', 'thai tailandés': 'th',
});

/** Words right before a language name that make it the target of a translation. */
export const TARGET_CUES = words('to into in en al auf ins para naar het nach');

/** Words right after a language name that make it the target ("the French word for cat"). */
export const TARGET_AFTER = words('word words translation version term phrase equivalent');

export const NUMBER_WORDS: ReadonlyMap<string, number> = new Map([
  ...['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
    'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'].map((word, value) => [word, value] as const),
  ['thirty', 30], ['forty', 40], ['fifty', 50], ['sixty', 60], ['seventy', 70], ['eighty', 80], ['ninety', 90],
  ['half', 0.5],
]);

/** Multipliers: "two hundred", "a dozen", "three thousand". */
export const NUMBER_SCALES: ReadonlyMap<string, number> = new Map([
  ['hundred', 100], ['thousand', 1_000], ['million', 1_000_000], ['billion', 1_000_000_000], ['dozen', 12],
]);

/** "one" is a pronoun after these ("which one", "the one"), not a quantity. */
export const PRONOUN_ONE_BEFORE = words('which this that the each every any no some another anyone someone');

/** Ordinals other than first/last, which sit on the first-last polarity axis instead. */
export const ORDINAL_WORDS: ReadonlyMap<string, string> = new Map(
  ['second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth']
    .map((word, index) => [word, `${index + 2}th`] as const),
);

export const PERCENT_WORDS = words('percent percentage pct prozent procent porcentaje pourcent percento');

/** Unit spellings → canonical symbol; matched anywhere in the prompt. */
export const UNITS = table({
  'kg kgs kilo kilos kilogram kilograms kilogramme kilogrammes': 'kg',
  'g gram grams gramme grammes gr': 'g', 'mg milligram milligrams': 'mg',
  'lb lbs pound pounds': 'lb', 'oz ounce ounces': 'oz', 'ton tons tonne tonnes': 't', 'stone stones': 'stone',
  'km kms kilometer kilometers kilometre kilometres': 'km', 'm meter meters metre metres': 'm',
  'cm centimeter centimeters centimetre centimetres': 'cm', 'mm millimeter millimeters millimetre millimetres': 'mm',
  'mi mile miles': 'mi', 'ft foot feet': 'ft', 'inch inches': 'in', 'yd yard yards': 'yd',
  'l liter liters litre litres': 'l', 'ml milliliter milliliters millilitre millilitres': 'ml',
  'gal gallon gallons': 'gal', 'qt quart quarts': 'qt', 'pint pints': 'pint', 'cup cups': 'cup', 'tbsp tablespoon tablespoons': 'tbsp', 'tsp teaspoon teaspoons': 'tsp',
  'mph': 'mph', 'kph kmh': 'km/h', 'knot knots': 'kn',
  'celsius centigrade °c': '°C', 'fahrenheit °f': '°F', 'kelvin': 'K', 'degree degrees °': 'deg', 'radian radians rad': 'rad',
  'ms millisecond milliseconds msec': 'ms', 'us microsecond microseconds': 'µs', 'ns nanosecond nanoseconds': 'ns',
  's sec secs second seconds': 's', 'min mins minute minutes': 'min', 'h hr hrs hour hours': 'h',
  'day days': 'day', 'week weeks': 'week', 'month months': 'month', 'year years yr yrs': 'year', 'decade decades': 'decade',
  'century centuries': 'century',
  'b byte bytes': 'B', 'kb kilobyte kilobytes kib': 'kB', 'mb megabyte megabytes mib': 'MB', 'gb gigabyte gigabytes gib': 'GB',
  'tb terabyte terabytes tib': 'TB', 'bit bits': 'bit', 'mbps': 'Mbit/s', 'gbps': 'Gbit/s',
  'hz hertz': 'Hz', 'khz': 'kHz', 'mhz megahertz': 'MHz', 'ghz gigahertz': 'GHz',
  'w watt watts': 'W', 'kw kilowatt kilowatts': 'kW', 'kwh': 'kWh', 'v volt volts': 'V', 'a amp amps ampere amperes': 'A',
  'j joule joules': 'J', 'cal calorie calories kcal kilocalories': 'kcal', 'px pixel pixels': 'px',
  'acre acres': 'acre', 'ha hectare hectares': 'ha', 'sqft': 'ft²', 'am a.m': 'am', 'pm p.m': 'pm',
  '$ usd dollar dollars buck bucks': 'USD', '€ eur euro euros': 'EUR', '£ gbp sterling quid': 'GBP',
  '¥ jpy yen': 'JPY', 'cny rmb yuan renminbi': 'CNY', 'inr rupee rupees ₹': 'INR', 'chf franc francs': 'CHF',
  'cad': 'CAD', 'aud': 'AUD', 'btc bitcoin bitcoins': 'BTC', 'eth ether': 'ETH',
});

/** Short spellings that are units only when glued to or right after a number ("5 m", "3in", "10 a.m"). */
export const NUMBER_ONLY_UNITS = words('g m s h l b w v a j us in min mi ha am pm gr t rad yr cup cups second stone stones');

/** Of those, the ones too common as words to count unless glued to the number ("5in", not "top 5 in"). */
export const GLUED_ONLY_UNITS = words('in a us b t j w v');

/** What follows "°" or "degrees". */
export const TEMPERATURE_SCALES = table({ 'c celsius centigrade': '°C', 'f fahrenheit': '°F', 'k kelvin': 'K' });

/** Currency and unit symbols that stand in front of their number. */
export const PREFIX_SYMBOLS = table({ '$': 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' });

export const MONTHS = table({
  'january jan': 'm01', 'february feb': 'm02', 'march mar': 'm03', 'april apr': 'm04', 'may': 'm05', 'june jun': 'm06',
  'july jul': 'm07', 'august aug': 'm08', 'september sep sept': 'm09', 'october oct': 'm10', 'november nov': 'm11',
  'december dec': 'm12',
  'enero janvier januar gennaio janeiro januari': 'm01', 'febrero février februar febbraio fevereiro februari': 'm02',
  'marzo märz março maart': 'm03', 'abril avril aprile': 'm04', 'mayo mai maggio maio mei': 'm05',
  'junio juin juni giugno junho': 'm06', 'julio juillet juli luglio julho': 'm07', 'agosto août augustus': 'm08',
  'septiembre septembre settembre setembro': 'm09', 'octubre octobre oktober ottobre outubro': 'm10',
  'noviembre novembre novembro': 'm11', 'diciembre décembre dezember dicembre dezembro': 'm12',
});

/** Month spellings that are also ordinary words or abbreviations: dates only next to a number or capitalised mid-sentence. */
export const AMBIGUOUS_MONTHS = words('may mar march jan feb apr jun jul aug sep sept oct nov dec mai');

export const WEEKDAYS = table({
  'monday mondays lunes lundi montag lunedì maandag': 'mon', 'tuesday tuesdays martes mardi dienstag martedì dinsdag': 'tue',
  'wednesday wednesdays miércoles mercredi mittwoch mercoledì woensdag': 'wed',
  'thursday thursdays jueves jeudi donnerstag giovedì donderdag': 'thu', 'friday fridays viernes vendredi freitag venerdì vrijdag': 'fri',
  'saturday saturdays sábado samedi samstag sabato zaterdag': 'sat', 'sunday sundays domingo dimanche sonntag domenica zondag': 'sun',
  'weekend weekends': 'weekend',
});

/** Dates named relative to now. */
export const RELATIVE_DAYS = table({
  'today tonight hoy aujourd\'hui heute oggi hoje vandaag': 'today', 'tomorrow mañana demain morgen domani amanhã': 'tomorrow',
  'yesterday ayer hier gestern ieri ontem gisteren': 'yesterday', 'summer summertime': 'summer', 'winter wintertime': 'winter',
  'autumn': 'autumn',
});

/** "next week", "last year": the cue word, then the period it shifts. */
export const RELATIVE_CUES = table({ 'next coming upcoming following': 'next', 'last previous past': 'last', 'this current': 'this' });
export const RELATIVE_PERIODS = words('day week weekend month year night morning evening quarter decade century summer winter');

/** Negations per language. `concord` words only count when no `primary` word is present ("ne … pas", "no … nada"). */
export interface NegationWords { primary: ReadonlySet<string>; concord: ReadonlySet<string> }
export const NEGATIONS: Readonly<Record<string, NegationWords>> = {
  en: {
    primary: words(`not no never cannot without none nothing nobody nowhere neither dont doesnt didnt isnt arent wasnt
      werent cant couldnt shouldnt wouldnt wont havent hasnt hadnt mustnt aint`),
    concord: words('nor'),
  },
  es: { primary: words('no sin'), concord: words('nunca jamás ni ningún ninguno ninguna nada nadie tampoco') },
  fr: { primary: words("ne n' sans"), concord: words('pas jamais rien aucun aucune ni') },
  de: { primary: words('nicht kein keine keinen keinem keiner keines nie niemals nichts niemand ohne weder'), concord: words('') },
  pt: { primary: words('não nao sem'), concord: words('nunca jamais nem nenhum nenhuma nada ninguém') },
  it: { primary: words('non senza'), concord: words('mai né nessuno nessuna niente nulla neanche nemmeno') },
  nl: { primary: words('niet geen nooit zonder niets niemand noch'), concord: words('') },
};

/** Axis → [words on the + side, words on the - side]. Opposite signs on one axis mean opposite questions. */
const POLARITY_AXES: Record<string, [string, string]> = {
  extreme: [`largest biggest highest most maximum max greatest tallest longest heaviest widest deepest top richest
    strongest hardest`, `smallest lowest least minimum min fewest shortest lightest tiniest narrowest shallowest bottom
    poorest weakest easiest`],
  compare: ['larger bigger higher greater taller longer heavier wider deeper stronger harder', 'smaller lower fewer shorter lighter narrower shallower weaker easier'],
  order: ['first earliest', 'last final latest'],
  time: ['before prior earlier', 'after later afterwards'],
  change: ['increase increases increasing raise rise grow gain boost', 'decrease decreases decreasing reduce shrink'],
  price: ['expensive pricier priciest costly', 'cheap cheaper cheapest inexpensive affordable'],
  speed: ['fast faster fastest quicker quickest', 'slow slower slowest'],
  heat: ['hot hotter hottest warm warmer warmest boil boiling melt melting', 'cold colder coldest cooler coolest freeze freezing'],
  merit: ['pros advantages advantage benefits benefit upsides upside strengths merits', 'cons disadvantages disadvantage drawbacks drawback downsides downside weaknesses risks'],
  quality: ['best better', 'worst worse'],
  presence: ['add adding insert append include create creating', 'remove removing delete deleting drop erase exclude'],
  toggle: ['enable enabling activate', 'disable disabling deactivate'],
  crypto: ['encrypt encryption encrypting', 'decrypt decryption decrypting'],
  encoding: ['encode encoding encoder', 'decode decoding decoder'],
  compression: ['compress compression zip', 'decompress decompression unzip'],
  transfer: ['import importing imports', 'export exporting exports'],
  network: ['upload uploading uploads', 'download downloading downloads'],
  trade: ['buy buying purchase bought', 'sell selling sold'],
  sync: ['push pushing', 'pull pulling'],
  install: ['install installing installation', 'uninstall uninstalling uninstallation'],
  lock: ['lock locking', 'unlock unlocking'],
  run: ['start starting', 'stop stopping'],
  sort: ['ascending asc', 'descending desc'],
  optimum: ['maximize maximise maximizing', 'minimize minimise minimizing'],
  vertical: ['above uppercase north', 'below lowercase south'],
  horizontal: ['west', 'east'],
  inside: ['inside internal inner', 'outside external outer'],
  truth: ['true', 'false'],
  sentiment: ['positive', 'negative'],
  verdict: ['accept approve allow', 'reject deny'],
  feeling: ['love', 'hate'],
  age: ['oldest older', 'newest newer youngest younger'],
  number: ['plural', 'singular'],
  meaning: ['synonym synonyms', 'antonym antonyms opposite'],
  parity: ['even', 'odd'],
  greeting: ['hello', 'goodbye'],
  orientation: ['horizontal horizontally', 'vertical vertically'],
  shade: ['light', 'dark darker darkest'],
  flow: ['input inputs inhale send sending arrival arrivals sunrise', 'output outputs exhale receive receiving departure departures sunset'],
  mood: ['happy happiness', 'sad sadness'],
  success: ['success succeed win', 'failure fail lose'],
  wealth: ['rich wealthy', 'poor'],
  life: ['alive', 'dead'],
  gender: ['male men', 'female women'],
};

/**
 * Axes where a prompt without the word asks something else: "the largest planet" is not "a planet", "before a run"
 * is not "for a run". On the others an unmarked prompt is usually a rewording ("benefits of tea" / "is tea good").
 */
export const ONE_SIDED_AXES = words('extreme compare order time quality age price optimum sort');

export const POLARITY: ReadonlyMap<string, string> = new Map(
  Object.entries(POLARITY_AXES).flatMap(([axis, [plus, minus]]) => [
    ...[...words(plus)].map((word) => [word, `${axis}:+`] as const),
    ...[...words(minus)].map((word) => [word, `${axis}:-`] as const),
  ]),
);

/** Comparatives that only mean "more"/"less" before "than" ("more than 5"), not in "tell me more". */
export const COMPARATIVE_BEFORE_THAN = table({ 'more': 'compare:+', 'less': 'compare:-' });

/** Arithmetic: must agree exactly, since "5 plus 3" and "5 times 3" share every other fact. */
export const MATH_OPERATIONS = table({
  'sum plus add added adding total': 'sum', 'minus subtract subtracted subtracting difference': 'difference',
  'times multiply multiplied multiplying product': 'product', 'divide divided dividing quotient': 'quotient',
  'power exponent raised': 'power', 'sqrt root': 'root', 'average mean avg': 'mean', 'median': 'median',
  'mode': 'mode', 'factorial': 'factorial', 'modulo mod remainder': 'modulo', 'log logarithm ln': 'log',
  'derivative differentiate': 'derivative', 'integral integrate': 'integral', 'gcd gcf': 'gcd', 'lcm': 'lcm',
  'round rounded': 'round',
});

/** Operator symbols: operations only between two numbers, so dates and paths stay dates and paths. */
export const SYMBOL_OPERATIONS = table({ '+': 'sum', '-': 'difference', '− –': 'difference', '× * x': 'product', '/ ÷': 'quotient', '^': 'power' });

/** Arithmetic words that mean something else with no number around ("add a column", "the difference between"). */
export const NUMBER_BOUND_OPERATIONS = words('sum plus add added adding total minus difference times product power raised mean mode round rounded root log modulo mod remainder');

/** Operations whose operands cannot swap. */
export const ORDERED_OPERATIONS = words('difference quotient power modulo');

/** "squared", "cube root": the operation plus the exponent it implies. */
export const IMPLIED_EXPONENTS = table({ 'squared square': '^2', 'cubed cube': '^3' });

/** What the prompt asks to be done; two different tasks on the same text are different requests. */
export const TASKS = table({
  'convert conversion converting': 'convert',
  'translate translation translating traduce traducir traduire traduis traduisez übersetze übersetzen übersetzung tradurre traduci traduzir vertaal': 'translate',
  'summarize summarise summary summarization summarisation tldr tl;dr condense resumir résume résumer zusammenfassen zusammenfassung riassumi riassumere': 'summarise',
  'explain explanation describe define definition': 'explain',
  'compare comparison versus vs': 'compare',
  'calculate calculation compute solve evaluate': 'calculate',
  'write draft compose generate create': 'write',
  'rewrite rephrase paraphrase reword': 'rewrite',
  'fix debug proofread': 'fix',
});

/** "list" is a task only as an imperative ("List the…", "please list"), not the noun in "sort a list". */
export const IMPERATIVE_ONLY_TASKS = table({ 'list enumerate': 'list' });
export const IMPERATIVE_LEADS = words('please pls can could would you me');

/** Proper nouns people often type in lowercase: countries, cities, planets, products, languages. */
export const KNOWN_PROPER_NOUNS = words(`
  afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain bangladesh
  barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burundi cambodia cameroon
  canada chile china colombia congo croatia cuba cyprus czechia denmark ecuador egypt eritrea estonia ethiopia fiji
  finland france gabon gambia georgia germany ghana greece guatemala guinea guyana haiti honduras hungary iceland india
  indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya korea kosovo kuwait kyrgyzstan laos
  latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta
  mauritania mauritius mexico moldova monaco mongolia montenegro morocco mozambique myanmar namibia nepal netherlands
  holland nicaragua niger nigeria norway oman pakistan palestine panama paraguay peru philippines poland portugal qatar
  romania russia rwanda senegal serbia singapore slovakia slovenia somalia spain sudan sweden switzerland syria taiwan
  tajikistan tanzania thailand togo tunisia turkey uganda ukraine uruguay uzbekistan venezuela vietnam yemen zambia
  zimbabwe usa america britain england scotland wales africa asia europe antarctica australia
  paris london berlin madrid rome tokyo beijing moscow sydney toronto chicago boston seattle dubai mumbai delhi shanghai
  amsterdam vienna prague lisbon dublin athens istanbul cairo bangkok seoul barcelona milan munich zurich geneva brussels
  stockholm oslo copenhagen helsinki warsaw budapest montreal vancouver miami denver atlanta houston dallas austin
  phoenix york angeles francisco vegas kong lagos nairobi lima bogota santiago manila jakarta hanoi kyoto osaka canberra
  melbourne auckland ottawa washington texas california florida
  mercury venus earth mars jupiter saturn uranus neptune pluto moon sun
  english spanish french german portuguese italian dutch chinese mandarin japanese korean russian arabic hindi
  python javascript typescript java kotlin swift rust golang ruby php perl scala haskell elixir erlang clojure lua dart
  julia matlab fortran cobol sql mysql postgres postgresql sqlite mongodb redis kafka elasticsearch docker kubernetes
  k8s linux ubuntu debian fedora windows macos ios android react angular vue svelte nextjs django flask fastapi rails
  laravel nodejs node deno npm yarn pip conda git github gitlab aws azure gcp excel powerpoint chrome firefox safari
  iphone ipad macbook openai chatgpt gpt claude gemini llama pytorch tensorflow numpy pandas bash powershell html css
  json yaml xml csv http https tcp udp ssh nginx apache graphql grpc webpack vite jest vitest
  google apple microsoft amazon meta facebook netflix tesla nvidia intel amd ibm samsung sony twitter instagram tiktok
  youtube linkedin uber airbnb spotify bitcoin ethereum
`);
