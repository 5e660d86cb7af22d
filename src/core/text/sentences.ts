/** Sentences of a passage (the title line counts as one); short fragments join their neighbour. */
export function splitSentences(text: string): string[] {
  const parts = text
    .split(/\n+|(?<=[.!?])\s+(?=[A-Z0-9(\[])/)
    .map((s) => s.trim())
    .filter(Boolean);
  const out: string[] = [];
  for (const part of parts) {
    if (out.length > 0 && part.split(/\s+/).length < 4) out[out.length - 1] += ' ' + part;
    else out.push(part);
  }
  return out.length > 0 ? out : [text];
}

/**
 * What the embedder sees of a chunk when vectors are pooled: its title and its sentences, long
 * sentences cut to `maxWords`. use-lite's cost per text grows faster than its length, and its
 * vector of a 250-word passage is a blur; the mean of sentence vectors is cheaper and sharper.
 */
export function embeddingPieces(title: string | undefined, text: string, maxWords: number): string[] {
  const pieces = title ? [title] : [];
  for (const sentence of splitSentences(text)) {
    const words = sentence.split(/\s+/);
    for (let i = 0; i < words.length; i += maxWords) pieces.push(words.slice(i, i + maxWords).join(' '));
  }
  return pieces;
}
