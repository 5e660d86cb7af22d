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
  // The estimate is a fixed cost per batch plus a cost per character: what fits is what the time
  // left after the fixed part pays for (none, when the deadline is shorter than the fixed part).
  const fixedMs = embedder.workMs?.(documents.length, 0) ?? 0;
  const fittingChars = chars > 0 && workMs > fixedMs ? Math.max(0, Math.floor(((remainingMs - fixedMs) * chars) / (workMs - fixedMs))) : 0;
  const advice =
    fittingChars > 0
      ? `Send fewer or smaller documents per request (about ${fittingChars} characters fit)`
      : `No document fits in a deadline this short: allow at least ~${duration(fixedMs)} (x-pronto-deadline-ms)`;
  throw new ProntoError(
    'too_large_for_deadline',
    `The documents hold ${chars} characters to embed: at least ~${duration(workMs)} of work for the embedder "${embedder.name}" at ` +
      `its measured speed, more than the ${duration(remainingMs)} left before this request's deadline. ${advice}, ` +
      `or submit them as an ingest job (POST /v1/jobs with kind "ingest"), whose deadline is jobs.timeout_ms.`,
    { field: 'documents', details: { estimate_ms: Math.round(workMs), remaining_ms: Math.round(remainingMs), max_chars: fittingChars } },
  );
}

/** Milliseconds below a second (a short deadline read as "0.0 s" said nothing), seconds above. */
const duration = (ms: number) => (ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);
