/**
 * Takes secrets out of text bound for a caller: error messages (a vendor's 400 that quotes our
 * key, a JSON parser's message that quotes the body) and a passthrough vendor's error bodies.
 * Two nets: the exact secrets the gateway holds (vendor keys, the master key, the pepper), and
 * anything shaped like an API key or a bearer credential, whoever's it is.
 */
export const REDACTED = '[redacted]';

/** Shorter values are not taken for secrets: replacing them would garble ordinary words. */
const MIN_SECRET_CHARS = 8;

const KEY_SHAPED = [
  /\bBearer\s+[^\s"',;]+/gi,
  // OpenAI, Anthropic (sk-ant-…), DeepSeek, Sluice's own (sk-sluice-…), Stripe-style pk/rk keys.
  /\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{12,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g, // Google API keys
];

export class SecretScrubber {
  private readonly secrets = new Set<string>();

  /** Adds the values to hide; blanks and short ones are ignored. */
  add(values: Iterable<string | undefined>): void {
    for (const value of values) if (value && value.length >= MIN_SECRET_CHARS) this.secrets.add(value);
  }

  scrub(text: string): string {
    let clean = text;
    for (const secret of this.secrets) if (clean.includes(secret)) clean = clean.replaceAll(secret, REDACTED);
    for (const pattern of KEY_SHAPED) clean = clean.replace(pattern, (match) => (match.toLowerCase().startsWith('bearer') ? `Bearer ${REDACTED}` : REDACTED));
    return clean;
  }
}

/**
 * The one scrubber every error body goes through (error-response.ts). Process-wide because the
 * renderer is a plain function called from everywhere; each gateway adds the secrets it holds at
 * build time, and hiding one more value than needed is harmless.
 */
export const errorSecrets = new SecretScrubber();
