import { createPacer, type Pacer } from '../core/pace.js';
import type { Chunk, DocumentInput } from './types.js';

export interface ChunkingOptions {
  maxTokens: number;
  overlapTokens: number;
}

/**
 * A chunk holds at most `maxTokens × MAX_CHARS_PER_TOKEN` characters: prose (5–7 characters a
 * token) never reaches it, but one 1 MB "word" or a run of URLs must not make one 1 MB chunk (its
 * embedding, analysis and storage would be one unbounded step). A token longer than that is cut.
 */
export const MAX_CHARS_PER_TOKEN = 32;

/**
 * Splits a document into chunks of at most `maxTokens` whitespace-delimited tokens, consecutive
 * chunks sharing `overlapTokens` (at most half a chunk), so a passage cut at a boundary is still
 * whole in one chunk. A chunk prefers to end at a sentence end when one falls in its last quarter.
 * Every chunk keeps the document's title and metadata. Linear in the text, and `pace` is awaited
 * between chunks, so a large document never holds the event loop.
 */
export async function chunkDocument(doc: DocumentInput, options: ChunkingOptions, pace: Pacer = createPacer()): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for (const text of chunkTexts(doc.text, options)) {
    chunks.push({ id: `${doc.id}#${chunks.length}`, docId: doc.id, index: chunks.length, text, title: doc.title, metadata: doc.metadata ?? {} });
    await pace();
  }
  return chunks;
}

/** The chunks' texts, one at a time; tokens are read from the text only as far as the next chunk needs. */
function* chunkTexts(text: string, options: ChunkingOptions): Generator<string> {
  const max = options.maxTokens;
  const maxChars = max * MAX_CHARS_PER_TOKEN;
  const overlap = Math.min(options.overlapTokens, Math.floor(max / 2));
  const tokens = new LazyTokens(text, maxChars);
  let start = 0;
  while (tokens.has(start)) {
    let end = start + 1;
    let chars = tokens.at(start).length;
    while (end - start < max && tokens.has(end) && chars + 1 + tokens.at(end).length <= maxChars) chars += 1 + tokens.at(end++).length;
    const taken = end - start;
    if (tokens.has(end)) end = sentenceEnd(tokens, start + Math.ceil((taken * 3) / 4), end) ?? end;
    yield tokens.slice(start, end).join(' ');
    if (!tokens.has(end)) return;
    start = Math.max(end - Math.min(overlap, Math.floor(taken / 2)), start + 1);
  }
}

/** The text's whitespace-delimited tokens (at most `maxChars` each), matched lazily and kept. */
class LazyTokens {
  private readonly read: string[] = [];
  private readonly matches: Iterator<RegExpMatchArray>;
  private pending: string | undefined;

  constructor(
    text: string,
    private readonly maxChars: number,
  ) {
    this.matches = text.matchAll(/\S+/g);
  }

  has(i: number): boolean {
    while (this.read.length <= i) if (!this.readOne()) return false;
    return true;
  }

  at(i: number): string {
    return this.read[i];
  }

  slice(from: number, to: number): string[] {
    return this.read.slice(from, to);
  }

  private readOne(): boolean {
    if (this.pending === undefined) {
      const next = this.matches.next();
      if (next.done) return false;
      this.pending = next.value[0];
    }
    this.read.push(this.pending.slice(0, this.maxChars));
    this.pending = this.pending.length > this.maxChars ? this.pending.slice(this.maxChars) : undefined;
    return true;
  }
}

/** The last position in (from, to] that follows a sentence-ending token, if any. */
function sentenceEnd(tokens: LazyTokens, from: number, to: number): number | undefined {
  for (let i = to; i > from; i--) if (/[.!?]["')\]]?$/.test(tokens.at(i - 1))) return i;
  return undefined;
}

/**
 * A chunk's text with its document's title in front, as the embedder and BM25 see it: the title
 * gives a chunk cut from its context its topic back.
 */
export function titledText(chunk: Pick<Chunk, 'title' | 'text'>): string {
  return chunk.title ? `${chunk.title}\n${chunk.text}` : chunk.text;
}
