import { hash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WriteBehind } from '../core/write-behind.js';
import type { RequestSummary } from './recent-requests.js';

/**
 * The request log for datasets: a sampled, redacted JSONL record per answered request (input,
 * retrieved ids and scores, output, timings, degradations) and a `feedback` line whenever feedback
 * for a request arrives, appended under `<data_dir>/request-log/`. The live file rotates by size
 * (requests.jsonl -> requests.1.jsonl -> ...; the oldest beyond `max_files` is dropped).
 * `pronto export-log` reads it back, joining feedback onto the records.
 */

/** A retrieved chunk: its id, the document it belongs to, and its score. */
export interface RetrievedRef {
  id: string;
  doc_id: string;
  score: number;
}

/** What the pipeline saw and said, filled by the flows (after the sanitize stage: already redacted). */
export interface Transcript {
  input?: string;
  retrieved?: RetrievedRef[];
  output?: string;
  /** Chunk ids the answer cited. */
  cited?: string[];
}

export interface RequestRecord extends Omit<RequestSummary, 'at' | 'method'> {
  type: 'request';
  at: string;
  input: string;
  retrieved: RetrievedRef[];
  output?: string;
  cited?: string[];
}

export interface FeedbackLine {
  type: 'feedback';
  at: string;
  request_id: string;
  tenant: string;
  rating: number;
  comment?: string;
}

export interface RequestLogOptions {
  dir: string;
  sampleRate: number;
  maxFileBytes: number;
  maxFiles: number;
  /** Applied to every text field again before it is written (belt and braces over the sanitize stage). */
  redact: (text: string) => string;
  onError: (err: unknown) => void;
}

export interface RequestLog {
  record(summary: RequestSummary, transcript: Transcript): void;
  feedback(line: Omit<FeedbackLine, 'type'>): void;
  /** Resolves once everything recorded so far is on disk. */
  flush(): Promise<void>;
}

const LIVE = 'requests.jsonl';

/**
 * How long a recorded line waits for others before they are appended together. Each append opens,
 * writes and closes the file: at 1,000 requests/s and the default 10% sample, one append per line
 * was 100 a second, and the main thread's busy stretches of 1.5 ms or more took ~550 ms in 15 s
 * against ~210–310 ms with the batch (docs/BENCHMARKS.md).
 */
const BATCH_MS = 100;

/** Where the request log lives: `<data_dir>/request-log/`. */
export function requestLogDir(dataDir: string): string {
  return join(dataDir, 'request-log');
}

/**
 * Whether a request is in the sample, decided from its id: the feedback that arrives later (after
 * a restart too) gets the same answer without anything remembered.
 */
export function inSample(requestId: string, rate: number): boolean {
  if (rate >= 1 || rate <= 0) return rate >= 1;
  // One-shot hash: no Hash object per request. The digest is the same SHA-256, so is the sample.
  return hash('sha256', requestId, 'buffer').readUInt32BE(0) / 2 ** 32 < rate;
}

export function createRequestLog(options: RequestLogOptions): RequestLog {
  const live = join(options.dir, LIVE);
  let size: number | undefined;

  /**
   * Appends lines, rotating before a line that would take the live file past max_file_bytes, as
   * one append per run of lines between rotations (under load: one file write for many requests,
   * not an open-write-close each).
   */
  async function append(lines: string[]): Promise<void> {
    if (size === undefined) {
      await mkdir(options.dir, { recursive: true });
      size = await stat(live).then(
        (s) => s.size,
        () => 0,
      );
    }
    let run = '';
    let runBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (size + runBytes > 0 && size + runBytes + bytes > options.maxFileBytes) {
        if (run) await appendFile(live, run);
        await rotate(options.dir, options.maxFiles);
        [size, run, runBytes] = [0, '', 0];
      }
      run += line;
      runBytes += bytes;
    }
    if (run) await appendFile(live, run);
    size += runBytes;
  }
  const lines = new WriteBehind<string>(BATCH_MS, (batch) => append(batch).catch(options.onError));
  const enqueue = (entry: RequestRecord | FeedbackLine) => void lines.add(JSON.stringify(entry) + '\n');

  return {
    record(summary, transcript) {
      if (transcript.input === undefined || !inSample(summary.request_id, options.sampleRate)) return;
      const { at, method: _method, ...rest } = summary;
      enqueue({
        type: 'request',
        ...rest,
        at: new Date(at).toISOString(),
        input: options.redact(transcript.input),
        retrieved: transcript.retrieved ?? [],
        output: transcript.output === undefined ? undefined : options.redact(transcript.output),
        cited: transcript.cited,
      });
    },
    feedback(line) {
      // Feedback is kept for sampled requests only: on its own it cannot rebuild a dataset row.
      if (!inSample(line.request_id, options.sampleRate)) return;
      enqueue({ type: 'feedback', ...line, comment: line.comment === undefined ? undefined : options.redact(line.comment) });
    },
    flush: () => lines.flush(),
  };
}

async function rotate(dir: string, maxFiles: number): Promise<void> {
  for (let i = maxFiles - 1; i >= 1; i--) {
    const from = i === 1 ? LIVE : `requests.${i - 1}.jsonl`;
    await rename(join(dir, from), join(dir, `requests.${i}.jsonl`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** Log files oldest first: requests.N.jsonl ... requests.1.jsonl, then requests.jsonl. */
async function logFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const rotated = names
    .map((name) => ({ name, n: /^requests\.(\d+)\.jsonl$/.exec(name)?.[1] }))
    .filter((f) => f.n !== undefined)
    .sort((a, b) => Number(b.n) - Number(a.n))
    .map((f) => f.name);
  return [...rotated, ...(names.includes(LIVE) ? [LIVE] : [])].map((name) => join(dir, name));
}

export type ExportedRecord = Omit<RequestRecord, 'type'> & { feedback?: Array<Omit<FeedbackLine, 'type' | 'request_id' | 'tenant'>> };

/** The records since `since`, oldest first; with feedback, each carries the feedback it received. */
export async function readRequestLog(dir: string, options: { since: Date; withFeedback: boolean }): Promise<ExportedRecord[]> {
  const records: ExportedRecord[] = [];
  const byId = new Map<string, ExportedRecord>();
  for (const file of await logFiles(dir)) {
    for (const text of (await readFile(file, 'utf8')).split('\n')) {
      if (!text) continue;
      const entry = JSON.parse(text) as RequestRecord | FeedbackLine;
      if (entry.type === 'request') {
        if (new Date(entry.at) < options.since) continue;
        const { type: _type, ...record } = entry;
        const exported: ExportedRecord = options.withFeedback ? { ...record, feedback: [] } : record;
        records.push(exported);
        byId.set(`${entry.tenant}/${entry.request_id}`, exported);
      } else if (options.withFeedback) {
        byId.get(`${entry.tenant}/${entry.request_id}`)?.feedback?.push({ at: entry.at, rating: entry.rating, comment: entry.comment });
      }
    }
  }
  return records;
}
