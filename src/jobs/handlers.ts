import type { JobsConfig } from '../config/jobs.js';
import type { FlowsConfig } from '../config/flows.js';
import type { PipelineConfig } from '../config/schema.js';
import type { Pipeline, StepEvent } from '../pipeline/types.js';
import type { DocumentInput } from '../retrieval/types.js';
import { answerFor, answerInputFrom, collectAnswer, type AnswerRequestBody, type RequestDefaults } from '../api/answers.js';
import { flowProgress } from './flow-progress.js';
import { untilNotShed } from './shed-retry.js';
import type { JobHandlers } from './types.js';

/** Job inputs as POST /v1/jobs validates them (src/server/routes/jobs.ts holds the schemas). */
export type AnswerJobInput = AnswerRequestBody;
export type FlowJobInput = AnswerRequestBody & { flow: string };
export interface EmbedJobInput {
  texts: string[];
  model?: string;
}
export interface IngestJobInput {
  namespace?: string;
  documents: DocumentInput[];
}

/** The settings job handlers read: the inputs' defaults (as the routes') and how an embed job is cut. */
export interface JobHandlersConfig extends RequestDefaults {
  pipeline: Pick<PipelineConfig, 'embedder'>;
  jobs: Pick<JobsConfig, 'embed_chunk_texts'>;
  flows: FlowsConfig;
}

/**
 * Job kinds on the pipeline, with the same result shapes as the matching synchronous routes:
 * `infer`/`chat` the collected answer (as POST /v1/chat with stream:false), `embed` an
 * OpenAI-style embeddings list, `ingest` the per-document outcome, `flow` the collected answer
 * of the flow with its `steps` (reported as they end, with the progress).
 */
export function createJobHandlers(pipeline: Pipeline, config: JobHandlersConfig): JobHandlers {
  const answer = async (raw: unknown, ctx: Parameters<JobHandlers['chat']>[1]) => {
    const input = raw as AnswerJobInput;
    const stream = pipeline.answer(answerInputFrom(input, config), ctx);
    return collectAnswer(stream, ctx);
  };
  return {
    infer: answer,
    chat: answer,
    async embed(raw, ctx, run) {
      const input = raw as EmbedJobInput;
      // In pieces of one model batch, one after another: interactive requests interleave, and no
      // text of a big job sits behind the rest of it in the model queue.
      const data: Array<{ object: 'embedding'; index: number; embedding: number[] }> = [];
      let model = input.model ?? config.pipeline.embedder;
      let tokens = 0;
      for (let start = 0; start < input.texts.length; start += config.jobs.embed_chunk_texts) {
        const texts = input.texts.slice(start, start + config.jobs.embed_chunk_texts);
        const piece = await untilNotShed(ctx, () => pipeline.embed({ texts, model: input.model }, ctx));
        piece.vectors.forEach((vector, i) => data.push({ object: 'embedding', index: start + i, embedding: Array.from(vector) }));
        model = piece.model;
        tokens += piece.tokens;
        run.reportProgress(data.length / input.texts.length);
      }
      return { object: 'list', model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } };
    },
    async flow(raw, ctx, run) {
      const input = raw as FlowJobInput;
      const progress = flowProgress(config.flows[input.flow]?.steps ?? []);
      const steps: StepEvent[] = [];
      const onStep = (event: StepEvent) => {
        steps.push(event);
        run.reportProgress(progress(event), [...steps]);
      };
      // The answer carries the steps (collectAnswer), as /v1/chat's does with stream: false.
      return collectAnswer(answerFor(pipeline, input, config, ctx, onStep), ctx);
    },
    async ingest(raw, ctx) {
      const input = raw as IngestJobInput;
      const namespace = input.namespace ?? config.sample_corpus.namespace;
      // The pipeline's ingest embeds at bulk priority within the job's deadline: it waits for model
      // capacity rather than being shed, so there is nothing to retry here.
      const result = await pipeline.ingest(namespace, input.documents, ctx);
      return { namespace, ...result };
    },
  };
}

