import { candidatesOf, type Candidate, type ReaderPassage } from './features.js';
import { analyzeQuestion, type Question } from './question.js';
import { SHIPPED_RANKER, rankCandidates, type RankerModel } from './ranker.js';
import type { Span } from './spans.js';

/**
 * The extractive reader: finds the sentence, and the span in it, that answers a question from
 * retrieved passages, with no generative model. Every sentence of the passages gets its features
 * (./features.ts) and the fitted ranker's probability of holding the answer (./ranker.ts); the
 * answer is the most probable sentence, then those close enough to it to add evidence. The reader
 * declines when the best sentence covers too little of the question, or when the ranker gives
 * "none of them" too large a share (both floors chosen by bench/fit-reader.ts).
 */
export type { ReaderPassage };

export interface ReadSentence {
  /** Index of the passage it comes from. */
  passage: number;
  text: string;
  /** The ranker's probability that this sentence holds the answer. */
  score: number;
  /** The best span of the question's type in it, when there is one. */
  span?: Span;
}

export interface Reading {
  question: Question;
  /** The best sentence first, then only those that add evidence (at most `maxSentences`). */
  sentences: ReadSentence[];
  /** False when the best sentence covers too little of the question, or the ranker finds "none of them" too likely. */
  answered: boolean;
  /** Passage indexes, best first (by their best sentence): the order a model should read them in. */
  passageOrder: number[];
}

/** Reads the passages for the question; a `model` other than the shipped one is for fitting runs. */
export function read(questionText: string, passages: ReaderPassage[], maxSentences: number, model: RankerModel = SHIPPED_RANKER): Reading {
  const question = analyzeQuestion(questionText);
  return readCandidates(question, candidatesOf(question, passages), maxSentences, model);
}

/** The reading of candidates already featured: what `read` does after `candidatesOf` (a fitting run reuses them). */
export function readCandidates(question: Question, candidates: Candidate[], maxSentences: number, model: RankerModel): Reading {
  if (candidates.length === 0) return { question, sentences: [], answered: false, passageOrder: [] };
  const { probabilities, none } = rankCandidates(model, candidates);
  const order = candidates.map((_, i) => i).sort((a, b) => probabilities[b] - probabilities[a]);
  const [best] = order;
  const chosen = order.slice(0, maxSentences).filter((i) => probabilities[i] >= probabilities[best] * model.support);
  return {
    question,
    sentences: chosen.map((i) => ({ passage: candidates[i].passage, text: candidates[i].text, span: candidates[i].span, score: probabilities[i] })),
    answered: candidates[best].coverage >= model.min_coverage && 1 - none >= model.abstain,
    passageOrder: [...new Set(order.map((i) => candidates[i].passage))],
  };
}
