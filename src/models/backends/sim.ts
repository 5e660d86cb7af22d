import { Type } from '@sinclair/typebox';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import { sleep, throwIfAborted } from '../../core/deadline.js';
import { ProntoError } from '../../core/errors.js';
import type { ModelConfig } from '../../config/models.js';
import { parseOptions } from '../options.js';
import { lastUserMessage } from '../prompt.js';
import type { BackendModel } from '../backend.js';
import type { CallOptions, Embedder, GenerateRequest, GenerationStream, Generator, Reranker, TokenUsage } from '../types.js';
import { dot, normalize } from '../../core/vectors.js';

/**
 * `sim`: a load-testing model (like Triton's identity model). Each instance runs one call at a time
 * and a call costs `base_ms + per_item_ms × items`, awaited without blocking the event loop, so
 * benchmarks measure the serving stack (batching, admission, HTTP) against a known hardware limit.
 * Embeddings are deterministic unit vectors derived from a hash of the text.
 */
export const SimOptionsSchema = Type.Object({
  base_ms: Type.Number({ minimum: 0, default: 4 }),
  per_item_ms: Type.Number({ minimum: 0, default: 0.5 }),
  dimensions: Type.Integer({ minimum: 1, maximum: 4096, default: 64 }),
  /** Words the generator streams per answer (at most the request's maxTokens). */
  answer_tokens: Type.Integer({ minimum: 1, default: 16 }),
  /** Fail every call (tests of breakers and fallbacks)... */
  fail: Type.Boolean({ default: false }),
  /** ...or this fraction of calls, at random. */
  fail_rate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** A batch holding this exact text ends the worker thread it runs in (tests of pool crashes). */
  exit_thread_on: Type.Optional(Type.String()),
});

type SimOptions = typeof SimOptionsSchema.static;

export function createSim(config: ModelConfig): BackendModel {
  const options = parseOptions(SimOptionsSchema, config);
  switch (config.role) {
    case 'embedder':
      return new SimEmbedder(config.name, options);
    case 'reranker':
      return new SimReranker(config.name, options);
    case 'generator':
      return new SimGenerator(config.name, options);
  }
}

/** One call at a time, each costing base + per-item time; fails when configured to. */
class SimDevice {
  private turn: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly options: SimOptions,
  ) {}

  /** Resolves with a release function once the device is free (FIFO). */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const granted = this.turn.then(() => release);
    this.turn = this.turn.then(() => released);
    return granted;
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  async compute(items: number, signal: AbortSignal): Promise<void> {
    this.maybeFail();
    await preciseDelay(this.options.base_ms + this.options.per_item_ms * items, signal);
  }

  maybeFail(): void {
    if (this.options.fail || (this.options.fail_rate > 0 && Math.random() < this.options.fail_rate)) {
      throw new ProntoError('upstream_failed', `sim model ${this.name} failed (as configured)`);
    }
  }

  async load(): Promise<void> {}
  async warmup(): Promise<void> {}
  async close(): Promise<void> {}
}

class SimEmbedder extends SimDevice implements Embedder {
  readonly role = 'embedder' as const;
  readonly backend = 'sim';
  readonly dimensions: number;

  constructor(name: string, options: SimOptions) {
    super(name, options);
    this.dimensions = options.dimensions;
  }

  embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    const exitOn = this.options.exit_thread_on;
    if (exitOn !== undefined && !isMainThread && texts.includes(exitOn)) process.exit(70);
    return this.exclusive(async () => {
      await this.compute(texts.length, options.signal);
      return texts.map((text) => hashVector(text, this.dimensions));
    });
  }
}

class SimReranker extends SimDevice implements Reranker {
  readonly role = 'reranker' as const;
  readonly backend = 'sim';

  rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    return this.exclusive(async () => {
      await this.compute(documents.length, options.signal);
      const q = hashVector(query, this.options.dimensions);
      return documents.map((doc) => dot(q, hashVector(doc, this.options.dimensions)));
    });
  }
}

class SimGenerator extends SimDevice implements Generator {
  readonly role = 'generator' as const;
  readonly backend = 'sim';

  generate(request: GenerateRequest, options: CallOptions): GenerationStream {
    const question = lastUserMessage(request.messages);
    const words = question.split(/\s+/).filter(Boolean);
    const count = Math.min(request.maxTokens, this.options.answer_tokens);
    const pieces = Array.from({ length: count }, (_, i) => `${i === 0 ? '' : ' '}${words[i % Math.max(1, words.length)] ?? 'sim'}`);
    const usage: TokenUsage = { prompt_tokens: words.length, completion_tokens: 0 };
    const device = this;
    // The device is held for the whole answer: one generation at a time per instance.
    const stream = async function* (): AsyncGenerator<string> {
      const release = await device.acquire();
      try {
        device.maybeFail();
        await preciseDelay(device.options.base_ms, options.signal);
        for (const piece of pieces) {
          await preciseDelay(device.options.per_item_ms, options.signal);
          usage.completion_tokens++;
          yield piece;
        }
      } finally {
        release();
      }
    };
    return Object.assign(stream(), { usage: () => usage });
  }
}

/**
 * Waits `ms` without blocking the event loop and without the 1 ms granularity of timers: a timer
 * for most of it, then event-loop turns (which still serve I/O) until the exact time.
 */
export async function preciseDelay(ms: number, signal: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const until = performance.now() + ms;
  if (ms > 2) await sleep(ms - 1.5, signal);
  while (performance.now() < until) {
    await nextTurn();
    throwIfAborted(signal);
  }
}

/** A deterministic unit vector for `text` (FNV-1a hash seeding a mulberry32 generator). */
export function hashVector(text: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193);
  const values = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return normalize(values);
}
