import type { Config } from '../config/schema.js';
import type { Pipeline } from '../pipeline/types.js';
import type { DocumentInput } from '../retrieval/types.js';
import { answerInputFrom, collectAnswer, type AnswerRequestBody } from '../pipeline/answers.js';
import type { JobHandlers } from './types.js';

/** Job inputs as POST /v1/jobs validates them (src/server/routes/jobs.ts holds the schemas). */
export type AnswerJobInput = AnswerRequestBody;
export interface EmbedJobInput {
  texts: string[];
  model?: string;
}
export interface IngestJobInput {
  namespace?: string;
  documents: DocumentInput[];
}

/**
 * Job kinds on the pipeline, with the same result shapes as the matching synchronous routes:
 * `infer`/`chat` the collected answer (as POST /v1/chat with stream:false), `embed` an
 * OpenAI-style embeddings list, `ingest` the per-document outcome.
 */
export function createJobHandlers(pipeline: Pipeline, config: Config): JobHandlers {
  const answer = async (raw: unknown, ctx: Parameters<JobHandlers['chat']>[1]) => {
    const input = raw as AnswerJobInput;
    const stream = pipeline.answer(answerInputFrom(input, config), ctx);
    return collectAnswer(stream, ctx);
  };
  return {
    infer: answer,
    chat: answer,
    async embed(raw, ctx) {
      const input = raw as EmbedJobInput;
      const { vectors, model, tokens } = await pipeline.embed({ texts: input.texts, model: input.model }, ctx);
      return {
        object: 'list',
        model,
        data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: Array.from(vector) })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
    async ingest(raw, ctx) {
      const input = raw as IngestJobInput;
      const namespace = input.namespace ?? config.sample_corpus.namespace;
      return { namespace, ...(await pipeline.ingest(namespace, input.documents, ctx)) };
    },
  };
}
