import { analyze } from '../../core/text/analyzer.js';

/** What kind of span answers a question: a date, a number, a name (person, place, title), or any. */
export type AnswerType = 'date' | 'number' | 'name' | 'any';

export interface Question {
  text: string;
  /** Analysed terms (stop words dropped, stemmed), distinct. */
  terms: string[];
  type: AnswerType;
}

// Checked in order: "how many years" asks for a number, "what year" for a date.
const TYPE_PATTERNS: Array<[RegExp, AnswerType]> = [
  [/\b(how (many|much|old|long|far|tall|high|big|large|deep|fast)|what (percentage|percent|number|amount|age)|number of)\b/, 'number'],
  [/\b(when|what (year|date|day|month|century|decade|era)|which (year|date|day|month|century|decade)|since when|how long ago)\b/, 'date'],
  [/\b(who|whom|whose|where|what (is|was) (the )?name|which (country|city|state|team|company|band|person|actor|actress|player|county|river|country's))\b/, 'name'],
];

export function analyzeQuestion(text: string): Question {
  const lower = text.toLowerCase();
  const type = TYPE_PATTERNS.find(([pattern]) => pattern.test(lower))?.[1] ?? 'any';
  return { text, terms: [...new Set(analyze(text))], type };
}
