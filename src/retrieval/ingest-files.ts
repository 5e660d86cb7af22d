import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Embedder } from '../models/types.js';
import { parseFile, SUPPORTED_EXTENSIONS } from './parse.js';
import type { Retrieval } from './retrieval.js';
import type { DocumentInput } from './types.js';

export interface FileIngestSummary {
  files: number;
  documents: number;
  accepted: number;
  chunks: number;
  failed: Array<{ where: string; id?: string; message: string; field?: string }>;
  seconds: number;
  docs_per_second: number;
}

export interface FileIngestOptions {
  embedder: Embedder;
  signal: AbortSignal;
  /** Documents per `retrieval.ingest` call. */
  batchSize?: number;
  /** Called once the documents are parsed, then as they are embedded and written, with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Files to ingest: the paths themselves, and every supported file under the directories among them. */
export async function expandPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const entries = (await readdir(path, { recursive: true })).map(String).sort();
      out.push(...entries.filter((e) => SUPPORTED_EXTENSIONS.includes(extname(e).toLowerCase())).map((e) => join(path, e)));
    } else {
      out.push(path);
    }
  }
  return out;
}

/** `pronto ingest`: parses the files, then ingests through the same path as `POST /v1/documents`. */
export async function ingestFiles(
  retrieval: Retrieval,
  namespace: string,
  paths: string[],
  options: FileIngestOptions,
): Promise<FileIngestSummary> {
  const started = performance.now();
  const files = await expandPaths(paths);
  const documents: Array<{ doc: DocumentInput; where: string }> = [];
  const summary: FileIngestSummary = { files: files.length, documents: 0, accepted: 0, chunks: 0, failed: [], seconds: 0, docs_per_second: 0 };
  for (const file of files) {
    const parsed = await parseFile(file);
    summary.failed.push(...parsed.errors);
    documents.push(...parsed.documents.map((doc) => ({ doc, where: file })));
  }
  summary.documents = documents.length;
  const batchSize = options.batchSize ?? 256;
  options.onProgress?.(0, documents.length);
  for (let i = 0; i < documents.length; i += batchSize) {
    const batch = documents.slice(i, i + batchSize);
    const result = await retrieval.ingest(
      namespace,
      batch.map((d) => d.doc),
      {
        embedder: options.embedder,
        signal: options.signal,
        onProgress: (done) => options.onProgress?.(i + done, documents.length),
      },
    );
    summary.accepted += result.accepted.length;
    summary.chunks += result.accepted.reduce((n, a) => n + a.chunks, 0);
    for (const f of result.failed) {
      summary.failed.push({ where: batch[f.index].where, id: f.id, message: f.error.message, field: f.error.field });
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.docs_per_second = summary.seconds > 0 ? summary.accepted / summary.seconds : 0;
  return summary;
}
