/**
 * The deterministic planner's rewrite: a multi-part question split into the questions it asks.
 * Hand-written rules rather than a parser library: the cases are few and fixed (several questions,
 * clauses joined by a conjunction, a list after a shared stem), and the result must be the same on
 * every replica without a model.
 *
 *   "What does 429 mean? How do jobs run?"            -> both questions
 *   "What does 429 mean and where do jobs run?"       -> "What does 429 mean", "where do jobs run?"
 *   "How are deadlines, jobs and metrics configured?" -> one question per list item, stem kept
 */

/** A clause that starts like a question of its own (so "and" there joins two questions). */
const QUESTION_START = String.raw`(?:what|how|where|when|why|which|who|whom|whose|does|do|did|is|are|was|were|can|could|should|would|will|has|have)\b`;
const CLAUSE_JOIN = new RegExp(
  String.raw`\s*[,;]?\s+(?:and then|and also|and|as well as|but|then|also)\s+(?=${QUESTION_START})|\s*;\s*`,
  'i',
);
/** The longest list item taken as one (longer comma-separated pieces are clauses, not items). */
const MAX_ITEM_WORDS = 4;
const CONJUNCTION = /^(.*?)\s+(?:and|or)\s+(.*)$/i;

export function decomposeQuestion(question: string, maxParts: number): string[] {
  const parts = question
    .split(/(?<=\?)\s+/)
    .flatMap((sentence) => sentence.split(CLAUSE_JOIN))
    .flatMap(expandList)
    .map((part) => part.trim())
    .filter((part) => /\w/.test(part));
  const unique = [...new Set(parts)];
  if (unique.length <= 1) return [question.trim()];
  // Past the limit, the remaining parts stay together in the last one (nothing asked is dropped).
  return unique.length > maxParts ? [...unique.slice(0, maxParts - 1), unique.slice(maxParts - 1).join('; ')] : unique;
}

/**
 * "How are A, B and C configured?" -> "How are A configured?", "How are B configured?", ...
 * Items are as many words as the second one (so the stem before the first and the tail after the
 * last can be told apart); a piece longer than MAX_ITEM_WORDS means this is no list.
 */
function expandList(clause: string): string[] {
  const segments = clause.split(/,\s+/);
  if (segments.length < 2) return [clause];
  const finalSegment = segments[segments.length - 1];
  const oxford = /^(?:and|or)\s+(.*)$/i.exec(finalSegment);
  const joined = oxford ? undefined : CONJUNCTION.exec(finalSegment);
  if (!oxford && !joined) return [clause];
  const middle = oxford ? segments.slice(1, -1) : [...segments.slice(1, -1), joined![1]];
  const rest = oxford ? oxford[1] : joined![2];
  const width = words(middle[0]).length;
  if (middle.length === 0 || middle.some((item) => words(item).length > MAX_ITEM_WORDS) || width > MAX_ITEM_WORDS) return [clause];
  const head = words(segments[0]);
  const restWords = words(rest);
  if (head.length < width || restWords.length < width) return [clause];
  const stem = head.slice(0, head.length - width).join(' ');
  const tail = restWords.slice(width).join(' ');
  const items = [head.slice(-width).join(' '), ...middle, restWords.slice(0, width).join(' ')];
  return items.map((item) =>
    [stem, item, tail]
      .filter(Boolean)
      .join(' ')
      .replace(/\s+([?.!])$/, '$1'),
  );
}

function words(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}
