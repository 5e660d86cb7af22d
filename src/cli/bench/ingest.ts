import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { DocumentInput } from '../../retrieval/types.js';
import { openLoop } from './open-loop.js';
import { httpScenario } from './scenarios.js';
import { outcome, summarize, tally } from './stats.js';

export interface IngestBenchOptions {
  namespace: string;
  batchSize: number;
  /** Searches/s sent by a second client while the ingest runs (open loop); 0: none. */
  searchRate: number;
  /** What that client searches for (e.g. the corpus's BEIR queries); default: built-in questions. */
  queries?: string[];
  /** Every this many seconds while the ingest runs, POST one probe document and time until a search finds it; 0: no probes. */
  freshnessEveryS: number;
}

/** Connection errors in a row after which the ingest gives up. */
const MAX_CONNECTION_ERRORS = 5;

/** A probe not found this long after its POST returned counts as missed. */
const FRESHNESS_GIVE_UP_MS = 10_000;

/**
 * Ingest over HTTP as a user would: one client POSTs the documents to `/v1/documents` in batches,
 * one request at a time. A refused request (429/503) is counted by status and sent again after its
 * `Retry-After`, like a well-behaved client; any other refusal is counted and its batch skipped.
 * Alongside, optionally: a second client searching at a fixed rate (open loop, so slow answers
 * cannot lower the offered load) and freshness probes (how long after its POST returns a new
 * document is found by a search).
 */
export async function ingestBench(url: string, documents: DocumentInput[], options: IngestBenchOptions) {
  const pool = new Pool(url, { connections: 4 });
  const stop = new AbortController();
  let search: ReturnType<typeof openLoop> | undefined;
  let freshness: ReturnType<typeof probeFreshness> | undefined;
  // The second client and the probes start once the namespace exists (the first batch is in).
  const alongside = () => {
    if (options.searchRate > 0) {
      search = openLoop(url, httpScenario('search', { namespace: options.namespace, queries: options.queries })!, {
        rate: options.searchRate,
        durationS: Infinity,
        // Sockets enough that the client never queues a search: the open loop's latency is the server's.
        connections: Math.max(64, Math.ceil(options.searchRate / 4)),
        signal: stop.signal,
      });
    }
    if (options.freshnessEveryS > 0) freshness = probeFreshness(pool, options.namespace, options.freshnessEveryS, stop.signal);
  };
  try {
    const ingest = await ingestSequentially(pool, documents, options, alongside);
    stop.abort();
    return { scenario: 'ingest', batch_size: options.batchSize, namespace: options.namespace, ingest, search: await search, freshness: await freshness };
  } finally {
    stop.abort();
    await Promise.allSettled([search, freshness]);
    await pool.close();
  }
}

async function ingestSequentially(pool: Pool, documents: DocumentInput[], options: IngestBenchOptions, afterFirstBatch: () => void) {
  const statuses: Array<number | string> = [];
  const latencies: number[] = [];
  let ingested = 0;
  let failedDocuments = 0;
  // The first message of each kind of refusal (by status; `document` for a document failed in a 200).
  const firstMessages: Record<string, string> = {};
  const startedAt = performance.now();
  for (let start = 0; start < documents.length; start += options.batchSize) {
    const batch = documents.slice(start, start + options.batchSize);
    for (;;) {
      const sentAt = performance.now();
      const answer = await postDocuments(pool, options.namespace, batch);
      latencies.push(performance.now() - sentAt);
      statuses.push(answer.status);
      if (answer.message) firstMessages[answer.status === 200 ? 'document' : answer.status] ??= answer.message;
      if (answer.status === 200) {
        if (ingested === 0 && answer.accepted > 0) afterFirstBatch();
        ingested += answer.accepted;
        failedDocuments += answer.failed;
        break;
      }
      if (answer.retryAfterS === undefined) {
        failedDocuments += batch.length;
        break;
      }
      // A server that is gone (it crashed, or was never there) ends the run instead of a retry loop.
      if (typeof answer.status === 'string' && statuses.slice(-MAX_CONNECTION_ERRORS).every((s) => typeof s === 'string')) {
        throw new Error(`the server stopped answering: ${answer.message}`);
      }
      await sleep(answer.retryAfterS * 1000);
    }
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    documents: documents.length,
    ingested,
    failed_documents: failedDocuments,
    seconds: Math.round(seconds * 10) / 10,
    docs_per_s: Math.round((ingested / seconds) * 10) / 10,
    ...outcome(statuses, seconds),
    request_ms: summarize(latencies),
    first_messages: firstMessages,
  };
}

