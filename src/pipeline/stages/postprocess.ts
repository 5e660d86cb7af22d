import type { Hit } from '../../retrieval/types.js';

/**
 * The answer's citations, as context ids: `[2]` cites the second context, `[doc-7#0]` cites it by
 * id. Citations that point at nothing are dropped from the list (the text is left as streamed).
 */
export function extractCitations(answer: string, contexts: Hit[]): string[] {
  const cited = new Set<string>();
  for (const match of answer.matchAll(/\[([^\]\s]{1,128})\]/g)) {
    const ref = match[1];
    const byIndex = /^\d+$/.test(ref) ? contexts[Number(ref) - 1] : undefined;
    const hit = byIndex ?? contexts.find((c) => c.id === ref || c.docId === ref);
    if (hit) cited.add(hit.id);
  }
  return [...cited];
}
