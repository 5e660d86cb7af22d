import embeddings from '@energetic-ai/embeddings';
import { SentencePieceTokenizer } from '../../src/models/use-lite/tokenizer.js';
import { loadVocabulary } from '../../src/models/use-lite/vocabulary.js';

/** The package's own (quadratic) tokenizer and ours over the same vocabulary. */
export async function tokenizers() {
  const vocabulary = await loadVocabulary();
  const model = new embeddings.EmbeddingsModel({ vocabulary, model: null as never });
  const reference = (model as unknown as { tokenizer: { encode(text: string): number[] } }).tokenizer;
  return { reference, ours: new SentencePieceTokenizer(vocabulary) };
}
