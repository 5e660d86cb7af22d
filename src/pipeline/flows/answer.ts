import type { Tracer } from '@opentelemetry/api';
import { deferred } from '../../core/deferred.js';
import type { Config } from '../../config/schema.js';
import { TieredCache, float32Codec, type RedisLike } from '../../core/cache.js';
import { ProntoError } from '../../core/errors.js';
import type { ModelRuntime } from '../../models/runtime.js';
import type { ChatMessage, GenerationContext } from '../../models/types.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Retrieval } from '../../retrieval/retrieval.js';
import type { DocumentInput, Hit } from '../../retrieval/types.js';
import { scopedNamespace } from '../context.js';
import { createStageRunner, type StageRunner } from '../stage-runner.js';
import { createEmbedStage } from '../stages/embed.js';
import type { FeatureSource } from '../stages/features.js';
import { createGenerateStage } from '../stages/generate.js';
import { extractCitations } from '../stages/postprocess.js';
import { createRerankStage } from '../stages/rerank.js';
import { createRetrieveStage } from '../stages/retrieve.js';
import { redactDeep } from '../../core/redact-deep.js';
import { refusePersonalData, type Redactor } from '../../core/redact.js';
import type { AnswerInput, AnswerStream, Pipeline, RequestContext, SearchInput } from '../types.js';

export interface PipelineDeps {
  config: Config;
  metrics: Metrics;
  models: ModelRuntime;
  retrieval: Retrieval;
  redactor: Redactor;
  features: FeatureSource;
  tracer: Tracer;
  /** Shared cache tier for embeddings (all replicas), when REDIS_URL is set. */
  redis?: RedisLike;
}

