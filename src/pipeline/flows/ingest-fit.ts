import type { Deadline } from '../../core/deadline.js';
import { ProntoError } from '../../core/errors.js';
import type { DocumentInput } from '../../retrieval/types.js';
import type { Embedder } from '../../models/types.js';

/**
 * Refuses up front, with 413 `too_large_for_deadline`, documents whose embedding alone cannot end
 * before the request's deadline even on an idle model: without it the client waits out the whole
 * deadline for a 503 that no retry can turn into success. The work counted is a lower bound (every
 * character of text and title embedded once, chunk overlap and per-chunk titles left out) priced
 * by the embedder's measured cost, so a request that can fit is never refused; a busy model is
 * admission's business, answered 503 with Retry-After.
 */
export function refuseWorkPastDeadline(documents: DocumentInput[], embedder: Embedder, deadline: Deadline): void {
  let chars = 0;
  for (const d of documents) chars += (d.text?.length ?? 0) + (d.title?.length ?? 0);
  const workMs = embedder.workMs?.(documents.length, chars);
  const remainingMs = deadline.remainingMs();
  if (workMs === undefined || workMs <= remainingMs) return;
  const fittingChars = Math.floor((chars * remainingMs) / workMs);
  throw new ProntoError(
    'too_large_for_deadline',
    `The documents hold ${chars} characters to embed: at least ~${seconds(workMs)} s of work for the embedder "${embedder.name}" at ` +
      `its measured speed, more than the ${seconds(remainingMs)} s left before this request's deadline. Send fewer or smaller ` +
      `documents per request (about ${fittingChars} characters fit), or submit them as an ingest job (POST /v1/jobs with kind ` +
      `"ingest"), whose deadline is jobs.timeout_ms.`,
    { field: 'documents', details: { estimate_ms: Math.round(workMs), remaining_ms: Math.round(remainingMs), max_chars: fittingChars } },
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
