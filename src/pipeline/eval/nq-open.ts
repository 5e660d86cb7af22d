import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonl } from '../../retrieval/parse.js';
import type { DocumentInput } from '../../retrieval/types.js';

/** An answer-quality set: a BEIR-style corpus and questions with their accepted answers (NQ-open). */
export interface AnswerDataset {
  corpus: DocumentInput[];
  /** SHA-256 of corpus.jsonl: names the cached index. */
  corpusHash: string;
  questions: Array<{ question: string; answers: string[]; goldIds: string[] }>;
}

/** Reads `corpus.jsonl` (`{_id,title,text}`) and `questions.jsonl` (`{question, answers, gold_ids?}`). */
export async function loadAnswerDataset(dir: string): Promise<AnswerDataset> {
  const corpusText = await readFile(join(dir, 'corpus.jsonl'), 'utf8');
  const corpus = parseJsonl(corpusText, 'corpus.jsonl');
  if (corpus.errors.length > 0) throw new Error(`corpus.jsonl: ${corpus.errors[0].where}: ${corpus.errors[0].message}`);
  const questions = (await readFile(join(dir, 'questions.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const row = JSON.parse(line) as { question?: unknown; answers?: unknown; gold_ids?: unknown };
      if (typeof row.question !== 'string' || !Array.isArray(row.answers) || !row.answers.every((a) => typeof a === 'string')) {
        throw new Error(`questions.jsonl line ${i + 1}: needs "question" (a string) and "answers" (strings)`);
      }
      return { question: row.question, answers: row.answers as string[], goldIds: Array.isArray(row.gold_ids) ? row.gold_ids.map(String) : [] };
    });
  return { corpus: corpus.documents, corpusHash: createHash('sha256').update(corpusText).digest('hex'), questions };
}
