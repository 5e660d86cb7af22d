import { sleep } from '../core/deadline.js';
import { RETRYABLE_CODES } from '../core/errors.js';
import type { IngestOptions } from './ingest.js';
import type { Retrieval } from './retrieval.js';
import type { DocumentInput, IngestResult } from './types.js';

export interface RetryOptions {
  /** Tries per document, the first included. */
  attempts: number;
  /** Wait before retry n: `backoffMs × n`. */
  backoffMs: number;
  /** Called before each retry with the ids about to be retried. */
  onRetry?: (ids: string[], attempt: number) => void;
}

/**
 * Bulk ingest for offline loaders (`pronto ingest`, eval, the sample corpus): the model runtime
 * may shed part of a big load on a busy machine (`overloaded`, `queue_full`...), and a loader that
 * has all the time it needs should retry those documents rather than report them failed. Errors
 * that are not transient are reported at once. Failure indexes refer to `documents`.
 */
export async function ingestRetryingShed(
  retrieval: Retrieval,
  namespace: string,
  documents: DocumentInput[],
  options: IngestOptions & RetryOptions,
): Promise<IngestResult> {
  let first = true;
  return retryShedDocuments(
    documents,
    (pending) => {
      // Progress counts the first pass; retries are the few documents it shed.
      const result = retrieval.ingest(namespace, pending, { ...options, onProgress: first ? options.onProgress : undefined });
      first = false;
      return result;
    },
    options,
  );
}

/**
 * The retry loop itself, around any ingest (a job goes through the pipeline's). Failure indexes
 * refer to `documents`; the wait between passes ends early, rejecting, when `signal` aborts.
 */
export async function retryShedDocuments(
  documents: DocumentInput[],
  ingest: (documents: DocumentInput[]) => Promise<IngestResult>,
  options: RetryOptions & { signal?: AbortSignal },
): Promise<IngestResult> {
  const merged: IngestResult = { accepted: [], failed: [] };
  let pending = documents.map((doc, index) => ({ doc, index }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    const result = await ingest(pending.map((p) => p.doc));
    merged.accepted.push(...result.accepted);
    const retry: typeof pending = [];
    for (const failure of result.failed) {
      const original = pending[failure.index];
      if (RETRYABLE_CODES.has(failure.error.code) && attempt < options.attempts) retry.push(original);
      else merged.failed.push({ ...failure, index: original.index });
    }
    pending = retry;
    if (pending.length > 0) {
      options.onRetry?.(
        pending.map((p) => p.doc.id),
        attempt + 1,
      );
      await sleep(options.backoffMs * attempt, options.signal);
    }
  }
  merged.failed.sort((a, b) => a.index - b.index);
  return merged;
}
