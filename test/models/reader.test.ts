import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeQuestion } from '../../src/models/reader/question.js';
import { READER_WEIGHTS, read } from '../../src/models/reader/reader.js';
import { findSpans } from '../../src/models/reader/spans.js';

const spans = (text: string) => findSpans(text).map((s) => `${s.type}:${s.text}`);

test('finds dates, numbers and names by their surface form', () => {
  assert.deepEqual(spans('Apollo 11 landed on July 20, 1969, with three astronauts.'), ['name:Apollo 11', 'date:July 20, 1969', 'number:three astronauts']);
  assert.deepEqual(spans('The tower has 2,579 steps and opened in the 1970s.'), ['number:2,579 steps', 'date:1970s']);
  assert.deepEqual(spans('In 1804 Richard Trevithick ran the first train in the United Kingdom.'), ['date:1804', 'name:Richard Trevithick', 'name:United Kingdom']);
  assert.deepEqual(spans('Charles, Prince of Wales, is heir.'), ['name:Charles', 'name:Prince of Wales']);
});

test('question words say what kind of span answers', () => {
  assert.equal(analyzeQuestion('when was catch me if you can made').type, 'date');
  assert.equal(analyzeQuestion('what year did the war end').type, 'date');
  assert.equal(analyzeQuestion('how many steps does the cn tower have').type, 'number');
  assert.equal(analyzeQuestion('how many years did it last').type, 'number');
  assert.equal(analyzeQuestion('who wrote the first declaration of human rights').type, 'name');
  assert.equal(analyzeQuestion('where is the great barrier reef').type, 'name');
  assert.equal(analyzeQuestion('what is the job of justice of the peace').type, 'any');
  assert.deepEqual(analyzeQuestion('Who wrote the songs?').terms, ['wrote', 'song']);
});

const passages = [
  { title: 'Catch Me If You Can', text: 'Catch Me If You Can is a crime film. The film was made in 2002 by Steven Spielberg. It stars Leonardo DiCaprio.' },
  { title: 'Frank Abagnale', text: 'Frank Abagnale is a security consultant. His life inspired the film Catch Me If You Can.' },
];

test('the best sentence holds a span of the asked type, not only the question words', () => {
  const reading = read('when was catch me if you can made', passages, 1);
  assert.equal(reading.answered, true);
  assert.equal(reading.sentences[0].text, 'The film was made in 2002 by Steven Spielberg.');
  assert.equal(reading.sentences[0].span?.text, '2002');
  assert.deepEqual(reading.passageOrder, [0, 1]);
});

test('a span made only of the question words is not an answer', () => {
  const reading = read('who made catch me if you can', passages, 1);
  assert.equal(reading.sentences[0].span?.text, 'Steven Spielberg');
});

test('further sentences come only when they score close to the best one, up to maxSentences', () => {
  const corroborated = [
    passages[0],
    { title: 'Catch Me If You Can (film)', text: 'Steven Spielberg made Catch Me If You Can in 2002, with Tom Hanks. He grew up in Ohio and Arizona.' },
    passages[1],
  ];
  // Rank aside (two passages saying the same thing), the second is as good as the first.
  const texts = (max: number) => read('when was catch me if you can made', corroborated, max, { ...READER_WEIGHTS, rank: 0 }).sentences.map((s) => s.text);
  assert.deepEqual(texts(3).sort(), ['Steven Spielberg made Catch Me If You Can in 2002, with Tom Hanks.', 'The film was made in 2002 by Steven Spielberg.']);
  assert.equal(texts(1).length, 1);
});

test('abstains when no passage covers the question', () => {
  const reading = read('what is the boiling point of mercury', passages, 2);
  assert.equal(reading.answered, false);
  assert.equal(read('anything', [], 2).sentences.length, 0);
});

test('a sentence is not cut after an abbreviation or an initial, nor before its parenthesis', () => {
  const actor = [{ title: 'Howard Rollins', text: 'Howard Ellsworth Rollins Jr. (October 17, 1950 – December 8, 1996) was an American actor. He played Virgil Tibbs.' }];
  assert.equal(read('who was howard rollins', actor, 1).sentences[0].text, 'Howard Ellsworth Rollins Jr. (October 17, 1950 – December 8, 1996) was an American actor.');
  const bacterium = [{ title: 'Escherichia coli', text: 'Escherichia coli (also known as E. Coli) is a bacterium. It lives in the gut.' }];
  assert.equal(read('what is the full scientific name for e coli', bacterium, 1).sentences[0].text, 'Escherichia coli (also known as E. Coli) is a bacterium.');
});
