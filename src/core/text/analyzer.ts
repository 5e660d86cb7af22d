import { stemmer } from 'stemmer';

/**
 * The text analyzer shared by BM25 indexing and querying: split on anything that is not a letter
 * or digit (Unicode-aware), lowercase, drop English stop words, Porter-stem what is left.
 */

// The classic English stop-word list (Lucene/Snowball-style, trimmed to function words): words this
// common carry no ranking signal and only inflate posting lists.
const STOP_WORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below
  between both but by can could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is it its itself just me more most
  my myself no nor not of off on once only or other our ours ourselves out over own same she should so
  some such than that the their theirs them themselves then there these they this those through to too
  under until up very was we were what when where which while who whom why will with would you your
  yours yourself yourselves`.split(/\s+/),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Raw words of a text, in order (no lowercasing): the unit chunking counts as a token. */
export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** One term as indexed, or null when it is a stop word. */
export function analyzeTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (STOP_WORDS.has(lower)) return null;
  // Pure numbers are kept verbatim: stemming "1990s" or "2" would only merge unrelated terms.
  return /^\p{N}+$/u.test(lower) ? lower : stemmer(lower);
}

/** The terms of a text, as BM25 sees them. */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const word of words(text)) {
    const term = analyzeTerm(word);
    if (term) out.push(term);
  }
  return out;
}
