import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FeatureExtractionPipeline, PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { throwIfAborted } from '../../core/deadline.js';
import { ConfigError, ProntoError } from '../../core/errors.js';
import type { ModelConfig } from '../../config/models.js';
import { modelKey, parseOptions } from '../options.js';
import type { BackendModel } from '../backend.js';
import type { CallOptions, Embedder, InputPrompts, Reranker } from '../types.js';
import { importOptional } from '../optional-package.js';
import { sentenceTransformersLayout, type Pooling } from './sentence-transformers.js';

/**
 * `onnx`: transformers.js (onnxruntime-node) from a local model directory or a hub id. Embedders
 * run feature extraction with pooling and L2 normalisation; rerankers run a cross-encoder
 * (AutoModelForSequenceClassification over query/document pairs). Nothing is downloaded unless
 * `allow_remote` is set: a hub id then resolves only from the local cache.
 */
export const OnnxOptionsSchema = Type.Object({
  /** A local directory (config.json, tokenizer.json, onnx/model.onnx) or a hub id. */
  model: Type.String({ minLength: 1 }),
  dtype: Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('q8'), Type.Literal('int8'), Type.Literal('uint8'), Type.Literal('q4')], {
    default: 'fp32',
  }),
  /** Unset: the model directory's sentence-transformers `1_Pooling/config.json`, else mean. */
  pooling: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('cls'), Type.Literal('none')])),
  /** Unset: whether the directory's `modules.json` lists a Normalize module, else true. */
  normalize: Type.Optional(Type.Boolean()),
  /**
   * The prompt prepended to queries and to passages (bge: query "Represent this sentence for
   * searching relevant passages: "; e5: "query: " / "passage: "). Each kind unset here: the model
   * directory's `config_sentence_transformers.json` `prompts`, else none. "" turns one off.
   */
  prompts: Type.Optional(Type.Object({ query: Type.Optional(Type.String()), passage: Type.Optional(Type.String()) }, { additionalProperties: false })),
  allow_remote: Type.Boolean({ default: false }),
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads: Type.Optional(Type.Integer({ minimum: 1 })),
});

type OnnxOptions = typeof OnnxOptionsSchema.static;

/**
 * The prompts an onnx embedder's inputs get, by kind: its `prompts` option over its model
 * directory's (an empty prompt is none). Read from config alone, so a model in a worker pool
 * gets the same ones (worker-pool.ts).
 */
export function onnxPrompts(config: ModelConfig): InputPrompts {
  const options = parseOptions(OnnxOptionsSchema, config);
  const local = resolve(options.model);
  const fromDir = existsSync(local) ? (sentenceTransformersLayout(local).prompts ?? {}) : {};
  const merged: InputPrompts = { ...fromDir, ...options.prompts };
  return Object.fromEntries(Object.entries(merged).filter(([, prompt]) => prompt)) as InputPrompts;
}

export function createOnnx(config: ModelConfig): BackendModel {
  const options = parseOptions(OnnxOptionsSchema, config);
  if (config.role === 'embedder') return new OnnxEmbedder(config.name, options, onnxPrompts(config));
  if (config.role === 'reranker') return new OnnxReranker(config.name, options);
  throw new ConfigError(`${modelKey(config)}.role`, `the onnx backend serves embedders and rerankers, not generators`);
}

/**
 * transformers.js keeps its settings in one process-wide `env`; it is set once here, the same way
 * for every model: local paths are absolute (resolved against `/`), remote loading is opt-in.
 */
async function loadLibrary(options: OnnxOptions) {
  const library = await importOptional('@huggingface/transformers', () => import('@huggingface/transformers'));
  library.env.localModelPath = '/';
  library.env.allowLocalModels = true;
  library.env.allowRemoteModels = options.allow_remote;
  const local = resolve(options.model);
  const id = existsSync(local) ? local : options.model;
  const pretrained = {
    dtype: options.dtype,
    local_files_only: !options.allow_remote,
    ...(options.threads ? { session_options: { intraOpNumThreads: options.threads } } : {}),
  };
  return { library, id, pretrained };
}

