import { analyzeTerm } from '../../core/text/analyzer.js';
import { splitSentences } from '../../core/text/sentences.js';
import type { Question } from './question.js';
import { findSpans, type Span } from './spans.js';

/**
 * What the reader knows about each sentence of the retrieved passages, as numbers a fitted ranker
 * weighs (./ranker.ts, weights fitted by bench/fit-reader.ts on NQ-open dev). Lexical: how much of
 * the question (IDF-weighted over the passages' sentences, so rare words count most) the sentence
 * covers together with its passage's title (the title stands for the "it" of a Wikipedia-style
 * sentence), the passage covers, and the title alone covers; the sentence's BM25 against the
 * question. Where it is: the passage's retrieval rank, the sentence's place in its passage, its
 * length. What it holds: a span of each kind (date, number, name) not made of the question's own
 * words, crossed with the kind of answer the question asks for, so the ranker learns that "who"
 * wants a name and "how many" a number. (The cosine of question and sentence under the static
 * embedder's table was tried as a feature and did not help: docs/BENCHMARKS.md, Answers.)
 */
export const FEATURES = [
  'coverage',
  'passage_coverage',
  'title_coverage',
  'bm25',
  'rank',
  'top_passage',
  'position',
  'lead',
  'log_words',
  'asked_span',
  ...(['person', 'place', 'name', 'date', 'number', 'any'] as const).flatMap((kind) => (['date', 'number', 'name'] as const).map((type) => `${kind}_asks_${type}_holds`)),
] as const;

export type FeatureName = (typeof FEATURES)[number];

export interface ReaderPassage {
  text: string;
  title?: string;
}

export interface Candidate {
  /** Index of the passage it comes from. */
  passage: number;
  text: string;
  /** The span of the question's type nearest the question's words, when there is one. */
  span?: Span;
  /** Question coverage of the sentence with its title: the abstention floor's measure. */
  coverage: number;
  /** Values in the order of FEATURES. */
  features: Float64Array;
}

interface Token {
  term: string | null;
  start: number;
}

interface Sentence {
  passage: number;
  position: number;
  text: string;
  tokens: Token[];
  terms: Set<string>;
}

const WORD = /[\p{L}\p{N}]+/gu;
/** BM25's usual saturation and length normalisation. */
const K1 = 1.2;
const B = 0.75;
const INDEX = new Map<FeatureName, number>(FEATURES.map((name, i) => [name, i]));

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(WORD)) tokens.push({ term: analyzeTerm(m[0]), start: m.index });
  return tokens;
}

const termsOf = (tokens: Token[]) => new Set(tokens.map((t) => t.term).filter((t): t is string => t !== null));

/** Every sentence of the passages with its features for this question. */
export function candidatesOf(question: Question, passages: ReaderPassage[]): Candidate[] {
  const sentences: Sentence[] = [];
  const passageTerms: Array<Set<string>> = [];
  const titleTerms: Array<Set<string>> = [];
  passages.forEach((passage, index) => {
    const inTitle = termsOf(passage.title ? tokenize(passage.title) : []);
    const inPassage = new Set(inTitle);
    readerSentences(passage.text).forEach((text, position) => {
      const tokens = tokenize(text);
      const terms = termsOf(tokens);
      for (const term of terms) inPassage.add(term);
      sentences.push({ passage: index, position, text, tokens, terms });
    });
    passageTerms.push(inPassage);
    titleTerms.push(inTitle);
  });
  if (sentences.length === 0) return [];

  const idf = new Map<string, number>();
  for (const term of question.terms) {
    let df = 0;
    for (const s of sentences) if (s.terms.has(term)) df++;
    idf.set(term, Math.log(1 + (sentences.length - df + 0.5) / (df + 0.5)));
  }
  const total = question.terms.reduce((sum, term) => sum + idf.get(term)!, 0) || 1;
  const coverage = (...sets: Array<Set<string>>) => question.terms.reduce((sum, term) => sum + (sets.some((s) => s.has(term)) ? idf.get(term)! : 0), 0) / total;
  const averageLength = sentences.reduce((sum, s) => sum + s.tokens.length, 0) / sentences.length;

  return sentences.map((s) => {
    const features = new Float64Array(FEATURES.length);
    const set = (name: FeatureName, value: number) => (features[INDEX.get(name)!] = value);
    const spans = spansOf(s, question);
    const span = nearestSpan(spans.filter((sp) => sp.type === question.type), s, question);
    const covered = coverage(s.terms, titleTerms[s.passage]);
    set('coverage', covered);
    set('passage_coverage', coverage(passageTerms[s.passage]));
    set('title_coverage', coverage(titleTerms[s.passage]));
    set('bm25', bm25(s, question, idf, averageLength));
    set('rank', s.passage);
    set('top_passage', s.passage === 0 ? 1 : 0);
    set('position', s.position);
    set('lead', s.position === 0 ? 1 : 0);
    set('log_words', Math.log(1 + s.tokens.length));
    set('asked_span', span ? 1 : 0);
    for (const type of new Set(spans.map((sp) => sp.type))) set(`${question.kind}_asks_${type}_holds`, 1);
    return { passage: s.passage, text: s.text, span, coverage: covered, features };
  });
}

function bm25(sentence: Sentence, question: Question, idf: Map<string, number>, averageLength: number): number {
  const norm = K1 * (1 - B + (B * sentence.tokens.length) / averageLength);
  let score = 0;
  for (const term of question.terms) {
    let tf = 0;
    for (const t of sentence.tokens) if (t.term === term) tf++;
    if (tf > 0) score += (idf.get(term)! * tf * (K1 + 1)) / (tf + norm);
  }
  return score;
}

/** The sentence's spans that are not made of the question's own words ("Catch Me If You Can" does not answer a question about it). */
function spansOf(sentence: Sentence, question: Question): Span[] {
  const asked = new Set(question.terms);
  return findSpans(sentence.text).filter((span) => {
    const inside = sentence.tokens.filter((t) => t.start >= span.start && t.start < span.end && t.term !== null);
    return inside.length === 0 || !inside.every((t) => asked.has(t.term!));
  });
}

/** Of the spans, the one nearest the question's words in the sentence. */
function nearestSpan(spans: Span[], sentence: Sentence, question: Question): Span | undefined {
  const asked = new Set(question.terms);
  const matchedAt = sentence.tokens.filter((t) => t.term !== null && asked.has(t.term)).map((t) => t.start);
  let best: Span | undefined;
  let bestDistance = Infinity;
  for (const span of spans) {
    const distance = Math.min(...matchedAt.map((at) => (at < span.start ? span.start - at : at - span.end)));
    if (best === undefined || distance < bestDistance) {
      best = span;
      bestDistance = distance;
    }
  }
  return best;
}

// A sentence end the plain splitter takes for one but is an abbreviation ("Howard Rollins Jr. (born…", "c. 497 BC", "E. coli").
const ABBREVIATION = /(?:\b\p{Lu}|\b(?:Jr|Sr|St|Dr|Mr|Mrs|Ms|Prof|Gen|Col|Capt|Lt|No|vs|ca|c|approx|Inc|Ltd|Co|Mt|Ft))\.$/u;

/** The passage's sentences, with the splits after abbreviations and before a parenthesis undone. */
function readerSentences(text: string): string[] {
  const out: string[] = [];
  for (const part of splitSentences(text)) {
    if (out.length > 0 && (ABBREVIATION.test(out[out.length - 1]) || part.startsWith('('))) out[out.length - 1] += ' ' + part;
    else out.push(part);
  }
  return out;
}
