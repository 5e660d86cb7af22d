import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { DocumentInput } from './types.js';

/**
 * Turns files into documents, for `pronto ingest` and the bundled sample corpus:
 * - `.jsonl`: one document a line, BEIR `{_id, title, text}` or `{id, text, title?, metadata?}`;
 * - `.md`: one document per heading section, titled `Document title — Section`;
 * - anything else (`.txt`): the whole file as one document.
 * Lines or files that cannot be parsed are reported with where they are, not thrown.
 */

export interface ParsedFile {
  documents: DocumentInput[];
  errors: Array<{ where: string; message: string }>;
}

export const SUPPORTED_EXTENSIONS = ['.jsonl', '.md', '.markdown', '.txt'];

export async function parseFile(path: string): Promise<ParsedFile> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch (err) {
    const message = err instanceof TypeError ? 'the file is not valid UTF-8' : (err as Error).message;
    return { documents: [], errors: [{ where: path, message }] };
  }
  const stem = basename(path, extname(path));
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
      return parseJsonl(text, path);
    case '.md':
    case '.markdown':
      return { documents: parseMarkdown(text, stem), errors: [] };
    default:
      return { documents: text.trim() ? [{ id: slug(stem), text }] : [], errors: [] };
  }
}

export function parseJsonl(text: string, where = 'input'): ParsedFile {
  const out: ParsedFile = { documents: [], errors: [] };
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.documents.push(fromJson(JSON.parse(line)));
    } catch (err) {
      out.errors.push({ where: `${where}:${i + 1}`, message: (err as Error).message });
    }
  });
  return out;
}

function fromJson(value: unknown): DocumentInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a line must hold an object');
  const { _id, id, title, text, metadata } = value as Record<string, unknown>;
  const docId = _id ?? id;
  if (typeof docId !== 'string' && typeof docId !== 'number') throw new Error('missing "_id" or "id"');
  const doc: DocumentInput = { id: String(docId), text: text as string };
  if (typeof title === 'string' && title.trim()) doc.title = title;
  const hasMetadata = typeof metadata === 'object' && metadata !== null && Object.keys(metadata).length > 0;
  if (hasMetadata) doc.metadata = metadata as DocumentInput['metadata'];
  return doc;
}

/** One document per heading section; text before the first heading belongs to the top title. */
export function parseMarkdown(text: string, stem: string): DocumentInput[] {
  const docTitle = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? stem;
  const sections: Array<{ heading?: string; lines: string[] }> = [{ lines: [] }];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.+)$/.exec(line);
    if (heading) sections.push({ heading: heading[1].trim(), lines: [] });
    else sections[sections.length - 1].lines.push(line);
  }
  const documents: DocumentInput[] = [];
  sections.forEach(({ heading, lines }) => {
    const body = lines.join('\n').trim();
    if (!body) return;
    const title = !heading || heading === docTitle ? docTitle : `${docTitle} — ${heading}`;
    documents.push({ id: `${slug(stem)}/${documents.length}-${slug(heading ?? 'intro')}`, title, text: body });
  });
  return documents;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'doc'
  );
}
