import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { outcome, summarize, tally } from './stats.js';

/** The heavy request's document: `chars` characters of sentences (default: the default max_document_chars, under the 1 MiB body limit). */
export function heavyDocument(chars: number): string {
  const sentence = 'Deadlines reach every stage of the pipeline and each stage works in slices. ';
  return sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);
}

/**
 * `/healthz` while the heaviest request the limits allow runs: one client POSTs a document of
 * `documentChars` to /v1/documents, again as soon as each answer comes (one at a time: "any single
 * request of the allowed size"), and a probe GETs /healthz every `everyMs`, as a load balancer
 * would. A document refused as more than the embedder can embed by the deadline (413
 * `too_large_for_deadline`) is cut to the `max_chars` the refusal names, the largest one allowed.
 * The probe's latencies are the result; the heavy requests' answers are counted beside.
 */
export async function healthzUnderLoad(url: string, options: { durationS: number; documentChars: number; everyMs?: number; namespace: string }) {
  const pool = new Pool(url, { connections: 2, pipelining: 1 });
  const until = performance.now() + options.durationS * 1000;
  let documentChars = options.documentChars;
  const heavyStatuses: Array<number | string> = [];
  const heavyMs: number[] = [];
  const heavy = (async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const body = JSON.stringify({ namespace: options.namespace, documents: [{ id: 'heavy', text: heavyDocument(documentChars) }] });
      const status = await pool
        .request({ method: 'POST', path: '/v1/documents', headers: { 'content-type': 'application/json' }, body })
        .then(async (res) => {
          const answer = (await res.body.json()) as { error?: { code: string; max_chars: number } };
          if (answer.error?.code === 'too_large_for_deadline') documentChars = Math.min(documentChars, answer.error.max_chars);
          return res.statusCode;
        })
        .catch((err: Error) => err.name);
      heavyStatuses.push(status);
      heavyMs.push(performance.now() - started);
    }
  })();
  const probeMs: number[] = [];
  const probeStatuses: Array<number | string> = [];
  const startedAt = performance.now();
  while (performance.now() < until) {
    const started = performance.now();
    const status = await pool
      .request({ method: 'GET', path: '/healthz' })
      .then(async (res) => (await res.body.dump(), res.statusCode))
      .catch((err: Error) => err.name);
    probeStatuses.push(status);
    probeMs.push(performance.now() - started);
    await sleep(Math.max(0, (options.everyMs ?? 10) - (performance.now() - started)));
  }
  await heavy;
  await pool.close();
  return {
    healthz: { ...outcome(probeStatuses, (performance.now() - startedAt) / 1000), ...summarize(probeMs) },
    heavy: { document_chars: options.documentChars, last_document_chars: documentChars, requests: heavyStatuses.length, status: tally(heavyStatuses), ...summarize(heavyMs) },
  };
}
