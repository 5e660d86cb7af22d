import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { multiply, normalize } from '../core/vectors.js';

const FORMAT = 'pronto-query-adapter/1';
const CONFIG_KEY = 'retrieval.query_adapter';

/** What an adapter file records besides its matrix: enough to tell where it came from. */
export interface QueryAdapterInfo {
  /** The embedder whose query vectors it maps (its vectors are only meaningful for that one). */
  embedder: string;
  dimensions: number;
  /** How it was trained: data set, split, query count, hyperparameters. */
  training: Record<string, unknown>;
}

/**
 * A learned linear map applied to query vectors before dense search (`retrieval.query_adapter`).
 * Document vectors stay as embedded, so an adapter can be trained, swapped or dropped without
 * re-indexing. It moves a query towards the documents that answered similar training queries:
 * on SciFact train it lifts held-out use-lite nDCG@10 from 0.28 to 0.4 (docs/BENCHMARKS.md).
 */
export class QueryAdapter {
  constructor(
    readonly info: QueryAdapterInfo,
    /** Row-major `dimensions × dimensions`: adapted = matrix · query. */
    private readonly matrix: Float32Array,
  ) {
    if (matrix.length !== info.dimensions * info.dimensions) throw new Error('the adapter matrix is not dimensions × dimensions');
  }

  /** The adapted query vector, unit length. */
  apply(query: Float32Array): Float32Array {
    const out = new Float32Array(this.info.dimensions);
    multiply(this.matrix, query, out);
    return normalize(out);
  }

  async save(path: string): Promise<void> {
    await writeFile(path, this.serialize());
  }

  /** The adapter file's text (also what a namespace's tuning record stores, tuning-store.ts). */
  serialize(): string {
    const matrix = Buffer.from(this.matrix.buffer, this.matrix.byteOffset, this.matrix.byteLength).toString('base64');
    return JSON.stringify({ format: FORMAT, ...this.info, matrix });
  }

  /** Reads an adapter file; a missing or malformed file is a ConfigError naming `retrieval.query_adapter`. */
  static async load(path: string): Promise<QueryAdapter> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(CONFIG_KEY, `cannot read the query adapter ${path}: ${(err as Error).message}`);
    }
    return QueryAdapter.parse(text, path);
  }

  /** An adapter from `serialize()`'s text; `origin` names where it came from in the ConfigError a malformed one is (key: `key`). */
  static parse(text: string, origin: string, key = CONFIG_KEY): QueryAdapter {
    let file: { format?: unknown; embedder?: unknown; dimensions?: unknown; training?: unknown; matrix?: unknown };
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(key, `cannot read the query adapter ${origin}: ${(err as Error).message}`);
    }
    if (file.format !== FORMAT || typeof file.embedder !== 'string' || typeof file.dimensions !== 'number' || typeof file.matrix !== 'string') {
      throw new ConfigError(key, `${origin} is not a ${FORMAT} file (made by \`pronto train-adapter\`)`);
    }
    const bytes = Buffer.from(file.matrix, 'base64');
    const matrix = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (matrix.length !== file.dimensions * file.dimensions) {
      throw new ConfigError(key, `${origin}: the matrix holds ${matrix.length} values, not ${file.dimensions}²`);
    }
    return new QueryAdapter({ embedder: file.embedder, dimensions: file.dimensions, training: (file.training ?? {}) as Record<string, unknown> }, matrix);
  }
}
