import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonl } from '../parse.js';
import type { DocumentInput } from '../types.js';

/** A BEIR data set: `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv`. */
export interface BeirDataset {
  corpus: DocumentInput[];
  /** SHA-256 of corpus.jsonl: names the cached index. */
  corpusHash: string;
  /** Queries that have judgements in the split. */
  queries: Array<{ id: string; text: string }>;
  /** query id -> doc id -> graded relevance (> 0 relevant). */
  qrels: Map<string, Map<string, number>>;
}

export async function loadBeir(dir: string, split: string): Promise<BeirDataset> {
  const corpusText = await readFile(join(dir, 'corpus.jsonl'), 'utf8');
  const corpus = parseJsonl(corpusText, 'corpus.jsonl');
  if (corpus.errors.length > 0) throw new Error(`corpus.jsonl: ${corpus.errors[0].where}: ${corpus.errors[0].message}`);
  const qrels = parseQrels(await readFile(join(dir, 'qrels', `${split}.tsv`), 'utf8'));
  const queries = parseJsonl(await readFile(join(dir, 'queries.jsonl'), 'utf8'), 'queries.jsonl')
    .documents.filter((q) => qrels.has(q.id))
    .map((q) => ({ id: q.id, text: q.text }));
  return {
    corpus: corpus.documents,
    corpusHash: createHash('sha256').update(corpusText).digest('hex'),
    queries,
    qrels,
  };
}

function parseQrels(text: string): Map<string, Map<string, number>> {
  const qrels = new Map<string, Map<string, number>>();
  for (const line of text.split('\n').slice(1)) {
    const [query, doc, score] = line.trim().split('\t');
    if (!query || !doc) continue;
    const judged = qrels.get(query) ?? new Map<string, number>();
    judged.set(doc, Number(score));
    qrels.set(query, judged);
  }
  return qrels;
}
