/**
 * Answer-quality metrics as in the open-domain QA literature: best_subspan_em of "Lost in the
 * Middle" (Liu et al., TACL 2024), over SQuAD's answer normalisation, ported line for line from
 * their Python so figures compare with the published ones.
 */

// Python's string.punctuation: only these ASCII characters are removed (an en dash stays).
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's \b is Unicode-aware; JavaScript's is not, so word boundaries are spelled out.
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD normalisation: lowercase, punctuation removed, articles (a, an, the) dropped, whitespace squeezed. */
export function normalizeAnswer(text: string): string {
  return text.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ').split(/\s+/).filter(Boolean).join(' ');
}

/** best_subspan_em: 1 when any normalised gold answer is a substring of the normalised prediction. */
export function bestSubspanEm(prediction: string, goldAnswers: string[]): 0 | 1 {
  const normalized = normalizeAnswer(prediction);
  return goldAnswers.some((gold) => normalized.includes(normalizeAnswer(gold))) ? 1 : 0;
}

/**
 * The answer's first sentence: up to the citations that close it ("… 1969. [1]"), or else up to
 * the first sentence end followed by a capital or digit: what a reader who stops early has seen.
 */
export function firstSentence(answer: string): string {
  const cited = /[.!?]["')\]]?\s*(\[[^\]\s]+\]\s*)+/.exec(answer);
  const plain = /[.!?](?=\s+["'(]?[\p{Lu}\p{N}])/u.exec(answer);
  if (cited && (!plain || cited.index <= plain.index)) return answer.slice(0, cited.index + cited[0].length).trim();
  return plain ? answer.slice(0, plain.index + 1) : answer.trim();
}

/** Whitespace-separated words, citations excluded: the answer-length figure. */
export function answerWords(answer: string): number {
  return answer.replace(/\[[^\]\s]+\]/g, ' ').split(/\s+/).filter(Boolean).length;
}
