import { splitSentences } from '../../core/text/sentences.js';
import type { Chunk } from '../types.js';

/** A sentence of a document, to be asked as a query whose one relevant document is its own, of an index without it. */
export interface PseudoQuery {
  text: string;
  docId: string;
}

/** Sentences this long read like a query (a claim, a question's content); shorter ones are headings or fragments. */
const MIN_WORDS = 6;
const MAX_WORDS = 40;

/**
 * Up to `count` pseudo-queries, one per document, from documents spread evenly over the namespace
 * (every k-th document in id order, so the choice is the same on every run). Each is a sentence of
 * the document's first chunk that still has another sentence, chosen by a hash of the document's id:
 * not always the first (often background) nor the last (often the conclusion). It must be held out
 * of the index it is asked of (`withoutSentence`): asked of an index where its document still holds
 * it, the query finds its own words and every fusion setting looks perfect.
 */
export function heldOutSentences(chunks: Chunk[], count: number): PseudoQuery[] {
  const candidates = new Map<string, { chunk: Chunk; sentences: string[]; usable: number[] }>();
  for (const chunk of chunks) {
    if (chunk.index !== 0) continue;
    const sentences = splitSentences(chunk.text);
    const usable = sentences.flatMap((s, i) => {
      const words = s.split(/\s+/).length;
      return words >= MIN_WORDS && words <= MAX_WORDS ? [i] : [];
    });
    if (sentences.length >= 2 && usable.length > 0) candidates.set(chunk.docId, { chunk, sentences, usable });
  }
  const docIds = [...candidates.keys()].sort();
  const step = Math.max(1, docIds.length / count);
  const queries: PseudoQuery[] = [];
  for (let at = 0; at < docIds.length && queries.length < count; at += step) {
    const { chunk, sentences, usable } = candidates.get(docIds[Math.floor(at)])!;
    queries.push({ text: sentences[usable[hash(chunk.docId) % usable.length]], docId: chunk.docId });
  }
  return queries;
}

/** The chunk with every occurrence of `sentence` taken out (chunks of a document overlap, so a neighbour may hold it too). */
export function withoutSentence(chunk: Chunk, sentence: string): Chunk {
  if (!chunk.text.includes(sentence)) return chunk;
  return { ...chunk, text: chunk.text.split(sentence).join(' ').replace(/\s+/g, ' ').trim() };
}

/** FNV-1a: a stable, well-spread choice from an id. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
