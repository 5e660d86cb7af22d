import type { BackendModel } from './backend.js';

/** How long one warmup batch of these texts took: seeds the admission cost model. */
export interface BatchTiming {
  texts: string[];
  ms: number;
}

export const WARMUP_TEXT = 'Warm-up input: how fast can the model answer this question?';

/**
 * Runs dummy inputs through a freshly loaded backend at every configured batch size, so the first
 * real request does not pay for lazy initialisation (graph compilation, allocator growth, JIT).
 */
export async function warmUp(model: BackendModel, batchSizes: number[]): Promise<BatchTiming[]> {
  await model.warmup();
  const signal = new AbortController().signal;
  const timings: BatchTiming[] = [];
  for (const size of batchSizes) {
    const startedAt = performance.now();
    const texts = Array.from({ length: size }, (_, i) => `${WARMUP_TEXT} (${i})`);
    switch (model.role) {
      case 'embedder':
        await model.embed(texts, { signal });
        break;
      case 'reranker':
        await model.rerank(WARMUP_TEXT, texts, { signal });
        break;
      case 'generator': {
        const stream = model.generate(
          { messages: [{ role: 'user', content: WARMUP_TEXT }], contexts: texts.map((text, i) => ({ id: String(i), text })), maxTokens: 4 },
          { signal },
        );
        for await (const _ of stream);
        break;
      }
    }
    timings.push({ texts, ms: performance.now() - startedAt });
  }
  return timings;
}
