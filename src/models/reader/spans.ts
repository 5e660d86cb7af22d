import type { AnswerType } from './question.js';

/** A stretch of a sentence that could be the answer, with the kind of thing it names. */
export interface Span {
  text: string;
  /** Character offsets in the sentence. */
  start: number;
  end: number;
  type: Exclude<AnswerType, 'any'>;
}

/**
 * Candidate answer spans by surface form: dates (years, days, decades, centuries), numbers
 * (digits, number words, with their unit), and names (runs of capitalised words, joined by "of",
 * "the", "de"…). A tagger library (wink-nlp, compromise) does this better but costs 5-70 ms per
 * passage on this machine against a 2 ms budget per answer (docs/BENCHMARKS.md).
 */
const MONTH = '\\b(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\\.?';
const DATE = new RegExp(
  [
    `${MONTH}\\s+\\d{1,2}(?:st|nd|rd|th)?\\b(?:,?\\s+\\d{3,4}\\b)?`,
    `\\b\\d{1,2}(?:st|nd|rd|th)?\\s+${MONTH}(?:,?\\s+\\d{3,4}\\b)?`,
    `${MONTH},?\\s+\\d{3,4}\\b`,
    `(?:early |mid-?|late )?\\d{3,4}s`,
    `\\d{1,2}(?:st|nd|rd|th)\\s+century(?:\\s+(?:BC|AD|BCE|CE))?`,
    `(?:AD\\s+)?\\b(?:1\\d{3}|20\\d{2}|\\d{2,3}\\s+(?:BC|AD|BCE|CE))\\b(?:\\s*[–-]\\s*\\d{2,4})?`,
  ].join('|'),
  'g',
);
const NUMBER_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen';
const NUMBER = new RegExp(
  `(?:\\$|£|€)?\\b(?:\\d[\\d,]*(?:\\.\\d+)?|(?:${NUMBER_WORDS})(?:[- ](?:${NUMBER_WORDS}))*)\\b(?:\\s*(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?(?:\\s+[a-z]+)?`,
  'gi',
);
// Capitalised words (numbers may follow: "Apollo 11"), allowing a few lower-case joiners inside a name ("Prince of Wales", "Vincent van Gogh").
const NAME = /\p{Lu}[\p{L}'’.-]*(?:\s+(?:(?:of|the|de|van|von|da|du|la|le|del|and|&)\s+)?(?:\p{Lu}[\p{L}'’.-]*|\d+\b))*/gu;
// A capitalised word that opens a sentence only because it opens it.
const FUNCTION_WORDS = new Set('A An And As At But By For From He Her His However If In It Its On Or She That The Their There These They This Those To We When Where While Who With After Before During Since Although'.split(' '));

export function findSpans(sentence: string): Span[] {
  const spans: Span[] = [];
  const taken: Array<[number, number]> = [];
  const add = (type: Span['type'], start: number, text: string) => {
    const end = start + text.length;
    if (taken.some(([s, e]) => start < e && end > s)) return;
    taken.push([start, end]);
    spans.push({ text, start, end, type });
  };
  for (const m of sentence.matchAll(DATE)) add('date', m.index, m[0]);
  for (const m of sentence.matchAll(NAME)) {
    // "In 1804 Richard Trevithick": the name starts after the opening word and any numbers.
    const opening = /^(\S+)((?:\s+\d+\b)*)\s*/.exec(m[0])!;
    const skip = FUNCTION_WORDS.has(opening[1]) ? opening[0].length : 0;
    const text = m[0].slice(skip).replace(/[.,]$/, '');
    if (text) add('name', m.index + skip, text);
  }
  for (const m of sentence.matchAll(NUMBER)) add('number', m.index, m[0].replace(/\s+[a-z]+$/, (unit) => (/^\s+(?:and|or|the|of|in|to|a|was|is)$/.test(unit) ? '' : unit)));
  return spans.sort((a, b) => a.start - b.start);
}
