import { analyzeTerm } from '../../core/text/analyzer.js';
import { splitSentences } from '../../core/text/sentences.js';
import { analyzeQuestion, type Question } from './question.js';
import { findSpans, type Span } from './spans.js';

/**
 * The extractive reader: finds the sentence, and the span in it, that answers a question from
 * retrieved passages, with no model. Each sentence is scored by how much of the question it covers
 * together with its passage's title (IDF-weighted over the passages' sentences, so rare words count
 * most; the title stands for the "it" of a Wikipedia-style sentence), how much its passage and the
 * title alone cover, the passage's retrieval rank, and whether it holds a span of the kind
 * the question asks for (a date for "when", a number for "how many", a name for "who") that is not
 * made of the question's own words. The weights were tuned on the even-numbered half of the
 * NQ-open dev set and checked on the odd half (docs/BENCHMARKS.md).
 */
export interface ReaderPassage {
  text: string;
  title?: string;
}

export interface ReadSentence {
  /** Index of the passage it comes from. */
  passage: number;
  text: string;
  score: number;
  /** The best span of the question's type in it, when there is one. */
  span?: Span;
}

export interface Reading {
  question: Question;
  /** The best sentence first, then only those that add evidence (at most `maxSentences`). */
  sentences: ReadSentence[];
  /** False when no passage covers enough of the question to answer it. */
  answered: boolean;
  /** Passage indexes, best first (by their best sentence): the order a model should read them in. */
  passageOrder: number[];
}

export interface ReaderWeights {
  sentence: number;
  passage: number;
  title: number;
  rank: number;
  type: number;
  abstain: number;
  support: number;
}

export const READER_WEIGHTS: ReaderWeights = {
  sentence: 1,
  passage: 0.25,
  title: 2,
  rank: 0.35,
  type: 0.5,
  /** Question coverage (sentence + title) under which the reader abstains. */
  abstain: 0.2,
  /** A further sentence is evidence when it scores this share of the best one; below, it is padding. */
  support: 0.88,
};

interface Token {
  term: string | null;
  start: number;
}

interface Candidate extends ReadSentence {
  terms: Set<string>;
  tokens: Token[];
}

const WORD = /[\p{L}\p{N}]+/gu;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(WORD)) tokens.push({ term: analyzeTerm(m[0]), start: m.index });
  return tokens;
}

/** Reads the passages for the question; `weights` other than the tuned ones are for tuning runs. */
export function read(questionText: string, passages: ReaderPassage[], maxSentences: number, weights: ReaderWeights = READER_WEIGHTS): Reading {
  const question = analyzeQuestion(questionText);
  const candidates: Candidate[] = [];
  const passageTerms: Array<Set<string>> = [];
  const titleTerms: Array<Set<string>> = [];
  passages.forEach((passage, index) => {
    const inPassage = new Set<string>();
    for (const text of readerSentences(passage.text)) {
      const tokens = tokenize(text);
      const terms = new Set(tokens.map((t) => t.term).filter((t): t is string => t !== null));
      for (const term of terms) inPassage.add(term);
      candidates.push({ passage: index, text, score: 0, terms, tokens });
    }
    const inTitle = new Set(passage.title ? tokenize(passage.title).map((t) => t.term).filter((t): t is string => t !== null) : []);
    passageTerms.push(union(inPassage, inTitle));
    titleTerms.push(inTitle);
  });
  if (candidates.length === 0) return { question, sentences: [], answered: false, passageOrder: [] };

  const idf = new Map<string, number>();
  for (const term of question.terms) {
    let df = 0;
    for (const c of candidates) if (c.terms.has(term)) df++;
    idf.set(term, Math.log(1 + (candidates.length - df + 0.5) / (df + 0.5)));
  }
  const total = question.terms.reduce((sum, term) => sum + idf.get(term)!, 0) || 1;
  const coverage = (terms: Set<string>) => question.terms.reduce((sum, term) => sum + (terms.has(term) ? idf.get(term)! : 0), 0) / total;

  for (const c of candidates) {
    c.span = question.type === 'any' ? undefined : bestSpan(c, question);
    c.score =
      weights.sentence * coverage(union(c.terms, titleTerms[c.passage])) +
      weights.passage * coverage(passageTerms[c.passage]) +
      weights.title * coverage(titleTerms[c.passage]) -
      weights.rank * c.passage +
      (c.span ? weights.type : 0);
  }
  const ranked = [...candidates].sort((a, b) => b.score - a.score);
  const best = ranked[0];
  const answered = coverage(union(best.terms, titleTerms[best.passage])) >= weights.abstain;

  const chosen = ranked.slice(0, maxSentences).filter((c) => c.score >= best.score * weights.support);
  const passageOrder = [...new Set(ranked.map((c) => c.passage))];
  return { question, sentences: chosen.map(({ passage, text, score, span }) => ({ passage, text, score, span })), answered, passageOrder };
}

function union<T>(a: Set<T>, b: Set<T>): Set<T> {
  return new Set([...a, ...b]);
}

/** The span of the question's type that is not made of the question's own words, nearest to them. */
function bestSpan(sentence: Candidate, question: Question): Span | undefined {
  const asked = new Set(question.terms);
  const matchedAt = sentence.tokens.filter((t) => t.term !== null && asked.has(t.term)).map((t) => t.start);
  let best: Span | undefined;
  let bestDistance = Infinity;
  for (const span of findSpans(sentence.text)) {
    if (span.type !== question.type) continue;
    const inside = sentence.tokens.filter((t) => t.start >= span.start && t.start < span.end && t.term !== null);
    if (inside.length > 0 && inside.every((t) => asked.has(t.term!))) continue;
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
