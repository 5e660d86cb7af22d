import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportedRecord } from './request-log.js';

/**
 * Positive feedback as a BEIR-style judgement set, for `pronto eval` over the same corpus:
 * `queries.jsonl` (`{_id, text}`: the request id and its redacted input) and `qrels/<split>.tsv`
 * (`query-id corpus-id score`, score 1). A request counts when its latest rating is positive
 * (thumbs up `1`, or 4–5 stars); the documents judged relevant are the ones its answer cited, or,
 * when it cited none (a search), the top retrieved document. The corpus itself is not exported:
 * the request log holds only ids of the documents, which belong to their owner.
 */
export interface BeirJudgements {
  queries: Array<{ _id: string; text: string }>;
  qrels: Array<{ query: string; doc: string; score: number }>;
}

/** `rating` is -1/1 (thumbs) or 1–5 (stars): `1` reads as thumbs up. */
const isPositive = (rating: number) => rating === 1 || rating >= 4;

export function judgementsFrom(records: ExportedRecord[]): BeirJudgements {
  const out: BeirJudgements = { queries: [], qrels: [] };
  for (const record of records) {
    const latest = record.feedback?.at(-1);
    if (!latest || !isPositive(latest.rating) || record.retrieved.length === 0) continue;
    const docOf = new Map(record.retrieved.map((r) => [r.id, r.doc_id]));
    const cited = (record.cited ?? []).map((id) => docOf.get(id)).filter((doc): doc is string => doc !== undefined);
    const relevant = new Set(cited.length > 0 ? cited : [record.retrieved[0].doc_id]);
    out.queries.push({ _id: record.request_id, text: record.input });
    for (const doc of relevant) out.qrels.push({ query: record.request_id, doc, score: 1 });
  }
  return out;
}

export async function writeBeir(dir: string, judgements: BeirJudgements, split = 'test'): Promise<void> {
  await mkdir(join(dir, 'qrels'), { recursive: true });
  await writeFile(join(dir, 'queries.jsonl'), judgements.queries.map((q) => JSON.stringify(q) + '\n').join(''));
  const rows = judgements.qrels.map((j) => `${j.query}\t${j.doc}\t${j.score}\n`).join('');
  await writeFile(join(dir, 'qrels', `${split}.tsv`), `query-id\tcorpus-id\tscore\n${rows}`);
}
