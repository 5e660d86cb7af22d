/**
 * use-lite's SentencePiece (unigram) tokenizer in linear time, id for id the same as the one in
 * @energetic-ai/embeddings (tested over the sample corpus and SciFact). That one copies the rest
 * of the text at every character (`symbols.slice(i)`), so tokenising n characters costs O(n²):
 * this walks the vocabulary trie from each position instead (pieces are at most 16 characters)
 * and runs the same Viterbi forwards, so a text costs O(n × longest piece).
 *
 * The package's quirks are kept on purpose, since equality is the contract: the best score starts
 * at 0 and 0 means "unset" (so any candidate replaces a best of exactly 0), ties go to the later
 * candidate, an unknown character is id 0 with score 0 and consecutive unknowns merge, and the
 * backtrack steps by a piece's UTF-16 length while positions count code points.
 */

export type Vocabulary = Array<[piece: string, score: number]>;

/** The first six ids are reserved (unknown, <s>, </s>, extra tokens) and never matched. */
const RESERVED_IDS = 6;
const SEPARATOR = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** The vocabulary id ending here, or -1. */
  id: number;
  score: number;
}

const node = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

export class SentencePieceTokenizer {
  private readonly root = node();

  constructor(private readonly vocabulary: Vocabulary) {
    for (let id = RESERVED_IDS; id < vocabulary.length; id++) {
      let at = this.root;
      for (const symbol of vocabulary[id][0]) {
        let next = at.children.get(symbol);
        if (!next) at.children.set(symbol, (next = node()));
        at = next;
      }
      // A duplicated piece keeps its last id, as in the package's trie.
      at.id = id;
      at.score = vocabulary[id][1];
    }
  }

  get size(): number {
    return this.vocabulary.length;
  }

  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    const input = normalized.length > 0 ? SEPARATOR + normalized.replaceAll(' ', SEPARATOR) : normalized;
    const symbols = Array.from(input);
    const n = symbols.length;
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    const relax = (end: number, id: number, score: number) => {
      if (best[end] === 0 || score >= best[end]) {
        best[end] = score;
        words[end] = id;
      }
    };
    for (let start = 0; start < n; start++) {
      // best[start] is final here: every candidate ending at `start` began earlier. Relaxing in
      // order of start, then of length, is the order the package visits candidates in.
      let at = this.root.children.get(symbols[start]);
      let matched = false;
      for (let end = start + 1; at; end++) {
        if (at.id >= 0) {
          relax(end, at.id, at.score + best[start]);
          matched = true;
        }
        at = end < n ? at.children.get(symbols[end]) : undefined;
      }
      if (!matched) relax(start + 1, 0, best[start]);
    }
    const reversed: number[] = [];
    for (let at = n; at > 0; at -= this.vocabulary[words[at]][0].length) reversed.push(words[at]);
    const ids: number[] = [];
    let previousUnknown = false;
    for (const id of reversed) {
      if (!(previousUnknown && id === 0)) ids.push(id);
      previousUnknown = id === 0;
    }
    return ids.reverse();
  }
}
