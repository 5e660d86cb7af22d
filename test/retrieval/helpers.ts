import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, type DeepPartial } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { CallOptions, Embedder } from '../../src/models/types.js';
import { normalize } from '../../src/core/vectors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { analyze } from '../../src/core/text/analyzer.js';
import { createRetrieval, type RetrievalDeps } from '../../src/retrieval/create-retrieval.js';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import type { DocumentInput } from '../../src/retrieval/types.js';

export const signal = new AbortController().signal;
export const silentLogger = pino({ level: 'silent' });

/**
 * A deterministic bag-of-words embedder (hashed stems): fast, and texts sharing words are close, so
 * dense search is meaningful in tests without loading a model.
 */
export class HashEmbedder implements Embedder {
  readonly role = 'embedder' as const;
  readonly name = 'hash';
  readonly backend = 'test';
  calls = 0;
  constructor(readonly dimensions = 64) {}
  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    options.signal.throwIfAborted();
    this.calls++;
    return texts.map((text) => {
      const v = new Float32Array(this.dimensions);
      for (const term of analyze(text)) {
        let h = 2166136261;
        for (let i = 0; i < term.length; i++) h = Math.imul(h ^ term.charCodeAt(i), 16777619);
        v[(h >>> 0) % this.dimensions] += 1;
      }
      v[0] += 1e-3; // never the zero vector
      return normalize(v);
    });
  }
}

export interface TestRetrieval {
  retrieval: Retrieval;
  config: Config;
  dir: string;
  /** A second instance on the same data dir (a restart). */
  reopen(): Promise<Retrieval>;
  cleanup(): Promise<void>;
}

/** `changes`: the instances (the first and every `reopen()`) share a change feed on this Redis. */
export async function openRetrieval(overrides: DeepPartial<Config> = {}, changes?: RetrievalDeps['changes']): Promise<TestRetrieval> {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-retrieval-'));
  const config = loadConfig({ env: {}, overrides: { ...overrides, data_dir: dir } });
  const build = async () => {
    const r = createRetrieval(config, { metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger, changes });
    await r.start();
    return r;
  };
  const opened: Retrieval[] = [await build()];
  return {
    retrieval: opened[0],
    config,
    dir,
    async reopen() {
      const r = await build();
      opened.push(r);
      return r;
    },
    async cleanup() {
      for (const r of opened) await r.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SUBJECTS = ['otters', 'glaciers', 'volcanoes', 'vaccines', 'neurons', 'tides', 'comets', 'forests', 'deserts', 'corals', 'bees', 'rivers'];

/**
 * Documents of three sentences, each long enough to be a pseudo-query (label-free tuning), every
 * subject's words its own; ids `doc-NN` from `from`.
 */
export function topicCorpus(subjects = SUBJECTS, from = 0): DocumentInput[] {
  return subjects.map((subject, i) => ({
    id: `doc-${String(from + i).padStart(2, '0')}`,
    title: subject,
    text: [
      `Field studies of ${subject} describe how ${subject} change with the seasons in many regions.`,
      `Researchers measured ${subject} growth rate ${i} under controlled laboratory conditions for months.`,
      `The ${subject} results suggest long term monitoring of ${subject} matters for conservation planning.`,
    ].join(' '),
  }));
}
