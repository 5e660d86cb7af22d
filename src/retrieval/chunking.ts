import type { Chunk, DocumentInput } from './types.js';

export interface ChunkingOptions {
  maxTokens: number;
  overlapTokens: number;
}

/**
 * Splits a document into chunks of at most `maxTokens` whitespace-delimited tokens, consecutive
 * chunks sharing `overlapTokens`, so a passage cut at a boundary is still whole in one chunk. A
 * chunk prefers to end at a sentence end when one falls in its last quarter. Every chunk keeps
 * the document's title and metadata.
 */
export function chunkDocument(doc: DocumentInput, options: ChunkingOptions): Chunk[] {
  const tokens = doc.text.split(/\s+/).filter(Boolean);
  const max = options.maxTokens;
  const overlap = Math.min(options.overlapTokens, Math.floor(max / 2));
  const pieces: string[] = [];
  let start = 0;
  while (start < tokens.length) {
    let end = Math.min(start + max, tokens.length);
    if (end < tokens.length) end = sentenceEnd(tokens, start + Math.ceil((max * 3) / 4), end) ?? end;
    pieces.push(tokens.slice(start, end).join(' '));
    if (end >= tokens.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return pieces.map((text, index) => ({
    id: `${doc.id}#${index}`,
    docId: doc.id,
    index,
    text,
    title: doc.title,
    metadata: doc.metadata ?? {},
  }));
}

/** The last position in (from, to] that follows a sentence-ending token, if any. */
function sentenceEnd(tokens: string[], from: number, to: number): number | undefined {
  for (let i = to; i > from; i--) if (/[.!?]["')\]]?$/.test(tokens[i - 1])) return i;
  return undefined;
}

/**
 * A chunk's text with its document's title in front, as the embedder and BM25 see it: the title
 * gives a chunk cut from its context its topic back.
 */
export function titledText(chunk: Pick<Chunk, 'title' | 'text'>): string {
  return chunk.title ? `${chunk.title}\n${chunk.text}` : chunk.text;
}