class OnnxEmbedder implements Embedder {
  readonly role = 'embedder' as const;
  readonly backend = 'onnx';
  dimensions = 0;
  private extractor?: FeatureExtractionPipeline;
  private pooling: Pooling = 'mean';
  private normalize = true;

  constructor(
    readonly name: string,
    private readonly options: OnnxOptions,
    readonly prompts: InputPrompts,
  ) {}

  async load(): Promise<void> {
    const { library, id, pretrained } = await loadLibrary(this.options);
    const layout = existsSync(id) ? sentenceTransformersLayout(id) : {};
    this.pooling = this.options.pooling ?? layout.pooling ?? 'mean';
    this.normalize = this.options.normalize ?? layout.normalize ?? true;
    this.extractor = (await library.pipeline('feature-extraction', id, pretrained)) as FeatureExtractionPipeline;
    const [probe] = await this.embed(['probe'], { signal: new AbortController().signal });
    this.dimensions = probe.length;
  }

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    throwIfAborted(options.signal);
    if (!this.extractor) throw new ProntoError('not_ready', `Model ${this.name} is not loaded`);
    if (texts.length === 0) return [];
    const output = await this.extractor(texts, { pooling: this.pooling, normalize: this.normalize });
    return rows(output);
  }

  async warmup(): Promise<void> {}

  async close(): Promise<void> {
    await this.extractor?.dispose();
    this.extractor = undefined;
  }
}

class OnnxReranker implements Reranker {
  readonly role = 'reranker' as const;
  readonly backend = 'onnx';
  private tokenizer?: PreTrainedTokenizer;
  private model?: PreTrainedModel;

  constructor(
    readonly name: string,
    private readonly options: OnnxOptions,
  ) {}

  async load(): Promise<void> {
    const { library, id, pretrained } = await loadLibrary(this.options);
    this.tokenizer = await library.AutoTokenizer.from_pretrained(id, { local_files_only: pretrained.local_files_only });
    this.model = await library.AutoModelForSequenceClassification.from_pretrained(id, pretrained);
  }

  async rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    throwIfAborted(options.signal);
    if (!this.tokenizer || !this.model) throw new ProntoError('not_ready', `Model ${this.name} is not loaded`);
    if (documents.length === 0) return [];
    const inputs = this.tokenizer(
      documents.map(() => query),
      { text_pair: documents, padding: true, truncation: true },
    );
    const { logits } = (await this.model(inputs)) as { logits?: Tensor };
    if (!logits) {
      throw new ProntoError('upstream_failed', `Model ${this.name} has no classification logits: it is not a cross-encoder`);
    }
    return relevance(logits);
  }

  /** Fails at start, not on the first request, when the model is not a cross-encoder. */
  async warmup(): Promise<void> {
    await this.rerank('warm up', ['a document'], { signal: new AbortController().signal });
  }

  async close(): Promise<void> {
    await this.model?.dispose();
    this.model = undefined;
  }
}

/** One Float32Array per row of a [n, d] tensor (copies, so the tensor can be freed). */
function rows(tensor: Tensor): Float32Array[] {
  const [n, d] = tensor.dims;
  const data = tensor.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
}

/** A relevance per pair: sigmoid of a single logit, or the probability of the last (positive) label. */
function relevance(logits: Tensor): number[] {
  const [n, labels] = logits.dims;
  const data = logits.data as Float32Array;
  return Array.from({ length: n }, (_, i) => {
    const row = data.subarray(i * labels, (i + 1) * labels);
    if (labels === 1) return 1 / (1 + Math.exp(-row[0]));
    const max = Math.max(...row);
    const exps = Array.from(row, (x) => Math.exp(x - max));
    return exps[labels - 1] / exps.reduce((a, b) => a + b, 0);
  });
}
