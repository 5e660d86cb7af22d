import { writeFile } from 'node:fs/promises';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { composeAnswer } from '../models/backends/extractive.js';
import { collectAnswer } from '../api/answers.js';
import { createRequestContext } from '../pipeline/context.js';
import { loadAnswerDataset } from '../pipeline/eval/nq-open.js';
import { summarizeAnswers, type AnswerOutcome } from '../pipeline/eval/evaluate-answers.js';
import type { LanceVectorStore } from '../retrieval/lance-store.js';
import { createRuntime } from '../runtime.js';
import { ensureIngested, evalNamespace } from './eval-index.js';

const TENANT = 'eval';

/** `pronto eval-answers`' options, as commander parsed them (commands/eval-answers.ts). */
export interface EvalAnswersOptions {
  subset: 'all' | 'even' | 'odd';
  limit?: number;
  topK?: number;
  out?: string;
  config?: string;
}

/**
 * `pronto eval-answers DIR`: ingests DIR's corpus.jsonl into a scratch namespace (once per corpus,
 * embedder and chunking; later runs reuse it from the data dir), asks every question of
 * questions.jsonl through the answer pipeline as /v1/infer does, one at a time, and prints JSON:
 * best_subspan_em of the whole answer and of its first sentence, gold passage and gold answer in
 * the contexts, abstention, answer length and latency. `--subset even|odd` takes every other
 * question (tune on one half, report the other); `--out` writes one JSON line per question.
 */
export async function runEvalAnswers(dir: string, values: EvalAnswersOptions): Promise<void> {
  const topK = values.topK;
  const config = loadConfig({ file: values.config, overrides: { sample_corpus: { enabled: false } } });
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const dataset = await loadAnswerDataset(dir);
  const questions = dataset.questions.filter((_, i) => values.subset === 'all' || i % 2 === (values.subset === 'even' ? 0 : 1)).slice(0, values.limit);
  const runtime = createRuntime(config, { logger, defaultMetrics: false });
  try {
    await runtime.start();
    const embedder = runtime.models.embedder(config.pipeline.embedder);
    const namespace = evalNamespace(config, dataset.corpusHash, embedder.name);
    const ingest = await ensureIngested(config, dataset.corpus, runtime.retrieval, runtime.retrieval.store as LanceVectorStore, embedder, namespace);
    const outcomes: AnswerOutcome[] = [];
    for (const item of questions) {
      const ctx = createRequestContext({ logger, tenant: TENANT, deadlineMs: config.deadline.default_ms });
      const messages = [{ role: 'user' as const, content: item.question }];
      // The tenant scopes the namespace: `eval/<hash>/…` is namespace `<hash>/…` of tenant `eval`.
      const stream = runtime.pipeline.answer({ messages, namespace: namespace.slice(TENANT.length + 1), topK: topK ?? config.retrieval.default_top_k }, ctx);
      const result = await collectAnswer(stream, ctx);
      const contexts = result.contexts.map((c) => ({ doc_id: c.doc_id, title: c.title, text: c.text }));
      const cpu = process.cpuUsage();
      composeAnswer({ messages, contexts: contexts.map((c) => ({ id: c.doc_id, ...c })) }, config.answer);
      const readerCpuMs = process.cpuUsage(cpu).user / 1000;
      outcomes.push({
        question: item.question,
        answers: item.answers,
        goldIds: item.goldIds,
        answer: result.answer,
        contexts,
        latencyMs: result.latency_ms,
        answerStageMs: (result.timings.generate ?? 0) + (result.timings.postprocess ?? 0),
        readerCpuMs,
      });
    }
    if (values.out) await writeFile(values.out, outcomes.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const report = {
      dataset: dir,
      subset: values.subset,
      embedder: embedder.name,
      generator: config.pipeline.generator,
      retrieval: { mode: config.retrieval.default_mode, top_k: topK ?? config.retrieval.default_top_k, rerank: config.retrieval.rerank.enabled },
      answer: { max_sentences: config.answer.max_sentences, concise: config.answer.concise },
      ...summarizeAnswers(outcomes),
      ingest,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await runtime.close();
  }
}
