/**
 * Function words: what carries no content, in the languages the language check knows, so the
 * context check looks only at the words an answer could have made up.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'the a an and or but if then than so of to in on at by for with from into onto about as is are was were be been being have has had do does did not no yes ' +
    'it its this that these those there here they them their we our you your he she his her him i me my mine what which who whom whose when where why how ' +
    'can could would should will shall may might must also just only very more most much many some any all each both such other same own too again ' +
    'le la les des est et une un du que qui dans pour pas sur au aux avec ce cette sont il elle nous vous mais ou où être avoir ' +
    'der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es wie sind ich wir sie was wird oder aber ' +
    'el los las es y en del por con para se lo como más pero sus su al está son muy también hay ' +
    'il di che è e per non della gli da anche nel alla questo ma ' +
    'o os as de do da em um uma não no na dos das foi você isso ' +
    'het een van dat op te zijn voor er ook aan om wat hoe wordt nog bij kan naar dit deze'
  ).split(' '),
);