interface IngestAnswer {
  status: number | string;
  accepted: number;
  failed: number;
  /** Set when the refusal is worth retrying (429/503 or a connection error): how long to wait. */
  retryAfterS?: number;
  /** Why the request, or its first failed document, was refused. */
  message?: string;
}

async function postDocuments(pool: Pool, namespace: string, documents: DocumentInput[]): Promise<IngestAnswer> {
  try {
    const response = await pool.request({
      method: 'POST',
      path: '/v1/documents',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace, documents }),
    });
    type Refusal = { error?: { message?: string } };
    const body = (await response.body.json()) as Refusal & { accepted?: unknown[]; failed?: Refusal[] };
    const status = response.statusCode;
    if (status === 200) return { status, accepted: body.accepted?.length ?? 0, failed: body.failed?.length ?? 0, message: body.failed?.[0]?.error?.message };
    const retryable = status === 429 || status === 503;
    const retryAfterS = retryable ? Math.min(30, Number(response.headers['retry-after'] ?? 1) || 1) : undefined;
    return { status, accepted: 0, failed: 0, retryAfterS, message: body.error?.message };
  } catch (err) {
    return { status: (err as Error).name, accepted: 0, failed: 0, retryAfterS: 1, message: (err as Error).message };
  }
}

/**
 * Every `everyS` seconds until `signal` aborts: POST one document holding a word no other has,
 * then search for its whole text until the document is among the hits (its own text, not the word
 * alone: a word found by BM25 alone can rank below ten dense hits in hybrid search). The figure is
 * the time from the POST's answer to the first search that found it (the API promises ≤ 1 s).
 */
async function probeFreshness(pool: Pool, namespace: string, everyS: number, signal: AbortSignal) {
  const run = randomUUID().replaceAll('-', '').slice(0, 10);
  const visibleAfter: number[] = [];
  const statuses: Array<number | string> = [];
  let missed = 0;
  for (let n = 0; !signal.aborted; n++) {
    const nextAt = performance.now() + everyS * 1000;
    const id = `freshness-probe-${run}-${n}`;
    const text = `Freshness probe zq${run}x${n}: searchable once its POST has returned.`;
    const posted = await postDocuments(pool, namespace, [{ id, text }]);
    statuses.push(posted.status);
    if (posted.status === 200) {
      const ms = await untilFound(pool, namespace, text, id);
      if (ms === undefined) missed++;
      else visibleAfter.push(ms);
    }
    await sleep(Math.max(0, nextAt - performance.now()), undefined, { signal }).catch(() => {});
  }
  return { probes: statuses.length, status: tally(statuses), missed, visible_after_ms: summarize(visibleAfter) };
}

async function untilFound(pool: Pool, namespace: string, query: string, docId: string): Promise<number | undefined> {
  const returnedAt = performance.now();
  while (performance.now() - returnedAt < FRESHNESS_GIVE_UP_MS) {
    const hits = await pool
      .request({ method: 'POST', path: '/v1/search', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, namespace, top_k: 10 }) })
      .then(async (response) => ((await response.body.json()) as { hits?: Array<{ doc_id: string }> }).hits)
      .catch(() => undefined); // a refused or failed search is one more try, not a finding
    if (hits?.some((hit) => hit.doc_id === docId)) return performance.now() - returnedAt;
    await sleep(10);
  }
  return undefined;
}