/**
 * The flows: each composes the stages, in order, under the request's deadline:
 *   search: sanitize -> embed -> retrieve -> rerank -> postprocess
 *   answer: sanitize -> features -> embed -> retrieve -> rerank -> generate (streamed) -> postprocess
 *   embed:  sanitize -> embed;  ingest: sanitize -> chunk/embed/upsert
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config, models, retrieval, redactor, features } = deps;
  const runners = {
    search: createStageRunner(config, deps.metrics, deps.tracer, 'search'),
    answer: createStageRunner(config, deps.metrics, deps.tracer, 'answer'),
    embed: createStageRunner(config, deps.metrics, deps.tracer, 'embed'),
    ingest: createStageRunner(config, deps.metrics, deps.tracer, 'ingest'),
  };
  const embeddingCache = new TieredCache<Float32Array>({
    name: 'embedding',
    maxEntries: config.cache.embedding_entries,
    redis:
      deps.redis && config.cache.embedding_redis_ttl_s > 0
        ? { client: deps.redis, prefix: 'pronto:emb:', ttlMs: config.cache.embedding_redis_ttl_s * 1000, codec: float32Codec, timeoutMs: config.cache.redis_timeout_ms }
        : undefined,
    onLookup: (cache, result) => deps.metrics.cache.inc({ cache, result }),
  });
  const stages = (runner: StageRunner, flow: string) => ({
    embed: createEmbedStage({ cache: embeddingCache, runner }),
    retrieve: createRetrieveStage({ config, retrieval, runner }),
    rerank: createRerankStage({ runner }),
    generate: createGenerateStage({ config, metrics: deps.metrics, runner, flow }),
  });
  const searchStages = stages(runners.search, 'search');
  const answerStages = stages(runners.answer, 'answer');
  const embedStages = stages(runners.embed, 'embed');

  const sanitize = (runner: StageRunner, ctx: RequestContext, texts: string[]) =>
    runner.run(ctx, 'sanitize', async (signal) => {
      const clean: string[] = [];
      for (const text of texts) clean.push(await redactor.redactInSlices(text, signal));
      return clean;
    });

  /** An explicitly named namespace must exist; the default one may be empty. */
  async function resolveNamespace(ctx: RequestContext, namespace: string, signal?: AbortSignal): Promise<string> {
    refusePersonalData(redactor, namespace, 'namespace');
    const scoped = scopedNamespace(ctx.tenant, namespace);
    if (namespace !== config.sample_corpus.namespace && !(await retrieval.namespaceExists(scoped))) {
      throw new ProntoError('unknown_namespace', `namespace "${namespace}" does not exist`, { field: 'namespace' });
    }
    signal?.throwIfAborted();
    return scoped;
  }

  function reranker(requested: boolean) {
    const name = config.pipeline.reranker;
    return requested && name ? models.reranker(name) : undefined;
  }

  async function retrieveContexts(
    ctx: RequestContext,
    run: typeof searchStages,
    request: { query: string; namespace: string; topK: number; mode: SearchInput['mode']; filter?: SearchInput['filter']; rerank: boolean; fusion?: SearchInput['fusion'] },
    onFailure: 'throw' | 'no_context',
  ): Promise<Hit[]> {
    const namespace = await resolveNamespace(ctx, request.namespace);
    const rerankWith = reranker(request.rerank);
    const vector = request.mode === 'sparse' ? null : await run.embed.embedQuery(models.embedder(config.pipeline.embedder), request.query, ctx);
    const candidates = Math.max(request.topK, rerankWith ? config.retrieval.rerank.top_n : 0, config.retrieval.candidates);
    const hits = await run.retrieve(
      ctx,
      { query: request.query, vector, namespace, mode: request.mode, candidates, filter: request.filter, fusion: request.fusion },
      onFailure === 'no_context' ? { name: 'no_context', run: () => [] } : undefined,
    );
    const ranked = rerankWith ? await run.rerank(ctx, rerankWith, request.query, hits, config.retrieval.rerank.top_n) : hits;
    return ranked.slice(0, request.topK);
  }

  async function sanitizeMessages(runner: StageRunner, ctx: RequestContext, messages: ChatMessage[]): Promise<ChatMessage[]> {
    const sanitized = await sanitize(runner, ctx, messages.map((m) => m.content));
    return messages.map((m, i) => ({ role: m.role, content: sanitized[i] }));
  }

  /** Generates from prepared messages and contexts; `done` adds the answer's citations. */
  function streamAnswer(
    ctx: RequestContext,
    prepared: Promise<{ messages: ChatMessage[]; contexts: Hit[] }>,
    generatorName: string,
    maxTokens: number | undefined,
    sampling: { temperature?: number; stop?: string[] } = {},
  ): AnswerStream {
    prepared.catch(() => undefined);
    const done = deferred<Awaited<AnswerStream['done']>>();
    async function* tokens(): AsyncGenerator<string> {
      try {
        const { messages, contexts } = await prepared;
        const generation = answerStages.generate(
          ctx,
          { messages, contexts: contexts.map(toGenerationContext), maxTokens: maxTokens ?? config.pipeline.max_answer_tokens, answer: config.answer, ...sampling },
          models.generator(generatorName),
          models.has(config.pipeline.fallback_generator) ? models.generator(config.pipeline.fallback_generator) : undefined,
        );
        let answerText = '';
        for await (const token of generation.tokens) {
          answerText += token;
          yield token;
        }
        const finished = await generation.done;
        const startedAt = performance.now();
        const citations = extractCitations(answerText, contexts);
        runners.answer.record(ctx, 'postprocess', startedAt, 'ok');
        done.resolve({ ...finished, citations });
      } catch (err) {
        done.reject(err);
        throw err;
      }
    }
    return { contexts: prepared.then((p) => p.contexts), tokens: tokens(), done: done.promise };
  }

  return {
    async search(input, ctx) {
      const [query] = await sanitize(runners.search, ctx, [input.query]);
      const hits = await retrieveContexts(ctx, searchStages, { ...input, query }, 'throw');
      return { hits };
    },

    answer(input: AnswerInput, ctx: RequestContext): AnswerStream {
      const runner = runners.answer;
      const prepared = (async () => {
        const messages = await sanitizeMessages(runner, ctx, input.messages);
        if (input.userId) {
          const userId = input.userId;
          ctx.features = await runner.run(ctx, 'features', (signal) => features.get(userId, signal), {
            name: 'default_features',
            run: () => ({ ...config.features.defaults }),
          });
        }
        const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
        const contexts = await retrieveContexts(
          ctx,
          answerStages,
          { query: question, namespace: input.namespace, topK: input.topK, mode: config.retrieval.default_mode, filter: input.filter, rerank: config.retrieval.rerank.enabled },
          'no_context',
        );
        return { messages, contexts };
      })();
      return streamAnswer(ctx, prepared, config.pipeline.generator, input.maxTokens);
    },

    complete(input, ctx) {
      const prepared = (async () => ({ messages: await sanitizeMessages(runners.answer, ctx, input.messages), contexts: [] as Hit[] }))();
      return streamAnswer(ctx, prepared, input.model, input.maxTokens, { temperature: input.temperature, stop: input.stop });
    },

    async embed(input, ctx) {
      const texts = await sanitize(runners.embed, ctx, input.texts);
      const embedder = models.embedder(input.model ?? config.pipeline.embedder);
      const vectors = await runners.embed.run(ctx, 'embed', (signal) => embedStages.embed.embedTexts(embedder, texts, ctx, signal));
      return { vectors, model: embedder.name, tokens: texts.reduce((sum, text) => sum + countTokens(text), 0) };
    },

    async ingest(namespace, documents, ctx) {
      refusePersonalData(redactor, namespace, 'namespace');
      documents.forEach((d, i) => {
        refusePersonalData(redactor, d.id, `documents[${i}].id`);
        for (const key of Object.keys(d.metadata ?? {})) refusePersonalData(redactor, key, `documents[${i}].metadata`);
      });
      // Documents are large by nature: their redaction runs against the request's deadline, not the
      // sanitize budget meant for queries (it yields between slices, so nothing else waits).
      const startedAt = performance.now();
      const texts: string[] = [];
      for (const d of documents) texts.push(await redactor.redactInSlices(d.text, ctx.deadline.signal));
      runners.ingest.record(ctx, 'sanitize', startedAt, 'ok');
      const clean = documents.map((d, i) => ({
        ...d,
        text: texts[i],
        title: d.title === undefined ? undefined : redactor.redact(d.title),
        metadata: d.metadata === undefined ? undefined : (redactDeep(d.metadata, redactor.redact) as DocumentInput['metadata']),
      }));
      const embedder = models.embedder(config.pipeline.embedder);
      const result = await retrieval.ingest(scopedNamespace(ctx.tenant, namespace), clean, { embedder, signal: ctx.deadline.signal, deadlineAt: ctx.deadline.at });
      deps.metrics.documents.inc({ outcome: 'accepted' }, result.accepted.length);
      deps.metrics.documents.inc({ outcome: 'failed' }, result.failed.length);
      return result;
    },

    async deleteDocument(namespace, docId, ctx) {
      const deleted = await retrieval.deleteDocument(scopedNamespace(ctx.tenant, namespace), docId);
      if (deleted === 0) {
        throw new ProntoError('not_found', `document "${docId}" does not exist in namespace "${namespace}"`, { field: 'id' });
      }
      return deleted;
    },
  };
}

function toGenerationContext(hit: Hit): GenerationContext {
  return { id: hit.id, text: hit.text, title: hit.title };
}

/** Whitespace-separated words: the usage figure for models without their own tokenizer. */
export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
